"""``python -m haforu`` commands: the same subcommands, flags, exit codes and results as the Rust
``haforu`` CLI (hosts/cli/README.md, "Flags" and "Exit codes")."""

from __future__ import annotations

import base64
import json
import os
import shlex
import subprocess
import sys
from pathlib import Path
from typing import Any, Dict, List, Optional

import pytest

from conftest import BROKEN, DEJAVU, FONTS, INTER, ROOT, dumps, job

#: The Rust CLI, built by ``make test-cli`` (which ``make test`` runs before the Python tests).
RUST_CLI = Path(os.environ.get("HAFORU_CLI", ROOT / "target" / "release" / "haforu"))
COMPAT_JOBS = ROOT / "tests" / "compat" / "cli_jobs_2x.jsonl"


def cli(args: List[str], stdin: str = "", cwd: "Path | None" = None) -> "subprocess.CompletedProcess[str]":
    return subprocess.run([sys.executable, "-m", "haforu", *args], input=stdin, capture_output=True,
                          text=True, timeout=120, cwd=cwd, env=dict(os.environ))


def rust(args: List[str], stdin: str = "") -> "subprocess.CompletedProcess[str]":
    if not RUST_CLI.is_file():
        pytest.skip(f"the Rust CLI is not built ({RUST_CLI}; `make test-cli` builds it)")
    return subprocess.run([str(RUST_CLI), *args], input=stdin, capture_output=True, text=True, timeout=120,
                          cwd=ROOT, env=dict(os.environ))


def results(out: str) -> List[Dict[str, Any]]:
    return [json.loads(line) for line in out.splitlines()]


def without_timing(line: str) -> str:
    """A result line without its ``timing`` (the only part that differs between runs/hosts)."""
    at = line.rfind(',"timing":')
    return line[:at] + "}" if at >= 0 else line


def help_table(text: str) -> List[str]:
    lines = text.splitlines()
    at = lines.index("Exit codes:")
    return [lines[at]] + [line for line in lines[at + 1:at + 7]]


def readme_table() -> List[str]:
    """hosts/cli/README.md's exit-code table as the help text prints it."""
    readme = (ROOT / "hosts" / "cli" / "README.md").read_text(encoding="utf-8")
    table = readme[readme.index("\n### Exit codes\n"):].split("\n\n|", 1)[1].split("\n\n", 1)[0]
    rows = []
    for line in ("|" + table).splitlines():
        cells = [c.strip() for c in line.strip("|").split("|")]
        if len(cells) == 2 and cells[0].isdigit():
            rows.append(f"  {cells[0]}  {cells[1]}")
    return ["Exit codes:"] + rows


def test_version() -> None:
    p = cli(["version"])
    assert p.returncode == 0, p.stderr
    assert p.stdout.startswith("haforu ") and "ABI 2" in p.stdout
    assert cli(["--version"]).stdout == p.stdout


def test_diagnostics() -> None:
    p = cli(["diagnostics"])
    assert p.returncode == 0, p.stderr
    d = json.loads(p.stdout)
    assert d["engine"]["abi_version"] == 2 and d["wasm"]["bytes"] > 0
    assert d["compiled_cache"]["status"] in ("hit", "miss", "off")
    # 2.x spelling: --format json; --max-glyphs reaches the engine's glyph cache.
    p = cli(["diagnostics", "--format", "json", "--max-glyphs", "7"])
    assert p.returncode == 0, p.stderr
    assert json.loads(p.stdout)["engine"]["cache"]["glyphs"]["capacity"] == 7
    p = cli(["diagnostics", "--format", "text"])
    assert p.returncode == 0 and "engine.abi_version: 2" in p.stdout.splitlines()


def test_exit_code_table_is_the_readme_one_and_the_rust_one() -> None:
    want = readme_table()
    assert [line[:3] for line in want[1:]] == ["  0", "  1", "  2", "  3", "  4", "  5"]
    for args in (["--help"], ["batch", "--help"], ["render", "-h"]):
        p = cli(args)
        assert p.returncode == 0, p.stderr
        assert help_table(p.stdout) == want, args
    assert help_table(rust(["--help"]).stdout) == want


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
    assert p.returncode == 0, p.stderr  # processed: a failed job is a result, not a failure
    rs = {json.loads(l)["id"]: json.loads(l) for l in out.read_text().splitlines()}
    assert rs["x"]["status"] == "success" and rs["y"]["error_kind"] == "font_not_found"
    p = cli(["batch", "--strict", "-i", str(f)])
    assert p.returncode == 1 and len(p.stdout.splitlines()) == 2
    p = cli(["batch", "--ordered", "--stats"], stdin=spec)
    assert p.returncode == 0
    assert [r["id"] for r in results(p.stdout)] == [f"c{i}" for i in range(5)]
    stats = json.loads(p.stderr.splitlines()[-1])
    assert stats["jobs"] == 5 and stats["ok"] == 5 and stats["errors"] == {}


@pytest.mark.parametrize("command", ["batch", "batch -j 2", "stream"])
def test_stats_count_descriptor_outcomes(command: str) -> None:
    """--stats counts by the engine's status and kind code, not by reading the result text: a
    sweep with a failed point succeeded; a host-side failure (an unreadable font) and engine
    errors count by kind; an id that looks like a status changes nothing."""
    sweep = job("sw", font={"path": str(INTER), "size": 20}, fmt="metrics", width=40, height=30)
    sweep["sweep"] = [{"wght": 400}, {"wght": "bold"}]
    lines = [dumps(job('"status":"error"', fmt="metrics")), dumps(sweep), dumps(job("nf", font="/nope.ttf")),
             "{oops", dumps({"id": "z"}), dumps(job("ok", fmt="metrics"))]
    p = cli([*command.split(), "--stats"], stdin="\n".join(lines) + "\n")
    assert p.returncode == 0, p.stderr
    stats = json.loads(p.stderr.splitlines()[-1])
    assert stats["jobs"] == 6 and stats["ok"] == 3
    assert stats["errors"] == {"bad_job": 1, "bad_json": 1, "font_not_found": 1}


def test_exit_codes(tmp_path: Path) -> None:
    mixed = dumps(job("good", fmt="metrics")) + "\n" + dumps(job("bad", font="/nope.ttf", fmt="metrics")) + "\n"
    for cmd in ("batch", "stream"):
        p = cli([cmd], stdin=mixed)
        assert p.returncode == 0, (cmd, p.stderr)
        assert {r["id"]: r["status"] for r in results(p.stdout)} == {"good": "success", "bad": "error"}
        assert cli([cmd, "--strict"], stdin=mixed).returncode == 1, cmd
        assert cli([cmd, "--strict"], stdin=dumps(job("g", fmt="metrics"))).returncode == 0, cmd
        p = cli([cmd, str(tmp_path / "no-such-file.jsonl")])
        assert p.returncode == 2 and "cannot read" in p.stderr, cmd
    p = cli(["batch", "--strict"], stdin='{"version": "9", "jobs": [{}]}')
    assert p.returncode == 3 and "version" in p.stdout
    line = json.loads(p.stdout)
    assert line["id"] == "batch" and line["status"] == "error" and line["error_kind"] == "bad_job"
    assert cli(["batch", "--no-such-flag"]).returncode == 2
    assert cli(["batch", "-o", str(tmp_path / "no" / "dir" / "x.jsonl")], stdin=mixed).returncode == 5
    assert cli(["batch", "--base-dir", str(tmp_path / "nope")], stdin=mixed).returncode == 2
    assert cli(["render", "-t", "x", "-f", str(DEJAVU), "-o", str(tmp_path / "x.tiff")]).returncode == 2
    # The Rust CLI answers the same inputs with the same codes.
    assert rust(["batch"], stdin=mixed).returncode == 0
    assert rust(["stream", "--strict"], stdin=mixed).returncode == 1
    assert rust(["batch"], stdin='{"version": "9", "jobs": [{}]}').returncode == 3


def test_stream() -> None:
    spec = dumps(job("s1", fmt="metrics")) + "\n\n{bad\n" + dumps(job("s2", fmt="metrics")) + "\n"
    p = cli(["stream"], stdin=spec)
    assert p.returncode == 0, p.stderr
    lines = results(p.stdout)
    assert [l["id"] for l in lines] == ["s1", "line-3", "s2"]  # line numbers count blank lines
    assert lines[1]["error_kind"] == "bad_json"
    r = rust(["stream"], stdin=spec)
    assert [without_timing(l) for l in r.stdout.splitlines()] == [without_timing(l) for l in p.stdout.splitlines()]


def test_render_png_and_pgm(tmp_path: Path) -> None:
    png = tmp_path / "a.png"
    p = cli(["render", "Hamburgefonstiv", "--font", str(DEJAVU), "-o", str(png)])
    assert p.returncode == 0, p.stderr
    assert png.read_bytes().startswith(b"\x89PNG")
    pgm = tmp_path / "a.pgm"
    p = cli(["render", "Hi", "--var", "wght=700", "--size", "30", "--width", "100", "--height", "40", "-o", str(pgm)])
    assert p.returncode == 0, p.stderr  # bundled default font; the format from the extension
    assert pgm.read_bytes().startswith(b"P5\n100 40\n255\n")
    p = cli(["render", "Hi", "--font", "/nope.ttf", "-o", str(pgm)])
    assert p.returncode == 2 and "/nope.ttf" in p.stderr  # a font named on the command line: usage
    p = cli(["render", "-t", "Hi", "-f", str(DEJAVU), "--format", "metrics", "--json"])
    assert p.returncode == 0 and json.loads(p.stdout)["status"] == "success"  # JSON to stdout


def test_render_format_from_extension(tmp_path: Path) -> None:
    def render(*extra: str) -> "subprocess.CompletedProcess[str]":
        return cli(["render", "-f", str(DEJAVU), "-t", "Hi", "-s", "30", *extra])

    m = tmp_path / "m.json"
    assert render("-o", str(m)).returncode == 0
    assert json.loads(m.read_text())["metrics"]["density"] > 0
    g = tmp_path / "g.json"
    assert render("--format", "glyphs", "-o", str(g)).returncode == 0
    assert len(json.loads(g.read_text())["glyphs"]) == 2
    raw = tmp_path / "a.RAW"
    assert render("--width", "20", "--height", "10", "-o", str(raw)).returncode == 0
    assert len(raw.read_bytes()) == 200
    for extra, name, needle in (([], "a.tiff", "unknown extension"), ([], "noext", "unknown extension"),
                                (["--format", "png"], "b.pgm", "disagrees"),
                                (["--format", "metrics"], "c.png", "disagrees")):
        out = tmp_path / name
        p = render(*extra, "-o", str(out))
        assert p.returncode == 2 and needle in p.stderr, name
        assert not out.exists()
    # Same metrics as the Rust CLI (same job, same engine).
    r = rust(["render", "-f", str(DEJAVU), "-t", "Hi", "-s", "30", "--format", "metrics"])
    p = render("--format", "metrics")
    assert r.returncode == 0 and p.returncode == 0
    assert json.loads(p.stdout)["metrics"] == json.loads(r.stdout)["metrics"]


def test_aliases_2x(tmp_path: Path) -> None:
    # render: --font-file, --font-size, --output-file, --text: the same bytes as -f, -s, -o, TEXT.
    a, b = tmp_path / "a.pgm", tmp_path / "b.pgm"
    p = cli(["render", "--font-file", str(DEJAVU), "--font-size", "30", "--text", "Hi", "--output-file", str(a)])
    assert p.returncode == 0, p.stderr
    assert cli(["render", "-f", str(DEJAVU), "-s", "30", "Hi", "-o", str(b)]).returncode == 0
    assert a.read_bytes() == b.read_bytes() and a.read_bytes().startswith(b"P5\n")
    # batch: --max-fonts, --max-glyphs, --workers / -w / -j 0, -i, --output-file, --quiet.
    spec = tmp_path / "jobs.jsonl"
    spec.write_text("".join(dumps(job(f"a{i}", fmt="metrics", text="Hamburg")) + "\n" for i in range(6)))
    base = cli(["batch", "--ordered", str(spec)])
    want = [without_timing(l) for l in base.stdout.splitlines()]
    assert len(want) == 6
    out = tmp_path / "out.jsonl"
    for args in (["--max-fonts", "1", "--max-glyphs", "0", "--workers", "2", "-q"],
                 ["-w", "1", "--max-glyphs", "3", "--quiet", "--ordered"],
                 ["-j", "0", "--max-glyphs", "100000", "--no-progress"]):
        p = cli(["batch", *args, "-i", str(spec), "--output-file", str(out)])
        assert p.returncode == 0, (args, p.stderr)
        assert sorted(without_timing(l) for l in out.read_text().splitlines()) == sorted(want), args
    # validate -i FILE; stream --max-fonts/--max-glyphs.
    p = cli(["validate", "-i", str(spec)])
    assert p.returncode == 0 and [r["valid"] for r in results(p.stdout)] == [True] * 6
    p = cli(["stream", "--max-fonts", "2", "--max-glyphs", "10", str(spec)])
    assert [without_timing(l) for l in p.stdout.splitlines()] == want
    # --base-dir: a path inside is found, one leading outside is refused.
    inside = dumps(job("in", font="DejaVuSans-subset.ttf", fmt="metrics"))
    outside = dumps(job("out", font="../../README.md", fmt="metrics"))
    p = cli(["batch", "--ordered", "--base-dir", str(ROOT / "tests" / "fonts")], stdin=inside + "\n" + outside)
    rs = results(p.stdout)
    assert p.returncode == 0 and rs[0]["status"] == "success" and rs[1]["error_kind"] == "font_not_found"


def test_validate(tmp_path: Path) -> None:
    good = "\n".join(dumps(job(f"v{i}", fmt="metrics")) for i in range(3))
    p = cli(["validate"], stdin=good)
    assert p.returncode == 0, p.stdout + p.stderr
    assert results(p.stdout) == [{"id": f"v{i}", "valid": True} for i in range(3)]
    bad = good + "\n" + dumps(job("nf", font="/nope.ttf")) + "\n{oops\n" + dumps({"id": "z"})
    p = cli(["validate"], stdin=bad)
    assert p.returncode == 1
    rs = results(p.stdout)
    assert [r["id"] for r in rs] == ["v0", "v1", "v2", "nf", "line-5", "z"]
    assert [r.get("error_kind") for r in rs[3:]] == ["font_not_found", "bad_json", "bad_job"]
    p = cli(["validate"], stdin='{"version": "1.0", "jobs": []}')
    assert p.returncode == 3 and results(p.stdout)[0]["id"] == "batch"
    # Warnings: a typo'd key, an unused encoding, an axis the font lacks, a clamped coordinate.
    warned = job("w", font={"path": str(INTER), "size": 20, "variation": {"wght": 5},
                            "variations": {"wdth": 80, "wght": 1200}}, fmt="png", width=50, height=30)
    warned["rendering"]["encoding"] = "hex"
    p = cli(["validate"], stdin=dumps(warned))
    assert p.returncode == 0, p.stderr
    (r,) = results(p.stdout)
    assert r["valid"] is True
    for needle in ("font.variation`", "rendering.encoding `hex`", "axis `wdth`", "clamped to 900"):
        assert any(needle in w for w in r["warnings"]), (needle, r["warnings"])
    # The documented verdict lines (hosts/cli/README.md, wasm/README.md VALIDATE_ONLY), keys in order.
    p = cli(["validate"], stdin=bad + "\n" + dumps(warned))
    assert p.returncode == 1
    rs = results(p.stdout)
    assert [list(r) for r in rs] == [["id", "valid"]] * 3 + [["id", "valid", "error", "error_kind"]] * 3 + \
        [["id", "valid", "warnings"]]
    assert p.stdout.splitlines()[0] == '{"id":"v0","valid":true}'
    assert [(r["id"], r["valid"], r.get("error_kind")) for r in rs[3:]] == [
        ("nf", False, "font_not_found"), ("line-5", False, "bad_json"), ("z", False, "bad_job"), ("w", True, None)]
    assert rs[3]["error"].startswith("job `nf`: cannot read font file '/nope.ttf': No such file")
    assert rs[4]["error"].startswith("job `line-5`: ") and rs[5]["error"].startswith("job `z`: ")
    assert rs[6]["warnings"] == r["warnings"]


def rust_validate_current() -> None:
    """Skip unless the Rust CLI's ``validate`` prints the engine's verdicts (hosts/cli is being
    moved to ABI v2: a CLI that still calls a job with an unreadable font valid predates them)."""
    probe = rust(["validate"], stdin=dumps(job("probe", font="/nope.ttf", fmt="metrics")))
    if '"valid":false' not in probe.stdout:
        pytest.skip(f"the Rust CLI's validate predates the engine's verdict lines: {probe.stdout.strip()}")


def test_validate_same_as_rust() -> None:
    rust_validate_current()
    warned = job("w", font={"path": str(INTER), "size": 20, "variation": {"wght": 5},
                            "variations": {"wdth": 80, "wght": 1200}}, fmt="png", width=50, height=30)
    spec = "\n".join(dumps(job(f"v{i}", fmt="metrics")) for i in range(3)) + "\n" + \
        dumps(job("nf", font="/nope.ttf")) + "\n{oops\n" + dumps({"id": "z"}) + "\n" + dumps(warned)
    r, p = rust(["validate"], stdin=spec), cli(["validate"], stdin=spec)
    assert r.returncode == p.returncode == 1
    assert r.stdout == p.stdout


@pytest.mark.parametrize("command", ["batch {f}", "batch -j 2 {f}", "batch --ordered {f}", "stream {f}",
                                     "diagnostics", "render -t Hi --format pgm", "--help"])
def test_closed_pipe_is_quiet(tmp_path: Path, command: str) -> None:
    f = tmp_path / "many.jsonl"
    f.write_text("".join(dumps(job(f"p{i}", fmt="pgm", width=400, height=64)) + "\n" for i in range(1500)))
    cmd = " ".join(shlex.quote(a) for a in (sys.executable, "-m", "haforu"))
    p = subprocess.run(["bash", "-c", f"set -o pipefail; {cmd} {command.format(f=shlex.quote(str(f)))} | head -c 1 >/dev/null"],
                       capture_output=True, text=True, timeout=300, env=dict(os.environ))
    assert p.returncode == 0, p.stderr
    assert p.stderr == ""


def _run_compat(run: Any, extra: Optional[List[str]] = None) -> List[str]:
    p = run(["batch", "--ordered", "--max-fonts", "16", "--max-glyphs", "2048", *(extra or []), str(COMPAT_JOBS)])
    assert p.returncode == 0, p.stderr
    return [without_timing(l) for l in p.stdout.splitlines()]


def test_2x_job_file_same_results_on_both_clis() -> None:
    """tests/compat/cli_jobs_2x.jsonl (2.x `"encoding": "json"` metrics jobs, `"base64"` image jobs,
    variable coordinates, 2.x feature syntax, a typo'd key, an out-of-range axis, one job over a
    limit) gives byte-identical results, timing aside, through both CLIs."""
    py = _run_compat(cli)
    jobs = [json.loads(l) for l in COMPAT_JOBS.read_text(encoding="utf-8").splitlines() if l.strip()]
    rs = [json.loads(l) for l in py]
    assert [r["id"] for r in rs] == [j["id"] for j in jobs]
    for r, j in zip(rs, jobs):
        if j["id"].startswith("err-"):
            assert r["status"] == "error" and r["error_kind"] == "limit_exceeded"
            continue
        assert r["status"] == "success", r
        if j["rendering"]["format"] == "metrics":
            assert r["metrics"]["density"] > 0
        else:
            assert r["rendering"]["encoding"] == "base64" and r["rendering"]["data"]
    warned = {r["id"]: r.get("warnings", []) for r in rs}
    assert any("text.feature" in w for w in warned["m-clamped-and-typo"])
    assert any("encoding `hex`" in w for w in warned["png-hex-encoding"])
    assert not warned["m-inter-a-wght100"]  # "encoding": "json" is 2.x's normal spelling: no warning
    assert _run_compat(rust) == py
    assert _run_compat(rust, ["--workers", "2"]) == py


# -- matching: info, compare, render --compare, sweep and compare jobs -------------------------


def _render_a(out: Path, wght: int, run: Any = None) -> None:
    """"A" in Inter at ``wght`` on a 60×70 canvas into ``out`` (the format from its extension)."""
    p = (run or cli)(["render", "-f", str(INTER), "-t", "A", "-s", "48", "--var", f"wght={wght}",
                      "--width", "60", "--height", "70", "-o", str(out)])
    assert p.returncode == 0, p.stderr


def _stderr_json(p: "subprocess.CompletedProcess[str]") -> Dict[str, Any]:
    line: Dict[str, Any] = json.loads(p.stderr.strip().splitlines()[-1])
    return line


def test_info_json_and_text_same_as_rust() -> None:
    p = cli(["info", str(INTER)])
    assert p.returncode == 0, p.stderr
    assert p.stdout.startswith('{\n  "faceIndex": 0,\n  "faceCount": 1,\n')  # engine order, indent 2
    info = json.loads(p.stdout)
    assert info["familyName"] == "Inter" and info["unitsPerEm"] == 2816
    (axis,) = info["axes"]
    assert (axis["tag"], axis["min"], axis["default"], axis["max"]) == ("wght", 100.0, 400.0, 900.0)
    assert {i["name"]: i["coords"]["wght"] for i in info["instances"]}["Bold"] == 700.0
    assert rust(["info", str(INTER)]).stdout == p.stdout
    t = cli(["info", str(INTER), "--format", "text"])
    assert t.returncode == 0, t.stderr
    lines = t.stdout.splitlines()
    assert lines[0] == "familyName: Inter"
    assert "  wght Weight: min 100, default 400, max 900" in lines and "  Bold: wght=700" in lines
    assert "codepoints: 127 (U+0020..U+007E, U+00A0..U+00BF)" in lines
    assert rust(["info", str(INTER), "--format", "text"]).stdout == t.stdout
    ttc = FONTS / "Collection-subset.ttc"
    for fmt in ("json", "text"):
        args = ["info", str(ttc), "--face-index", "1", "--format", fmt]
        p = cli(args)
        assert p.returncode == 0 and "DejaVu Sans Bold" in p.stdout, p.stderr
        assert rust(args).stdout == p.stdout


def test_info_errors_same_as_rust(tmp_path: Path) -> None:
    missing = str(tmp_path / "missing.ttf")
    for args in (["info", missing], ["info", str(INTER), "--format", "yaml"], ["info", str(INTER), "--face-index", "-1"]):
        p = cli(args)
        assert p.returncode == 2 and p.stdout == "", args
        assert rust(args).returncode == 2, args
    assert "cannot read font file" in cli(["info", missing]).stderr
    for font, extra, kind in ((BROKEN / "random.bin", [], "font_parse"), (BROKEN / "empty.ttf", [], "font_parse"),
                              (BROKEN / "truncated.ttf", [], "font_parse"), (INTER, ["--face-index", "4"], "font_parse")):
        args = ["info", str(font), *extra]
        p, r = cli(args), rust(args)
        assert p.returncode == r.returncode == 1, (args, p.stderr, r.stderr)
        assert p.stdout == r.stdout == ""
        e = _stderr_json(p)
        assert e["id"] == "info" and e["status"] == "error" and e["error_kind"] == kind, e
        assert e["error"].startswith(f"{font}: ") and e["font"] == {"path": str(font)}
        assert e == _stderr_json(r), args


def test_compare_same_numbers_as_rust(tmp_path: Path) -> None:
    a, a2, b, apng = tmp_path / "a.pgm", tmp_path / "a2.pgm", tmp_path / "b.pgm", tmp_path / "a.png"
    _render_a(a, 400)
    _render_a(a2, 400, rust)  # the other CLI renders the same pixels
    _render_a(b, 800)
    _render_a(apng, 400)
    assert a.read_bytes() == a2.read_bytes()
    p = cli(["compare", str(a), str(a2)])
    assert p.returncode == 0, p.stderr
    c = json.loads(p.stdout)["compare"]
    assert c["pixel_delta"] == 0.0 and c["center_weighted_delta"] == 0.0 and c["differing_pixels"] == 0
    assert c["iou"] == 1.0 and (c["width"], c["height"]) == (60, 70)
    assert json.loads(cli(["compare", str(apng), str(a)]).stdout) == json.loads(p.stdout)
    for args in (["compare", str(a), str(b)], ["compare", str(b), str(a), "--method", "corner"],
                 ["compare", str(apng), str(b)]):
        p, r = cli(args), rust(args)
        assert p.returncode == r.returncode == 0, (p.stderr, r.stderr)
        assert p.stdout == r.stdout, args  # the same line, fields in SPEC order
        c = json.loads(p.stdout)["compare"]
        assert list(c) == ["width", "height", "pixel_delta", "center_weighted_delta", "density_a", "density_b",
                           "aspect_a", "aspect_b", "iou", "differing_pixels"]
        assert c["pixel_delta"] > 0 and c["iou"] < 1.0
    # Digit for digit the engine's numbers (a float parse-and-print round trip could change them).
    big_a, big_b = tmp_path / "inter-a.pgm", tmp_path / "dejavu-a.png"
    for font, out in ((INTER, big_a), (DEJAVU, big_b)):
        p = cli(["render", "-f", str(font), "-t", "A", "-s", "200", "--var", "wght=500", "--width", "300",
                 "--height", "240", "-o", str(out)])
        assert p.returncode == 0, p.stderr
    args = ["compare", str(big_a), str(big_b)]
    p = cli(args)
    assert p.returncode == 0 and p.stdout == rust(args).stdout
    assert '"density_a":0.09947222222222223,' in p.stdout, p.stdout
    # render --compare: the render's result line (metrics: no pixels are wanted) holds the
    # comparison, the same text as `compare` of the rendered file gives, in both CLIs.
    args = ["render", "-f", str(INTER), "-t", "A", "-s", "48", "--var", "wght=400", "--width", "60",
            "--height", "70", "--compare", str(b)]
    p = cli(args)
    assert p.returncode == 0, p.stderr
    line = cli(["compare", str(a), str(b)]).stdout.strip()
    cmp_text = line.removeprefix('{"status":"success",').removesuffix("}")
    for out_text in (p.stdout, rust(args).stdout):
        result = json.loads(out_text)
        assert result["id"] == "render" and "metrics" in result, out_text
        assert cmp_text in out_text, (cmp_text, out_text)
    out = tmp_path / "c.pgm"
    p = cli([*args, "-o", str(out)])
    assert p.returncode == 0 and out.read_bytes() == a.read_bytes()
    result = json.loads(p.stdout)
    assert result["rendering"]["format"] == "pgm" and "data" not in result["rendering"], p.stdout
    assert cmp_text in p.stdout
    # Errors: a bad method and a missing file are usage errors, a broken image the error result.
    bad = tmp_path / "bad.pgm"
    bad.write_bytes(b"P5 garbage")
    for args in (["compare", str(a), str(b), "--method", "diagonal"], ["compare", str(a), str(tmp_path / "no.pgm")],
                 ["render", "-t", "A", "--method", "corner"]):
        assert cli(args).returncode == 2, args
        assert rust(args).returncode == 2, args
    for x, y in ((bad, a), (a, bad)):
        args = ["compare", str(x), str(y)]
        p, r = cli(args), rust(args)
        assert p.returncode == r.returncode == 1 and p.stdout == ""
        e = _stderr_json(p)
        assert e == _stderr_json(r)
        assert e["id"] == "compare" and e["error_kind"] == "bad_job" and e["error"].startswith(f"{bad}: "), e


def _sweep_jobs(target: bytes) -> List[Dict[str, Any]]:
    b64 = base64.b64encode(target).decode("ascii")

    def base(job_id: str, fmt: str) -> Dict[str, Any]:
        return job(job_id, font={"path": str(INTER), "size": 48}, text="A", fmt=fmt, width=60, height=70)

    metrics = base("sw-metrics", "metrics")
    metrics["sweep"] = [{"wght": 100}, {"wght": 400}, {"wght": 650.5}, {"wght": 1200}]
    metrics["compare"] = {"target": b64, "method": "center"}
    pgm = base("sw-pgm", "pgm")
    pgm["sweep"] = [{"wght": 300}, {}, {"wght": 900}]
    bad = base("sw-bad", "metrics")
    bad["sweep"] = [{"wght": 200}, {"wght": "bold"}, {"wght": 700}]
    bad["compare"] = {"target": {"data": b64}, "method": "corner"}
    handle = base("sw-handle", "metrics")
    handle["compare"] = {"target": 7}
    return [metrics, pgm, bad, handle]


def test_sweep_and_compare_jobs_same_as_rust(tmp_path: Path) -> None:
    target = tmp_path / "target.pgm"
    _render_a(target, 500)
    jobs = _sweep_jobs(target.read_bytes())
    spec = "".join(dumps(j) + "\n" for j in jobs)
    outs = {name: [without_timing(l) for l in p.stdout.splitlines()]
            for name, p in (("py-batch", cli(["batch", "--ordered"], stdin=spec)),
                            ("py-stream", cli(["stream"], stdin=spec)),
                            ("rust-batch", rust(["batch", "--ordered", "-j", "2"], stdin=spec)),
                            ("rust-stream", rust(["stream"], stdin=spec)))}
    want = outs["rust-batch"]
    assert len(want) == len(jobs)  # a sweep answers one line
    for name, got in outs.items():
        assert got == want, name
    p = cli(["batch", "-j", "2"], stdin=spec)
    assert sorted(without_timing(l) for l in p.stdout.splitlines()) == sorted(want)
    rs = {r["id"]: r for r in (json.loads(l) for l in want)}
    # Every point equals the single job at its coordinates (run through the Python CLI).
    singles = []
    for j in jobs[:3]:
        for pt in j["sweep"]:
            s = {k: v for k, v in j.items() if k != "sweep"}
            s["id"] = f"{j['id']}-{json.dumps(pt)}"
            s["font"] = dict(j["font"], variations=pt)
            singles.append(s)
    single = results(cli(["stream"], stdin="".join(dumps(s) + "\n" for s in singles)).stdout)
    k = compared = 0
    for j in jobs[:3]:
        points = rs[j["id"]]["points"]
        assert rs[j["id"]]["status"] == "success" and len(points) == len(j["sweep"])
        for pt, requested in zip(points, j["sweep"]):
            s = single[k]
            k += 1
            if isinstance(requested.get("wght"), str):  # the bad point: its own error, the others render
                assert pt["status"] == "error" and pt["error_kind"] == "bad_job" and "sweep[1].wght" in pt["error"]
                continue
            assert pt["status"] == s["status"] == "success", (pt, s)
            assert pt["variations"] == s["font"]["variations"]
            for key in ("metrics", "rendering", "compare", "warnings"):
                assert pt.get(key) == s.get(key), (key, pt, s)
            compared += 1
    assert compared == 9
    m = rs["sw-metrics"]["points"]
    assert m[3]["variations"] == {"wght": 900.0} and "clamped" in m[3]["warnings"][0]
    assert all(pt["compare"]["width"] == 60 for pt in m)
    assert all(isinstance(pt["rendering"]["data"], str) for pt in rs["sw-pgm"]["points"])
    h = rs["sw-handle"]
    assert h["status"] == "error" and h["error_kind"] == "bad_job" and "handle 7" in h["error"]
    # validate: a sweep with a bad point is invalid; point warnings are named; same as Rust.
    v = cli(["validate"], stdin=spec)
    assert v.returncode == 1
    lines = results(v.stdout)
    assert [l["valid"] for l in lines] == [True, True, False, False]
    assert lines[0]["warnings"][0].startswith("sweep[3]: font.variations: wght 1200")
    assert "sweep[1].wght" in lines[2]["error"] and lines[3]["error_kind"] == "bad_job"
    assert v.stdout.splitlines()[1] == '{"id":"sw-pgm","valid":true}'
    assert [list(l) for l in lines] == [["id", "valid", "warnings"], ["id", "valid"],
                                        ["id", "valid", "error", "error_kind"], ["id", "valid", "error", "error_kind"]]


def test_sweep_validate_same_as_rust(tmp_path: Path) -> None:
    rust_validate_current()
    target = tmp_path / "target.pgm"
    _render_a(target, 500)
    spec = "".join(dumps(j) + "\n" for j in _sweep_jobs(target.read_bytes()))
    assert rust(["validate"], stdin=spec).stdout == cli(["validate"], stdin=spec).stdout
