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

import itertools
import json
from typing import IO, Any, Iterable, Iterator, List, Mapping, Optional, Tuple, Union

from ._renderer import Renderer
from .errors import InvalidJobError, error_for_kind

__all__ = ["parse_envelope", "parse_jobs", "job_text", "JobIter", "AnyJobIter", "JobSource", "LAZY_MIN_BYTES", "ACCEPTED"]

JobIter = Iterator[Tuple[int, str]]
#: Jobs of any accepted source: text lines, serialised dicts, or bytes passed on as they are.
AnyJobIter = Iterator[Tuple[int, Union[str, bytes]]]

#: What a job list may be (the Python API's input types; see :func:`parse_jobs`).
JobSource = Union[
    str, bytes, bytearray, Mapping[str, Any], Iterable[Union[str, bytes, Mapping[str, Any]]], "IO[str]", "IO[bytes]"
]

#: The accepted input, as TypeErrors spell it out.
ACCEPTED = (
    "a job list as str or bytes (a batch object or JSONL), a dict (a batch object or one job), "
    "a list or iterator of job dicts or JSON strings, or a text file object (one job per line)"
)

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


def job_text(job: object, where: str) -> Union[str, bytes]:
    """One job of a list as JSON text: a dict is serialised (compact, UTF-8), str and bytes are
    passed on as they are (the engine reports bad JSON as an error result). Anything else is a
    TypeError naming ``where`` (e.g. ``"job 3 of the list"``)."""
    if isinstance(job, str):
        return job
    if isinstance(job, (bytes, bytearray, memoryview)):
        return bytes(job)
    if isinstance(job, Mapping):
        try:
            return json.dumps(job, separators=(",", ":"), ensure_ascii=False)
        except (TypeError, ValueError) as exc:
            raise TypeError(f"{where} is a dict that is not JSON-serialisable: {exc}") from None
    raise TypeError(f"{where} must be a job dict or a JSON string (str or bytes), not {type(job).__name__}")


def _items(items: Iterable[object]) -> AnyJobIter:
    for n, job in enumerate(items, 1):
        yield n, job_text(job, f"job {n} of the list")


def _file_lines(first_no: int, first: Union[str, bytes], rest: Iterator[Any]) -> AnyJobIter:
    """The non-blank lines of a file object, trimmed, numbered from 1 (as for JSONL text)."""
    yield first_no, first
    for n, line in enumerate(rest, first_no + 1):
        job = _strip_line(line, n)
        if job:
            yield n, job


def _strip_line(line: object, n: int) -> Union[str, bytes]:
    if isinstance(line, str):
        return line.strip(_WS)
    if isinstance(line, (bytes, bytearray)):
        return bytes(line).strip()
    raise TypeError(f"line {n} of the job file is {type(line).__name__}, not str or bytes")


def _from_file(f: Any, allow_empty: bool) -> Tuple[Optional[int], AnyJobIter]:
    """A file object: one job per line, read lazily. A file that holds a batch object instead
    (its first non-blank line is an incomplete JSON object, or an object with ``jobs`` or
    ``version``) is read whole and split like text."""
    lines = iter(f)
    for n, line in enumerate(lines, 1):
        first = _strip_line(line, n)
        if not first:
            continue
        if _opens_batch(first):
            rest = list(lines)
            try:
                if isinstance(first, bytes):
                    return parse_envelope(first + b"\n" + b"".join(rest))
                return parse_envelope(first + "\n" + "".join(rest))
            except TypeError:
                raise TypeError("a job file must yield lines of one type, str or bytes") from None
        return None, _file_lines(n, first, lines)
    if allow_empty:
        return 0, iter(())
    raise InvalidJobError("the job file holds no jobs", "bad_job", job_id="batch")


def _opens_batch(first: Union[str, bytes]) -> bool:
    """True when the first non-blank line of a file starts a batch object rather than a job."""
    if not (first.startswith("{") if isinstance(first, str) else first.startswith(b"{")):
        return False
    try:
        obj: Any = json.loads(first)
    except (ValueError, RecursionError):
        return True  # an object spread over several lines: a pretty-printed batch object
    return isinstance(obj, dict) and ("jobs" in obj or "version" in obj)


def parse_jobs(spec: object, api: str, *, allow_empty: bool = False) -> Tuple[Optional[int], AnyJobIter]:
    """Any accepted job list as ``(job_count or None when not known yet, iterator of (line_no,
    job_text))``; ``api`` names the caller in errors.

    - ``str``/``bytes``: a batch object or JSONL, split by the engine (:func:`parse_envelope`).
    - a ``dict``: a batch object ``{"version": "1.0", "jobs": [...]}`` or one job.
    - a list/tuple (or any iterable, including generators): one job per item, each a dict or a
      JSON string; items are serialised lazily, job ``n`` gets ``line-n`` when it has no id.
    - a file object (anything with ``read``): one job per line, read lazily.

    Raises InvalidJobError (a ValueError) for an invalid envelope or, unless ``allow_empty``, no
    job at all; TypeError for any other type.
    """
    if isinstance(spec, (str, bytes, bytearray)):
        return parse_envelope(spec)
    if isinstance(spec, Mapping):
        return parse_envelope(job_text(spec, f"the {api}() argument"))
    if hasattr(spec, "read") and hasattr(spec, "__iter__"):
        return _from_file(spec, allow_empty)
    if isinstance(spec, (list, tuple)):
        if not spec and not allow_empty:
            raise InvalidJobError("the job list is empty", "bad_job", job_id="batch")
        for n, job in enumerate(spec, 1):  # type errors at the call, not half-way through
            if not isinstance(job, (str, bytes, bytearray, memoryview, Mapping)):
                job_text(job, f"job {n} of the list")
        return len(spec), _items(spec)
    if isinstance(spec, Iterable) and not isinstance(spec, memoryview):
        it = iter(spec)
        try:
            first = next(it)
        except StopIteration:
            if allow_empty:
                return 0, iter(())
            raise InvalidJobError("the job iterator yielded no jobs", "bad_job", job_id="batch") from None
        if not isinstance(first, Mapping):
            job_text(first, "job 1 of the list")
        return None, _items(itertools.chain((first,), it))
    raise TypeError(f"{api}() takes {ACCEPTED}; got {type(spec).__name__}")
