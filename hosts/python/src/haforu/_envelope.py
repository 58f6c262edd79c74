"""Reading a job list (SPEC §1): a batch object ``{"version": "1.0", "jobs": [...]}`` or JSONL.

The engine owns the envelope rules (``haforu::envelope::split``, exported as ``haforu_split``,
wasm/README.md): which text is a batch object, the ``version`` and ``jobs`` checks, the compact
re-serialisation of each job, and the error for an invalid envelope. This module only marshals:

- Input up to ``LAZY_MIN_BYTES`` (8 MiB) is handed whole to ``haforu_split`` (in a short-lived
  engine instance of its own, with no deadline or memory cap, so that the workers' heaps do not
  grow with the input). Its ``N<TAB>JOB`` lines are the jobs; when its ``status`` is 1 the error
  result's message becomes an ``InvalidJobError`` (a ``ValueError``) with the engine's kind.
- Larger input is walked lazily here (no second copy of it in a wasm heap) only when it is JSONL
  whatever the engine's rules: its first non-blank character is not ``{``, or its first non-blank
  line is one complete JSON value followed by another non-blank line (then the text cannot be one
  JSON document, so the engine reads it as JSONL too). The walk is what ``haforu_split`` does for
  JSONL: lines end at ``\\n``, are numbered from 1, trimmed, and blank ones are skipped (each line
  is left as it is, valid JSON or not: ``haforu_run`` reports a bad one). Any other large input
  (a batch object, or something that might be one) goes to ``haforu_split`` like small input.

The one place where the lazy path may differ from the engine is a first line that Python's
``json`` accepts and the engine's parser refuses (a lone surrogate escape, a number out of
``f64`` range, nesting deeper than 128) in a large text that also mentions ``"jobs"``: the engine
would reject the envelope, the lazy walk passes the line on and it becomes a ``bad_json`` result.
"""

from __future__ import annotations

import json
from typing import Iterator, List, Tuple, Union

from ._renderer import Renderer
from .errors import error_for_kind

__all__ = ["parse_envelope", "JobIter", "LAZY_MIN_BYTES"]

JobIter = Iterator[Tuple[int, str]]

#: Input at least this long (in bytes or characters) is walked lazily when it is surely JSONL.
LAZY_MIN_BYTES = 8 << 20

#: Rust's ``char::is_whitespace`` (what the engine trims), not Python's ``str.isspace``.
_WS = "\t\n\x0b\x0c\r \x85\xa0\u1680" + "".join(map(chr, range(0x2000, 0x200B))) + "\u2028\u2029\u202f\u205f\u3000"


def _jsonl_lines(text: str) -> JobIter:
    """Yield ``(line_no, line)`` for every non-blank line, as ``haforu_split`` does for JSONL:
    only ``\\n`` ends a line (JSON strings may hold U+2028 and friends), lines are trimmed."""
    start = 0
    line_no = 0
    n = len(text)
    while start < n:
        end = text.find("\n", start)
        if end < 0:
            end = n
        line_no += 1
        line = text[start:end].strip(_WS)
        if line:
            yield line_no, line
        start = end + 1


def _refuse_constant(name: str) -> object:
    raise ValueError(f"{name} is not JSON")


def _surely_jsonl(text: str) -> bool:
    """True when the engine is bound to read ``text`` as JSONL (see the module docstring)."""
    body = text.lstrip(_WS)
    if not body.startswith("{"):
        return True
    end = body.find("\n")
    if end < 0:
        return False
    try:
        json.loads(body[:end], parse_constant=_refuse_constant)
    except (ValueError, RecursionError):
        return False
    return any(True for _ in _jsonl_lines(body[end + 1:]))


def _engine_split(spec: bytes) -> List[Tuple[int, str]]:
    """``haforu_split`` on the whole input; raise InvalidJobError when the envelope is invalid."""
    renderer = Renderer()
    try:
        status, out = renderer.split(spec)
    finally:
        renderer.close()
    if status:
        result = json.loads(out)
        raise error_for_kind(
            str(result.get("error_kind") or "bad_json"),
            str(result.get("error") or "invalid job list"),
            job_id=str(result.get("id") or "batch"),
        )
    jobs: List[Tuple[int, str]] = []
    for line in out.decode("utf-8").split("\n"):
        if line:
            n, _, job = line.partition("\t")
            jobs.append((int(n), job))
    return jobs


def parse_envelope(spec: Union[str, bytes, bytearray]) -> Tuple[int, JobIter]:
    """Split a job list into ``(job_count, iterator of (line_no, job_text))`` without running it.

    Raises ``InvalidJobError`` (a ValueError) with the engine's message and kind (``bad_json`` /
    ``bad_job``) for an invalid envelope: a malformed batch object, a ``version`` other than
    ``"1.0"``, a ``jobs`` that is not a non-empty list, input that is not UTF-8, or no job at all.
    Individual jobs are not validated here: a bad job becomes an error result when it runs.
    """
    if isinstance(spec, str):
        if len(spec) >= LAZY_MIN_BYTES and _surely_jsonl(spec):
            return sum(1 for _ in _jsonl_lines(spec)), _jsonl_lines(spec)
        data = spec.encode("utf-8", "surrogatepass")
    elif isinstance(spec, (bytes, bytearray)):
        data = bytes(spec)
        if len(data) >= LAZY_MIN_BYTES:
            try:
                text = data.decode("utf-8")
            except UnicodeDecodeError:
                pass  # the engine reports it
            else:
                if _surely_jsonl(text):
                    return sum(1 for _ in _jsonl_lines(text)), _jsonl_lines(text)
    else:
        raise TypeError(f"the job list must be str or bytes, not {type(spec).__name__}")
    jobs = _engine_split(data)
    return len(jobs), iter(jobs)
