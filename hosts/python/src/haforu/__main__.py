"""``python -m haforu``: batch, stream, render, validate, version, diagnostics."""

from __future__ import annotations

import argparse
import base64
import json
import os
import platform
import sys
import time
from typing import Any, Dict, Iterable, List, Optional, Sequence, TextIO

from . import __version__
from ._envelope import parse_envelope
from ._runtime import cache_dir, default_font_path, get_runtime, wasm_path, wasmtime_version
from .batch import default_workers, start_jobs
from .errors import HaforuError
from .session import StreamingSession


def _read_input(path: str) -> str:
    if path == "-":
        return sys.stdin.read()
    with open(path, "r", encoding="utf-8") as f:
        return f.read()


def _sandbox_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--base-dir", help="font paths must resolve inside this directory")
    p.add_argument("--timeout-ms", type=int, help="per-job deadline in milliseconds")
    p.add_argument("--memory-limit-mb", type=int, help="cap on the engine's linear memory")
    p.add_argument("--max-fonts", type=int, default=512, help="fonts kept registered (LRU)")


class _Progress:
    """A one-line progress bar on stderr, drawn only when stderr is a terminal."""

    def __init__(self, total: int, stream: TextIO) -> None:
        self.total = total
        self.stream = stream
        self.enabled = stream.isatty()
        self.done = 0
        self.t0 = time.perf_counter()
        self.last = 0.0

    def step(self) -> None:
        self.done += 1
        if not self.enabled:
            return
        now = time.perf_counter()
        if now - self.last < 0.1 and self.done < self.total:
            return
        self.last = now
        frac = self.done / self.total if self.total else 1.0
        bar = "#" * int(frac * 30)
        rate = self.done / max(now - self.t0, 1e-9)
        self.stream.write(f"\r[{bar:<30}] {self.done}/{self.total} {rate:,.0f} jobs/s")
        self.stream.flush()

    def finish(self) -> None:
        if self.enabled:
            self.stream.write("\n")
            self.stream.flush()


def cmd_batch(args: argparse.Namespace) -> int:
    text = _read_input(args.input)
    try:
        total, results = start_jobs(
            text, max_fonts=args.max_fonts, workers=args.workers, base_dir=args.base_dir,
            timeout_ms=args.timeout_ms, memory_limit_mb=args.memory_limit_mb,
        )
    except ValueError as exc:
        print(f"haforu: {exc}", file=sys.stderr)
        return 2
    out = open(args.output, "w", encoding="utf-8") if args.output else sys.stdout
    progress = _Progress(total, sys.stderr) if not args.quiet else _Progress(0, open(os.devnull, "w"))
    errors = 0
    try:
        for result in results:
            out.write(result)
            out.write("\n")
            if '"status":"error"' in result[:1200]:  # status follows the id (<= 1 KiB)
                errors += 1
            progress.step()
    finally:
        progress.finish()
        if out is not sys.stdout:
            out.close()
        else:
            out.flush()
    return 1 if errors else 0


def cmd_stream(args: argparse.Namespace) -> int:
    """Read JSONL jobs from stdin, write each result as soon as it is done (line-buffered)."""
    with StreamingSession(args.max_fonts, timeout_ms=args.timeout_ms,
                          memory_limit_mb=args.memory_limit_mb, base_dir=args.base_dir) as s:
        for line in sys.stdin:
            if not line.strip():
                continue
            sys.stdout.write(s.render(line.rstrip("\r\n")))
            sys.stdout.write("\n")
            sys.stdout.flush()
    return 0


def _parse_variations(items: Sequence[str]) -> Dict[str, float]:
    out: Dict[str, float] = {}
    for item in items:
        for part in item.split(","):
            if not part.strip():
                continue
            tag, _, value = part.partition("=")
            if not value:
                raise SystemExit(f"haforu: --var expects TAG=VALUE, got {part!r}")
            out[tag.strip()] = float(value)
    return out


def cmd_render(args: argparse.Namespace) -> int:
    fmt = args.format or (os.path.splitext(args.output)[1].lstrip(".").lower() or "png")
    if fmt not in ("png", "pgm"):
        print(f"haforu: --format must be png or pgm, not {fmt!r}", file=sys.stderr)
        return 2
    font = args.font or (str(default_font_path()) if default_font_path() else None)
    if font is None:
        print("haforu: no --font given and no bundled default font", file=sys.stderr)
        return 2
    font_obj: Dict[str, Any] = {"path": font, "size": args.size}
    if args.var:
        font_obj["variations"] = _parse_variations(args.var)
    if args.face_index:
        font_obj["face_index"] = args.face_index
    text_obj: Dict[str, Any] = {"content": args.text}
    for key in ("script", "direction", "language"):
        value = getattr(args, key)
        if value:
            text_obj[key] = value
    if args.features:
        text_obj["features"] = [f for f in args.features.split(",") if f]
    job = {"id": "render", "font": font_obj, "text": text_obj,
           "rendering": {"format": fmt, "width": args.width, "height": args.height}}
    with StreamingSession(base_dir=args.base_dir, timeout_ms=args.timeout_ms) as s:
        result = json.loads(s.render(json.dumps(job)))
    if result.get("status") != "success":
        print(f"haforu: {result.get('error')} [{result.get('error_kind')}]", file=sys.stderr)
        return 1
    data = base64.b64decode(result["rendering"]["data"])
    with open(args.output, "wb") as f:
        f.write(data)
    print(f"wrote {args.output} ({args.width}x{args.height} {fmt}, {len(data)} bytes)", file=sys.stderr)
    return 0


def cmd_validate(args: argparse.Namespace) -> int:
    """Check the envelope and, per job, what the host can check without rendering: JSON object,
    non-empty id, a font source, required fields and their types, font file present. The engine's
    full validation (limits, tags, features) happens when a job runs."""
    text = _read_input(args.input)
    try:
        total, jobs = parse_envelope(text)
    except ValueError as exc:
        print(json.dumps({"valid": False, "jobs": 0, "errors": [{"id": "batch", "error": str(exc)}]}))
        return 1
    problems: List[Dict[str, str]] = []
    for line_no, job_text in jobs:
        for msg in _check_job(job_text, args.base_dir):
            jid = _job_id(job_text, line_no)
            problems.append({"id": jid, "error": msg})
    print(json.dumps({"valid": not problems, "jobs": total, "errors": problems}, ensure_ascii=False))
    return 0 if not problems else 1


def _job_id(job_text: str, line_no: int) -> str:
    try:
        obj = json.loads(job_text)
    except ValueError:
        return f"line-{line_no}"
    jid = obj.get("id") if isinstance(obj, dict) else None
    return jid if isinstance(jid, str) and jid else f"line-{line_no}"


def _check_job(job_text: str, base_dir: Optional[str]) -> Iterable[str]:
    try:
        job = json.loads(job_text)
    except ValueError as exc:
        yield f"invalid JSON: {exc}"
        return
    if not isinstance(job, dict):
        yield "a job must be a JSON object"
        return
    if not (isinstance(job.get("id"), str) and job["id"]):
        yield "id: required non-empty string"
    font, text, rendering = job.get("font"), job.get("text"), job.get("rendering")
    if not isinstance(font, dict):
        yield "font: required object"
    else:
        if not any(k in font for k in ("path", "data", "handle")):
            yield "font: one of path, data or handle is required"
        size = font.get("size")
        if isinstance(size, bool) or not isinstance(size, (int, float)) or not 0 < size <= 10000:
            yield "font.size: required number, 0 < size <= 10000"
        path = font.get("path")
        if isinstance(path, str) and path:
            full = os.path.realpath(os.path.join(base_dir, path)) if base_dir else path
            if base_dir and not (full + os.sep).startswith(os.path.realpath(base_dir).rstrip(os.sep) + os.sep):
                yield f"font.path: {path!r} resolves outside base_dir"
            elif not os.path.isfile(full):
                yield f"font.path: no such file: {path!r}"
    if not isinstance(text, dict) or not isinstance(text.get("content"), str) or not text.get("content"):
        yield "text.content: required non-empty string"
    if not isinstance(rendering, dict):
        yield "rendering: required object"
    else:
        if rendering.get("format") not in ("pgm", "png", "metrics", "raw", "glyphs"):
            yield "rendering.format: one of pgm, png, metrics, raw, glyphs"
        for key in ("width", "height"):
            v = rendering.get(key)
            if isinstance(v, bool) or not isinstance(v, int) or not 1 <= v <= 10000:
                yield f"rendering.{key}: required integer 1..10000"


def cmd_version(args: argparse.Namespace) -> int:
    with StreamingSession() as s:
        info = s.info()
    print(f"haforu {__version__} (engine {info.get('version')}, ABI {info.get('abi_version')}, "
          f"wasmtime {wasmtime_version()}, Python {platform.python_version()})")
    return 0


def cmd_diagnostics(args: argparse.Namespace) -> int:
    t0 = time.perf_counter()
    rt = get_runtime()
    t1 = time.perf_counter()
    with StreamingSession() as s:
        s.warm_up()
        t2 = time.perf_counter()
        info = s.info()
        stats = s.cache_stats()
    wp = wasm_path()
    font = default_font_path()
    report = {
        "haforu": __version__,
        "engine": info,
        "wasmtime": wasmtime_version(),
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "machine": platform.machine(),
        "wasm": {"path": str(wp), "bytes": wp.stat().st_size if wp.is_file() else None,
                 "sha256": rt.wasm_sha256},
        "compiled_cache": {"dir": str(cache_dir()) if cache_dir() else None,
                           "file": str(rt.cache_file) if rt.cache_file else None,
                           "status": rt.cache_status},
        "default_font": str(font) if font else None,
        "cpus": default_workers(),
        "startup_ms": {"load_module": round((t1 - t0) * 1000, 2),
                       "instantiate_and_first_render": round((t2 - t1) * 1000, 2)},
        "session": stats,
    }
    print(json.dumps(report, indent=2))
    return 0


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m haforu", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("batch", help="run a job list (batch object or JSONL), results as JSONL")
    p.add_argument("input", nargs="?", default="-", help="job file, or - for stdin (default)")
    p.add_argument("-o", "--output", help="write results here instead of stdout")
    p.add_argument("-w", "--workers", type=int, help="parallel engine instances (default: CPUs)")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    _sandbox_args(p)
    p.set_defaults(func=cmd_batch)

    p = sub.add_parser("stream", help="JSONL jobs on stdin, one result per line on stdout, as they finish")
    _sandbox_args(p)
    p.set_defaults(func=cmd_stream)

    p = sub.add_parser("render", help="render one text to a PNG or PGM file")
    p.add_argument("text")
    p.add_argument("-o", "--output", default="haforu.png")
    p.add_argument("--font", help="font file (default: the bundled Inter)")
    p.add_argument("--size", type=float, default=48.0, help="pixels per em")
    p.add_argument("--width", type=int, default=800)
    p.add_argument("--height", type=int, default=100)
    p.add_argument("--format", choices=["png", "pgm"], help="default: from the output's extension")
    p.add_argument("--var", action="append", default=[], help="axis coordinates, e.g. wght=700")
    p.add_argument("--features", help="comma-separated, e.g. -liga,+kern")
    p.add_argument("--script")
    p.add_argument("--direction", choices=["ltr", "rtl", "ttb", "btt"])
    p.add_argument("--language")
    p.add_argument("--face-index", type=int, default=0)
    p.add_argument("--base-dir")
    p.add_argument("--timeout-ms", type=int)
    p.set_defaults(func=cmd_render)

    p = sub.add_parser("validate", help="check a job list without rendering; JSON report on stdout")
    p.add_argument("input", nargs="?", default="-")
    p.add_argument("--base-dir")
    p.set_defaults(func=cmd_validate)

    p = sub.add_parser("version", help="package, engine, ABI and wasmtime versions")
    p.set_defaults(func=cmd_version)

    p = sub.add_parser("diagnostics", help="environment, wasm, compiled-module cache and start-up report")
    p.set_defaults(func=cmd_diagnostics)

    args = parser.parse_args(argv)
    try:
        rc: int = args.func(args)
    except HaforuError as exc:
        print(f"haforu: {exc} [{exc.kind}]", file=sys.stderr)
        return 1
    except BrokenPipeError:
        return 0
    return rc


if __name__ == "__main__":
    sys.exit(main())
