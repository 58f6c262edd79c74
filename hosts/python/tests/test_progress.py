"""Progress: ``process_jobs(..., progress=True)`` (a tqdm bar, or nothing without tqdm) and
``python -m haforu batch --progress``."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any, Dict, Iterator, List

import pytest

import haforu
from conftest import dumps, job


def _jobs() -> List[Dict[str, Any]]:
    """Five jobs, one of them failing."""
    jobs = [job(f"p{i}", fmt="metrics", text=f"progress {i}") for i in range(4)]
    jobs.insert(2, job("bad", font="/nonexistent/font.ttf"))
    return jobs


def _sorted(results: Iterator[str]) -> List[str]:
    out = []
    for line in results:
        r = json.loads(line)
        r.pop("timing", None)
        out.append(json.dumps(r, sort_keys=True))
    return sorted(out)


def test_tqdm_bar(capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("tqdm")  # the Makefile's venv has it
    want = _sorted(haforu.process_jobs(_jobs(), workers=2))
    assert capsys.readouterr().err == ""
    assert _sorted(haforu.process_jobs(_jobs(), workers=2, progress=True)) == want
    err = capsys.readouterr().err
    assert "haforu: 100%" in err and "5/5" in err and "1 errors" in err, err
    # An iterator has no length: the count and the rate.
    assert _sorted(haforu.process_jobs(iter(_jobs()), workers=1, progress=True)) == want
    err = capsys.readouterr().err
    assert "5job" in err and "/5" not in err, err


def test_closing_early_stops_the_bar_and_the_workers(capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("tqdm")
    it = haforu.process_jobs([job(f"c{i}", fmt="metrics") for i in range(200)], workers=2, progress=True)
    next(it)
    it.close()
    assert not [t for t in threading.enumerate() if t.name.startswith("haforu-worker")]
    err = capsys.readouterr().err
    assert "/200" in err, err


def test_without_tqdm_progress_is_a_no_op(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    want = _sorted(haforu.process_jobs(_jobs(), workers=2))
    for name in ("tqdm", "tqdm.auto"):
        monkeypatch.setitem(sys.modules, name, None)  # import fails: ImportError
    with pytest.raises(ImportError):
        __import__("tqdm.auto")
    assert _sorted(haforu.process_jobs(_jobs(), workers=2, progress=True)) == want
    assert _sorted(haforu.process_jobs(_jobs(), workers=1, progress=True)) == want
    assert capsys.readouterr().err == ""


def test_cli_progress_flag(tmp_path: Path) -> None:
    f = tmp_path / "jobs.jsonl"
    f.write_text("\n".join(dumps(j) for j in _jobs()) + "\n")

    def run(*flags: str) -> "subprocess.CompletedProcess[str]":
        return subprocess.run([sys.executable, "-m", "haforu", "batch", *flags, str(f)], capture_output=True,
                              text=True, timeout=120, env=dict(os.environ))

    plain = run()
    assert plain.returncode == 0 and plain.stderr == ""  # stderr is no terminal
    shown = run("--progress")
    assert shown.returncode == 0, shown.stderr
    assert sorted(map(_strip, shown.stdout.splitlines())) == sorted(map(_strip, plain.stdout.splitlines()))
    lines = shown.stderr.splitlines()
    assert "\r" not in shown.stderr and "\x1b" not in shown.stderr
    assert " 0/5 jobs" in lines[0] and lines[-1].startswith("[##############################] 5/5 jobs, 1 errors")
    both = run("--progress", "--no-progress")
    assert both.returncode == 2 and both.stdout == ""


def _strip(line: str) -> str:
    at = line.rfind(',"timing":')
    return line[:at] if at >= 0 else line
