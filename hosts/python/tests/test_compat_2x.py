"""haforu 2.x callers run unchanged (issue 8): a 2.x job file (tests/compat/jobs_2x.json: mixed
pgm/png/metrics jobs, 2.x ``encoding`` values, variable coordinates, features) through
``process_jobs`` and ``StreamingSession.render``, every input form of the job list, the 2.x
Python names and signatures in a 2.x-style script, and the exception hierarchy.

The job file names its fonts relative to the repository root (as a 2.x pipeline run from its
checkout would); the tests run it with ``base_dir=ROOT``, and the script with the root as cwd."""

from __future__ import annotations

import base64
import copy
import io
import json
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any, Dict, Iterator, List

import numpy as np
import pytest

import haforu
from conftest import DEJAVU, INTER, ROOT

JOB_FILE = ROOT / "tests" / "compat" / "jobs_2x.json"
IMAGE_FORMATS = {"pgm", "png"}


def spec_text() -> str:
    return JOB_FILE.read_text(encoding="utf-8")


def jobs_2x() -> List[Dict[str, Any]]:
    jobs: List[Dict[str, Any]] = json.loads(spec_text())["jobs"]
    return jobs


def without_timing(result: str) -> Dict[str, Any]:
    obj: Dict[str, Any] = json.loads(result)
    assert obj["timing"]["total_ms"] > 0
    del obj["timing"]
    return obj


def by_id(results: Iterator[str]) -> Dict[str, Dict[str, Any]]:
    out: Dict[str, Dict[str, Any]] = {}
    for r in results:
        obj = without_timing(r)
        assert obj["id"] not in out, obj["id"]
        out[obj["id"]] = obj
    return out


def new_spelling(job: Dict[str, Any]) -> Dict[str, Any]:
    """The same job as the SPEC spells it today: no ``encoding``, no empty ``variations`` or
    ``features``, the size as a float."""
    j = copy.deepcopy(job)
    j["rendering"].pop("encoding", None)
    if not j["font"].get("variations"):
        j["font"].pop("variations", None)
    if not j["text"].get("features", True):
        j["text"].pop("features")
    j["font"]["size"] = float(j["font"]["size"])
    return j


def decode_image(fmt: str, data: bytes, width: int, height: int) -> "np.ndarray":
    if fmt == "pgm":
        header = b"P5\n%d %d\n255\n" % (width, height)
        assert data.startswith(header)
        assert len(data) == len(header) + width * height
        return np.frombuffer(data[len(header):], np.uint8).reshape(height, width)
    assert data.startswith(b"\x89PNG\r\n\x1a\n")
    from PIL import Image

    img = Image.open(io.BytesIO(data))
    assert img.size == (width, height) and img.mode == "L"
    return np.asarray(img)


def ink_bbox(px: "np.ndarray") -> List[int]:
    ys, xs = np.nonzero(px < 255)
    if not len(xs):
        return [0, 0, 0, 0]
    return [int(xs.min()), int(ys.min()), int(xs.max() - xs.min() + 1), int(ys.max() - ys.min() + 1)]


def check_result(job: Dict[str, Any], result: Dict[str, Any]) -> None:
    """One 2.x job's result: success, the right payload, and a payload that decodes."""
    assert result["id"] == job["id"]
    assert result["status"] == "success", result
    assert "error" not in result and "error_kind" not in result
    assert "warnings" not in result, result  # 2.x `encoding` values are not warned about
    assert result["font"]["path"] == job["font"]["path"]
    assert result["font"]["variations"] == {k: float(v) for k, v in job["font"]["variations"].items()}
    r = job["rendering"]
    if r["format"] == "metrics":
        assert r["encoding"] == "json"
        assert "rendering" not in result
        m = result["metrics"]
        assert 0 < m["density"] < 1 and 0 < m["beam"] <= 1, m
        x, y, w, h = m["bbox"]
        assert w > 0 and h > 0 and x + w <= r["width"] and y + h <= r["height"]
    else:
        assert r["encoding"] == "base64" and r["format"] in IMAGE_FORMATS
        out = result["rendering"]
        assert (out["format"], out["encoding"], out["width"], out["height"]) == (
            r["format"], "base64", r["width"], r["height"])
        px = decode_image(r["format"], base64.b64decode(out["data"], validate=True), r["width"], r["height"])
        assert px.min() == 0 and px.max() == 255  # ink and paper
        assert out["actual_bbox"] == ink_bbox(px)


@pytest.fixture(scope="module")
def reference() -> Dict[str, Dict[str, Any]]:
    """The job file's results through process_jobs in one worker (text input)."""
    return by_id(haforu.process_jobs(spec_text(), workers=1, base_dir=ROOT))


def test_job_file_is_a_2x_job_file() -> None:
    spec = json.loads(spec_text())
    assert spec["version"] == "1.0"
    jobs = spec["jobs"]
    formats = [j["rendering"]["format"] for j in jobs]
    assert {"pgm", "png", "metrics"} == set(formats)
    for j in jobs:  # every 2.x job carries encoding and variations
        assert j["rendering"]["encoding"] == ("json" if j["rendering"]["format"] == "metrics" else "base64")
        assert isinstance(j["font"]["variations"], dict) and isinstance(j["font"]["size"], int)
        assert (ROOT / j["font"]["path"]).is_file() and not Path(j["font"]["path"]).is_absolute()
    assert any(j["font"]["variations"] for j in jobs) and any(not j["font"]["variations"] for j in jobs)
    assert any(j["text"].get("features") for j in jobs)
    assert any(j["rendering"]["width"] == 3000 and j["rendering"]["height"] == 1200 for j in jobs)


def test_process_jobs_runs_the_2x_file(reference: Dict[str, Dict[str, Any]]) -> None:
    jobs = jobs_2x()
    assert sorted(reference) == sorted(j["id"] for j in jobs)
    for j in jobs:
        check_result(j, reference[j["id"]])
    # The features and coordinates in the file take effect.
    m = {k: v.get("metrics") or v["rendering"] for k, v in reference.items()}
    assert m["inter-a-wght100-metrics"]["density"] < m["inter-a-wght900-metrics"]["density"]
    assert m["inter-a-wght100"]["actual_bbox"] == reference["inter-a-wght100-metrics"]["metrics"]["bbox"]
    assert m["inter-digits-tnum-pgm"]["actual_bbox"] != m["inter-digits-notnum-pgm"]["actual_bbox"]
    assert m["dejavu-kern-png"]["actual_bbox"][2] < m["dejavu-nokern-png"]["actual_bbox"][2]
    assert m["garamond-liga-metrics"]["bbox"][2] < m["garamond-noliga-metrics"]["bbox"][2]


def test_parallel_workers_and_glyph_cache_settings_give_the_same_results(
        reference: Dict[str, Dict[str, Any]]) -> None:
    for kw in ({"workers": 2}, {"workers": 2, "max_glyphs": 0}, {"workers": 1, "max_glyphs": 3},
               {"workers": 1, "max_glyphs": 2048, "max_fonts": 1}, {"max_fonts": None, "max_glyphs": None}):
        assert by_id(haforu.process_jobs(spec_text(), base_dir=ROOT, **kw)) == reference, kw


def test_streaming_render_matches_process_jobs(reference: Dict[str, Dict[str, Any]]) -> None:
    with haforu.StreamingSession(base_dir=ROOT) as s:
        for j in jobs_2x():
            as_text = without_timing(s.render(json.dumps(j)))
            as_dict = without_timing(s.render(j))
            as_bytes = without_timing(s.render(json.dumps(j).encode()))
            assert as_text == as_dict == as_bytes == reference[j["id"]], j["id"]


def test_new_spelling_gives_the_same_results(reference: Dict[str, Dict[str, Any]]) -> None:
    new = [new_spelling(j) for j in jobs_2x()]
    assert all("encoding" not in j["rendering"] for j in new)
    assert by_id(haforu.process_jobs(new, base_dir=ROOT, workers=1)) == reference
    with haforu.StreamingSession(base_dir=ROOT) as s:
        for j in new:
            assert without_timing(s.render(j)) == reference[j["id"]], j["id"]
    # And the same job through the call API gives the same pixels as the 2.x job's PGM.
    job = next(j for j in jobs_2x() if j["id"] == "inter-a-wght900")
    pgm = base64.b64decode(reference["inter-a-wght900"]["rendering"]["data"])
    with haforu.StreamingSession() as s:
        px = s.render_to_numpy(ROOT / job["font"]["path"], "a", 1000, 3000, 1200, {"wght": 900.0}, "Latn")
    assert px.tobytes() == pgm[-3000 * 1200:]


def test_every_job_list_form_gives_the_same_results(tmp_path: Path, reference: Dict[str, Dict[str, Any]]) -> None:
    jobs = jobs_2x()
    jsonl = "\n".join(json.dumps(j) for j in jobs) + "\n"
    (tmp_path / "jobs.jsonl").write_text("\n" + jsonl.replace("\n", "\n\n"), encoding="utf-8")
    (tmp_path / "jobs.json").write_text(spec_text(), encoding="utf-8")
    forms: Dict[str, Any] = {
        "text": spec_text(),
        "bytes": spec_text().encode(),
        "jsonl": jsonl,
        "batch dict": json.loads(spec_text()),
        "list of dicts": jobs,
        "tuple of JSON strings": tuple(json.dumps(j) for j in jobs),
        "list of JSON bytes": [json.dumps(j).encode() for j in jobs],
        "generator": (j for j in jobs),
        "mixed list": [j if i % 2 else json.dumps(j) for i, j in enumerate(jobs)],
    }
    for name, spec in forms.items():
        assert by_id(haforu.process_jobs(spec, base_dir=ROOT, workers=2)) == reference, name
    for path in ("jobs.jsonl", "jobs.json"):  # JSONL file and a pretty-printed batch object file
        with open(tmp_path / path, encoding="utf-8") as f:
            assert by_id(haforu.process_jobs(f, base_dir=ROOT, workers=1)) == reference, path
        with open(tmp_path / path, "rb") as fb:
            assert by_id(haforu.process_jobs(fb, base_dir=ROOT, workers=2)) == reference, path
    assert by_id(haforu.process_jobs(jobs[0], base_dir=ROOT)) == {jobs[0]["id"]: reference[jobs[0]["id"]]}

    want = [reference[j["id"]] for j in jobs]
    with haforu.StreamingSession(base_dir=ROOT) as s:
        for name, spec in forms.items():
            if name == "generator":
                spec = (j for j in jobs)
            assert [without_timing(r) for r in s.render_many(spec)] == want, name
        with open(tmp_path / "jobs.jsonl", encoding="utf-8") as f:
            assert [without_timing(r) for r in s.render_many(f)] == want
        assert list(s.render_many([])) == []


def test_jobs_without_id_are_numbered_by_position() -> None:
    job = {"font": {"path": str(DEJAVU), "size": 20}, "text": {"content": "a"},
           "rendering": {"format": "metrics", "width": 40, "height": 30}}
    results = [json.loads(r) for r in haforu.process_jobs([dict(job, id="first"), job, json.dumps(job)], workers=1)]
    assert [(r["id"], r["status"]) for r in results] == [("first", "success"), ("line-2", "error"), ("line-3", "error")]
    assert all(r["error_kind"] == "bad_job" for r in results[1:])
    with haforu.StreamingSession() as s:
        assert [json.loads(r)["id"] for r in s.render_many(io.StringIO("\n" + json.dumps(job)))] == ["line-2"]


def test_bad_types_are_type_errors_that_say_what_is_accepted() -> None:
    accepted = "a list or iterator of job dicts or JSON strings"
    for bad in (42, 1.5, None, object()):
        with pytest.raises(TypeError, match="process_jobs\\(\\) takes .*" + accepted):
            haforu.process_jobs(bad)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="job 2 of the list must be a job dict or a JSON string"):
        haforu.process_jobs([{"id": "a"}, 7])  # type: ignore[list-item]
    with pytest.raises(TypeError, match="not JSON-serialisable"):
        list(haforu.process_jobs([{"id": "a", "font": {"size": {1, 2}}}], workers=1))
    with haforu.StreamingSession() as s:
        with pytest.raises(TypeError, match="render\\(\\) takes one job as a JSON string \\(str or bytes\\) or a dict"):
            s.render(42)  # type: ignore[arg-type]
        with pytest.raises(TypeError, match="render\\(\\) takes one job .* not list"):
            s.render([{"id": "a"}])  # type: ignore[arg-type]
        with pytest.raises(TypeError, match="render_many\\(\\) takes .*" + accepted):
            s.render_many(42)  # type: ignore[arg-type]
        with pytest.raises(TypeError, match="job 1 of the list"):
            s.render_many([3])  # type: ignore[list-item]


def test_invalid_envelopes_and_empty_lists_are_value_errors() -> None:
    for bad in ('{"version": "2.0", "jobs": [{"id": "x"}]}', '{"jobs": [{"id": "x"}]}', '{"version": "1.0", "jobs": []}',
                '{"version": "1.0", "jobs": [', "", [], iter([]), io.StringIO("\n\n"), {"version": "1.0", "jobs": []}):
        with pytest.raises(ValueError):
            haforu.process_jobs(bad)  # type: ignore[arg-type]


def test_exception_hierarchy() -> None:
    for cls in (haforu.HaforuError, haforu.FontNotFoundError, haforu.InvalidJobError, haforu.RenderError):
        assert issubclass(cls, RuntimeError) and issubclass(cls, haforu.HaforuError)
    assert issubclass(haforu.InvalidJobError, ValueError)
    assert issubclass(haforu.FontNotFoundError, FileNotFoundError) and issubclass(haforu.FontNotFoundError, OSError)
    with haforu.StreamingSession() as s:
        with pytest.raises(RuntimeError) as e1:
            s.render_to_numpy("/nonexistent/font.ttf", "a", 100.0, 64, 64)
        assert isinstance(e1.value, haforu.FontNotFoundError) and isinstance(e1.value, FileNotFoundError)
        assert e1.value.kind == "font_not_found" and "/nonexistent/font.ttf" in str(e1.value)
        with pytest.raises(RuntimeError) as e2:
            s.metrics(INTER, "a", 100.0, 0, 64)
        assert isinstance(e2.value, ValueError) and e2.value.kind == "bad_job"  # type: ignore[attr-defined]
    with pytest.raises(RuntimeError) as e3:
        haforu.process_jobs('{"version": "3"}')
    assert isinstance(e3.value, ValueError)


def test_2x_constructor_and_cache_settings() -> None:
    for s in (haforu.StreamingSession(max_fonts=None), haforu.StreamingSession(None, max_fonts=None)):
        with s:
            st = s.cache_stats()
            assert (st["capacity"], st["font_capacity"], st["glyph_capacity"]) == (512, 512, 2048)
    with haforu.StreamingSession(64, max_fonts=3, max_glyphs=0) as s:
        assert s.cache_stats()["capacity"] == 3 and s.cache_stats()["glyph_capacity"] == 0
        s.render_to_numpy(INTER, "Hamburgefonstiv", 30, 300, 50)
        assert s.cache_stats()["glyph_entries"] == 0  # max_glyphs=0: the cache is off
    with haforu.StreamingSession(cache_size=16, max_glyphs=None) as s:
        assert s.cache_stats()["capacity"] == 16 and s.cache_stats()["glyph_capacity"] is None
    for bad, exc in ((0, ValueError), (-1, ValueError), ("8", TypeError), (2.0, TypeError), (True, TypeError)):
        with pytest.raises(exc):
            haforu.StreamingSession(bad)  # type: ignore[arg-type]
        with pytest.raises(exc):
            haforu.StreamingSession(max_fonts=bad)  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        haforu.StreamingSession(max_glyphs=-1)
    with pytest.raises(ValueError):
        haforu.process_jobs(spec_text(), max_glyphs=-5)
    with pytest.raises(TypeError):
        haforu.process_jobs(spec_text(), max_glyphs="many")  # type: ignore[arg-type]


def test_set_cache_size_evicts_and_glyph_cache_size_bounds_the_engine_cache() -> None:
    fonts = [DEJAVU, INTER, ROOT / "tests" / "fonts" / "NotoSansArabic-subset.ttf"]
    with haforu.StreamingSession(8) as s:
        refs = [s.render_to_numpy(f, "Hamburgefonstiv", 40, 400, 60) for f in fonts]
        st = s.cache_stats()
        assert st["entries"] == st["font_entries"] == st["fonts_registered"] == 3
        assert st["glyph_entries"] > 10 and st["glyph_hits"] == st["engine"]["glyphs"]["hits"]
        s.set_cache_size(1)
        st = s.cache_stats()
        assert (st["capacity"], st["entries"], st["max_fonts"]) == (1, 1, 1)
        assert st["font_evictions"] == 2
        with pytest.raises(ValueError):
            s.set_cache_size(0)
        s.render_to_numpy(DEJAVU, "Hamburgefonstiv", 40, 400, 60)
        assert s.cache_stats()["glyph_entries"] > 5
        s.set_glyph_cache_size(5)
        st = s.cache_stats()
        assert st["glyph_capacity"] == 5 and st["glyph_entries"] <= 5
        for _ in range(3):
            for f, ref in zip(fonts, refs):  # pixels never depend on the cache
                assert np.array_equal(s.render_to_numpy(f, "Hamburgefonstiv", 40, 400, 60), ref)
            assert s.cache_stats()["glyph_entries"] <= 5
        hits = s.cache_stats()["glyph_hits"]
        s.set_glyph_cache_size(0)
        assert s.render_to_numpy(DEJAVU, "Hamburgefonstiv", 40, 400, 60).tobytes() == refs[0].tobytes()
        st = s.cache_stats()
        assert (st["glyph_capacity"], st["glyph_entries"], st["glyph_hits"]) == (0, 0, hits)
        s.set_glyph_cache_size(4096)
        s.render_to_numpy(DEJAVU, "Hamburgefonstiv", 40, 400, 60)
        s.render_to_numpy(DEJAVU, "Hamburgefonstiv", 40, 400, 60)
        st = s.cache_stats()
        assert st["glyph_capacity"] == 4096 and st["glyph_entries"] > 0 and st["glyph_hits"] > hits
        with pytest.raises(ValueError):
            s.set_glyph_cache_size(-1)
        with pytest.raises(TypeError):
            s.set_glyph_cache_size(None)  # type: ignore[arg-type]


def test_glyph_cache_setting_survives_an_instance_rebuild() -> None:
    with haforu.StreamingSession(max_glyphs=7) as s:
        s._renderer.inst.rebuild()  # type: ignore[union-attr]  # as after a trap
        assert s.cache_stats()["glyph_capacity"] == 7
        s.set_glyph_cache_size(3)
        s._renderer.inst.rebuild()  # type: ignore[union-attr]
        assert s.cache_stats()["glyph_capacity"] == 3


def test_process_jobs_max_glyphs_reaches_every_worker(monkeypatch: pytest.MonkeyPatch) -> None:
    from haforu import batch
    from haforu._renderer import Renderer

    seen: List[Dict[str, Any]] = []

    class Spy(Renderer):
        def close(self) -> None:
            seen.append(self.info()["cache"]["glyphs"])
            super().close()

    monkeypatch.setattr(batch, "Renderer", Spy)
    for workers in (1, 2):
        for max_glyphs in (0, 4):
            seen.clear()
            results = [json.loads(r) for r in haforu.process_jobs(spec_text(), base_dir=ROOT, workers=workers,
                                                                  max_glyphs=max_glyphs)]
            assert all(r["status"] == "success" for r in results)
            assert len(seen) == workers
            for g in seen:
                assert g["capacity"] == max_glyphs and g["entries"] <= max_glyphs, g
            # (with two workers one may have got no job: the whole file is one chunk)
            assert any(g["entries"] > 0 for g in seen) == (max_glyphs > 0), seen
    seen.clear()
    list(haforu.process_jobs(spec_text(), base_dir=ROOT, workers=1))
    assert seen[0]["capacity"] is None and seen[0]["entries"] > 4  # the engine's default


SCRIPT_2X = r'''
# A haforu 2.x caller, unchanged: every name and signature it used.
import json
import numpy as np
import haforu

FONT = "tests/fonts/Inter-VF-subset.ttf"
assert haforu.is_available() is True
assert haforu.StreamingSession.is_available() is True

spec_json = open("tests/compat/jobs_2x.json").read()
n_jobs = len(json.loads(spec_json)["jobs"])

# process_jobs(spec_json, *, max_fonts=..., max_glyphs=..., timeout_ms=..., base_dir=...)
results = [json.loads(r) for r in haforu.process_jobs(spec_json, max_fonts=64, max_glyphs=2048, timeout_ms=60000)]
assert len(results) == n_jobs, len(results)
for r in results:
    assert r["status"] == "success", r
    assert ("metrics" in r) != ("rendering" in r)
no_cache = {r["id"]: r for r in map(json.loads, haforu.process_jobs(spec_json, max_glyphs=0, base_dir="."))}
for r in results:
    other = no_cache[r["id"]]
    assert r.get("metrics") == other.get("metrics") and r.get("rendering") == other.get("rendering")

# 2.x envelope errors are ValueErrors
for bad in ('{"version": "2.0", "jobs": [{"id": "x"}]}', '{"version": "1.0", "jobs": []}', '{"jobs": 1}'):
    try:
        haforu.process_jobs(bad)
    except ValueError as e:
        pass
    else:
        raise AssertionError(bad)

session = haforu.StreamingSession(cache_size=128)
stats = session.cache_stats()
assert stats["capacity"] == 128 and stats["font_capacity"] == 128, stats
assert stats["glyph_capacity"] == 2048 and stats["entries"] == 0 and stats["font_entries"] == 0, stats
assert session.warm_up() is True
assert session.warm_up(FONT) is True
assert session.warm_up(FONT, text="a", size=100.0, width=64, height=64) is True
assert session.ping() is True

for job in json.loads(spec_json)["jobs"]:
    result = json.loads(session.render(json.dumps(job)))
    assert result["id"] == job["id"] and result["status"] == "success", result
    assert "timing" in result and "total_ms" in result["timing"]

# render_to_numpy(font_path, text, size, width, height, variations, script, direction, language)
image = session.render_to_numpy(FONT, "a", 1000.0, 3000, 1200, {"wght": 600.0}, "Latn", "ltr", "en")
assert image.shape == (1200, 3000) and image.dtype == np.uint8 and image.min() == 0
image2 = session.render_to_numpy(font_path=FONT, text="a", size=1000.0, width=3000, height=1200,
                                 variations={"wght": 600.0})
assert np.array_equal(image, image2)
m = session.metrics(FONT, "Hamburgefonstiv", 48.0, 600, 80, {"wght": 600.0}, "Latn", "ltr", "en")
assert 0 < m.density < 1

for i in range(3):
    session.render(json.dumps({"id": f"cache-{i}", "font": {"path": FONT, "size": 256, "variations": {}},
                               "text": {"content": "B"},
                               "rendering": {"format": "pgm", "encoding": "base64", "width": 64, "height": 64}}))
stats = session.cache_stats()
assert stats["entries"] >= 1 and stats["glyph_entries"] >= 1 and stats["glyph_hits"] >= 2, stats

session.set_cache_size(64)
assert session.cache_stats()["capacity"] == 64
session.set_glyph_cache_size(32)
assert session.cache_stats()["glyph_capacity"] == 32
session.set_glyph_cache_size(0)
assert session.cache_stats()["glyph_capacity"] == 0
try:
    session.set_cache_size(0)
except ValueError:
    pass
else:
    raise AssertionError("set_cache_size(0)")

# errors: 2.x raised RuntimeError from render_to_numpy
try:
    session.render_to_numpy("/nonexistent/font.ttf", "a", 1000.0, 64, 64)
except RuntimeError as e:
    assert "font" in str(e)
else:
    raise AssertionError("no error")
payload = json.loads(session.render("not valid json"))
assert payload["status"] == "error"
session.close()
try:
    session.render(json.dumps({"id": "after-close"}))
except RuntimeError:
    pass
else:
    raise AssertionError("closed session rendered")

session = haforu.StreamingSession(max_glyphs=2)
assert session.cache_stats()["glyph_capacity"] == 2
with haforu.StreamingSession(max_fonts=None, max_glyphs=0) as s2:
    assert s2.cache_stats()["glyph_capacity"] == 0 and s2.cache_stats()["capacity"] == 512
print("2.x script OK:", n_jobs, "jobs")
'''


def test_2x_style_script_runs_unchanged(tmp_path: Path) -> None:
    script = tmp_path / "pipeline_2x.py"
    script.write_text(textwrap.dedent(SCRIPT_2X), encoding="utf-8")
    p = subprocess.run([sys.executable, str(script)], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stdout + p.stderr
    assert p.stdout.strip() == f"2.x script OK: {len(jobs_2x())} jobs", p.stdout
