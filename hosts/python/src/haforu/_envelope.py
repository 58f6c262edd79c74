"""Reading a job list (SPEC §1): a batch object ``{"version": "1.0", "jobs": [...]}`` or JSONL.

The engine owns the envelope rules (``haforu_envelope_probe`` and ``haforu_split``,
wasm/README.md): which text is a batch object, the ``version`` and ``jobs`` checks, the compact
re-serialisation of each job, and the error for an invalid envelope. This module only moves
bytes:

- Input up to ``LAZY_MIN_BYTES`` (8 MiB) is handed whole to ``haforu_split`` (in a short-lived
  engine instance of its own, with no deadline or memory cap, so that the workers' heaps do not
  grow with the input). Its ``N<TAB>JOB`` lines are the jobs; when its ``status`` is 1 the
  engine's error result becomes an ``InvalidJobError`` (a ``ValueError``) with the engine's kind
  (``.result`` holds the result text).
- Larger input, and any file object, is judged by its first non-blank line
  (``haforu_envelope_probe``): JSONL is walked lazily here, line by line (lines end at ``\\n``,
  are numbered from 1, trimmed, blank ones skipped; each line is passed on as it is, valid JSON
  or not: ``haforu_run`` reports a bad one); anything else is read whole and split by the engine.
- A line longer than the engine's job limit (``limits.max_job_json_bytes``) is not kept: only its
  length goes on (:class:`~haforu._renderer.TooLong`), and it becomes a ``limit_exceeded`` result.
  File lines are read in 1 MiB pieces, so an endless line costs at most the limit in memory.
"""

from __future__ import annotations

import itertools
import json
from typing import IO, Any, Iterable, Iterator, List, Mapping, Optional, Tuple, Union

from ._renderer import Renderer, TooLong, engine_facts
from .errors import InvalidJobError, error_for_kind

__all__ = ["parse_envelope", "parse_jobs", "job_text", "JobIter", "AnyJobIter", "JobSource", "LAZY_MIN_BYTES", "ACCEPTED"]

JobIter = Iterator[Tuple[int, str]]
#: Jobs of any accepted source: text lines, serialised dicts, or bytes passed on as they are.
AnyJobIter = Iterator[Tuple[int, Union[str, bytes, TooLong]]]

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


def _jsonl_lines(text: str) -> AnyJobIter:
    """Yield ``(line_no, line)`` for every non-blank line, as ``haforu_split`` does for JSONL:
    only ``\\n`` ends a line (JSON strings may hold U+2028 and friends), lines are trimmed."""
    limit = engine_facts().max_job_bytes
    start = 0
    line_no = 0
    n = len(text)
    while start < n:
        end = text.find("\n", start)
        if end < 0:
            end = n
        line_no += 1
        if end - start > limit:  # surely over the limit in bytes: never copied
            yield line_no, TooLong(end - start)
        else:
            line = text[start:end].strip(_WS)
            if line:
                yield line_no, line
        start = end + 1


def _probe(first: bytes) -> int:
    """``haforu_envelope_probe`` of a first line (in a short-lived engine instance)."""
    renderer = Renderer()
    try:
        return renderer.envelope_probe(first)
    finally:
        renderer.close()


def _probe_text(text: Union[str, bytes]) -> int:
    """``haforu_envelope_probe`` of the first non-blank line of ``text``, copying only that line
    (a first line over the job limit is JSONL without asking: no envelope is that long)."""
    n = len(text)
    i = 0
    if isinstance(text, str):
        while i < n and text[i] in _WS:
            i += 1
        end = text.find("\n", i)
    else:
        while i < n and text[i] in b" \t\r\n\x0b\x0c":
            i += 1
        end = text.find(b"\n", i)
    end = n if end < 0 else end
    if end - i > engine_facts().max_job_bytes:
        return 0
    line = text[i:end]
    return _probe(line.encode("utf-8", "surrogatepass") if isinstance(line, str) else line)


def _jsonl_byte_lines(data: bytes) -> AnyJobIter:
    """:func:`_jsonl_lines` for bytes, without decoding the whole input: each line is decoded
    (and trimmed) on its own; a line that is not UTF-8 goes on as bytes (a ``bad_json`` result)."""
    limit = engine_facts().max_job_bytes
    start = 0
    line_no = 0
    n = len(data)
    while start < n:
        end = data.find(b"\n", start)
        if end < 0:
            end = n
        line_no += 1
        if end - start > limit:
            yield line_no, TooLong(end - start)
        else:
            raw = data[start:end]
            try:
                line: Union[str, bytes] = raw.decode("utf-8").strip(_WS)
            except UnicodeDecodeError:
                line = raw.strip()
            if line:
                yield line_no, line
        start = end + 1


def _engine_split(spec: bytes) -> List[Tuple[int, Union[str, bytes, TooLong]]]:
    """``haforu_split`` on the whole input; raise InvalidJobError when the envelope is invalid."""
    renderer = Renderer()
    try:
        status, out = renderer.split(spec)
    finally:
        renderer.close()
    if status:
        result = json.loads(out)
        exc = error_for_kind(
            str(result.get("error_kind") or "bad_json"),
            str(result.get("error") or "invalid job list"),
            job_id=str(result.get("id") or "batch"),
        )
        exc.result = out.decode("utf-8")
        raise exc
    jobs: List[Tuple[int, Union[str, bytes, TooLong]]] = []
    for line in out.decode("utf-8").split("\n"):
        if line:
            n, _, job = line.partition("\t")
            jobs.append((int(n), job))
    return jobs


def parse_envelope(spec: Union[str, bytes, bytearray]) -> Tuple[int, AnyJobIter]:
    """Split a job list into ``(job_count, iterator of (line_no, job_text))`` without running it.

    Raises ``InvalidJobError`` (a ValueError) with the engine's message and kind (``bad_json`` /
    ``bad_job``) for an invalid envelope: a malformed batch object, a ``version`` other than
    ``"1.0"``, a ``jobs`` that is not a non-empty list, input that is not UTF-8, or no job at all.
    Individual jobs are not validated here: a bad job becomes an error result when it runs.
    """
    if isinstance(spec, str):
        if len(spec) >= LAZY_MIN_BYTES and _probe_text(spec) == 0:
            return sum(1 for _ in _jsonl_lines(spec)), _jsonl_lines(spec)
        data = spec.encode("utf-8", "surrogatepass")
    elif isinstance(spec, (bytes, bytearray)):
        data = bytes(spec)
        if len(data) >= LAZY_MIN_BYTES and _probe_text(data) == 0:
            return sum(1 for _ in _jsonl_byte_lines(data)), _jsonl_byte_lines(data)
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


_PIECE = 1 << 20


def _read_line(f: Any, n: int, limit: int) -> Union[None, str, bytes, TooLong]:
    """The next line of file ``f`` (line ``n``, for errors), read in pieces of at most
    ``_PIECE``: None at the end, or a TooLong for a line longer than ``limit`` (not kept)."""
    piece = f.readline(_PIECE)
    if not piece:
        return None
    if not isinstance(piece, (str, bytes)):
        raise TypeError(f"line {n} of the job file is {type(piece).__name__}, not str or bytes")
    if len(piece) < _PIECE or piece[-1:] in ("\n", b"\n"):
        return piece
    pieces = [piece]
    size = len(piece)
    while True:
        piece = f.readline(_PIECE)
        if not piece:
            break
        size += len(piece) if isinstance(piece, bytes) else len(piece.encode("utf-8", "surrogatepass"))
        if size <= limit:
            pieces.append(piece)
        elif pieces:
            pieces = []  # over the limit: drop what was read, count the rest
        if len(piece) < _PIECE or piece[-1:] in ("\n", b"\n"):
            break
    if not pieces:
        return TooLong(size)
    first = pieces[0]
    if isinstance(first, bytes):
        return b"".join(p for p in pieces if isinstance(p, bytes))
    return "".join(p for p in pieces if isinstance(p, str))


def _lines_of(f: Any, first_no: int) -> Iterator[Tuple[int, Union[str, bytes, TooLong]]]:
    if not hasattr(f, "readline"):  # an iterable with read() but no readline(): its own lines
        yield from enumerate(f, first_no + 1)
        return
    limit = engine_facts().max_job_bytes
    n = first_no
    while True:
        n += 1
        line = _read_line(f, n, limit)
        if line is None:
            return
        yield n, line


def _file_lines(first_no: int, first: Union[str, bytes, TooLong], rest: Iterator[Tuple[int, Any]]) -> AnyJobIter:
    """The non-blank lines of a file object, trimmed, numbered from 1 (as for JSONL text)."""
    yield first_no, first
    for n, line in rest:
        job = line if isinstance(line, TooLong) else _strip_line(line, n)
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
    (``haforu_envelope_probe`` of its first non-blank line says 1) is read whole and split like
    text."""
    lines = _lines_of(f, 0)
    for n, line in lines:
        if isinstance(line, TooLong):
            return None, _file_lines(n, line, lines)
        first = _strip_line(line, n)
        if not first:
            continue
        if _probe(first.encode("utf-8", "surrogatepass") if isinstance(first, str) else first) == 1:
            rest = f.read()
            try:
                if isinstance(first, bytes):
                    return parse_envelope(first + b"\n" + rest)
                return parse_envelope(first + "\n" + rest)
            except TypeError:
                raise TypeError("a job file must yield lines of one type, str or bytes") from None
        return None, _file_lines(n, first, lines)
    if allow_empty:
        return 0, iter(())
    raise InvalidJobError("the job file holds no jobs", "bad_job", job_id="batch")


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
