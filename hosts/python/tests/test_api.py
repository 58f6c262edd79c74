"""API behaviour of StreamingSession and the package surface."""

from __future__ import annotations

import base64
import json
import os
import shutil
import threading
from pathlib import Path

import numpy as np
import pytest

import haforu
from conftest import DEJAVU, INTER, ROOT, dumps, job


def test_public_surface() -> None:
    for name in ("process_jobs", "StreamingSession", "Metrics", "HaforuError", "FontNotFoundError",
                 "InvalidJobError", "RenderError"):
        assert hasattr(haforu, name)
    assert isinstance(haforu.__version__, str)
    pkg = Path(haforu.__file__).parent
    assert (pkg / "py.typed").is_file()


def test_render_json_success(session: haforu.StreamingSession) -> None:
    out = json.loads(session.render(dumps(job("a", fmt="pgm"))))
    assert out["id"] == "a" and out["status"] == "success", out
    r = out["rendering"]
    assert r["format"] == "pgm" and r["width"] == 800 and r["height"] == 100
    data = base64.b64decode(r["data"])
    assert data.startswith(b"P5\n800 100\n255\n") and len(data) == len(b"P5\n800 100\n255\n") + 80000
    assert out["timing"]["total_ms"] > 0
    assert set(out["timing"]) == {"total_ms"}
    assert out["font"]["path"] == str(DEJAVU)


def test_render_accepts_bytes_and_formats(session: haforu.StreamingSession) -> None:
    for fmt in ("raw", "png", "pgm", "metrics", "glyphs"):
        out = json.loads(session.render(dumps(job(fmt, fmt=fmt)).encode()))
        assert out["status"] == "success", out
    png = json.loads(session.render(dumps(job("p", fmt="png"))))
    assert base64.b64decode(png["rendering"]["data"]).startswith(b"\x89PNG\r\n\x1a\n")
    g = json.loads(session.render(dumps(job("g", fmt="glyphs", text="Hi"))))
    assert len(g["glyphs"]) == 2 and {"gid", "cluster", "x_advance"} <= set(g["glyphs"][0])


def test_render_many_in_order(session: haforu.StreamingSession) -> None:
    jobs = [dumps(job(f"m{i}", fmt="metrics")) for i in range(20)]
    ids = [json.loads(r)["id"] for r in session.render_many(iter(jobs))]
    assert ids == [f"m{i}" for i in range(20)]


def test_render_to_numpy_shape_dtype_contiguity(session: haforu.StreamingSession) -> None:
    a = session.render_to_numpy(DEJAVU, "Hamburgefonstiv", 48, 800, 100)
    assert a.shape == (100, 800) and a.dtype == np.uint8
    assert a.flags["C_CONTIGUOUS"] and a.flags["OWNDATA"] and a.flags["WRITEABLE"]
    assert a.min() == 0 and a.max() == 255  # ink and paper present
    b = session.render_to_numpy(str(DEJAVU), "Hamburgefonstiv", 48, 800, 100)
    assert np.array_equal(a, b)
    # The array owns its pixels: later renders do not change it.
    session.render_to_numpy(DEJAVU, "xyz", 10, 800, 100)
    assert np.array_equal(a, b)


def test_render_to_numpy_matches_json_raw(session: haforu.StreamingSession) -> None:
    a = session.render_to_numpy(INTER, "Hamburgefonstiv", 40.5, 640, 90, variations={"wght": 700},
                                features=["-liga", "kern"], script="Latn", direction="ltr", language="en")
    j = job("r", font={"path": str(INTER), "size": 40.5, "variations": {"wght": 700}}, width=640, height=90)
    j["text"].update({"features": ["-liga", "kern"], "script": "Latn", "direction": "ltr", "language": "en"})
    out = json.loads(session.render(dumps(j)))
    raw = np.frombuffer(base64.b64decode(out["rendering"]["data"]), np.uint8).reshape(90, 640)
    assert np.array_equal(a, raw)


def test_render_to_numpy_small_ink_box_and_blank(session: haforu.StreamingSession) -> None:
    # One 1000 px glyph on 3000x1200 comes from the engine as its ink box alone (INK_BOX) and
    # is pasted on a white canvas here; a blank text sends no pixels at all. Both must equal
    # the engine's own raw canvas.
    for text in ("A", " "):
        a = session.render_to_numpy(INTER, text, 1000, 3000, 1200, variations={"wght": 630})
        j = job("r", font={"path": str(INTER), "size": 1000, "variations": {"wght": 630}}, width=3000, height=1200)
        j["text"]["content"] = text
        out = json.loads(session.render(dumps(j)))
        raw = np.frombuffer(base64.b64decode(out["rendering"]["data"]), np.uint8).reshape(1200, 3000)
        assert a.shape == (1200, 3000) and a.flags["C_CONTIGUOUS"] and a.flags["WRITEABLE"]
        assert np.array_equal(a, raw)
    assert int((a == 255).sum()) == 3000 * 1200


def test_variations_change_pixels(session: haforu.StreamingSession) -> None:
    light = session.render_to_numpy(INTER, "Hamburgefonstiv", 48, 800, 100, variations={"wght": 100})
    bold = session.render_to_numpy(INTER, "Hamburgefonstiv", 48, 800, 100, variations={"wght": 900})
    assert (255 - bold.astype(int)).sum() > (255 - light.astype(int)).sum()


def test_font_bytes(session: haforu.StreamingSession) -> None:
    data = DEJAVU.read_bytes()
    a = session.render_to_numpy(None, "Hamburgefonstiv", 48, 800, 100, font_bytes=data)
    b = session.render_to_numpy(DEJAVU, "Hamburgefonstiv", 48, 800, 100)
    assert np.array_equal(a, b)
    stats = session.cache_stats()
    session.render_to_numpy(None, "x", 48, 80, 100, font_bytes=bytes(data))  # same content, another object
    after = session.cache_stats()
    assert after["font_hits"] == stats["font_hits"] + 1 and after["font_misses"] == stats["font_misses"]
    # Registered (haforu_font_register), not bound under a made-up path: the engine's bound
    # files do not list it, and no result or error names a font path for it.
    assert after["engine"]["bound_fonts"]["entries"] == 1 and after["fonts_registered"] == 2
    m = session.metrics(None, "Hamburgefonstiv", 48, 800, 100, font_bytes=data)
    assert m == session.metrics(DEJAVU, "Hamburgefonstiv", 48, 800, 100)
    with pytest.raises(haforu.HaforuError) as e:
        session.render_to_numpy(None, "x", 48, 80, 100, direction="sideways", font_bytes=data)
    assert e.value.kind == "bad_job" and e.value.font_path is None and "haforu:" not in str(e.value)
    with pytest.raises(haforu.HaforuError) as e:
        session.metrics(None, "x", 48, 80, 100, font_bytes=b"not a font")
    assert e.value.kind == "font_parse" and e.value.font_path is None and "haforu:" not in str(e.value)
    with pytest.raises(haforu.HaforuError) as e:
        session.metrics(None, "x", 48, 80, 100, font_bytes=b"")
    assert e.value.kind == "font_parse" and e.value.font_path is None and str(e.value).startswith("job `metrics`: ")


def test_font_bytes_after_a_trap() -> None:
    """A deadline trap rebuilds the instance: its font handles are gone, so the bytes are
    registered again on the next call (and render as before). The trapped job costs ~45 ms
    warm (~170 ms cold) without a glyph cache, so a 1 ms deadline fires however fast the machine;
    a lighter job (the old one took ~2 ms once rasterising went sparse) raced the ticker."""
    data = DEJAVU.read_bytes()
    with haforu.StreamingSession(timeout_ms=1, max_glyphs=0) as s:
        small = s.render_to_numpy(None, "Hamburgefonstiv", 24, 300, 40, font_bytes=data)
        misses = s.cache_stats()["font_misses"]
        with pytest.raises(haforu.HaforuError) as e:
            s.render_to_numpy(None, "mbm", 9000, 10000, 5000, font_bytes=data)
        assert e.value.kind == "resource_limit" and e.value.font_path is None
        again = s.render_to_numpy(None, "Hamburgefonstiv", 24, 300, 40, font_bytes=data)
        st = s.cache_stats()
        assert st["instance_rebuilds"] >= 1 and st["font_misses"] == misses + 1
    assert np.array_equal(small, again)


def test_default_font(session: haforu.StreamingSession) -> None:
    a = session.render_to_numpy(None, "Hamburgefonstiv", 48, 800, 100)
    assert a.min() < 128


def test_metrics_dataclass(session: haforu.StreamingSession) -> None:
    m = session.metrics(DEJAVU, "Hamburgefonstiv", 48, 800, 100)
    assert isinstance(m, haforu.Metrics)
    assert 0 < m.density < 1 and 0 < m.beam < 1
    assert isinstance(m.bbox, tuple) and len(m.bbox) == 4 and all(isinstance(v, int) for v in m.bbox)
    px = session.render_to_numpy(DEJAVU, "Hamburgefonstiv", 48, 800, 100)
    c = 255 - px.astype(np.int64)
    assert m.density == pytest.approx(c.sum() / (255 * c.size), rel=1e-9)
    ys, xs = np.nonzero(c)
    assert m.bbox == (xs.min(), ys.min(), xs.max() - xs.min() + 1, ys.max() - ys.min() + 1)
    with pytest.raises(Exception):
        m.density = 1.0  # type: ignore[misc]  # frozen


def test_blank_metrics(session: haforu.StreamingSession) -> None:
    m = session.metrics(DEJAVU, " ", 48, 100, 100)
    assert m.density == 0 and m.beam == 0 and m.bbox == (0, 0, 0, 0)


def test_warm_up_ping_stats_info(session: haforu.StreamingSession) -> None:
    session.warm_up()
    assert session.ping() is True
    stats = session.cache_stats()
    for key in ("fonts_registered", "max_fonts", "font_hits", "font_misses", "font_evictions",
                "instance_rebuilds", "engine"):
        assert key in stats
    info = session.info()
    assert info["abi_version"] == 2 and "version" in info and "limits" in info
    session.clear_cache()
    assert session.ping()


def test_close_semantics() -> None:
    s = haforu.StreamingSession()
    assert not s.closed
    s.close()
    s.close()  # idempotent
    assert s.closed
    for call in (lambda: s.render("{}"), s.ping, s.cache_stats, s.warm_up,
                 lambda: s.render_to_numpy(DEJAVU, "a", 10, 10, 10),
                 lambda: s.metrics(DEJAVU, "a", 10, 10, 10), lambda: list(s.render_many(["{}"]))):
        with pytest.raises(RuntimeError, match="closed"):
            call()
    with pytest.raises(RuntimeError):
        with s:
            pass


def test_context_manager_closes() -> None:
    with haforu.StreamingSession() as s:
        assert s.ping()
    assert s.closed


def test_font_lru_eviction() -> None:
    fonts = [DEJAVU, INTER, ROOT / "tests" / "fonts" / "NotoSansArabic-subset.ttf"]
    with haforu.StreamingSession(max_fonts=2) as s:
        for f in fonts * 2:
            s.render_to_numpy(f, "a", 20, 40, 30)
        st = s.cache_stats()
        assert st["fonts_registered"] == 2
        assert st["font_evictions"] >= 4
        assert st["engine"] is not None


def test_font_reloaded_when_file_changes(tmp_path: Path, session: haforu.StreamingSession) -> None:
    f = tmp_path / "font.ttf"
    shutil.copyfile(DEJAVU, f)
    a = session.render_to_numpy(f, "Hamburgefonstiv", 48, 800, 100)
    shutil.copyfile(INTER, f)
    b = session.render_to_numpy(f, "Hamburgefonstiv", 48, 800, 100)
    assert not np.array_equal(a, b)
    assert session.cache_stats()["font_misses"] >= 2


def test_base_dir_containment(tmp_path: Path) -> None:
    inside = tmp_path / "fonts"
    inside.mkdir()
    shutil.copyfile(DEJAVU, inside / "ok.ttf")
    (inside / "link.ttf").symlink_to(INTER)  # symlink escaping base_dir
    with haforu.StreamingSession(base_dir=inside) as s:
        ok = json.loads(s.render(dumps(job("ok", font="ok.ttf", fmt="metrics"))))
        assert ok["status"] == "success", ok
        ok_abs = json.loads(s.render(dumps(job("ok2", font=str(inside / "ok.ttf"), fmt="metrics"))))
        assert ok_abs["status"] == "success"
        for bad in ("../fonts/../../etc/passwd", str(DEJAVU), "link.ttf", "../" + inside.name + "/../x.ttf"):
            out = json.loads(s.render(dumps(job("bad", font=bad, fmt="metrics"))))
            assert out["status"] == "error" and out["error_kind"] == "font_not_found", (bad, out)
        with pytest.raises(haforu.FontNotFoundError, match="outside base_dir"):
            s.render_to_numpy(DEJAVU, "a", 10, 10, 10)
    assert next(iter(haforu.process_jobs(dumps(job("p", font="ok.ttf", fmt="metrics")), base_dir=inside)))


def test_process_jobs_base_dir_relative() -> None:
    results = [json.loads(r) for r in haforu.process_jobs(
        dumps(job("rel", font="tests/fonts/DejaVuSans-subset.ttf", fmt="metrics")), base_dir=ROOT)]
    assert results[0]["status"] == "success"


def test_shared_session_threads(session: haforu.StreamingSession) -> None:
    ref = session.render_to_numpy(DEJAVU, "Hamburgefonstiv", 48, 800, 100)
    errors: list = []

    def work() -> None:
        try:
            for i in range(30):
                a = session.render_to_numpy(DEJAVU, "Hamburgefonstiv", 48, 800, 100)
                assert np.array_equal(a, ref)
                r = json.loads(session.render(dumps(job(f"t{i}", fmt="metrics"))))
                assert r["status"] == "success" and r["id"] == f"t{i}"
        except BaseException as e:  # noqa: BLE001
            errors.append(e)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors


def test_session_per_thread() -> None:
    results: dict = {}

    def work(k: int) -> None:
        with haforu.StreamingSession() as s:
            results[k] = s.render_to_numpy(INTER, "Hamburgefonstiv", 48, 800, 100, variations={"wght": 600})

    threads = [threading.Thread(target=work, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(results) == 4 and all(np.array_equal(results[0], r) for r in results.values())


def test_json_images_byte_identical_to_engine_inline_output() -> None:
    """render() base64-encodes image bytes in the host (out of band from the engine); the text
    must equal what the engine writes inline, byte for byte (timing aside)."""
    import re

    from haforu._renderer import Renderer

    r = Renderer()
    cases = [job("i1", fmt=f) for f in ("raw", "pgm", "png")]
    cases.append(job("i2", font=str(INTER), fmt="pgm", text="Wåve ⇒ ﬁ", width=300, height=60))
    cases.append(job("i\"3\\", fmt="raw", text=" ", width=5, height=5))
    cases.append(job("i4", fmt="pgm", size=0))
    for j in cases:
        text = dumps(j)
        ours = r.render_json(text)
        ours = re.sub(r',"timing":\{"total_ms":[0-9.e-]+\}\}$', "}", ours)
        _, inline, _ = r.inst.run(text.encode(), 0, 0, 0)  # no flags: inline base64 (the font is bound now)
        assert ours.encode() == inline, j["id"]
    r.close()


def test_base64_backends_agree(monkeypatch: pytest.MonkeyPatch) -> None:
    import binascii
    import ctypes

    from haforu import _b64

    for n in (0, 1, 2, 3, 4, 5, 80_000, 80_001, 80_002):
        data = bytes((i * 7 + 3) % 256 for i in range(n))
        src = ctypes.create_string_buffer(data, max(n, 1))
        want = binascii.b2a_base64(data, newline=False)
        for fast in (True, False):
            if not fast:
                monkeypatch.setattr(_b64, "_encode_block", None)
                monkeypatch.setattr(_b64, "_loaded", True)
            buf = bytearray(b"<" + bytes(4 * ((n + 2) // 3) + 1))
            _b64.encode_into(buf, 1, ctypes.addressof(src), n)
            assert bytes(buf[1:-1]) == want and buf[:1] == b"<", (n, fast)
        monkeypatch.undo()


def test_haforu2_porting_names() -> None:
    assert haforu.is_available() is True
    with haforu.StreamingSession(cache_size=7) as s:
        assert s.cache_stats()["max_fonts"] == 7
        assert s.warm_up() is True


def test_closed_instance_never_touches_freed_memory() -> None:
    from haforu._renderer import Renderer

    r = Renderer()
    r.close()
    for call in (r.inst.base, r.inst.memory_size, r.inst.abi_version, lambda: r.render_json("{}"), r.stats,
                 lambda: r.inst.font_bind(1, b"x.ttf", b"font"), lambda: r.inst.result_error(None, 0, "internal", "x")):
        with pytest.raises(RuntimeError, match="closed"):
            call()


def test_inline_font_data(session: haforu.StreamingSession) -> None:
    j = job("d", font={"data": base64.b64encode(DEJAVU.read_bytes()).decode(), "size": 48}, fmt="raw")
    out = json.loads(session.render(dumps(j)))
    assert out["status"] == "success", out
    ref = session.render_to_numpy(DEJAVU, "Hamburgefonstiv", 48, 800, 100)
    assert base64.b64decode(out["rendering"]["data"]) == ref.tobytes()
