"""``batch``, ``stream`` and ``validate``: job lists in, one line per job out."""

from __future__ import annotations

import argparse
import contextlib
import sys
from typing import IO, Any, Iterator, Optional, TextIO, Tuple

from .._envelope import parse_jobs
from .._renderer import Renderer
from ..batch import start_jobs
from ..errors import InvalidJobError
from .common import (
    EXIT_ENVELOPE, EXIT_JOB_ERRORS, EXIT_OK, OutputError, UsageError, _Progress, _Totals, _engine_opts,
    _envelope_line, _input_path, _open_output, _processed, _session, _workers, _write_results,
)


def _open_input(path: str) -> IO[bytes]:
    """The job input as a binary file: its bytes go to the engine as they are (invalid UTF-8
    is a ``bad_json`` result, a line over the job limit a ``limit_exceeded`` one)."""
    if path == "-":
        return sys.stdin.buffer
    try:
        return open(path, "rb")
    except OSError as exc:
        raise UsageError(f"cannot read {path}: {exc}") from None


@contextlib.contextmanager
def _files(args: argparse.Namespace) -> Iterator[Tuple[str, IO[bytes], TextIO]]:
    """The command's input (path, binary file) and output, closed at the end (not stdin/stdout)."""
    path = _input_path(args)
    src = _open_input(path)
    try:
        out = _open_output(args.output)
    except BaseException:
        if src is not sys.stdin.buffer:
            src.close()
        raise
    try:
        yield path, src, out
    finally:
        if src is not sys.stdin.buffer:
            src.close()
        if out is not sys.stdout:
            out.close()


def _read_error(path: str, exc: OSError) -> UsageError:
    return UsageError(f"cannot read {'stdin' if path == '-' else path}: {exc}")


def cmd_batch(args: argparse.Namespace) -> int:
    opts = _engine_opts(args)
    # Results come in completion order from several workers; in input order from one.
    workers = 1 if args.ordered else _workers(args.jobs)
    with _files(args) as (path, src, out):
        try:
            try:
                total, results = start_jobs(src, workers=workers, **opts)
            except OSError as exc:
                raise _read_error(path, exc) from None
        except InvalidJobError as exc:
            if exc.job_id not in (None, "batch"):
                raise
            return _envelope_failed(exc, out)
        totals = _Totals(min(workers, max(total, 1)))
        when = "never" if args.no_progress else "always" if args.progress else "auto"
        progress = _Progress(total, when)
        progress.draw(totals)
        _write_results(results, out, totals, lambda: progress.draw(totals))
        progress.draw(totals, last=True)
        return _finished(args, totals)


def _envelope_failed(exc: InvalidJobError, out: TextIO) -> int:
    """The job list as a whole is invalid: its error result (id ``batch``), exit 3."""
    out.write(_envelope_line(exc) + "\n")
    out.flush()
    return EXIT_ENVELOPE


def _finished(args: argparse.Namespace, totals: _Totals) -> int:
    if args.stats:
        totals.print_stats()
    return _processed(args.strict, totals)


def cmd_stream(args: argparse.Namespace) -> int:
    """One job per input line, one result per output line, flushed per line, in input order."""
    totals = _Totals(1)
    with _files(args) as (_, src, out), _session(args) as s:
        try:
            results = s._outcomes(src)
        except InvalidJobError as exc:
            return _envelope_failed(exc, out)
        _write_results(results, out, totals, flush_each=True)
    return _finished(args, totals)


def _reading(jobs: Iterator[Tuple[int, Any]], path: str) -> Iterator[Tuple[int, Any]]:
    """``jobs`` with a read error of the input (read lazily) as a UsageError."""
    try:
        yield from jobs
    except OSError as exc:
        raise _read_error(path, exc) from None


def cmd_validate(args: argparse.Namespace) -> int:
    """Each job checked by the engine (``VALIDATE_ONLY``): its verdict line as the engine wrote
    it, in input order; exit 1 if any is invalid (the descriptor's status says which)."""
    opts = _engine_opts(args)
    with _files(args) as (path, src, out):
        try:
            try:
                _, jobs = parse_jobs(src, "validate")  # read as `batch` reads it
            except OSError as exc:
                raise _read_error(path, exc) from None
        except InvalidJobError as exc:
            return _envelope_failed(exc, out)  # the job list, not a job: no verdict
        renderer = Renderer(**opts)
        invalid = 0
        try:
            for n, job in _reading(jobs, path):
                line, status, _ = renderer.validate_json(job, n)
                invalid += status != 0
                _write(out, line + "\n")
            _write(out, None)
        finally:
            renderer.close()
        return EXIT_JOB_ERRORS if invalid else EXIT_OK


def _write(out: TextIO, text: Optional[str]) -> None:
    """Write ``text`` (``None``: flush); a failure other than a closed pipe is an OutputError."""
    try:
        if text is None:
            out.flush()
        else:
            out.write(text)
    except BrokenPipeError:
        raise
    except OSError as exc:
        raise OutputError(f"writing results: {exc}") from None
