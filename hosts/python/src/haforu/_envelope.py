"""Recognising a job list (SPEC §1): a batch object ``{"version": "1.0", "jobs": [...]}`` or JSONL.

Mirrors ``haforu_split`` of the wasm ABI, but runs in Python so that a large JSONL input is
walked lazily (no second copy of it inside the wasm heap).
"""

from __future__ import annotations

import json
from typing import Iterator, Tuple, Union

__all__ = ["parse_envelope", "JobIter"]

JobIter = Iterator[Tuple[int, str]]
_NOT_ONE_DOCUMENT = object()


def _compact(job: object) -> str:
    return json.dumps(job, separators=(",", ":"), ensure_ascii=False)


def _jsonl_lines(text: str) -> JobIter:
    """Yield ``(line_no, line)`` for every non-blank line; only ``\\n`` ends a line (JSON strings
    may hold U+2028 and friends), a trailing ``\\r`` is dropped."""
    start = 0
    line_no = 0
    n = len(text)
    while start < n:
        end = text.find("\n", start)
        if end < 0:
            end = n
        line_no += 1
        line = text[start:end]
        if line.endswith("\r"):
            line = line[:-1]
        if line.strip():
            yield line_no, line
        start = end + 1


def parse_envelope(spec: Union[str, bytes, bytearray]) -> Tuple[int, JobIter]:
    """Validate the envelope and return ``(job_count, iterator of (line_no, job_text))``.

    Raises ValueError for text that is neither a batch object nor JSONL, a batch whose
    ``version`` is not ``"1.0"`` or whose ``jobs`` is not a non-empty list, and an empty input.
    Individual jobs are not validated here: a bad job becomes an error result when it runs.
    """
    if isinstance(spec, (bytes, bytearray)):
        try:
            text = bytes(spec).decode("utf-8")
        except UnicodeDecodeError as exc:
            raise ValueError(f"invalid JSON: the job list is not UTF-8 ({exc})") from None
    elif isinstance(spec, str):
        text = spec
    else:
        raise TypeError(f"the job list must be str or bytes, not {type(spec).__name__}")
    stripped = text.lstrip()
    if not stripped:
        raise ValueError("empty job list")
    if stripped[0] == "{":
        try:
            obj: object = json.loads(text)
        except ValueError:
            obj = _NOT_ONE_DOCUMENT
        if isinstance(obj, dict) and ("jobs" in obj or "version" in obj):
            version = obj.get("version")
            if version != "1.0":
                raise ValueError(f'batch "version" must be the string "1.0", got {version!r}')
            jobs = obj.get("jobs")
            if not isinstance(jobs, list):
                raise ValueError('batch "jobs" must be a list of job objects')
            if not jobs:
                raise ValueError("empty job list")
            return len(jobs), ((i + 1, _compact(job)) for i, job in enumerate(jobs))
        if obj is _NOT_ONE_DOCUMENT:
            # Not one JSON document. It is JSONL only if its first line stands alone as JSON.
            first = next(_jsonl_lines(text))[1]
            try:
                json.loads(first)
            except ValueError as exc:
                raise ValueError(f"invalid JSON: neither a batch object nor JSONL ({exc})") from None
    count = 0
    any_object = False
    for _, line in _jsonl_lines(text):
        count += 1
        any_object = any_object or line.lstrip().startswith("{")
    if not any_object:
        raise ValueError("invalid JSON: no line holds a JSON object (expected a batch object or JSONL)")
    return count, _jsonl_lines(text)
