"""``python -m haforu`` commands."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import List

from conftest import DEJAVU, dumps, job


def cli(args: List[str], stdin: str = "", cwd: "Path | None" = None) -> "subprocess.CompletedProcess[str]":
    return subprocess.run([sys.executable, "-m", "haforu", *args], input=stdin, capture_output=True,
                          text=True, timeout=120, cwd=cwd, env=dict(os.environ))


def test_version() -> None:
    p = cli(["version"])
    assert p.returncode == 0, p.stderr
    assert p.stdout.startswith("haforu ") and "ABI 1" in p.stdout


def test_diagnostics() -> None:
    p = cli(["diagnostics"])
    assert p.returncode == 0, p.stderr
    d = json.loads(p.stdout)
    assert d["engine"]["abi_version"] == 1 and d["wasm"]["bytes"] > 0
    assert d["compiled_cache"]["status"] in ("hit", "miss", "off")


def test_batch_stdin_and_file(tmp_path: Path) -> None:
    spec = "\n".join(dumps(job(f"c{i}", fmt="metrics")) for i in range(5))
    p = cli(["batch", "-w", "2"], stdin=spec)
    assert p.returncode == 0, p.stderr
    ids = sorted(json.loads(l)["id"] for l in p.stdout.splitlines())
    assert ids == [f"c{i}" for i in range(5)]
    f = tmp_path / "jobs.json"
    f.write_text(json.dumps({"version": "1.0", "jobs": [job("x", fmt="metrics"), job("y", font="/nope.ttf")]}))
    out = tmp_path / "out.jsonl"
    p = cli(["batch", str(f), "-o", str(out), "-q"])
    assert p.returncode == 1  # one job failed
    rs = {json.loads(l)["id"]: json.loads(l) for l in out.read_text().splitlines()}
    assert rs["x"]["status"] == "success" and rs["y"]["error_kind"] == "font_not_found"
    p = cli(["batch"], stdin='{"version": "9", "jobs": [{}]}')
    assert p.returncode == 2 and "version" in p.stderr


def test_stream() -> None:
    spec = dumps(job("s1", fmt="metrics")) + "\n\n{bad\n" + dumps(job("s2", fmt="metrics")) + "\n"
    p = cli(["stream"], stdin=spec)
    assert p.returncode == 0, p.stderr
    lines = [json.loads(l) for l in p.stdout.splitlines()]
    assert [l["id"] for l in lines] == ["s1", "job", "s2"]
    assert lines[1]["error_kind"] == "bad_json"


def test_render_png_and_pgm(tmp_path: Path) -> None:
    png = tmp_path / "a.png"
    p = cli(["render", "Hamburgefonstiv", "--font", str(DEJAVU), "-o", str(png)])
    assert p.returncode == 0, p.stderr
    assert png.read_bytes().startswith(b"\x89PNG")
    pgm = tmp_path / "a.pgm"
    p = cli(["render", "Hi", "--var", "wght=700", "--size", "30", "--width", "100", "--height", "40", "-o", str(pgm)])
    assert p.returncode == 0, p.stderr  # bundled default font
    assert pgm.read_bytes().startswith(b"P5\n100 40\n255\n")
    p = cli(["render", "Hi", "--font", "/nope.ttf", "-o", str(pgm)])
    assert p.returncode == 1 and "font_not_found" in p.stderr


def test_validate(tmp_path: Path) -> None:
    good = "\n".join(dumps(job(f"v{i}", fmt="metrics")) for i in range(3))
    p = cli(["validate"], stdin=good)
    assert p.returncode == 0, p.stdout + p.stderr
    assert json.loads(p.stdout) == {"valid": True, "jobs": 3, "errors": []}
    bad = good + "\n" + dumps(job("nf", font="/nope.ttf")) + "\n{oops\n" + dumps({"id": "z"})
    p = cli(["validate"], stdin=bad)
    assert p.returncode == 1
    r = json.loads(p.stdout)
    ids = {e["id"] for e in r["errors"]}
    assert {"nf", "line-5", "z"} <= ids and r["jobs"] == 6
    p = cli(["validate"], stdin="{nope")
    assert p.returncode == 1 and json.loads(p.stdout)["valid"] is False
