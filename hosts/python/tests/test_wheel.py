"""The wheel: one py3-none-any file holding the .wasm, installable into a fresh venv, rendering
from there (no repository, no HAFORU_WASM)."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path

import pytest

from conftest import ROOT

HOST = ROOT / "hosts" / "python"


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    given = os.environ.get("HAFORU_WHEEL")
    if given:
        return Path(given)
    out = tmp_path_factory.mktemp("dist")
    subprocess.run([sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir", str(out), str(HOST)],
                   check=True, capture_output=True, timeout=300)
    (w,) = out.glob("haforu-*.whl")
    return w


def test_wheel_contents(wheel: Path) -> None:
    assert wheel.name.endswith("-py3-none-any.whl"), wheel.name
    names = set(zipfile.ZipFile(wheel).namelist())
    assert "haforu/haforu.wasm" in names
    assert "haforu/py.typed" in names
    assert "haforu/default_font/Inter-VF-Latin.ttf" in names
    wasm = zipfile.ZipFile(wheel).read("haforu/haforu.wasm")
    assert wasm[:4] == b"\0asm"


def test_fresh_venv_install_and_render(wheel: Path, tmp_path: Path) -> None:
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    py = venv / "bin" / "python"
    pip = [str(py), "-m", "pip", "install", "-q", "--disable-pip-version-check"]
    house = os.environ.get("HAFORU_WHEELHOUSE")
    if house:
        pip += ["--no-index", "--find-links", house]
    subprocess.run(pip + [str(wheel)], check=True, timeout=300)
    font = ROOT / "tests" / "fonts" / "DejaVuSans-subset.ttf"
    code = textwrap.dedent(f"""
        import json, haforu
        assert "site-packages" in haforu.__file__, haforu.__file__
        with haforu.StreamingSession() as s:
            a = s.render_to_numpy({str(font)!r}, "Hamburgefonstiv", 48, 800, 100)
            assert a.shape == (100, 800) and a.min() == 0
            b = s.render_to_numpy(None, "Hamburgefonstiv", 48, 800, 100)  # bundled font
            assert b.min() < 128
        spec = json.dumps({{"version": "1.0", "jobs": [{{"id": "w", "font": {{"path": {str(font)!r}, "size": 20}},
            "text": {{"content": "ok"}}, "rendering": {{"format": "metrics", "width": 100, "height": 30}}}}]}})
        (r,) = [json.loads(x) for x in haforu.process_jobs(spec)]
        assert r["status"] == "success", r
        print("OK")
    """)
    env = {k: v for k, v in os.environ.items() if k not in ("HAFORU_WASM", "PYTHONPATH")}
    env["HAFORU_CACHE_DIR"] = str(tmp_path / "cache")
    p = subprocess.run([str(py), "-c", code], cwd=str(tmp_path), env=env, capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stderr
    assert p.stdout.strip() == "OK"
    # Second start uses the compiled-module cache.
    p = subprocess.run([str(py), "-m", "haforu", "diagnostics"], cwd=str(tmp_path), env=env, capture_output=True,
                       text=True, timeout=120)
    assert p.returncode == 0, p.stderr
    assert '"status": "hit"' in p.stdout
