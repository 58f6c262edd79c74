"""The examples under examples/python/ run as they are (a subprocess each, from a directory that is
not the repository, with the installed package) and print what they promise."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from conftest import ROOT

EXAMPLES = ROOT / "examples" / "python"


def run_example(name: str, tmp_path: Path) -> str:
    script = EXAMPLES / name
    assert script.is_file(), script
    p = subprocess.run([sys.executable, str(script)], cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, f"{name} failed:\n{p.stdout}\n{p.stderr}"
    assert p.stderr == "", p.stderr
    return p.stdout


def test_every_example_is_tested() -> None:
    assert sorted(p.name for p in EXAMPLES.glob("*.py")) == [
        "batch.py", "dask_render.py", "errors.py", "match.py", "numpy_render.py", "streaming.py", "varsweep.py"]


def test_batch_example(tmp_path: Path) -> None:
    out = run_example("batch.py", tmp_path)
    assert "11 results, all succeeded: True" in out
    densities = [float(d) for d in re.findall(r"^metrics-wght\d+\s+([0-9.]+)", out, re.M)]
    assert len(densities) == 9 and all(0 < d < 1 for d in densities)
    assert densities == sorted(densities) and "ink density grows with weight: True" in out
    dark = {int(w): int(n) for w, n in re.findall(r"^image-wght(\d+): PGM 600x80, 48014 bytes, (\d+) dark", out, re.M)}
    assert set(dark) == {100, 900} and 0 < dark[100] < dark[900]
    assert "from JSONL text: ['metrics-wght100', 'metrics-wght200', 'metrics-wght300']" in out
    assert "missing-font: error (font_not_found)" in out and "metrics-wght200: success" in out


def test_streaming_example(tmp_path: Path) -> None:
    out = run_example("streaming.py", tmp_path)
    assert "engine available: True" in out
    assert "dict-job: success" in out and "text-job: success, same metrics: True" in out
    sweep = [float(d) for d in re.findall(r"^  w\d+\s+density ([0-9.]+)", out, re.M)]
    assert len(sweep) == 5 and sweep == sorted(sweep) and sweep[0] > 0
    assert "from a JSONL file: ['file-0', 'file-1']" in out
    m = re.search(r"cache: \{'capacity': 8, 'entries': 2, 'glyph_capacity': 2048, 'glyph_entries': (\d+), "
                  r"'glyph_hits': (\d+)\}", out)
    assert m, out
    assert int(m.group(1)) > 0 and int(m.group(2)) > 200  # the repeated renders hit the cache
    assert "after set_cache_size(1), set_glyph_cache_size(16): 1 font(s), 16 glyph(s) cached (capacity 16)" in out
    assert "glyph cache off: 0 glyphs cached, same metrics as before: True" in out
    assert out.rstrip().endswith("session closed: True")


def test_numpy_example(tmp_path: Path) -> None:
    out = run_example("numpy_render.py", tmp_path)
    assert out.startswith("shape (24, 80), dtype uint8, C-contiguous True, min 0, max 255\n")
    art = out.split("\n", 1)[1].split(" wght")[0]
    assert art.count("@") > 100  # the word is drawn
    rows = re.findall(r"^\s+(\d+)\s+([0-9.]+)\s+([0-9.]+)$", out, re.M)
    assert [int(w) for w, _, _ in rows] == [100, 400, 700, 900]
    for _, coverage, density in rows:
        assert coverage == density  # metrics() measures the same ink as the pixels
    covs = [float(c) for _, c, _ in rows]
    assert covs == sorted(covs)
    m = re.search(r"with ligatures (\d+) px, without (\d+) px", out)
    assert m and int(m.group(1)) < int(m.group(2))
    assert "named instance 'Bold' from a path and from bytes identical: True" in out


def test_errors_example(tmp_path: Path) -> None:
    out = run_example("errors.py", tmp_path)
    for line in (r"missing-font\s+error\s+font_not_found\s+job `missing-font`",
                 r"zero-size\s+error\s+bad_job", r"bad-format\s+error\s+bad_job", r"not JSON\s+bad_json"):
        assert re.search(line, out), line
    assert "warnings (success):" in out
    assert "unknown key `font.variation` ignored" in out
    assert "axis `wdth` is not in the font" in out and "clamped to 900" in out
    assert "missing font  FontNotFoundError (a FileNotFoundError), kind font_not_found" in out
    assert "zero width    InvalidJobError (a ValueError), kind bad_job" in out
    assert "bad feature   InvalidJobError (a ValueError), kind bad_job" in out
    assert "broken font   RenderError (a RuntimeError), kind font_parse" in out
    assert 'ValueError: job `batch`: batch `version` must be the string "1.0"' in out
    assert "ValueError: job `batch`: batch `jobs` is empty" in out
    assert "process_jobs(42): TypeError: process_jobs() takes a job list as str or bytes" in out



def test_varsweep_example(tmp_path: Path) -> None:
    out = run_example("varsweep.py", tmp_path)
    assert out.startswith("Inter: axis wght (Weight) 100..900, default 400\n")
    assert re.search(r"^81 points, 'A' at 1000 px on 3000x1200, in \d+ ms", out, re.M)
    rows = [(float(w), float(d)) for w, d in re.findall(r"^\s+(\d+)\s+([0-9.]+)\s+#+$", out, re.M)]
    assert [w for w, _ in rows] == [100.0 + 50 * i for i in range(17)]
    densities = [d for _, d in rows]
    assert densities == sorted(densities) and 0 < densities[0] < densities[-1] < 1
    assert "rises with weight at every step: True" in out


def test_match_example(tmp_path: Path) -> None:
    out = run_example("match.py", tmp_path)
    assert "axes ['wght']" in out
    found = re.findall(r"optimum wght=([0-9.]+): pixel_delta ([0-9.]+) \(coarse grid best ([0-9.]+)\)", out)
    assert len(found) == 2
    for _, delta, coarse in found:
        assert float(delta) <= float(coarse)
    static_wght, static_delta, _ = found[0]
    assert 300 < float(static_wght) < 700 and float(static_delta) > 0  # DejaVu Sans Book is no Inter
    known_wght, known_delta, _ = found[1]
    assert abs(float(known_wght) - 637) <= 2 and float(known_delta) < 0.05
    evals = [int(n) for n in re.findall(r"^  (\d+) evaluations in \d+ engine calls, \d+ ms$", out, re.M)]
    assert len(evals) == 2 and all(9 < n < 80 for n in evals)
    assert out.count("refined never worse than the coarse best: True") == 2
    assert "found the known weight again: True" in out


def test_dask_example(tmp_path: Path) -> None:
    import pytest

    pytest.importorskip("distributed")
    pytest.importorskip("dask.dataframe")
    out = run_example("dask_render.py", tmp_path)
    assert "18 results, 17 succeeded; oops: font_not_found" in out
    assert "density grows with weight: True" in out and "same as a local session: True" in out
    rows = re.findall(r"^(d\d00) success ([0-9.]+)\s+\((\d+), (\d+), (\d+), (\d+)\)$", out, re.M)
    assert [r[0] for r in rows] == ["d300", "d500", "d700"]
    assert [float(r[1]) for r in rows] == sorted(float(r[1]) for r in rows)
    assert "sweep: 81 points, the darkest at wght 900" in out
