"""The conveniences: module-level ``render_to_numpy`` / ``metrics`` on a default session, bare
font file names found in the font folders, the package version and the wasmtime pin."""

from __future__ import annotations

import importlib.metadata
import json
import multiprocessing
import os
import re
import shutil
import subprocess
import sys
import textwrap
import threading
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any, List, Tuple

import numpy as np
import pytest

import haforu
from conftest import DEJAVU, INTER, ROOT, dumps, job

# -- module-level functions -------------------------------------------------------------------


def test_module_level_functions_equal_a_session() -> None:
    with haforu.StreamingSession() as s:
        img = s.render_to_numpy(DEJAVU, "Hamburgefonstiv", 48, 800, 100)
        m = s.metrics(INTER, "office", 40, 300, 80, {"wght": 700}, features=["-liga"])
    got = haforu.render_to_numpy(DEJAVU, "Hamburgefonstiv", 48, 800, 100)
    assert got.shape == (100, 800) and got.dtype == np.uint8 and np.array_equal(got, img)
    assert haforu.metrics(INTER, "office", 40, 300, 80, {"wght": 700}, features=["-liga"]) == m
    # The bundled font, and in-memory bytes, as on a session.
    assert haforu.render_to_numpy(None, "Hi", 48, 100, 64).min() < 128
    assert haforu.metrics(None, "Hi", 48, 100, 64, font_bytes=DEJAVU.read_bytes()) == \
        haforu.metrics(DEJAVU, "Hi", 48, 100, 64)
    with pytest.raises(haforu.FontNotFoundError):
        haforu.metrics("/nonexistent/font.ttf", "x", 10, 10, 10)
    s1 = haforu.default_session()
    assert s1 is haforu.default_session() and not s1.closed


def test_default_session_is_shared_by_threads() -> None:
    want = haforu.StreamingSession().metrics(DEJAVU, "thread", 30, 200, 50)
    got: List[Any] = []
    sessions: List[int] = []
    start = threading.Barrier(8)

    def work() -> None:
        start.wait()
        sessions.append(id(haforu.default_session()))
        for _ in range(5):
            got.append(haforu.metrics(DEJAVU, "thread", 30, 200, 50))

    threads = [threading.Thread(target=work) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert got == [want] * 40
    assert len(set(sessions)) == 1


def _child_metrics(font: str) -> Tuple[bool, Tuple[float, float, Tuple[int, int, int, int]]]:
    from haforu import session as mod

    m = haforu.metrics(font, "fork", 30, 200, 50)
    return mod._default_pid == os.getpid(), (m.density, m.beam, m.bbox)


@pytest.mark.skipif(sys.platform != "linux", reason="fork start method")
def test_forked_child_makes_its_own_default_session() -> None:
    haforu.metrics(DEJAVU, "warm", 30, 200, 50)  # the parent's default session exists
    want = haforu.metrics(DEJAVU, "fork", 30, 200, 50)
    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("fork")) as ex:
        own, m = ex.submit(_child_metrics, str(DEJAVU)).result(timeout=120)
    assert own
    assert m == (want.density, want.beam, want.bbox)


def test_default_session_is_closed_at_exit() -> None:
    code = textwrap.dedent(f"""
        import atexit
        s = None
        def check():  # registered first, so it runs after haforu's own exit handler
            print("closed" if s.closed else "open")
        atexit.register(check)
        import haforu
        haforu.metrics({str(DEJAVU)!r}, "exit", 30, 200, 50)
        s = haforu.default_session()
    """)
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stderr
    assert p.stdout.strip() == "closed" and p.stderr == ""


# -- bare font file names in the font folders -----------------------------------------------


@pytest.fixture()
def font_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A home with a fake user font folder holding a copy of DejaVu under a name no system
    folder has, and an empty working directory."""
    home = tmp_path / "home"
    sub = home / ".local" / "share" / "fonts" / "truetype" / "test"
    sub.mkdir(parents=True)
    shutil.copyfile(DEJAVU, sub / "HaforuFolderTest.ttf")
    (home / ".fonts").mkdir()
    shutil.copyfile(INTER, home / ".fonts" / "HaforuFolderTest.otf")
    monkeypatch.setenv("HOME", str(home))
    for var in ("XDG_DATA_HOME", "HAFORU_FONT_DIRS"):
        monkeypatch.delenv(var, raising=False)
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    return sub / "HaforuFolderTest.ttf"


def test_font_dirs_lists_the_usual_folders(font_home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    home = os.environ["HOME"]
    dirs = haforu.font_dirs()
    for d in (f"{home}/.local/share/fonts", f"{home}/.fonts", "/usr/local/share/fonts", "/usr/share/fonts",
              f"{home}/Library/Fonts", "/Library/Fonts", "/System/Library/Fonts"):
        assert d in dirs
    assert dirs.index(f"{home}/.local/share/fonts") < dirs.index("/usr/share/fonts")
    monkeypatch.setenv("LOCALAPPDATA", "C:/Users/u/AppData/Local")
    monkeypatch.setenv("WINDIR", "C:/Windows")
    monkeypatch.setenv("HAFORU_FONT_DIRS", os.pathsep.join(["/a", "/b"]))
    dirs = haforu.font_dirs()
    assert dirs[:2] == ["/a", "/b"]
    assert os.path.join("C:/Windows", "Fonts") in dirs
    assert os.path.join("C:/Users/u/AppData/Local", "Microsoft", "Windows", "Fonts") in dirs


def test_find_font(font_home: Path) -> None:
    assert haforu.find_font("HaforuFolderTest.ttf") == str(font_home)
    assert haforu.find_font("HaforuFolderTest") == str(font_home)  # no extension: .ttf first
    assert haforu.find_font("HaforuFolderTest.otf") == os.path.join(os.environ["HOME"], ".fonts",
                                                                     "HaforuFolderTest.otf")
    assert haforu.find_font("NoSuchFont-haforu.ttf") is None
    assert haforu.find_font("truetype/test/HaforuFolderTest.ttf") is None  # not a bare name
    assert haforu.find_font("") is None


def test_bare_names_render_from_the_font_folders(font_home: Path) -> None:
    want = haforu.StreamingSession().metrics(DEJAVU, "Hamburg", 48, 300, 64)
    with haforu.StreamingSession() as s:
        assert s.metrics("HaforuFolderTest.ttf", "Hamburg", 48, 300, 64) == want
        assert np.array_equal(s.render_to_numpy("HaforuFolderTest.ttf", "Hi", 48, 100, 64),
                              s.render_to_numpy(DEJAVU, "Hi", 48, 100, 64))
        # The job keeps the name it was given.
        r = json.loads(s.render(dumps(job("n", font="HaforuFolderTest.ttf", fmt="metrics"))))
        assert r["status"] == "success" and r["font"]["path"] == "HaforuFolderTest.ttf", r
        assert s.font_info("HaforuFolderTest.ttf")["glyphCount"] == haforu.font_info(DEJAVU)["glyphCount"]
    assert haforu.metrics("HaforuFolderTest.ttf", "Hamburg", 48, 300, 64) == want
    jobs = [job("a", font="HaforuFolderTest.ttf", fmt="metrics"), job("b", font=DEJAVU, fmt="metrics")]
    out = {r["id"]: r for r in map(json.loads, haforu.process_jobs(jobs, workers=2))}
    assert out["a"]["status"] == "success" and out["a"]["metrics"] == out["b"]["metrics"]


def test_the_working_directory_wins(font_home: Path) -> None:
    shutil.copyfile(INTER, "HaforuFolderTest.ttf")
    with haforu.StreamingSession() as s:
        assert s.metrics("HaforuFolderTest.ttf", "Hamburg", 48, 300, 64) == s.metrics(INTER, "Hamburg", 48, 300, 64)


def test_no_search_with_base_dir_or_when_off(font_home: Path, tmp_path: Path) -> None:
    (tmp_path / "fonts").mkdir()
    with haforu.StreamingSession(base_dir=tmp_path / "fonts") as s:
        with pytest.raises(haforu.FontNotFoundError):
            s.metrics("HaforuFolderTest.ttf", "x", 48, 100, 64)
    with haforu.StreamingSession(font_search=False) as s:
        with pytest.raises(haforu.FontNotFoundError):
            s.metrics("HaforuFolderTest.ttf", "x", 48, 100, 64)
    with haforu.StreamingSession() as s:
        with pytest.raises(haforu.FontNotFoundError):  # a folder part: that path only
            s.metrics(os.path.join("test", "HaforuFolderTest.ttf"), "x", 48, 100, 64)
    (r,) = map(json.loads, haforu.process_jobs([job("off", font="HaforuFolderTest.ttf")], font_search=False))
    assert r["error_kind"] == "font_not_found", r
    # The CLI, like the Rust one, takes a font path as it is.
    p = subprocess.run([sys.executable, "-m", "haforu", "batch"], input=dumps(job("cli", font="HaforuFolderTest.ttf")),
                       capture_output=True, text=True, timeout=120, env=dict(os.environ))
    assert p.returncode == 0, p.stderr
    assert json.loads(p.stdout)["error_kind"] == "font_not_found"


def test_a_font_installed_later_is_found(font_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from haforu import _fontdirs

    assert haforu.find_font("HaforuLater.ttf") is None
    shutil.copyfile(DEJAVU, font_home.parent / "HaforuLater.ttf")
    monkeypatch.setattr(_fontdirs, "_REWALK_S", 0.0)
    assert haforu.find_font("HaforuLater.ttf") == str(font_home.parent / "HaforuLater.ttf")
    extra = tmp_path / "extra"
    extra.mkdir()
    shutil.copyfile(INTER, extra / "HaforuFolderTest.ttf")
    monkeypatch.setenv("HAFORU_FONT_DIRS", str(extra))  # searched first
    assert haforu.find_font("HaforuFolderTest.ttf") == str(extra / "HaforuFolderTest.ttf")


# -- version and pins ------------------------------------------------------------------------


def test_version_is_3() -> None:
    assert haforu.__version__ == "3.0.0"
    assert importlib.metadata.version("haforu") == haforu.__version__
    p = subprocess.run([sys.executable, "-m", "haforu", "version"], capture_output=True, text=True, timeout=120)
    assert p.stdout.startswith("haforu 3.0.0 "), p.stdout
    readme = (ROOT / "hosts" / "python" / "README.md").read_text(encoding="utf-8")
    assert "3.0.0" in readme and "2.x" in readme


def _wasmtime_range(spec: str) -> Tuple[int, int]:
    lo = re.search(r">=\s*(\d+)", spec)
    hi = re.search(r"<\s*(\d+)", spec)
    assert lo and hi, spec
    return int(lo.group(1)), int(hi.group(1))


def test_wasmtime_pin_is_what_is_tested() -> None:
    (req,) = [r for r in importlib.metadata.requires("haforu") or [] if r.startswith("wasmtime")]
    lo, hi = _wasmtime_range(req)
    major = int(importlib.metadata.version("wasmtime").split(".")[0])
    assert lo <= major < hi, (req, major)
    # The Makefile installs (and downloads for the fresh-venv test) the same range.
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    m = re.search(r"^PY_WASMTIME\s*:=\s*(\S+)", makefile, re.M)
    assert m and _wasmtime_range(m.group(1)) == (lo, hi), req
    pyproject = (ROOT / "hosts" / "python" / "pyproject.toml").read_text(encoding="utf-8")
    assert f'"{m.group(1)}"' in pyproject
