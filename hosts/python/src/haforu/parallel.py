"""``render_batch``: an engine-neutral, picklable batch function for process pools and
distributed engines. wasmtime objects do not pickle, so each process builds its session lazily
(one per distinct set of session options) and keeps it for later batches."""

from __future__ import annotations

import os
import threading
from typing import Any, Dict, List, Tuple

from ._envelope import JobSource
from .session import StreamingSession

__all__ = ["render_batch", "process_session"]

_lock = threading.Lock()
_sessions: Dict[Tuple[int, Tuple[Tuple[str, Any], ...]], StreamingSession] = {}


def process_session(**session_opts: Any) -> StreamingSession:
    """This process's session for ``session_opts`` (``StreamingSession`` keywords), created on
    first use and kept; a forked child builds its own."""
    key = (os.getpid(), tuple(sorted((k, os.fspath(v) if isinstance(v, os.PathLike) else v)
                                     for k, v in session_opts.items())))
    with _lock:
        s = _sessions.get(key)
        if s is None or s.closed:
            s = StreamingSession(**session_opts)
            _sessions[key] = s
        return s


def render_batch(jobs: JobSource, **session_opts: Any) -> List[str]:
    """Render ``jobs`` (anything :meth:`StreamingSession.render_many` takes) on this process's
    session for ``session_opts`` and return the result JSON strings in input order. A module-level
    function, so it pickles: submit it to ``concurrent.futures.ProcessPoolExecutor``, Dask or any
    other engine; the results equal a local ``StreamingSession``'s byte for byte apart from ``timing``."""
    return list(process_session(**session_opts).render_many(jobs))
