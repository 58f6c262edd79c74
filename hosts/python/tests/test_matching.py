"""Matching (SPEC §4) from Python: align_and_compare / compare / resize_bilinear computed by the
engine, checked against numpy reference implementations of the SPEC definitions written here;
sweeps against single renders, byte for byte; failing points, limits, workers; font_info."""

from __future__ import annotations

import base64
import json
import math
from pathlib import Path
from typing import Any, Dict, List, Tuple

import numpy as np
import numpy.typing as npt
import pytest

import haforu
from conftest import DEJAVU, INTER, job, stand_in_wat

Img = npt.NDArray[np.uint8]
SOURCE_SANS = INTER.parent / "SourceSans3VF-subset.otf"


# -- reference implementations (the SPEC §4 definitions, pixel by pixel in numpy) -------------


def ref_paste(img: Img, tw: int, th: int, method: str) -> Img:
    h, w = img.shape
    ox, oy = ((tw - w) // 2, (th - h) // 2) if method == "center" else (0, 0)
    canvas = np.full((th, tw), 255, np.uint8)
    canvas[oy:oy + h, ox:ox + w] = img
    return canvas


def ref_aspect(img: Img) -> float:
    ys, xs = np.nonzero(img < 128)
    if len(xs) == 0:
        return 1.0
    return float(xs.max() - xs.min() + 1) / float(ys.max() - ys.min() + 1)


def ref_compare(a: Img, b: Img, method: str) -> Dict[str, Any]:
    tw, th = max(a.shape[1], b.shape[1]), max(a.shape[0], b.shape[0])
    pa = ref_paste(a, tw, th, method).astype(np.int64)
    pb = ref_paste(b, tw, th, method).astype(np.int64)
    d = np.abs(pa - pb)
    sigma = max(min(tw, th) / 4.0, 1.0)
    wx = np.exp(-((np.arange(tw) - tw / 2.0) ** 2) / (2 * sigma * sigma))
    wy = np.exp(-((np.arange(th) - th / 2.0) ** 2) / (2 * sigma * sigma))
    da, db = pa < 128, pb < 128
    union = int((da | db).sum())
    return {
        "width": tw,
        "height": th,
        "pixel_delta": int(d.sum()) / (tw * th),
        "center_weighted_delta": float((wy[:, None] * wx[None, :] * d).sum() / (wx.sum() * wy.sum())),
        "density_a": int((a < 128).sum()) / a.size,
        "density_b": int((b < 128).sum()) / b.size,
        "aspect_a": ref_aspect(a),
        "aspect_b": ref_aspect(b),
        "iou": 1.0 if union == 0 else int((da & db).sum()) / union,
        "differing_pixels": int((d > 8).sum()),
        "aligned": (pa.astype(np.uint8), pb.astype(np.uint8)),
    }


def round_half_up(x: float) -> int:
    f = math.floor(x)
    return int(f) + (1 if x - f >= 0.5 else 0)


def ref_resize(img: Img, m: float) -> Img:
    h, w = img.shape
    dw, dh = max(1, round_half_up(w * m)), max(1, round_half_up(h * m))

    def taps(src: int, dst: int) -> Tuple[Any, Any, Any]:
        s = (np.arange(dst, dtype=np.float64) + 0.5) * (src / dst) - 0.5
        i0 = np.floor(s)
        f = s - i0
        return (np.clip(i0, 0, src - 1).astype(np.intp), np.clip(i0 + 1, 0, src - 1).astype(np.intp), f)

    x0, x1, fx = taps(w, dw)
    y0, y1, fy = taps(h, dh)
    p = img.astype(np.float64)
    top = p[y0][:, x0] * (1.0 - fx) + p[y0][:, x1] * fx
    bottom = p[y1][:, x0] * (1.0 - fx) + p[y1][:, x1] * fx
    v = top * (1.0 - fy[:, None]) + bottom * fy[:, None]
    return np.clip(np.floor(v + 0.5), 0, 255).astype(np.uint8)


# -- images --------------------------------------------------------------------------------


def blob(rng: np.random.Generator, w: int, h: int) -> Img:
    """White with a random rectangle of random gray levels (so density/aspect/iou vary)."""
    img = np.full((h, w), 255, np.uint8)
    x0, x1 = sorted(int(v) for v in rng.integers(0, w + 1, 2))
    y0, y1 = sorted(int(v) for v in rng.integers(0, h + 1, 2))
    img[y0:y1, x0:x1] = rng.integers(0, 256, (y1 - y0, x1 - x0), dtype=np.uint8)
    return img


def noise(rng: np.random.Generator, w: int, h: int) -> Img:
    return rng.integers(0, 256, (h, w), dtype=np.uint8)


def cases() -> List[Tuple[str, Img, Img]]:
    rng = np.random.default_rng(10)
    out: List[Tuple[str, Img, Img]] = []
    for i in range(6):
        w1, h1, w2, h2 = (int(v) for v in rng.integers(1, 90, 4))
        out.append((f"blob{i}", blob(rng, w1, h1), blob(rng, w2, h2)))
    for i in range(2):
        a, b = np.full((61, 75), 255, np.uint8), np.full((48, 90), 255, np.uint8)
        a[10:45, 12:50] = rng.integers(0, 160, (35, 38), dtype=np.uint8)
        b[5:40, 20 + 9 * i:70] = rng.integers(0, 160, (35, 50 - 9 * i), dtype=np.uint8)
        out.append((f"overlap{i}", a, b))
    out.append(("noise-odd", noise(rng, 37, 23), noise(rng, 50, 11)))
    out.append(("noise-same", noise(rng, 64, 48), noise(rng, 64, 48)))
    out.append(("1x1", np.zeros((1, 1), np.uint8), np.full((1, 1), 255, np.uint8)))
    out.append(("column-row", noise(rng, 1, 31), noise(rng, 29, 1)))
    blank, full = np.full((33, 47), 255, np.uint8), np.zeros((33, 47), np.uint8)
    out.append(("blank-blank", blank, np.full((20, 61), 255, np.uint8)))
    out.append(("blank-full", blank, full))
    out.append(("full-full", full, np.zeros((40, 40), np.uint8)))
    out.append(("gray127-128", np.full((9, 9), 127, np.uint8), np.full((9, 9), 128, np.uint8)))
    return out


CASES = cases()


def check_comparison(got: Any, want: Dict[str, Any]) -> None:
    assert (got.width, got.height) == (want["width"], want["height"])
    # Exact: integer sums divided once in f64, in the engine and here.
    for k in ("pixel_delta", "density_a", "density_b", "aspect_a", "aspect_b", "iou", "differing_pixels"):
        assert getattr(got, k) == want[k], k
    assert got.center_weighted_delta == pytest.approx(want["center_weighted_delta"], rel=1e-9, abs=1e-12)


# -- compare -------------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["center", "corner"])
@pytest.mark.parametrize("name,a,b", CASES, ids=[c[0] for c in CASES])
def test_align_and_compare_matches_reference(name: str, a: Img, b: Img, method: str) -> None:
    want = ref_compare(a, b, method)
    got = haforu.align_and_compare(a, b, method)
    check_comparison(got, want)
    assert isinstance(got.aligned_a, bytes) and isinstance(got.aligned_b, bytes)  # as in haforu 2.x
    assert np.array_equal(got.array_a, want["aligned"][0])
    assert np.array_equal(got.array_b, want["aligned"][1])
    assert got.array_a.shape == (got.height, got.width) and got.array_a.dtype == np.uint8
    c = haforu.compare(a, b, method)
    assert c == got.comparison
    check_comparison(c, want)


def test_compare_is_not_symmetric_in_names_only() -> None:
    rng = np.random.default_rng(3)
    a, b = blob(rng, 40, 30), blob(rng, 25, 45)
    ab, ba = haforu.compare(a, b), haforu.compare(b, a)
    assert (ab.density_a, ab.aspect_a) == (ba.density_b, ba.aspect_b)
    assert ab.pixel_delta == ba.pixel_delta and ab.iou == ba.iou


@pytest.mark.parametrize("method", ["center", "corner"])
def test_compare_large_canvas(method: str) -> None:
    rng = np.random.default_rng(7)
    a = np.full((1200, 3000), 255, np.uint8)
    a[200:1000, 1100:1900] = rng.integers(0, 256, (800, 800), dtype=np.uint8)
    b = blob(rng, 2501, 1111)
    want = ref_compare(a, b, method)
    got = haforu.align_and_compare(a, b, method)
    check_comparison(got, want)
    assert np.array_equal(got.array_a, want["aligned"][0]) and np.array_equal(got.array_b, want["aligned"][1])


def test_compare_rendered_glyphs(session: haforu.StreamingSession) -> None:
    a = session.render_to_numpy(str(INTER), "A", 1000, 3000, 1200, {"wght": 700})
    b = session.render_to_numpy(str(DEJAVU), "A", 1000, 3000, 1200)
    want = ref_compare(a, b, "center")
    check_comparison(session.compare(a, b), want)
    assert 0 < want["iou"] < 1 and want["differing_pixels"] > 0


def test_compare_inputs_views_files_and_bytes(tmp_path: Path) -> None:
    rng = np.random.default_rng(5)
    big = noise(rng, 80, 60)
    view = big[5:50:2, 3:70:3]  # not contiguous
    other = blob(rng, 30, 20)
    want = ref_compare(np.ascontiguousarray(view), other, "center")
    check_comparison(haforu.compare(view, other), want)
    pgm = b"P5\n30 20\n255\n" + other.tobytes()
    f = tmp_path / "other.pgm"
    f.write_bytes(pgm)
    check_comparison(haforu.compare(view, pgm), want)
    check_comparison(haforu.compare(view, f), want)
    check_comparison(haforu.compare(view, str(f)), want)


def test_compare_errors() -> None:
    a = np.full((4, 4), 255, np.uint8)
    for bad in ("middle", "Center", ""):
        with pytest.raises(haforu.InvalidJobError) as e:
            haforu.align_and_compare(a, a, bad)
        assert e.value.kind == "bad_job" and isinstance(e.value, ValueError)
    with pytest.raises(haforu.InvalidJobError):
        haforu.compare(a, a, None)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        haforu.compare(a.astype(np.float32), a)  # type: ignore[arg-type]
    with pytest.raises(haforu.InvalidJobError):
        haforu.compare(np.zeros((2, 2, 2), np.uint8), a)
    with pytest.raises(haforu.InvalidJobError):
        haforu.compare(np.zeros((0, 5), np.uint8), a)
    with pytest.raises(haforu.InvalidJobError, match="neither a binary PGM"):
        haforu.compare(b"not an image", a)
    with pytest.raises(TypeError):
        haforu.compare(42, a)  # type: ignore[arg-type]


def test_compare_and_font_info_as_engine_json_text() -> None:
    from haforu import matching

    rng = np.random.default_rng(9)
    a, b = blob(rng, 50, 40), blob(rng, 33, 61)
    text = matching.compare_json(a, b, "corner")
    assert text.startswith('{"status":"success","compare":{') and text.endswith("}}") and "\n" not in text
    assert haforu.Comparison.from_json(json.loads(text)["compare"]) == haforu.compare(a, b, "corner")
    info = matching.font_info_json(INTER)
    assert json.loads(info) == haforu.font_info(INTER)
    with pytest.raises(haforu.InvalidJobError):
        matching.compare_json(a, b, "middle")


def test_images_are_dropped_after_each_call(session: haforu.StreamingSession) -> None:
    # The engine holds at most 1,024 registered images; 1,100 calls only work if each call
    # drops what it registered.
    a = np.zeros((2, 3), np.uint8)
    for _ in range(1100):
        session.compare(a, a)
    assert session.compare(a, a).iou == 1.0


# -- resize --------------------------------------------------------------------------------


RESIZE_CASES = [
    (37, 23, 0.5), (37, 23, 2.0), (37, 23, 1.0), (37, 23, 0.37), (37, 23, 3.3), (1, 1, 7.0), (5, 1, 0.5),
    (1, 9, 2.5), (64, 64, 0.01), (3, 2, 100.0), (300, 120, 0.25), (41, 17, 1.5), (8, 8, 0.0625),
]


@pytest.mark.parametrize("w,h,m", RESIZE_CASES)
def test_resize_matches_reference(w: int, h: int, m: float) -> None:
    rng = np.random.default_rng(w * 1000 + h)
    img = noise(rng, w, h)
    got = haforu.resize_bilinear(img, m)
    want = ref_resize(img, m)
    assert (got.height, got.width) == want.shape
    assert isinstance(got.image, bytes) and len(got.image) == got.width * got.height  # as in haforu 2.x
    assert got.array.shape == (got.height, got.width) and got.array.dtype == np.uint8
    assert np.array_equal(got.array, want)


def test_resize_large_and_constant() -> None:
    rng = np.random.default_rng(1)
    img = np.full((1200, 3000), 255, np.uint8)
    img[100:1100, 500:2500] = rng.integers(0, 256, (1000, 2000), dtype=np.uint8)
    for m in (0.3, 0.5, 1.17):
        assert np.array_equal(haforu.resize_bilinear(img, m).array, ref_resize(img, m))
    for value in (0, 77, 255):
        const = np.full((23, 37), value, np.uint8)
        for m in (0.1, 0.77, 1.0, 2.5, 13.0):
            r = haforu.resize_bilinear(const, m)
            assert (r.width, r.height) == (max(1, round_half_up(37 * m)), max(1, round_half_up(23 * m)))
            assert np.all(r.array == value)


def test_resize_matches_opencv() -> None:
    cv2 = pytest.importorskip("cv2")
    rng = np.random.default_rng(2)
    for w, h, m in RESIZE_CASES + [(300, 200, 0.5), (640, 480, 0.33)]:
        img = noise(rng, w, h) if w * h < 4000 else blob(rng, w, h)
        got = haforu.resize_bilinear(img, m).array
        want = cv2.resize(img, (got.shape[1], got.shape[0]), interpolation=cv2.INTER_LINEAR)
        assert want.shape == got.shape
        diff = np.abs(got.astype(np.int16) - want.astype(np.int16))
        assert int(diff.max()) <= 1, (w, h, m)


def test_resize_errors() -> None:
    img = np.full((10, 10), 255, np.uint8)
    for m in (0.0, 0.009, 100.5, 1e9, -1.0, float("nan"), float("inf")):
        with pytest.raises(ValueError) as e:
            haforu.resize_bilinear(img, m)
        assert isinstance(e.value, haforu.InvalidJobError) and e.value.kind == "bad_job"
    with pytest.raises(TypeError):
        haforu.resize_bilinear(img, "2")  # type: ignore[arg-type]
    with pytest.raises(haforu.InvalidJobError) as e2:
        haforu.resize_bilinear(np.full((5000, 5000), 255, np.uint8), 3.0)  # 15000 px per side
    assert e2.value.kind == "limit_exceeded"


# -- font info ------------------------------------------------------------------------------


def test_font_info() -> None:
    info = haforu.font_info(INTER)
    assert info["familyName"] == "Inter" and info["unitsPerEm"] == 2816 and info["glyphCount"] > 0
    assert [(a["tag"], a["min"], a["default"], a["max"]) for a in info["axes"]] == [("wght", 100.0, 400.0, 900.0)]
    assert "Bold" in [i["name"] for i in info["instances"]]
    assert ord("A") in info["codepoints"]
    assert haforu.font_info(INTER.read_bytes()) == info
    assert haforu.font_info(str(INTER), 0) == info
    static = haforu.font_info(DEJAVU)
    assert static["axes"] == [] and static["familyName"] == "DejaVu Sans"
    with haforu.StreamingSession() as s:
        assert s.font_info(INTER) == info


def test_font_info_errors(tmp_path: Path) -> None:
    with pytest.raises(haforu.FontNotFoundError):
        haforu.font_info(tmp_path / "missing.ttf")
    with pytest.raises(haforu.RenderError) as e:
        haforu.font_info(INTER, 3)
    assert e.value.kind == "font_parse" and "face_index 3" in str(e.value)
    with pytest.raises(haforu.RenderError) as e:
        haforu.font_info(b"\x00\x01\x00\x00garbage")
    assert e.value.kind == "font_parse"
    with pytest.raises(haforu.InvalidJobError):
        haforu.font_info(INTER, -1)
    with pytest.raises(TypeError):
        haforu.font_info(3)  # type: ignore[arg-type]


# -- sweeps --------------------------------------------------------------------------------


WGHTS = [{"wght": float(w)} for w in (100, 250, 400, 555.5, 700, 900)]


def test_sweep_metrics_equal_single_calls(session: haforu.StreamingSession) -> None:
    pts = session.sweep(INTER, "Ag", 200, 500, 300, WGHTS)
    assert len(pts) == len(WGHTS)
    for p, c in zip(pts, WGHTS):
        assert p.ok and p.error is None and p.variations == c
        assert p.metrics == session.metrics(INTER, "Ag", 200, 500, 300, c)
        assert p.image is None and p.compare is None and p.data is None
    densities = [p.metrics.density for p in pts if p.metrics]
    assert densities == sorted(densities) and densities[0] < densities[-1]


def test_sweep_images_equal_render_to_numpy(session: haforu.StreamingSession) -> None:
    kw: Dict[str, Any] = dict(features=["-liga"], script="Latn", direction="ltr", language="en")
    pts = session.sweep(str(INTER), "fifA", 120, 400, 160, WGHTS, format="raw", **kw)
    for p, c in zip(pts, WGHTS):
        single = session.render_to_numpy(INTER, "fifA", 120, 400, 160, c, **kw)
        assert p.image is not None and p.image.dtype == np.uint8 and p.image.flags.c_contiguous
        assert p.image.tobytes() == single.tobytes()
    pgm = session.sweep(INTER, "fifA", 120, 400, 160, WGHTS[:2], format="pgm", **kw)
    for p, q in zip(pgm, pts):
        assert p.data is not None and p.data.startswith(b"P5\n400 160\n255\n")
        assert p.image is not None and np.array_equal(p.image, q.image)
    png = session.sweep(INTER, "fifA", 120, 400, 160, WGHTS[:1], format="png")
    single_png = json.loads(session.render(job(font={"path": str(INTER), "size": 120, "variations": WGHTS[0]},
                                               text="fifA", fmt="png", width=400, height=160)))
    assert png[0].data == base64.b64decode(single_png["rendering"]["data"])


def test_sweep_over_instance_and_variations(session: haforu.StreamingSession) -> None:
    pts = session.sweep(SOURCE_SANS, "Ag", 100, 300, 150, [{"wght": 300}, {}], instance="Bold")
    bold = session.metrics(SOURCE_SANS, "Ag", 100, 300, 150, instance="Bold")
    assert pts[1].metrics == bold and pts[0].metrics != bold
    assert pts[0].metrics == session.metrics(SOURCE_SANS, "Ag", 100, 300, 150, {"wght": 300}, instance="Bold")
    data = INTER.read_bytes()
    from_bytes = session.sweep(None, "Ag", 100, 300, 150, WGHTS[:3], font_bytes=data)
    from_path = session.sweep(INTER, "Ag", 100, 300, 150, WGHTS[:3])
    assert [p.metrics for p in from_bytes] == [p.metrics for p in from_path]
    clamped = session.sweep(INTER, "A", 100, 200, 150, [{"wght": 1200}])[0]
    assert clamped.variations == {"wght": 900.0} and any("clamped to 900" in w for w in clamped.warnings)


def test_sweep_compare_equals_compare_of_single_renders(session: haforu.StreamingSession, tmp_path: Path) -> None:
    target = session.render_to_numpy(DEJAVU, "A", 300, 900, 400)
    for method in ("center", "corner"):
        pts = session.sweep(INTER, "A", 300, 900, 400, WGHTS, target=target, method=method)
        raw = session.sweep(INTER, "A", 300, 900, 400, WGHTS, format="raw", target=target, method=method)
        for p, q, c in zip(pts, raw, WGHTS):
            single = session.render_to_numpy(INTER, "A", 300, 900, 400, c)
            assert p.compare is not None and p.image is None
            assert p.compare == q.compare == session.compare(single, target, method)
            check_comparison(p.compare, ref_compare(single, target, method))
            assert q.image is not None and np.array_equal(q.image, single)
        deltas = [p.compare.pixel_delta for p in pts if p.compare]
        assert min(deltas) < max(deltas)
    # the target as a PGM file, as PGM bytes and as PNG bytes gives the same numbers
    pgm = b"P5\n900 400\n255\n" + target.tobytes()
    f = tmp_path / "target.pgm"
    f.write_bytes(pgm)
    png = base64.b64decode(json.loads(session.render(job(font=str(DEJAVU), size=300, text="A", fmt="png",
                                                         width=900, height=400)))["rendering"]["data"])
    base = [p.compare for p in session.sweep(INTER, "A", 300, 900, 400, WGHTS, target=target)]
    for t in (f, str(f), pgm, png):
        assert [p.compare for p in session.sweep(INTER, "A", 300, 900, 400, WGHTS, target=t)] == base


def test_sweep_failing_points_are_isolated(session: haforu.StreamingSession) -> None:
    coords: List[Any] = [{"wght": 300}, {"toolong": 1.0}, {"wght": float("nan")}, {"wght": "heavy"},
                         {"wght": float("inf")}, {"wght": 700}]
    pts = session.sweep(INTER, "A", 100, 200, 150, coords, format="raw")
    assert [p.ok for p in pts] == [True, False, False, False, False, True]
    for i in (1, 2, 3, 4):
        err = pts[i].error
        assert isinstance(err, haforu.InvalidJobError) and err.kind == "bad_job"
        assert f"sweep[{i}]" in str(err) and pts[i].image is None and pts[i].metrics is None
    assert "toolong" in str(pts[1].error) and "finite" in str(pts[2].error)
    assert pts[0].image is not None and pts[5].image is not None
    assert np.array_equal(pts[5].image, session.render_to_numpy(INTER, "A", 100, 200, 150, {"wght": 700}))


def test_sweep_job_level_errors(session: haforu.StreamingSession, tmp_path: Path) -> None:
    with pytest.raises(haforu.InvalidJobError) as e:
        session.sweep(INTER, "A", 100, 200, 150, [{"wght": 400}] * 4097)
    assert e.value.kind == "limit_exceeded"
    with pytest.raises(haforu.InvalidJobError) as e:
        session.sweep(INTER, "A", 100, 200, 150, [{"wght": 400}] * 4097, workers=2)
    assert e.value.kind == "limit_exceeded"
    assert len(session.sweep(INTER, "A", 10, 20, 20, [{"wght": 400}] * 4096)) == 4096
    with pytest.raises(haforu.InvalidJobError) as e:
        session.sweep(INTER, "A", 100, 200, 150, [])
    assert e.value.kind == "bad_job"
    with pytest.raises(haforu.FontNotFoundError):
        session.sweep(tmp_path / "missing.ttf", "A", 100, 200, 150, WGHTS)
    with pytest.raises(haforu.InvalidJobError):
        session.sweep(INTER, "A", 100, 200, 150, WGHTS, target=b"P5 garbage")
    with pytest.raises(haforu.InvalidJobError):
        session.sweep(INTER, "A", 100, 200, 150, WGHTS, target=np.zeros((5, 5), np.uint8), method="middle")
    with pytest.raises(haforu.InvalidJobError):
        session.sweep(INTER, "A", 100, 200, 150, WGHTS, format="svg")
    with pytest.raises(ValueError):
        session.sweep(INTER, "A", 100, 200, 150, WGHTS, workers=0)
    with pytest.raises(TypeError):
        session.sweep(INTER, "A", 100, 200, 150, {"wght": 400})  # type: ignore[arg-type]
    # the session still works, and the target images were dropped
    assert session.sweep(INTER, "A", 100, 200, 150, WGHTS[:1])[0].ok


def test_sweep_workers_equal_one_worker() -> None:
    target = np.full((300, 700), 255, np.uint8)
    target[50:250, 300:400] = 0
    coords = [{"wght": float(w)} for w in range(100, 901, 50)]  # 17 points, uneven split
    with haforu.StreamingSession() as s:
        one = s.sweep(INTER, "A", 250, 700, 300, coords, format="raw", target=target)
        for workers in (2, 3, 40):
            many = s.sweep(INTER, "A", 250, 700, 300, coords, format="raw", target=target, workers=workers)
            assert [p.variations for p in many] == [p.variations for p in one]
            assert [p.compare for p in many] == [p.compare for p in one]
            assert all(p.image is not None and q.image is not None and np.array_equal(p.image, q.image)
                       for p, q in zip(many, one))
        m1 = s.sweep(INTER, "A", 250, 700, 300, coords)
        m2 = s.sweep(INTER, "A", 250, 700, 300, coords, workers=2)
        assert [p.metrics for p in m1] == [p.metrics for p in m2]
        bad = s.sweep(INTER, "A", 250, 700, 300, [{"wght": 400}, {"x": "y"}, {"wght": 500}], workers=3)
        assert [p.ok for p in bad] == [True, False, True]
        helpers = s._helpers  # 17 points over 40 workers: 17 instances, 16 of them helpers
        assert len(helpers) == 16
        s.set_glyph_cache_size(16)
        s.set_cache_size(3)
        assert all(h.inst.max_glyphs == 16 and h.inst.max_fonts == 3 for h in helpers)
        assert [p.metrics for p in s.sweep(INTER, "A", 250, 700, 300, coords, workers=4)] == [p.metrics for p in m1]
    with pytest.raises(RuntimeError):
        s.sweep(INTER, "A", 250, 700, 300, coords)


def sweep_job(fmt: str, **extra: Any) -> Dict[str, Any]:
    j = job("sw", font={"path": str(INTER), "size": 150}, text="A", fmt=fmt, width=300, height=200)
    j["sweep"] = [{"wght": 200}, {"wght": "x"}, {"wght": 800}]
    j.update(extra)
    return j


@pytest.mark.parametrize("fmt", ["raw", "pgm", "metrics"])
def test_sweep_jobs_through_render_and_process_jobs(session: haforu.StreamingSession, fmt: str) -> None:
    j = sweep_job(fmt)
    out = session.render(j)
    r = json.loads(out)
    assert r["status"] == "success" and r["font"] == {"path": str(INTER)}
    assert [p["status"] for p in r["points"]] == ["success", "error", "success"]
    assert r["points"][1]["error_kind"] == "bad_job" and "sweep[1]" in r["points"][1]["error"]
    native = session.sweep(INTER, "A", 150, 300, 200, [{"wght": 200}, {"wght": 800}], format=fmt)
    for p, q in zip((r["points"][0], r["points"][2]), native):
        assert "data_offset" not in json.dumps(p)
        if fmt == "metrics":
            assert q.metrics is not None and p["metrics"]["density"] == q.metrics.density
        else:
            data = base64.b64decode(p["rendering"]["data"])  # inline base64, passed through unchanged
            assert q.image is not None
            assert data[-300 * 200:] == q.image.tobytes()
            if fmt == "pgm":
                assert q.data == data
    # byte for byte what the engine writes without any out-of-band flag (only timing is added)
    inst = session._renderer.inst  # type: ignore[union-attr]
    engine = inst.run(json.dumps(j).encode(), 0, 0, 0)[1].decode()  # the font is bound by now
    assert out.rsplit(',"timing":', 1)[0] + "}" == engine
    batch = list(haforu.process_jobs(json.dumps({"version": "1.0", "jobs": [j, j]}), workers=2))
    strip = lambda s: {k: v for k, v in json.loads(s).items() if k != "timing"}  # noqa: E731
    assert [strip(b) for b in batch] == [strip(out)] * 2


def test_sweep_jobs_with_compare_through_json(session: haforu.StreamingSession) -> None:
    target = session.render_to_numpy(DEJAVU, "A", 150, 300, 200)
    pgm = b"P5\n300 200\n255\n" + target.tobytes()
    j = sweep_job("metrics", compare={"target": base64.b64encode(pgm).decode(), "method": "center"})
    r = json.loads(session.render(j))
    native = session.sweep(INTER, "A", 150, 300, 200, [{"wght": 200}, {"wght": 800}], target=target)
    got = [haforu.Comparison.from_json(p["compare"]) for p in (r["points"][0], r["points"][2])]
    assert got == [p.compare for p in native]
    too_many = sweep_job("metrics")
    too_many["sweep"] = [{"wght": 400}] * 4097
    for res in (session.render(too_many), next(haforu.process_jobs([too_many]))):
        e = json.loads(res)
        assert e["status"] == "error" and e["error_kind"] == "limit_exceeded"


def test_default_session_functions_are_lazy_and_shared() -> None:
    from haforu import matching

    a = np.full((3, 3), 255, np.uint8)
    haforu.compare(a, a)
    s = matching.default_session()
    assert s is matching.default_session() and not s.closed
    s.close()
    assert haforu.compare(a, a).iou == 1.0  # a closed default session is replaced
    assert matching.default_session() is not s


# -- traps and old modules ------------------------------------------------------------------

# A stand-in engine: image registration answers {"handle":1,...}; image ops and font info trap.
_IMAGE_ANSWER = '{"handle":1,"width":1,"height":1}'
MATCHING_TRAP_WAT = stand_in_wat(
    haforu_image_register=(f"(memory.copy (i32.const 4096) (i32.const 3072) (i32.const {len(_IMAGE_ANSWER)}))\n"
                           f"    (call $desc (i32.const 4096) (i32.const {len(_IMAGE_ANSWER)}) (i32.const 0) (i32.const 0))"),
    haforu_image_drop="i32.const 1",
).replace("(module", "(module\n  (data (i32.const 3072) \"" + _IMAGE_ANSWER.replace('"', '\\"') + "\")", 1)


def run_stand_in(tmp_path: Path, wat: str, code: str) -> None:
    import os
    import subprocess
    import sys
    import textwrap

    import wasmtime

    wasm = tmp_path / "stand-in.wasm"
    wasm.write_bytes(wasmtime.wat2wasm(wat))
    env = dict(os.environ, HAFORU_WASM=str(wasm), HAFORU_CACHE_DIR="")
    p = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], env=env, capture_output=True, text=True,
                       timeout=120)
    assert p.returncode == 0, p.stderr
    assert p.stdout.strip() == "OK"


def test_trap_in_image_ops_raises_and_rebuilds(tmp_path: Path) -> None:
    font = tmp_path / "f.ttf"
    font.write_bytes(b"\0\1\0\0" + b"\0" * 100)
    run_stand_in(tmp_path, MATCHING_TRAP_WAT, f"""
        import numpy as np, haforu
        s = haforu.StreamingSession()
        a = np.zeros((1, 1), np.uint8)
        calls = [lambda: s.compare(a, a), lambda: s.align_and_compare(a, a), lambda: s.resize_bilinear(a, 2.0),
                 lambda: s.font_info({str(font)!r}), lambda: haforu.compare(a, a)]
        for call in calls:
            try:
                call()
            except haforu.RenderError as e:
                assert e.kind == "internal" and "unreachable" in str(e) and "rebuilt" in str(e), e
            else:
                raise AssertionError("no error")
        assert s.ping()
        assert s._renderer.stats()["instance_rebuilds"] == 4
        print("OK")
    """)


def test_module_without_an_export_is_refused(tmp_path: Path) -> None:
    """ABI 2 has one export list (haforu._abi.EXPORTS): a module lacking one is refused at once."""
    run_stand_in(tmp_path, stand_in_wat(haforu_image_register=""), """
        import haforu
        try:
            haforu.StreamingSession()
        except RuntimeError as e:
            assert "lacks the export 'haforu_image_register'" in str(e), e
        else:
            raise AssertionError("no error")
        assert not haforu.is_available()
        print("OK")
    """)
