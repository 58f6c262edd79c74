"""Hostile inputs reach the engine as bytes and come back as error results, at once and in
bounded memory, through every door: ``StreamingSession.render``, ``process_jobs``,
``python -m haforu batch`` and ``python -m haforu validate`` (a verdict line).

Each case runs in a subprocess of its own (peak RSS is per process): the job line nested
100,000 deep, invalid UTF-8, a ``font.path`` that is ``/dev/zero``, a directory or a FIFO, and a
line longer than the engine's job limit (``limits.max_job_json_bytes``, ~172 MB). Each answer
must take under a second; the assertion allows 5 s for a loaded machine and the measured figure
is printed (``pytest -s``).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any, Dict, List, Tuple

import pytest

from conftest import DEJAVU

#: Peak RSS allowed for a whole process answering one hostile input.
MAX_RSS_MB = 300
#: The wall-clock bound asserted per answer (the target is under a second).
MAX_SECONDS = 5.0

#: name -> (job line builder source, expected kind, a phrase of the message).
CASES: Dict[str, Tuple[str, str, str]] = {
    "deep": ("b'{\"id\":\"deep\",\"x\":' + b'[' * 100_000 + b']' * 100_000 + b'}'", "bad_json", "job `"),
    "utf8": ("b'{\"id\":\"u\",\"text\":{\"content\":\"\\xff\\xfe\"}}'", "bad_json", "job `"),
    "devzero": ("font_job('/dev/zero')", "font_not_found", "not a regular file"),
    "directory": ("font_job(TMP)", "font_not_found", "not a regular file"),
    "fifo": ("font_job(FIFO)", "font_not_found", "not a regular file"),
    "huge": ("b'a' * (LIMIT + 1)", "limit_exceeded", "limit"),
}

#: The ids the results carry: readable ids where the engine can read them, else the line's.
IDS = {"deep": {"job", "line-1"}, "utf8": {"job", "line-1"}, "devzero": {"fz"}, "directory": {"fz"},
       "fifo": {"fz"}, "huge": {"job", "line-1"}}

PRELUDE = """
import json, os, resource, sys, time
import haforu
from haforu._renderer import engine_facts
TMP = sys.argv[1]
FIFO = os.path.join(TMP, "font.fifo")
LIMIT = engine_facts().max_job_bytes
def font_job(path):
    return json.dumps({"id": "fz", "font": {"path": path, "size": 20}, "text": {"content": "a"},
                       "rendering": {"format": "metrics", "width": 20, "height": 20}}).encode()
def report(results, seconds):
    # VmHWM, this process's own peak (ru_maxrss would include the test process's high-water
    # mark: Linux keeps it across fork and exec).
    rss = int(open("/proc/self/status").read().split("VmHWM:")[1].split()[0]) / 1024.0
    print(json.dumps({"results": [json.loads(r) for r in results], "seconds": seconds, "rss_mb": rss}))
"""

DOORS = {
    "render": """
line = {build}
t0 = time.perf_counter()
with haforu.StreamingSession() as s:
    out = s.render(line)
report([out], time.perf_counter() - t0)
""",
    "process_jobs": """
line = {build}
t0 = time.perf_counter()
out = list(haforu.process_jobs([line], workers=1))
report(out, time.perf_counter() - t0)
""",
}


def _fifo(tmp: Path) -> None:
    fifo = tmp / "font.fifo"
    if not fifo.exists():
        os.mkfifo(fifo)


def _check(name: str, door: str, report: Dict[str, Any]) -> None:
    _, kind, phrase = CASES[name]
    (r,) = report["results"]
    assert r["status"] == "error" and r["error_kind"] == kind, (name, door, r)
    assert r["id"] in IDS[name], (name, door, r)
    assert r["error"].startswith(f"job `{r['id']}`: ") and phrase in r["error"], (name, door, r)
    assert "timing" in r, r
    print(f"\n{door:>12} {name:<9}: {report['seconds'] * 1000:8.1f} ms, peak RSS {report['rss_mb']:6.1f} MB: "
          f"{r['error'][:90]}")
    assert report["seconds"] < MAX_SECONDS, (name, door, report["seconds"])
    assert report["rss_mb"] < MAX_RSS_MB, (name, door, report["rss_mb"])


@pytest.mark.parametrize("door", list(DOORS))
@pytest.mark.parametrize("name", list(CASES))
def test_hostile_job_through_the_api(tmp_path: Path, name: str, door: str) -> None:
    _fifo(tmp_path)
    code = PRELUDE + DOORS[door].format(build=CASES[name][0])
    p = subprocess.run([sys.executable, "-c", textwrap.dedent(code), str(tmp_path)], capture_output=True,
                       timeout=120, env=dict(os.environ))
    assert p.returncode == 0, p.stderr.decode(errors="replace")
    _check(name, door, json.loads(p.stdout.decode().strip().splitlines()[-1]))


def _job_file(tmp: Path, name: str) -> Path:
    """The case's job line, written to a file by a subprocess (no 172 MB in this process)."""
    f = tmp / f"{name}.jsonl"
    code = PRELUDE + f"open({str(f)!r}, 'wb').write({CASES[name][0]} + b'\\n')"
    subprocess.run([sys.executable, "-c", code, str(tmp)], check=True, timeout=120, env=dict(os.environ))
    return f


@pytest.mark.parametrize("name", list(CASES))
def test_hostile_job_through_the_cli(tmp_path: Path, name: str) -> None:
    _fifo(tmp_path)
    jobs = _job_file(tmp_path, name)
    t0 = time.perf_counter()
    p = subprocess.run([sys.executable, "-m", "haforu", "batch", "--stats", "--ordered", str(jobs)],
                       capture_output=True, timeout=120, env=dict(os.environ))
    wall = time.perf_counter() - t0
    assert p.returncode == 0, p.stderr.decode(errors="replace")
    results = [json.loads(line) for line in p.stdout.decode().splitlines()]
    stats = json.loads(p.stderr.decode().strip().splitlines()[-1])
    # The answer's own time (the job's timing) and the whole command, start-up included.
    _check(name, "cli batch", {"results": results, "seconds": results[0]["timing"]["total_ms"] / 1000.0,
                               "rss_mb": stats["peak_rss_mb"]})
    print(f"{'':>12} (the whole command: {wall * 1000:.0f} ms)")
    assert wall < MAX_SECONDS + 5


@pytest.mark.parametrize("name", list(CASES))
def test_hostile_job_through_validate(tmp_path: Path, name: str) -> None:
    """``python -m haforu validate`` (``VALIDATE_ONLY``, fonts provided as for a run) answers each
    case with an invalid verdict line of the case's kind; the whole command's peak RSS is the
    child's own (its ``VmHWM`` at exit)."""
    _fifo(tmp_path)
    jobs = _job_file(tmp_path, name)
    out = tmp_path / "verdicts.jsonl"
    t0 = time.perf_counter()
    hwm = tmp_path / "vmhwm"
    # `python -m haforu validate FILE`, writing its own peak RSS (VmHWM) at exit: wait4's
    # ru_maxrss would include this test process's high-water mark (kept across fork and exec).
    launcher = (f"import atexit, runpy, sys\n"
                f"atexit.register(lambda: open({str(hwm)!r}, 'w').write("
                f"open('/proc/self/status').read().split('VmHWM:')[1].split()[0]))\n"
                f"sys.argv = ['haforu', 'validate', {str(jobs)!r}]\n"
                f"runpy.run_module('haforu', run_name='__main__', alter_sys=True)\n")
    with open(out, "wb") as f:
        child = subprocess.Popen([sys.executable, "-c", launcher], stdout=f,
                                 stderr=subprocess.PIPE, env=dict(os.environ))
        _, status, _ = os.wait4(child.pid, 0)
    wall = time.perf_counter() - t0
    assert os.waitstatus_to_exitcode(status) == 1, child.stderr.read() if child.stderr else b""
    if child.stderr:
        child.stderr.close()
    (v,) = [json.loads(line) for line in out.read_text().splitlines()]
    _, kind, phrase = CASES[name]
    assert list(v) == ["id", "valid", "error", "error_kind"] and v["valid"] is False, v
    assert v["error_kind"] == kind and v["id"] in IDS[name] and phrase in v["error"], v
    rss = int(hwm.read_text()) / 1024.0
    print(f"\n{'validate':>12} {name:<9}: the whole command {wall * 1000:6.0f} ms, peak RSS {rss:6.1f} MB: "
          f"{v['error'][:70]}")
    assert wall < MAX_SECONDS + 5 and rss < MAX_RSS_MB, (name, wall, rss)


def test_good_jobs_still_render_after_hostile_ones(tmp_path: Path) -> None:
    """One session answers every hostile case in a row and then renders normally."""
    _fifo(tmp_path)
    import haforu
    from haforu._renderer import engine_facts

    def font_job(path: str) -> bytes:
        return json.dumps({"id": "fz", "font": {"path": path, "size": 20}, "text": {"content": "a"},
                           "rendering": {"format": "metrics", "width": 20, "height": 20}}).encode()

    lines: List[bytes] = [b'{"id":"deep","x":' + b"[" * 100_000 + b"]" * 100_000 + b"}",
                          b'{"id":"u","text":{"content":"\xff\xfe"}}', font_job("/dev/zero"), font_job(str(tmp_path)),
                          font_job(str(tmp_path / "font.fifo"))]
    assert engine_facts().max_job_bytes > 0
    with haforu.StreamingSession() as s:
        for line in lines:
            assert json.loads(s.render(line))["status"] == "error"
        ok = json.loads(s.render(font_job(str(DEJAVU))))
        assert ok["status"] == "success", ok
        assert s.cache_stats()["instance_rebuilds"] == 0
