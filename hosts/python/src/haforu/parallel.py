"""``render_batch`` and ``render_batch_numpy``: engine-neutral, picklable batch functions for
process pools and distributed engines. wasmtime objects do not pickle, so each process builds its
sessions lazily (per distinct set of session options) and keeps them for later batches.

A process normally holds one session per option set. When several threads of one process run
batches at the same time (a Dask worker with ``threads_per_worker > 1``), each running batch
leases a session of its own, so they render in parallel (wasm runs with the GIL released); the
extra sessions are kept for later batches too.
"""

from __future__ import annotations

import json
import os
import threading
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, Dict, Iterable, Iterator, List, Tuple, Union

from ._envelope import JobSource, parse_jobs
from ._renderer import TooLong
from .errors import HaforuError, error_for_kind
from .session import StreamingSession

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

__all__ = ["render_batch", "render_batch_numpy", "process_session"]

_Key = Tuple[int, Tuple[Tuple[str, Any], ...]]
_lock = threading.Lock()
#: Every session of this process, per (pid, options); the first is :func:`process_session`'s.
_pools: Dict[_Key, List[StreamingSession]] = {}
#: Sessions leased to a running batch now (by id).
_busy: set = set()  # type: ignore[type-arg]


def _key(session_opts: Dict[str, Any]) -> _Key:
    return (os.getpid(), tuple(sorted((k, os.fspath(v) if isinstance(v, os.PathLike) else v)
                                      for k, v in session_opts.items())))


def _pool(key: _Key, session_opts: Dict[str, Any]) -> List[StreamingSession]:
    """The live sessions of ``key`` (closed ones dropped); the first is created when none is
    left. Call with ``_lock`` held."""
    pool = [s for s in _pools.get(key, ()) if not s.closed]
    if not pool:
        pool.append(StreamingSession(**session_opts))
    _pools[key] = pool
    return pool


def process_session(**session_opts: Any) -> StreamingSession:
    """This process's session for ``session_opts`` (``StreamingSession`` keywords), created on
    first use and kept; a forked child builds its own. It is the session the next batch with
    these options uses (unless another thread holds it then)."""
    with _lock:
        return _pool(_key(session_opts), session_opts)[0]


@contextmanager
def _leased(session_opts: Dict[str, Any]) -> Iterator[StreamingSession]:
    """A session for ``session_opts`` that no other running batch of this process holds."""
    key = _key(session_opts)
    with _lock:
        pool = _pool(key, session_opts)
        s = next((c for c in pool if id(c) not in _busy), None)
        if s is None:
            s = StreamingSession(**session_opts)
            pool.append(s)
        _busy.add(id(s))
    try:
        yield s
    finally:
        with _lock:
            _busy.discard(id(s))


def render_batch(jobs: JobSource, **session_opts: Any) -> List[str]:
    """Render ``jobs`` (anything :meth:`StreamingSession.render_many` takes) on this process's
    session for ``session_opts`` and return the result JSON strings in input order. A module-level
    function, so it pickles: submit it to ``concurrent.futures.ProcessPoolExecutor``, Dask or any
    other engine; the results equal a local ``StreamingSession``'s byte for byte apart from ``timing``."""
    with _leased(session_opts) as s:
        return list(s.render_many(jobs))


def render_numbered(items: "Iterable[Tuple[int, Union[str, bytes, TooLong]]]", **session_opts: Any) -> List[str]:
    """:func:`render_batch` for jobs that already carry their 1-based line numbers (``(line,
    job JSON)`` pairs, as a job list was split), so that a job without a readable id gets the
    ``line-N`` id it has in the whole list, wherever its part is rendered."""
    with _leased(session_opts) as s:
        s._r()
        return list(s._render_iter(iter(items)))


#: What :func:`render_batch_numpy` returns per job.
ImageOrError = Union["npt.NDArray[np.uint8]", HaforuError]


def render_batch_numpy(jobs: JobSource, **session_opts: Any) -> List[ImageOrError]:
    """Render image jobs (``raw`` or ``pgm``) for their pixels: one entry per job, in input
    order, either a new C-contiguous ``uint8`` array of shape ``(height, width)`` (0 = full ink,
    255 = paper; the bytes a ``raw`` job's data decodes to) or, for a job that failed, the
    :class:`~haforu.HaforuError` subclass its ``error_kind`` maps to (``FontNotFoundError``,
    ``InvalidJobError``, ``RenderError``), returned, not raised, so that one bad job loses no
    other result: ``.kind``, ``.job_id``, ``.font_path`` and ``.result`` (the engine's error
    result JSON, exactly what :func:`render_batch` gives for that job). A job of another format
    (``png``, ``metrics``, ``glyphs``, a sweep) is such an error too (``bad_job``): use
    :func:`render_batch` for those. Test with ``isinstance(x, haforu.HaforuError)``.

    Picklable and per-process like :func:`render_batch` (the arrays and the errors pickle), and
    as fast as ``render_to_numpy``: the pixels never go through base64 or JSON."""
    _, items = parse_jobs(jobs, "render_batch_numpy", allow_empty=True)
    return render_numbered_numpy(items, **session_opts)


def render_numbered_numpy(items: "Iterable[Tuple[int, Union[str, bytes, TooLong]]]", **session_opts: Any
                          ) -> List[ImageOrError]:
    """:func:`render_batch_numpy` for ``(line, job JSON)`` pairs (see :func:`render_numbered`)."""
    out: List[ImageOrError] = []
    with _leased(session_opts) as s:
        s._r()
        for line_no, job in items:
            with s._lock:
                text, arr, status = s._r().render_array(job, line_no)
            if status == 0 and arr is not None:
                out.append(arr)
            else:
                out.append(_error(text))
    return out


def _error(text: str) -> HaforuError:
    obj: Dict[str, Any] = json.loads(text)
    font = obj.get("font")
    path = font.get("path") if isinstance(font, dict) else None
    err = error_for_kind(str(obj.get("error_kind") or "internal"), str(obj.get("error") or "unknown error"),
                         job_id=str(obj.get("id")) if obj.get("id") is not None else None,
                         font_path=str(path) if path is not None else None)
    err.result = text
    return err
