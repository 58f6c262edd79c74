"""What every ``python -m haforu`` command shares: exit codes, errors, the engine options of
the flags, outcome totals, the progress line and the result writer."""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from typing import Any, Callable, Dict, Iterator, Optional, TextIO

from .._renderer import Outcome
from ..batch import default_workers
from ..errors import InvalidJobError
from ..session import StreamingSession

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
        # As the `haforu` CLI: a font path is that file, never one found in the font folders.
        font_search=False,
    )


def _session(args: argparse.Namespace) -> StreamingSession:
    o = _engine_opts(args)
    return StreamingSession(
        max_fonts=o["max_fonts"], max_glyphs=o["max_glyphs"], timeout_ms=o["timeout_ms"],
        memory_limit_mb=o["memory_limit_mb"], base_dir=o["base_dir"], font_search=False,
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
        from .._renderer import engine_facts

        facts = engine_facts()
        out: Dict[str, int] = {}
        for code, n in self.codes.items():
            name = facts.kind(code)
            out[name] = out.get(name, 0) + n
        return dict(sorted(out.items()))

    def print_stats(self) -> None:
        wall = time.perf_counter() - self.t0
        peak = peak_rss_mb()
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
    """A one-line progress bar on stderr, drawn when stderr is a terminal (``when="auto"``) or
    always (``"always"``, ``--progress``: on a non-terminal as plain lines, at most one a second
    plus the first and the last), never for ``"never"``."""

    def __init__(self, total: int, when: str) -> None:
        self.total = total
        tty = sys.stderr.isatty()
        self.enabled = when == "always" or (when == "auto" and tty)
        self.plain = not tty
        self.t0 = time.perf_counter()
        self.last = float("-inf")

    def draw(self, totals: _Totals, last: bool = False) -> None:
        if not self.enabled:
            return
        now = time.perf_counter()
        if not last and now - self.last < (1.0 if self.plain else 0.1):
            return
        self.last = now
        frac = min(totals.jobs / self.total, 1.0) if self.total else 1.0
        bar = "#" * int(frac * 30)
        rate = totals.jobs / max(now - self.t0, 1e-9)
        errors = totals.failed
        line = f"[{bar:<30}] {totals.jobs}/{self.total} jobs, {errors} errors, {rate:.0f} jobs/s"
        if self.plain:
            sys.stderr.write(line + "\n")
        else:
            sys.stderr.write("\r\x1b[2K" + line + ("\n" if last else ""))
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


def _read_file(path: str, what: str) -> bytes:
    try:
        with open(path, "rb") as f:
            return f.read()
    except OSError as exc:
        raise UsageError(f"cannot read {what} {path}: {exc.strerror or exc}") from None


def _read_image(path: str) -> bytes:
    return _read_file(path, "image file")


def peak_rss_mb() -> float:
    """This process's own peak RSS in MiB: ``VmHWM`` on Linux. (``ru_maxrss`` is not that there:
    a child inherits its parent's high-water mark across fork and exec, so a command started by a
    big process would report the parent's size.) ``ru_maxrss`` elsewhere, 0 when neither exists."""
    try:
        with open("/proc/self/status", encoding="ascii") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024.0
    except (OSError, ValueError):
        pass
    try:
        import resource

        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # KiB on Linux
    except (ImportError, OSError):  # pragma: no cover - not Unix
        return 0.0
