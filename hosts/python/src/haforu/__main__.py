"""``python -m haforu``: batch, stream, render, validate, info, compare, diagnostics, version.

The same subcommands, flags and exit codes as the Rust ``haforu`` CLI (hosts/cli/README.md,
"Flags" and "Exit codes"); haforu 2.x and hb-view spellings are accepted as aliases.
"""

from __future__ import annotations

import argparse
import base64
import dataclasses
import json
import math
import os
import platform
import sys
import time
from typing import IO, Any, Callable, Dict, Iterator, List, Optional, Sequence, TextIO, Tuple

from . import __version__
from ._envelope import parse_jobs
from ._runtime import cache_dir, default_font_path, get_runtime, wasm_path, wasmtime_version
from ._renderer import Outcome, Renderer
from .batch import default_workers, start_jobs
from .errors import HaforuError, InvalidJobError
from .session import StreamingSession

#: Exit codes (hosts/cli/README.md, "Exit codes"; the Rust CLI uses the same).
EXIT_OK, EXIT_JOB_ERRORS, EXIT_USAGE, EXIT_ENVELOPE, EXIT_ENGINE, EXIT_OUTPUT = 0, 1, 2, 3, 4, 5

#: The table printed by ``--help``: the same text as ``haforu --help`` (the Rust CLI reads it
#: from hosts/cli/README.md; a test checks that both CLIs print the same lines).
EXIT_CODE_HELP = """Exit codes:
  0  the input was processed, whatever the jobs' statuses (failed jobs are error results in the output); `render` wrote its output; `validate`: every job is valid; `serve`: clean shutdown; also when the reader closed the pipe early (e.g. `head`)
  1  `--strict` and at least one job gave an error result; `render`, `info`, `compare`: the job failed (its error result is on stderr: a broken font or image, a face index out of range); `validate`: at least one job is invalid
  2  usage error (unknown flag, bad value such as `--method diagonal`, `render -o` with an unknown extension or a `--format` that disagrees with it); the input file, `--base-dir`, the `render -f` or `info` font, or a `compare` / `--compare` image file could not be read
  3  the job list as a whole is invalid (bad envelope: e.g. `version` not `"1.0"`, empty `jobs`); its error result (id `batch`) was printed
  4  the engine could not start (bad module, ABI mismatch, missing export), or `serve` could not listen
  5  results could not be written (full disk, an unwritable `-o` file)"""

#: Every format ``render`` can produce, and what an output file's extension means.
_FORMATS = ("png", "pgm", "raw", "metrics", "glyphs")
_EXTENSIONS: Dict[str, Tuple[str, Tuple[str, ...]]] = {
    ".png": ("png", ("png",)),
    ".pgm": ("pgm", ("pgm",)),
    ".raw": ("raw", ("raw",)),
    ".json": ("metrics", ("metrics", "glyphs")),
}

def _canvas_limits() -> Tuple[int, int]:
    """The engine's canvas limits (side, pixels), for the fitted ``render`` canvas."""
    from ._renderer import engine_facts

    limits = engine_facts().limits
    return int(limits["max_canvas_side"]), int(limits["max_canvas_pixels"])


class UsageError(Exception):
    """A problem with the command line or its files: exit code 2."""


class OutputError(Exception):
    """Results could not be written: exit code 5."""


def _err(msg: str) -> None:
    print(f"haforu: {msg}", file=sys.stderr)


# -- shared pieces ---------------------------------------------------------------------------


def _input_path(args: argparse.Namespace) -> str:
    if args.input is not None and args.input_flag is not None:
        raise UsageError("give the input as FILE or as -i FILE, not both")
    return args.input_flag or args.input or "-"


def _open_output(path: Optional[str]) -> TextIO:
    if path is None or path == "-":
        return sys.stdout
    try:
        return open(path, "w", encoding="utf-8")
    except OSError as exc:
        raise OutputError(f"cannot write {path}: {exc}") from None


def _base_dir(args: argparse.Namespace) -> Optional[str]:
    d: Optional[str] = getattr(args, "base_dir", None)
    if d is not None and not os.path.isdir(d):
        raise UsageError(f"--base-dir {d} is not a directory")
    return d


def _engine_opts(args: argparse.Namespace) -> Dict[str, Any]:
    """Keyword arguments for the engine (process_jobs / StreamingSession) from the flags."""
    if args.max_fonts < 1:
        raise UsageError("--max-fonts must be at least 1")
    if args.max_glyphs is not None and args.max_glyphs < 0:
        raise UsageError("--max-glyphs must be 0 or more")
    if args.timeout_ms < 0 or args.memory_mb < 1:
        raise UsageError("--timeout-ms must be 0 or more and --memory-mb at least 1")
    return dict(
        max_fonts=args.max_fonts,
        max_glyphs=args.max_glyphs,
        timeout_ms=args.timeout_ms or None,
        memory_limit_mb=args.memory_mb,
        base_dir=_base_dir(args),
    )


def _session(args: argparse.Namespace) -> StreamingSession:
    o = _engine_opts(args)
    return StreamingSession(
        max_fonts=o["max_fonts"], max_glyphs=o["max_glyphs"], timeout_ms=o["timeout_ms"],
        memory_limit_mb=o["memory_limit_mb"], base_dir=o["base_dir"],
    )


def _workers(n: Optional[int]) -> int:
    """``-j 0`` (haforu 2.x: all cores) and no ``-j`` both mean the number of cores."""
    return default_workers() if not n else n


class _Totals:
    """Counts of results by the descriptor's status and error-kind code (the names are
    ``haforu_info``'s ``error_kinds``): the result JSON is never read."""

    def __init__(self, workers: int) -> None:
        self.t0 = time.perf_counter()
        self.jobs = 0
        self.ok = 0
        self.codes: Dict[int, int] = {}
        self.workers = workers

    def add(self, status: int, kind: int) -> None:
        self.jobs += 1
        if status:
            self.codes[kind] = self.codes.get(kind, 0) + 1
        else:
            self.ok += 1

    @property
    def failed(self) -> int:
        return sum(self.codes.values())

    def errors(self) -> Dict[str, int]:
        """Failed results by error-kind name."""
        from ._renderer import engine_facts

        facts = engine_facts()
        out: Dict[str, int] = {}
        for code, n in self.codes.items():
            name = facts.kind(code)
            out[name] = out.get(name, 0) + n
        return dict(sorted(out.items()))

    def print_stats(self) -> None:
        wall = time.perf_counter() - self.t0
        try:
            import resource

            peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # KiB on Linux
        except (ImportError, OSError):  # pragma: no cover - not Unix
            peak = 0.0
        stats = {
            "jobs": self.jobs, "ok": self.ok, "errors": self.errors(),
            "jobs_per_s": round(self.jobs / wall, 1) if wall > 0 else 0.0,
            "wall_s": round(wall, 4), "workers": self.workers, "peak_rss_mb": round(peak, 1),
        }
        print(json.dumps(stats, separators=(",", ":")), file=sys.stderr)


def _processed(strict: bool, totals: _Totals) -> int:
    return EXIT_JOB_ERRORS if strict and totals.failed else EXIT_OK


def _envelope_line(exc: InvalidJobError) -> str:
    """The envelope's error result (id ``batch``): the engine's, or for a job list the host
    refused before the engine saw it (no job at all) one of the same shape."""
    if exc.result is not None:
        return exc.result
    return json.dumps({"id": "batch", "status": "error", "error": str(exc), "error_kind": exc.kind},
                      separators=(",", ":"), ensure_ascii=False)


class _Progress:
    """A one-line progress bar on stderr, drawn only when stderr is a terminal."""

    def __init__(self, total: int, enabled: bool) -> None:
        self.total = total
        self.enabled = enabled and sys.stderr.isatty()
        self.t0 = time.perf_counter()
        self.last = 0.0

    def draw(self, totals: _Totals, last: bool = False) -> None:
        if not self.enabled:
            return
        now = time.perf_counter()
        if not last and now - self.last < 0.1:
            return
        self.last = now
        frac = min(totals.jobs / self.total, 1.0) if self.total else 1.0
        bar = "#" * int(frac * 30)
        rate = totals.jobs / max(now - self.t0, 1e-9)
        errors = totals.failed
        sys.stderr.write(f"\r\x1b[2K[{bar:<30}] {frac * 100:3.0f}% {totals.jobs} jobs, {errors} errors, {rate:.0f} jobs/s")
        if last:
            sys.stderr.write("\n")
        sys.stderr.flush()


def _write_results(results: Iterator[Outcome], out: TextIO, totals: _Totals,
                   on_result: Optional[Callable[[], None]] = None, flush_each: bool = False) -> None:
    try:
        for result, status, kind in results:
            totals.add(status, kind)
            try:
                out.write(result)
                out.write("\n")
                if flush_each:
                    out.flush()
            except BrokenPipeError:
                raise
            except OSError as exc:
                raise OutputError(f"writing results: {exc}") from None
            if on_result is not None:
                on_result()
        try:
            out.flush()
        except BrokenPipeError:
            raise
        except OSError as exc:
            raise OutputError(f"writing results: {exc}") from None
    finally:
        close = getattr(results, "close", None)
        if close is not None:
            close()  # stops the worker threads when the output ends early


# -- batch / stream / validate ---------------------------------------------------------------


def _open_input(path: str) -> IO[bytes]:
    """The job input as a binary file: its bytes go to the engine as they are (invalid UTF-8
    is a ``bad_json`` result, a line over the job limit a ``limit_exceeded`` one)."""
    if path == "-":
        return sys.stdin.buffer
    try:
        return open(path, "rb")
    except OSError as exc:
        raise UsageError(f"cannot read {path}: {exc}") from None


def cmd_batch(args: argparse.Namespace) -> int:
    path = _input_path(args)
    src = _open_input(path)
    opts = _engine_opts(args)
    # Results come in completion order from several workers; in input order from one.
    workers = 1 if args.ordered else _workers(args.jobs)
    out = _open_output(args.output)
    try:
        try:
            try:
                total, results = start_jobs(src, workers=workers, **opts)
            except OSError as exc:
                raise UsageError(f"cannot read {'stdin' if path == '-' else path}: {exc}") from None
        except InvalidJobError as exc:
            if exc.job_id not in (None, "batch"):
                raise
            out.write(_envelope_line(exc) + "\n")
            out.flush()
            return EXIT_ENVELOPE
        totals = _Totals(min(workers, max(total, 1)))
        progress = _Progress(total, not args.no_progress)
        _write_results(results, out, totals, lambda: progress.draw(totals))
        progress.draw(totals, last=True)
        if args.stats:
            totals.print_stats()
        return _processed(args.strict, totals)
    finally:
        if src is not sys.stdin.buffer:
            src.close()
        if out is not sys.stdout:
            out.close()


def cmd_stream(args: argparse.Namespace) -> int:
    """One job per input line, one result per output line, flushed per line, in input order."""
    path = _input_path(args)
    src = _open_input(path)
    out = _open_output(args.output)
    totals = _Totals(1)
    try:
        with _session(args) as s:
            try:
                results = s._outcomes(src)
            except InvalidJobError as exc:
                out.write(_envelope_line(exc) + "\n")
                out.flush()
                return EXIT_ENVELOPE
            _write_results(results, out, totals, flush_each=True)
        if args.stats:
            totals.print_stats()
        return _processed(args.strict, totals)
    finally:
        if src is not sys.stdin.buffer:
            src.close()
        if out is not sys.stdout:
            out.close()


def _reading(jobs: Iterator[Tuple[int, Any]], path: str) -> Iterator[Tuple[int, Any]]:
    """``jobs`` with a read error of the input (read lazily) as a UsageError."""
    try:
        yield from jobs
    except OSError as exc:
        raise UsageError(f"cannot read {'stdin' if path == '-' else path}: {exc}") from None


def cmd_validate(args: argparse.Namespace) -> int:
    """Each job checked by the engine (``VALIDATE_ONLY``): its verdict line as the engine wrote
    it, in input order; exit 1 if any is invalid (the descriptor's status says which)."""
    path = _input_path(args)
    opts = _engine_opts(args)
    src = _open_input(path)
    out = _open_output(args.output)
    try:
        try:
            try:
                _, jobs = parse_jobs(src, "validate")  # read as `batch` reads it
            except OSError as exc:
                raise UsageError(f"cannot read {'stdin' if path == '-' else path}: {exc}") from None
        except InvalidJobError as exc:
            out.write(_envelope_line(exc) + "\n")  # the job list, not a job: no verdict
            out.flush()
            return EXIT_ENVELOPE
        renderer = Renderer(**opts)
        invalid = 0
        try:
            for n, job in _reading(jobs, path):
                line, status, _ = renderer.validate_json(job, n)
                invalid += status != 0
                try:
                    out.write(line + "\n")
                except BrokenPipeError:
                    raise
                except OSError as exc:
                    raise OutputError(f"writing results: {exc}") from None
            try:
                out.flush()
            except BrokenPipeError:
                raise
            except OSError as exc:
                raise OutputError(f"writing results: {exc}") from None
        finally:
            renderer.close()
        return EXIT_JOB_ERRORS if invalid else EXIT_OK
    finally:
        if src is not sys.stdin.buffer:
            src.close()
        if out is not sys.stdout:
            out.close()


# -- render ----------------------------------------------------------------------------------


def choose_format(fmt: Optional[str], output: Optional[str]) -> str:
    """``--format``, else the format the extension of ``-o`` names, else png. An unknown
    extension, or a ``--format`` that disagrees with it, is a UsageError (exit 2)."""
    if fmt is not None and fmt not in _FORMATS:
        raise UsageError(f"--format {fmt}: not one of png, pgm, raw, metrics, glyphs")
    if output is None or output == "-":
        return fmt or "png"
    ext = os.path.splitext(output)[1].lower()
    if ext not in _EXTENSIONS:
        raise UsageError(
            f"-o {output}: unknown extension; use .png, .pgm, .raw or .json (metrics, or glyphs with --format glyphs)"
        )
    default, fits = _EXTENSIONS[ext]
    if fmt is None:
        return default
    if fmt not in fits:
        raise UsageError(f"--format {fmt} disagrees with -o {output} (that extension means {' or '.join(fits)})")
    return fmt


def _parse_variations(items: Sequence[str]) -> Dict[str, float]:
    out: Dict[str, float] = {}
    for item in items:
        for part in (p.strip() for p in item.split(",")):
            if not part:
                continue
            tag, sep, value = part.partition("=")
            if not sep:
                tag, sep, value = part.partition(":")
            if not sep:
                raise UsageError(f"--variations: `{part}` is not TAG=VALUE")
            try:
                out[tag.strip()] = float(value.strip())
            except ValueError:
                raise UsageError(f"--variations: `{value}` is not a number") from None
    return out


def _render_font(args: argparse.Namespace) -> str:
    """The font file for ``render``: ``-f`` (resolved against ``--base-dir``), else the bundled
    font. One that cannot be read is a usage error, as in the Rust CLI."""
    if args.font is None:
        font = default_font_path()
        if font is None:
            raise UsageError("this build has no bundled font; pass -f FONT")
        return str(font)
    path: str = args.font
    base = _base_dir(args)
    if base is not None:
        real_base = os.path.realpath(base)
        path = os.path.realpath(os.path.join(real_base, path))
        if not (path + os.sep).startswith(real_base.rstrip(os.sep) + os.sep):
            raise UsageError(f"font path '{args.font}' resolves outside --base-dir {real_base}")
    try:
        with open(path, "rb"):
            pass
    except OSError as exc:
        raise UsageError(f"cannot use font file {args.font}: {exc.strerror or exc}") from None
    return path


def _fitted_width(metrics: Dict[str, Any], probe_width: int, size: float) -> int:
    """The canvas width that holds the ink of a ``metrics`` probe, plus a quarter em."""
    margin = math.ceil(size / 4.0)
    bbox = (metrics.get("metrics") or {}).get("bbox") or [0, 0, 0, 0]
    right = int(bbox[0]) + int(bbox[2])
    if right == 0:
        return max(1, min(math.ceil(size), probe_width))
    return max(1, min(right + margin, _canvas_limits()[0]))


def cmd_render(args: argparse.Namespace) -> int:
    if args.text is not None and args.text_arg is not None:
        raise UsageError("give the text as -t TEXT or as TEXT, not both")
    text = args.text if args.text is not None else args.text_arg
    if text is None:
        raise UsageError("no text: pass -t TEXT")
    to_file = args.output is not None and args.output != "-"
    if args.method is not None and args.compare is None:
        raise UsageError("--method needs --compare TARGET")
    # With --compare alone only the comparison is wanted: no pixels need to come back.
    fmt = "metrics" if args.compare is not None and args.format is None and not to_file else \
        choose_format(args.format, args.output)
    compare: Optional[Dict[str, Any]] = None
    if args.compare is not None:
        target = _read_image(args.compare)
        compare = {"target": base64.b64encode(target).decode("ascii"), "method": args.method or "center"}
    font_path = _render_font(args)
    font_obj: Dict[str, Any] = {"path": font_path, "size": args.size, "face_index": args.face_index}
    variations = _parse_variations(args.variations)
    if variations:
        font_obj["variations"] = variations
    if args.instance is not None:
        font_obj["instance"] = args.instance
    text_obj: Dict[str, Any] = {"content": text}
    for key in ("script", "language", "direction"):
        value = getattr(args, key)
        if value is not None:
            text_obj[key] = value
    if args.features is not None:
        text_obj["features"] = [f.strip() for f in args.features.split(",") if f.strip()]
    size = float(args.size)
    vertical = args.direction in ("ttb", "btt")
    side_max, area_max = _canvas_limits()
    line = int(max(1, min(math.ceil(size * 4.0 / 3.0), side_max)))
    long = int(max(1, min(math.ceil((len(text) + 2.0) * size * 1.3), side_max)))

    def job(f: str, w: int, h: int, extra: Optional[Dict[str, Any]] = None) -> str:
        j: Dict[str, Any] = {"id": "render", "font": font_obj, "text": text_obj,
                             "rendering": {"format": f, "width": w, "height": h}}
        if extra is not None:
            j["compare"] = extra
        return json.dumps(j, ensure_ascii=False)

    with _session(args) as s:
        if vertical:
            width, height = args.width or line, args.height or long
        else:
            height = args.height or line
            width = args.width
            if width is None:
                wide = max(1, min(long, area_max // max(height, 1)))
                width = _fitted_width(json.loads(s.render(job("metrics", wide, height))), wide, size)
        result_text = s.render(job(fmt, width, height, compare))
    result = json.loads(result_text)
    if result.get("status") != "success":
        print(result_text, file=sys.stderr)
        return EXIT_JOB_ERRORS
    image = fmt in ("png", "pgm", "raw")
    if args.json:
        shown = dict(result)
        if image:
            shown["rendering"] = {k: v for k, v in result["rendering"].items() if k != "data"}
        print(json.dumps(shown, separators=(",", ":"), ensure_ascii=False), file=sys.stderr)
    payload = base64.b64decode(result["rendering"]["data"]) if image else (result_text + "\n").encode("utf-8")
    if compare is not None and not isinstance(result.get("compare"), dict):
        _err("the engine's result has no comparison")
        return EXIT_ENGINE
    if to_file:
        try:
            with open(args.output, "wb") as f:
                f.write(payload)
        except OSError as exc:
            raise OutputError(f"cannot write {args.output}: {exc}") from None
        if image and not args.json and compare is None:
            _err(f"wrote {args.output} ({width}×{height} {fmt}, {len(payload)} bytes)")
    if compare is not None:
        print(compare_line(result["compare"]))
        return EXIT_OK
    if to_file:
        return EXIT_OK
    if image and sys.stdout.isatty():
        raise UsageError("not writing an image to a terminal; pass -o FILE")
    sys.stdout.flush()
    sys.stdout.buffer.write(payload)
    sys.stdout.buffer.flush()
    return EXIT_OK


# -- info / compare --------------------------------------------------------------------------

#: The fields of a comparison in the order of SPEC §4 (the Rust CLI prints the same line).
COMPARE_KEYS = ("width", "height", "pixel_delta", "center_weighted_delta", "density_a", "density_b",
                "aspect_a", "aspect_b", "iou", "differing_pixels")


def compare_line(compare: Dict[str, Any]) -> str:
    """``{"status":"success","compare":{...}}``, the fields in the order of SPEC §4 (any others
    after them): what ``compare`` and ``render --compare`` print."""
    ordered = {k: compare[k] for k in COMPARE_KEYS if k in compare}
    ordered.update((k, v) for k, v in compare.items() if k not in ordered)
    return json.dumps({"status": "success", "compare": ordered}, separators=(",", ":"), ensure_ascii=False)


def _error_json(job_id: str, kind: str, message: str, path: Optional[str] = None) -> str:
    """An error result in the engine's shape (the Rust CLI's ``job::error_json``)."""
    obj: Dict[str, Any] = {"id": job_id, "status": "error", "error": message, "error_kind": kind}
    if path is not None:
        obj["font"] = {"path": path}
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False)


def _fail(job_id: str, kind: str, message: str, path: Optional[str] = None) -> int:
    """A failed command's error result on stderr; exit 1."""
    print(_error_json(job_id, kind, message, path), file=sys.stderr)
    return EXIT_JOB_ERRORS


def _engine_message(exc: HaforuError, what: str) -> str:
    """The engine's message of a library error, without the library's ``what: `` prefix and its
    `` (font '...')`` suffix (the command names the file itself)."""
    msg = str(exc)
    for prefix in (f"{what}: ", f"{what} (a): ", f"{what} (b): "):
        if msg.startswith(prefix):
            msg = msg[len(prefix):]
            break
    if exc.font_path is not None:
        tail = f" (font {exc.font_path!r})"
        if msg.endswith(tail):
            msg = msg[: -len(tail)]
    return msg


def _read_file(path: str, what: str) -> bytes:
    try:
        with open(path, "rb") as f:
            return f.read()
    except OSError as exc:
        raise UsageError(f"cannot read {what} {path}: {exc.strerror or exc}") from None


def _read_image(path: str) -> bytes:
    return _read_file(path, "image file")


def _num(v: Any) -> str:
    """A value as ``info --format text`` shows it: integral numbers without a fraction."""
    if v is None:
        return "-"
    if isinstance(v, bool):
        return json.dumps(v)
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        return str(int(v)) if v.is_integer() and abs(v) < 1e15 else repr(v)
    if isinstance(v, str):
        return v
    return json.dumps(v, separators=(",", ":"))


def _ranges(cps: Sequence[int]) -> str:
    """Codepoints as ``U+0020..U+007E, U+00A0`` runs."""
    parts: List[str] = []
    i = 0
    while i < len(cps):
        j = i
        while j + 1 < len(cps) and cps[j + 1] == cps[j] + 1:
            j += 1
        parts.append(f"U+{cps[i]:04X}" if i == j else f"U+{cps[i]:04X}..U+{cps[j]:04X}")
        i = j + 1
    return ", ".join(parts)


def info_text(info: Dict[str, Any]) -> str:
    """``info --format text``: the Rust CLI's text, line for line."""
    out = [f"{k}: {_num(info.get(k))}" for k in ("familyName", "styleName", "fullName", "postscriptName", "version")]
    out.append(f"faceIndex: {_num(info.get('faceIndex'))} of {_num(info.get('faceCount'))}")
    out += [f"{k}: {_num(info.get(k))}" for k in ("unitsPerEm", "glyphCount", "ascender", "descender", "lineGap",
                                                   "capHeight", "xHeight")]
    cps = [c for c in info.get("codepoints") or [] if isinstance(c, int)]
    out.append(f"codepoints: {_num(info.get('codepointCount'))} ({_ranges(cps)})")
    axes = info.get("axes") or []
    out.append(f"axes: {len(axes)}")
    for a in axes:
        hidden = " (hidden)" if a.get("hidden") is True else ""
        out.append(f"  {_num(a.get('tag'))} {_num(a.get('name'))}: min {_num(a.get('min'))}, "
                   f"default {_num(a.get('default'))}, max {_num(a.get('max'))}{hidden}")
    instances = info.get("instances") or []
    out.append(f"instances: {len(instances)}")
    for inst in instances:
        coords = inst.get("coords") or {}
        tags = [a.get("tag") for a in axes if isinstance(a.get("tag"), str)]
        pairs = ", ".join(f"{t}={_num(coords[t])}" for t in tags if coords.get(t) is not None)
        ps = f" [{inst['postscriptName']}]" if isinstance(inst.get("postscriptName"), str) else ""
        out.append(f"  {_num(inst.get('name'))}{ps}: {pairs}")
    features = info.get("features") or []
    out.append(f"features: {len(features)}")
    for f in features:
        tables = ", ".join(_num(t) for t in f.get("tables") or [])
        ui = f": {f['uiName']}" if isinstance(f.get("uiName"), str) else ""
        out.append(f"  {_num(f.get('tag'))} ({tables}){ui}")
    return "\n".join(out)


def cmd_info(args: argparse.Namespace) -> int:
    if args.face_index < 0:
        raise UsageError(f"--face-index {args.face_index}: must be 0 or more")
    path: str = args.font
    data = _read_file(path, "font file")
    if not data:
        return _fail("info", "font_parse", f"{path}: the file is empty", path)
    with _session(args) as s:
        try:
            info = s.font_info(data, args.face_index)
        except HaforuError as exc:
            return _fail("info", exc.kind, f"{path}: {_engine_message(exc, 'font_info')}", path)
    if args.format == "text":
        print(info_text(info))
    else:
        print(json.dumps(info, indent=2, ensure_ascii=False))
    return EXIT_OK


def cmd_compare(args: argparse.Namespace) -> int:
    a, b = _read_image(args.a), _read_image(args.b)
    with _session(args) as s:
        try:
            c = s.compare(a, b, args.method)
        except HaforuError as exc:
            # Name the image that failed: the one the engine refuses on its own.
            bad = args.a
            try:
                s.compare(b, b, args.method)
            except HaforuError:
                bad = args.b
            else:
                try:
                    s.compare(a, a, args.method)
                except HaforuError as exc_a:
                    exc = exc_a
                else:  # both images are fine: the comparison itself failed
                    return _fail("compare", exc.kind, _engine_message(exc, "compare"))
            return _fail("compare", exc.kind, f"{bad}: {_engine_message(exc, 'compare')}")
    print(compare_line(dataclasses.asdict(c)))
    return EXIT_OK


# -- version / diagnostics -------------------------------------------------------------------


def _version_line() -> str:
    with StreamingSession(max_glyphs=None) as s:
        info = s.info()
    return (f"haforu {__version__} (engine {info.get('version')}, ABI {info.get('abi_version')}, "
            f"wasmtime {wasmtime_version()}, Python {platform.python_version()})")


def cmd_version(args: argparse.Namespace) -> int:
    print(_version_line())
    return EXIT_OK


def _flatten(prefix: str, value: Any, out: List[str]) -> None:
    if isinstance(value, dict) and value:
        for k, v in value.items():
            _flatten(f"{prefix}.{k}" if prefix else str(k), v, out)
    elif isinstance(value, str):
        out.append(f"{prefix}: {value}")
    else:
        out.append(f"{prefix}: {json.dumps(value)}")


def cmd_diagnostics(args: argparse.Namespace) -> int:
    t0 = time.perf_counter()
    rt = get_runtime()
    t1 = time.perf_counter()
    with _session(args) as s:
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
        "sandbox": {"memory_mb": args.memory_mb, "timeout_ms": args.timeout_ms,
                    "max_fonts": args.max_fonts, "max_glyphs": args.max_glyphs},
        "default_font": str(font) if font else None,
        "cpus": default_workers(),
        "startup_ms": {"load_module": round((t1 - t0) * 1000, 2),
                       "instantiate_and_first_render": round((t2 - t1) * 1000, 2)},
        "session": stats,
    }
    if args.format == "text":
        lines: List[str] = []
        _flatten("", report, lines)
        print("\n".join(lines))
    else:
        print(json.dumps(report, indent=2))
    return EXIT_OK


# -- the parser ------------------------------------------------------------------------------


class _Parser(argparse.ArgumentParser):
    """Usage errors exit 2 (argparse's own code), with the message on stderr."""


def _engine_args(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("sandbox and caches")
    g.add_argument("--memory-mb", "--memory-limit-mb", dest="memory_mb", type=int, default=512, metavar="MIB",
                   help="linear-memory cap per engine instance, MiB (default 512)")
    g.add_argument("--timeout-ms", type=int, default=10_000, metavar="MS",
                   help="deadline per job in ms, 0 = none (default 10000)")
    g.add_argument("--max-fonts", type=int, default=512, metavar="N",
                   help="fonts kept registered per engine instance (default 512)")
    g.add_argument("--max-glyphs", type=int, default=None, metavar="N",
                   help="glyph cache capacity per engine instance, in glyphs; 0 = off (default: byte budget only)")


def _input_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("input", nargs="?", default=None, metavar="FILE", help="input file, or - for stdin (the default)")
    p.add_argument("-i", "--input", dest="input_flag", metavar="FILE", help="the same as FILE (haforu 2.x spelling)")


def _run_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("-o", "--output", "--output-file", dest="output", metavar="FILE",
                   help="write results to FILE instead of stdout")
    p.add_argument("--base-dir", metavar="DIR", help="resolve font.path against DIR and refuse paths outside it")


def _jobs_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument("-j", "--jobs", "-w", "--workers", dest="jobs", type=int, metavar="N",
                   help="worker threads, each with its own engine instance (0 or default: number of cores)")


def build_parser() -> argparse.ArgumentParser:
    fmt = argparse.RawDescriptionHelpFormatter
    parser = _Parser(prog="python -m haforu", description=__doc__, epilog=EXIT_CODE_HELP, formatter_class=fmt)
    parser.add_argument("-V", "--version", action="store_true", help="print the version")
    sub = parser.add_subparsers(dest="command", parser_class=_Parser)

    p = sub.add_parser("batch", help="run a job list (batch object or JSONL); print one result per line",
                       epilog=EXIT_CODE_HELP, formatter_class=fmt)
    _input_args(p)
    _run_args(p)
    _jobs_arg(p)
    p.add_argument("--ordered", action="store_true",
                   help="print results in input order (runs on one worker; default: as they complete)")
    p.add_argument("--strict", action="store_true",
                   help="exit 1 if any job gave an error result (default: 0 once the input was processed)")
    p.add_argument("--stats", action="store_true", help="print one JSON line of totals to stderr at the end")
    p.add_argument("--no-progress", "--quiet", "-q", dest="no_progress", action="store_true",
                   help="never draw the progress bar (it is drawn only when stderr is a terminal)")
    _engine_args(p)
    p.set_defaults(func=cmd_batch)

    p = sub.add_parser("stream", help="one job per input line, one result per output line, flushed per line",
                       epilog=EXIT_CODE_HELP, formatter_class=fmt)
    _input_args(p)
    _run_args(p)
    p.add_argument("--strict", action="store_true",
                   help="exit 1 if any job gave an error result (default: 0 once the input was processed)")
    p.add_argument("--stats", action="store_true", help="print one JSON line of totals to stderr at the end")
    _engine_args(p)
    p.set_defaults(func=cmd_stream)

    p = sub.add_parser("render", help="render one text to an image (format from -o's extension, PNG by default) "
                       "or print its metrics or glyphs", epilog=EXIT_CODE_HELP, formatter_class=fmt)
    p.add_argument("-t", "--text", help="the text to render (or give it as TEXT)")
    p.add_argument("text_arg", nargs="?", metavar="TEXT", help="the text to render, as a plain argument")
    p.add_argument("-f", "--font", "--font-file", dest="font", metavar="FILE",
                   help="font file (.ttf, .otf, .ttc); default: the bundled Inter")
    p.add_argument("-s", "--size", "--font-size", dest="size", type=float, default=48.0, help="pixels per em (default 48)")
    p.add_argument("--variations", "--var", dest="variations", action="append", default=[], metavar="TAG=VALUE,...",
                   help="axis coordinates, e.g. wght=700,wdth=90")
    p.add_argument("--instance", help="named instance (fvar subfamily name), applied before --variations")
    p.add_argument("--features", metavar="FEATURE,...", help="OpenType features in HarfBuzz syntax, e.g. -liga,ss01")
    p.add_argument("--script", help="ISO 15924 script tag (default: from the text)")
    p.add_argument("--language", help="BCP 47 language tag")
    p.add_argument("--direction", help="ltr, rtl, ttb or btt (default: from the text)")
    p.add_argument("--face-index", type=int, default=0, help="face index inside a collection")
    p.add_argument("--width", type=int, help="canvas width (default: fitted to the ink)")
    p.add_argument("--height", type=int, help="canvas height (default: 4/3 of the size, baseline at 3/4 of it)")
    p.add_argument("--format", help="png, pgm, raw, metrics or glyphs (default: from the extension of -o, else png)")
    p.add_argument("-o", "--output", "--output-file", dest="output", metavar="FILE",
                   help="output file: .png, .pgm, .raw or .json (metrics; glyphs with --format glyphs); default: stdout")
    p.add_argument("--json", action="store_true", help="also print the result JSON (without image data) to stderr")
    p.add_argument("--base-dir", metavar="DIR", help="resolve -f against DIR and refuse a path that leads outside it")
    p.add_argument("--compare", metavar="TARGET",
                   help="compare the render with this PGM/PNG image in the engine and print the comparison JSON on "
                   "stdout (the render itself goes only to -o; without -o and --format it is metrics)")
    p.add_argument("--method", choices=["center", "corner"], default=None,
                   help="alignment for --compare: center (default) or corner")
    _engine_args(p)
    p.set_defaults(func=cmd_render)

    p = sub.add_parser("validate", help="check a job list without rendering: one {\"id\",\"valid\",...} line per "
                       "job, with the job's warnings", epilog=EXIT_CODE_HELP, formatter_class=fmt)
    _input_args(p)
    _run_args(p)
    _jobs_arg(p)
    _engine_args(p)
    p.set_defaults(func=cmd_validate)

    p = sub.add_parser("info", help="print a font's metadata (names, metrics, axes, named instances, features, "
                       "coverage): the engine's font info JSON, pretty-printed, or text", epilog=EXIT_CODE_HELP,
                       formatter_class=fmt)
    p.add_argument("font", metavar="FONT", help="font file (.ttf, .otf, .ttc)")
    p.add_argument("--face-index", type=int, default=0, metavar="N", help="face index inside a collection")
    p.add_argument("--format", choices=["json", "text"], default="json",
                   help="json (the default: the engine's font info, pretty-printed) or text (a summary)")
    _engine_args(p)
    p.set_defaults(func=cmd_info)

    p = sub.add_parser("compare", help="compare two PGM/PNG images in the engine (pixel delta, densities, "
                       "aspects, IoU, ...); print the comparison JSON", epilog=EXIT_CODE_HELP, formatter_class=fmt)
    p.add_argument("a", metavar="A", help="image a: a binary PGM (P5) or grayscale PNG file (0 = ink)")
    p.add_argument("b", metavar="B", help="image b, compared with a")
    p.add_argument("--method", choices=["center", "corner"], default="center",
                   help="alignment on the max(W)xmax(H) canvas: center (default) or corner")
    _engine_args(p)
    p.set_defaults(func=cmd_compare)

    p = sub.add_parser("diagnostics", help="print the engine's version, ABI version, limits and cache state",
                       epilog=EXIT_CODE_HELP, formatter_class=fmt)
    p.add_argument("--format", choices=["json", "text"], default="json", help="json (the default) or text")
    _engine_args(p)
    p.set_defaults(func=cmd_diagnostics)

    p = sub.add_parser("version", help="print the version (the same as --version)")
    p.set_defaults(func=cmd_version)
    return parser


def _quiet_stdout() -> None:
    """After a closed pipe: point stdout at /dev/null so the flush at exit says nothing."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError):
        pass


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        if args.version and args.command is None:
            print(_version_line())
            rc = EXIT_OK
        elif args.command is None:
            parser.print_usage(sys.stderr)
            _err("a command is required (batch, stream, render, validate, info, compare, diagnostics, version)")
            return EXIT_USAGE
        else:
            rc = args.func(args)
        sys.stdout.flush()
        return int(rc)
    except BrokenPipeError:
        _quiet_stdout()
        return EXIT_OK
    except UsageError as exc:
        _err(str(exc))
        return EXIT_USAGE
    except OutputError as exc:
        _err(str(exc))
        return EXIT_OUTPUT
    except (ValueError, TypeError) as exc:  # an option value the engine refused
        _err(str(exc))
        return EXIT_USAGE
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # the engine could not be loaded or started
        _err(f"the engine failed: {type(exc).__name__}: {exc}")
        return EXIT_ENGINE


if __name__ == "__main__":
    sys.exit(main())
