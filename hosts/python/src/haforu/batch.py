"""``process_jobs``: run a job list, streaming one result JSON per job."""

from __future__ import annotations

import importlib
import os
import queue
import threading
from typing import Any, Dict, Iterator, List, Optional, Tuple, Union

from ._envelope import AnyJobIter, JobSource, parse_jobs
from ._instance import check_max_fonts, check_max_glyphs
from ._renderer import Outcome, Renderer, TooLong

__all__ = ["process_jobs", "start_jobs", "default_workers"]

#: Jobs handed to a worker thread at a time: amortises queue hand-offs (~5 µs each).
_CHUNK = 16
#: Chunks in flight per worker; bounds memory to O(workers · chunk) jobs and results.
_IN_FLIGHT_PER_WORKER = 4
#: A worker hands its results over once they hold this many characters (W2 PNGs are MBs each).
_FLUSH_BYTES = 256 * 1024


def default_workers() -> int:
    """Workers used when ``workers=None``: the CPUs this process may run on."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


def process_jobs(
    spec_json: JobSource,
    *,
    max_fonts: Optional[int] = 512,
    max_glyphs: Optional[int] = None,
    workers: Optional[int] = None,
    base_dir: Union[str, "os.PathLike[str]", None] = None,
    timeout_ms: Optional[int] = None,
    memory_limit_mb: Optional[int] = None,
    font_search: bool = True,
    progress: bool = False,
) -> Iterator[str]:
    """Run every job of ``spec_json`` and yield one result JSON string per job, in completion
    order (each carries its ``id``). A bad job yields an error result; it never stops the batch.

    ``spec_json`` may be a job list as ``str``/``bytes`` (a batch object ``{"version": "1.0",
    "jobs": [...]}`` or JSONL), a ``dict`` (a batch object or one job), a list or iterator of
    job dicts or JSON strings (job ``n`` without an id gets ``line-n``), or a text file object
    (one job per line, read lazily). Any other type raises TypeError.

    Raises ValueError (:class:`~haforu.InvalidJobError`) at once, before any job runs, for an
    invalid envelope as the engine's ``haforu_split`` judges it: a malformed batch object, a
    wrong ``version``, an empty job list.

    ``workers``: number of engine instances rendering in parallel threads (each has its own
    wasmtime Store; wasm runs with the GIL released). ``None`` means one per available CPU;
    ``1`` renders in the calling thread. Results are streamed: memory stays bounded whatever the
    number of jobs. ``max_fonts`` (fonts kept registered; ``None`` = 512) and ``max_glyphs`` (the
    engine's glyph coverage cache, in glyphs; ``0`` turns it off; ``None`` keeps the engine's
    default, a 32 MiB budget with no count cap) apply to each worker.

    ``font_search``: a bare font file name (``"DejaVuSans.ttf"``) that is not in the working
    directory is looked for in the usual font folders (:func:`haforu.find_font`); never with
    ``base_dir``. ``progress=True`` shows a `tqdm <https://tqdm.github.io>`_ bar (jobs done of
    the total when the job list says it, the rate, errors) while the results are consumed, when
    tqdm is installed; without tqdm it does nothing.
    """
    opts = _options(max_fonts, max_glyphs, timeout_ms, memory_limit_mb, base_dir, font_search)
    count, jobs = parse_jobs(spec_json, "process_jobs")
    outcomes = _start(count, jobs, workers, opts)
    return _texts(_with_progress(outcomes, count) if progress else outcomes)


def _with_progress(outcomes: Iterator[Outcome], total: Optional[int]) -> Iterator[Outcome]:
    """``outcomes`` counted on a tqdm bar (``tqdm.auto``: a widget in a notebook), or as they
    are when tqdm is not installed. Closing it closes ``outcomes``."""
    try:
        tqdm: Any = importlib.import_module("tqdm.auto").tqdm
    except ImportError:
        yield from outcomes
        return
    bar = tqdm(total=total, unit="job", desc="haforu", dynamic_ncols=True)
    errors = 0
    try:
        for outcome in outcomes:
            if outcome[1] != 0:
                errors += 1
                bar.set_postfix_str(f"{errors} errors", refresh=False)
            bar.update(1)
            yield outcome
    finally:
        bar.close()
        close = getattr(outcomes, "close", None)
        if close is not None:
            close()


def _texts(outcomes: Iterator[Outcome]) -> Iterator[str]:
    """The result texts of ``outcomes`` (closing it stops its workers)."""
    try:
        for text, _, _ in outcomes:
            yield text
    finally:
        close = getattr(outcomes, "close", None)
        if close is not None:
            close()


def start_jobs(
    spec_json: JobSource,
    *,
    max_fonts: Optional[int] = 512,
    max_glyphs: Optional[int] = None,
    workers: Optional[int] = None,
    base_dir: Union[str, "os.PathLike[str]", None] = None,
    timeout_ms: Optional[int] = None,
    memory_limit_mb: Optional[int] = None,
    font_search: bool = True,
) -> Tuple[int, Iterator[Outcome]]:
    """``process_jobs`` plus the number of jobs, from the same (single) envelope split (an
    iterator or file of jobs is read whole first, to count it); each result comes with the
    descriptor's status and error-kind code (``(text, status, kind)``)."""
    opts = _options(max_fonts, max_glyphs, timeout_ms, memory_limit_mb, base_dir, font_search)
    count, jobs = parse_jobs(spec_json, "start_jobs")
    if count is None:
        listed = list(jobs)
        count, jobs = len(listed), iter(listed)
    return count, _start(count, jobs, workers, opts)


def _options(max_fonts: Optional[int], max_glyphs: Optional[int], timeout_ms: Optional[int],
             memory_limit_mb: Optional[int], base_dir: Union[str, "os.PathLike[str]", None],
             font_search: bool = True) -> Dict[str, Any]:
    return dict(
        max_fonts=check_max_fonts(512 if max_fonts is None else max_fonts),
        max_glyphs=check_max_glyphs(max_glyphs),
        timeout_ms=timeout_ms,
        memory_limit_mb=memory_limit_mb,
        base_dir=base_dir,
        font_search=font_search,
    )


def _start(count: Optional[int], jobs: AnyJobIter, workers: Optional[int], opts: Dict[str, Any]
           ) -> Iterator[Outcome]:
    n = default_workers() if workers is None else int(workers)
    if n < 1:
        raise ValueError("workers must be at least 1")
    if count is not None:
        n = max(1, min(n, count))
    # Build the first renderer now so that bad options fail at the call, not at first next().
    first = Renderer(**opts)
    if n == 1:
        return _run_inline(first, jobs)
    return _run_threads(first, jobs, n, opts)


def _run_inline(renderer: Renderer, jobs: AnyJobIter) -> Iterator[Outcome]:
    try:
        for line_no, job in jobs:
            yield renderer.render(job, line_no)
    finally:
        renderer.close()


class _WorkerFailure:
    def __init__(self, exc: BaseException) -> None:
        self.exc = exc


_DONE = object()


def _run_threads(first: Renderer, jobs: AnyJobIter, n: int, opts: Dict[str, Any]) -> Iterator[Outcome]:
    in_q: "queue.Queue[Optional[List[Tuple[int, Union[str, bytes, TooLong]]]]]" = queue.Queue(
        maxsize=n * _IN_FLIGHT_PER_WORKER)
    out_q: "queue.Queue[object]" = queue.Queue(maxsize=n * _IN_FLIGHT_PER_WORKER)
    stop = threading.Event()

    def put(q: "queue.Queue[Any]", item: object) -> bool:
        while not stop.is_set():
            try:
                q.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def worker(renderer: Optional[Renderer]) -> None:
        try:
            if renderer is None:
                renderer = Renderer(**opts)
            while not stop.is_set():
                try:
                    chunk = in_q.get(timeout=0.1)
                except queue.Empty:
                    continue
                if chunk is None:
                    break
                results: List[Outcome] = []
                size = 0
                for line_no, job in chunk:
                    result = renderer.render(job, line_no)
                    results.append(result)
                    size += len(result[0])
                    if size >= _FLUSH_BYTES:  # big images: hand over early, keep memory bounded
                        if not put(out_q, results):
                            return
                        results, size = [], 0
                if results and not put(out_q, results):
                    break
        except BaseException as exc:  # report, never lose a failure silently
            put(out_q, _WorkerFailure(exc))
        finally:
            if renderer is not None:
                renderer.close()
            put(out_q, _DONE)

    def feeder() -> None:
        try:
            chunk: List[Tuple[int, Union[str, bytes, TooLong]]] = []
            for item in jobs:
                chunk.append(item)
                if len(chunk) >= _CHUNK:
                    if not put(in_q, chunk):
                        return
                    chunk = []
            if chunk and not put(in_q, chunk):
                return
        except BaseException as exc:
            put(out_q, _WorkerFailure(exc))
        finally:
            for _ in range(n):
                if not put(in_q, None):
                    break

    def results() -> Iterator[Outcome]:
        threads = [threading.Thread(target=worker, args=(first if i == 0 else None,), daemon=True,
                                    name=f"haforu-worker-{i}") for i in range(n)]
        threads.append(threading.Thread(target=feeder, daemon=True, name="haforu-feeder"))
        for t in threads:
            t.start()
        done = 0
        try:
            while done < n:
                item = out_q.get()
                if item is _DONE:
                    done += 1
                elif isinstance(item, _WorkerFailure):
                    raise item.exc
                else:
                    assert isinstance(item, list)
                    yield from item
        finally:
            stop.set()
            for t in threads:
                t.join()

    return results()
