"""haforu on Dask (``pip install haforu[dask]``): render job lists, DataFrames of jobs and sweeps
on a Dask cluster, one engine session per worker process.

    >>> from dask.distributed import Client, LocalCluster
    >>> import haforu.dask as hd
    >>> client = Client(LocalCluster(n_workers=2, threads_per_worker=1))
    >>> client.register_plugin(hd.HaforuPlugin())         # warm one session per worker
    >>> results = hd.render(jobs, npartitions=8)           # list of result JSON strings, in order

Everything here is a thin layer over :func:`haforu.parallel.render_numbered` and friends: module
functions that pickle, rendering on the worker's own lazily built session (wasmtime objects do
not pickle). Results equal a local :class:`~haforu.StreamingSession`'s byte for byte apart from
``timing``, and Dask's retries make a worker that dies cost only its lost partitions.
"""

from __future__ import annotations

import ast
import asyncio
import json
import math
import os
import uuid
from contextlib import nullcontext
from typing import (
    TYPE_CHECKING, Any, ContextManager, Dict, Iterable, Iterator, List, Mapping, Optional, Sequence, Tuple, Union,
)

import dask.bag as db
from dask.callbacks import Callback
from dask.utils import key_split
from distributed import WorkerPlugin

from ._envelope import JobSource, job_text, parse_jobs
from ._renderer import TooLong
from .parallel import _key, _pools, process_session, render_numbered, render_numbered_numpy

if TYPE_CHECKING:
    import pandas as pd
    import dask.dataframe as dd
    from distributed import Client, Worker

    from .matching import SweepPoint

__all__ = [
    "render_bag", "render_numpy_bag", "render", "HaforuPlugin", "JobProgress", "jobs_from_frame", "render_frame", "render_dataframe",
    "sweep_bag", "RESULT_COLUMNS",
]

#: Partitions of :func:`render_bag` when ``npartitions`` is not given: four per worker thread
#: (of the current client, else per CPU), more when that would put over this many jobs in one
#: (a partition's results are held and moved whole: 2,048 PGM results of W1 are 210 MB).
_PARTS_PER_THREAD = 4
_MAX_PARTITION_JOBS = 2048


def render_partition(items: Sequence[Tuple[int, Any]], session_opts: Dict[str, Any]) -> List[str]:
    """Render one part of a job list: ``(line, job)`` pairs, the job a JSON text or a dict
    (serialised here, on the worker, exactly as a local session would)."""
    return render_numbered(((n, job if isinstance(job, (str, bytes, TooLong)) else job_text(job, f"job {n} of the list"))
                            for n, job in items), **session_opts)


def render_numpy_partition(items: Sequence[Tuple[int, Any]], session_opts: Dict[str, Any]) -> List[Any]:
    """:func:`render_partition` for :func:`render_numpy_bag`: arrays and errors."""
    return render_numbered_numpy(((n, job if isinstance(job, (str, bytes, TooLong))
                                   else job_text(job, f"job {n} of the list")) for n, job in items), **session_opts)


def render_jobs_partition(jobs: Sequence[Any], session_opts: Dict[str, Any]) -> List[str]:
    from .parallel import render_batch

    return render_batch(list(jobs), **session_opts)


def render_bag(jobs: Union[JobSource, db.Bag], npartitions: Optional[int] = None, **session_opts: Any) -> db.Bag:
    """A lazy ``dask.bag.Bag`` of the result JSON strings of ``jobs``, in input order (one per
    job; a bad job gives an error result, it never fails the computation).

    ``jobs``: anything :func:`haforu.process_jobs` takes (a list of job dicts or JSON strings,
    JSONL or a batch object as text, a file object), split here into ``npartitions`` parts (by
    default four per worker thread of the current client, or per CPU without one, and more if a
    part would hold over 2,048 jobs: each task should render for a while, since Dask spends a few
    milliseconds on every task); each job keeps its line number, so a
    job without an id gets the ``line-N`` it has locally. Or a ``Bag`` of jobs (dicts or JSON
    strings; e.g. ``dask.bag.read_text("jobs-*.jsonl")`` read by the workers themselves), rendered
    partition by partition as it is (``npartitions`` is then ignored; line numbers count within
    a partition, so give every job an id).

    ``session_opts``: ``StreamingSession`` keywords for the workers' sessions (``max_glyphs``,
    ``timeout_ms``, ``base_dir``...); font paths are opened by the workers, so on a real
    cluster they must name files every worker can read (or send ``font.data``)."""
    return _bag(jobs, npartitions, session_opts)[0]


def render_numpy_bag(jobs: JobSource, npartitions: Optional[int] = None, **session_opts: Any) -> db.Bag:
    """:func:`render_bag` for the pixels of ``raw`` and ``pgm`` jobs, as
    :func:`haforu.render_batch_numpy` gives them: a lazy Bag with one entry per job, in input
    order, a new ``(height, width)`` uint8 array or the job's ``HaforuError`` (returned, with
    ``.result``). Arrays cross the network as their bytes (no base64, no JSON): a quarter less
    than a PGM result's text, and pickled without a copy."""
    return _bag(jobs, npartitions, session_opts, render_numpy_partition)[0]


def _bag(jobs: Union[JobSource, db.Bag], npartitions: Optional[int], session_opts: Dict[str, Any],
         part: Any = None) -> Tuple[db.Bag, Optional[int]]:
    """:func:`render_bag` and the number of jobs (None for a Bag of jobs)."""
    if isinstance(jobs, db.Bag):
        return jobs.map_partitions(render_jobs_partition, dict(session_opts)), None
    listed: List[Tuple[int, Any]]
    if isinstance(jobs, (list, tuple)):
        # Job dicts travel as they are (pickle shares their repeated strings: a W1 job list is
        # 7x smaller than its JSON) and each worker serialises its own part.
        listed = []
        for n, job in enumerate(jobs, 1):
            if isinstance(job, (bytearray, memoryview)):
                job = bytes(job)
            elif not isinstance(job, (str, bytes, dict)):
                job = job_text(job, f"job {n} of the list")  # a TypeError at the call, as locally
            listed.append((n, job))
    else:
        _, items = parse_jobs(jobs, "render_bag", allow_empty=True)
        listed = list(items)  # (line, job JSON) pairs; an over-long line stays a TooLong (it pickles)
    return _sequence(listed, _partition_size(len(listed), npartitions)).map_partitions(
        part or render_partition, dict(session_opts)), len(listed)


class _Part:
    """One partition of jobs (or sweep points) in the task graph, opaque to Dask's graph
    conversion, which would otherwise walk every job and every field of it looking for task
    references (a quarter of a second for 20,000 jobs). A sequence for anything else."""

    __slots__ = ("items",)

    def __init__(self, items: List[Any]) -> None:
        self.items = items

    def __iter__(self) -> Iterator[Any]:
        return iter(self.items)

    def __len__(self) -> int:
        return len(self.items)

    def __reduce__(self) -> Tuple[Any, Tuple[List[Any]]]:
        return (_Part, (self.items,))


def _sequence(items: List[Any], size: int) -> db.Bag:
    """``dask.bag.from_sequence(items, partition_size=size)`` without hashing every item for the
    name (a tenth of a second for 20,000 jobs; the name is random, so equal inputs are not
    recognised as one computation, which a render never needs) and with each part opaque to the
    graph conversion (:class:`_Part`)."""
    name = f"haforu-jobs-{uuid.uuid4().hex}"
    parts = [items[i:i + size] for i in range(0, len(items), size)] or [[]]
    return db.Bag({(name, i): _Part(part) for i, part in enumerate(parts)}, name, len(parts))


def _partition_size(n: int, npartitions: Optional[int]) -> int:
    if npartitions is not None:
        if not isinstance(npartitions, int) or isinstance(npartitions, bool) or npartitions < 1:
            raise ValueError("npartitions must be an int of at least 1")
        return max(1, math.ceil(n / npartitions))
    client = _current_client()
    threads = sum(client.nthreads().values()) if client is not None else (os.cpu_count() or 1)
    parts = max(_PARTS_PER_THREAD * max(1, threads), math.ceil(n / _MAX_PARTITION_JOBS))
    return max(1, math.ceil(n / parts))


class JobProgress(Callback):  # type: ignore[misc]
    """A tqdm bar of jobs done / total (with rate and ETA) for a bag of haforu results computed
    by Dask's local schedulers (``with JobProgress(n): bag.compute()``); it counts the results
    of :func:`render_bag`'s tasks as they finish. Without tqdm installed it does nothing. For a
    distributed cluster use :func:`distributed.progress` (``render(..., progress=True)`` does)."""

    def __init__(self, total: Optional[int] = None, **tqdm_kwargs: Any) -> None:
        super().__init__()
        self.total = total
        self.tqdm_kwargs = tqdm_kwargs
        self.bar: Any = None
        self.done = 0

    def _start(self, dsk: Any) -> None:
        try:
            from tqdm.auto import tqdm
        except ImportError:
            return
        opts: Dict[str, Any] = dict(desc="haforu", unit="job")
        opts.update(self.tqdm_kwargs)
        self.bar = tqdm(total=self.total, **opts)

    def _posttask(self, key: Any, result: Any, dsk: Any, state: Any, worker_id: Any) -> None:
        if key_split(key) in ("render_partition", "render_numpy_partition", "render_jobs_partition") and isinstance(
                result, list):
            self.done += len(result)
            if self.bar is not None:
                self.bar.update(len(result))

    def _finish(self, dsk: Any, state: Any, errored: bool) -> None:
        if self.bar is not None:
            self.bar.close()


def render(
    jobs: Union[JobSource, db.Bag],
    npartitions: Optional[int] = None,
    *,
    progress: bool = False,
    client: "Optional[Client]" = None,
    scheduler: Optional[str] = None,
    **session_opts: Any,
) -> List[str]:
    """Compute :func:`render_bag` and return the result JSON strings in input order. On the
    ``client`` given, else on the current ``distributed`` client if there is one, else with
    Dask's local ``scheduler`` (``"processes"``, ``"threads"``, ``"sync"``; None: the bag's
    default). ``progress=True`` shows ``distributed.progress`` on a cluster, and a tqdm bar of
    jobs done / total locally when tqdm is installed (nothing otherwise)."""
    bag, total = _bag(jobs, npartitions, session_opts)
    if client is None and scheduler is None:
        client = _current_client()
    if client is not None:
        # One future per partition, gathered straight into this process (bag.compute() would
        # first concatenate every partition on one worker, moving the results twice).
        futures = client.compute(bag.to_delayed())
        if progress:
            from distributed import progress as show

            show(futures)
        out: List[str] = []
        for part in client.gather(futures):
            out.extend(part)
        return out
    bar: ContextManager[Any] = JobProgress(total) if progress else nullcontext()
    with bar:
        computed: List[str] = bag.compute(scheduler=scheduler)
    return computed


def _current_client() -> "Optional[Client]":
    try:
        from distributed import default_client

        c: Client = default_client()
        return c
    except ValueError:
        return None


class HaforuPlugin(WorkerPlugin):  # type: ignore[misc]
    """A ``distributed`` worker plugin that builds this worker process's haforu session when the
    worker starts (``client.register_plugin(HaforuPlugin(**session_opts))``), so the first
    partition pays no start-up: the compiled module is loaded from the on-disk cache (compiled
    there first if needed), and each of ``fonts`` is read, bound and rendered once (none: the
    bundled font). ``session_opts`` must be the ones the renders use (``render_bag(jobs,
    **session_opts)``): sessions are kept per option set. The work runs in a thread, not in the
    worker's event loop. On teardown the process's sessions for these options are closed."""

    name = "haforu"

    def __init__(self, *, fonts: Iterable[Union[str, "os.PathLike[str]"]] = (), **session_opts: Any) -> None:
        self.fonts = [os.fspath(f) for f in fonts]
        self.session_opts = dict(session_opts)

    async def setup(self, worker: "Worker") -> None:
        await asyncio.get_running_loop().run_in_executor(None, self.warm)

    def warm(self) -> None:
        """Build (or reuse) this process's session and warm it with ``fonts``."""
        s = process_session(**self.session_opts)
        fonts: List[Optional[str]] = list(self.fonts) or [None]
        for font in fonts:
            s.warm_up(font)

    def teardown(self, worker: "Worker") -> None:
        from .parallel import _lock

        with _lock:
            sessions = _pools.pop(_key(self.session_opts), [])
        for s in sessions:
            s.close()


# -- DataFrames --------------------------------------------------------------------------------

#: Job fields whose column may hold JSON text (a frame read from CSV or Parquet) or the object.
_JSON_FIELDS = frozenset({"font.variations", "text.features", "sweep", "compare"})
_INT_FIELDS = frozenset({"rendering.width", "rendering.height", "font.face_index", "font.handle"})

#: The columns of :func:`render_frame`, in order, with their pandas dtypes; ``result`` (the
#: whole result JSON) follows when asked for.
RESULT_COLUMNS: Tuple[Tuple[str, str], ...] = (
    ("id", "object"), ("status", "object"), ("error_kind", "object"), ("error", "object"),
    ("density", "float64"), ("beam", "float64"), ("bbox", "object"), ("variations", "object"),
    ("pixel_delta", "float64"), ("center_weighted_delta", "float64"), ("iou", "float64"),
    ("differing_pixels", "Int64"), ("density_a", "float64"), ("density_b", "float64"),
    ("aspect_a", "float64"), ("aspect_b", "float64"), ("warnings", "object"),
)
_COMPARE_KEYS = ("pixel_delta", "center_weighted_delta", "iou", "differing_pixels", "density_a", "density_b",
                 "aspect_a", "aspect_b")


def _missing(v: Any) -> bool:
    if v is None:
        return True
    if isinstance(v, float):
        return math.isnan(v)
    try:
        import pandas as pd

        return v is pd.NA or v is pd.NaT
    except ImportError:  # pragma: no cover
        return False


def _plain(v: Any) -> Any:
    """numpy scalars and arrays as Python values (JSON has no numpy)."""
    item = getattr(v, "tolist", None)
    return item() if callable(item) else v


def _structured(name: str, text: str) -> Any:
    """The object in the text of a structured field: JSON, or the Python literal that dask's
    string conversion (``dataframe.convert-string``) makes of a dict or list column."""
    try:
        return json.loads(text)
    except ValueError:
        pass
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError):
        raise ValueError(f"column {name!r}: {text[:80]!r} is neither JSON nor a Python literal") from None


def jobs_from_frame(frame: "pd.DataFrame") -> List[Dict[str, Any]]:
    """The jobs of a pandas DataFrame with one column per job field: ``id``, ``font.path``,
    ``font.size``, ``font.variations``, ``text.content``, ``rendering.format``,
    ``rendering.width``... (the names of docs/jobs.md; the part before the first ``.`` is the
    job's object). A missing value (None, NaN, NA) leaves the field out (null = absent);
    ``font.variations``, ``text.features``, ``sweep`` and ``compare`` may hold the object, its
    JSON text, or its Python ``repr`` (what dask's default string conversion makes of a column of
    dicts); a float in an integer field (``rendering.width`` in a column with gaps) that is
    whole becomes an int. Any other column becomes a job key too (the engine ignores unknown
    top-level keys and warns about unknown keys inside ``font``/``text``/``rendering``)."""
    jobs: List[Dict[str, Any]] = []
    columns = [str(c) for c in frame.columns]
    for row in frame.itertuples(index=False, name=None):
        job: Dict[str, Any] = {}
        for name, value in zip(columns, row):
            if not isinstance(value, (list, tuple, dict)) and _missing(value):
                continue
            value = _plain(value)
            if name in _JSON_FIELDS and isinstance(value, str):
                value = _structured(name, value)
            elif name in _INT_FIELDS and isinstance(value, float) and value.is_integer():
                value = int(value)
            head, dot, rest = name.partition(".")
            if dot:
                obj = job.setdefault(head, {})
                if isinstance(obj, dict):
                    obj[rest] = value
            else:
                job[name] = value
        jobs.append(job)
    return jobs


def _obj(v: Any) -> Dict[str, Any]:
    return v if isinstance(v, dict) else {}


def _row(text: str, keep_result: bool) -> Dict[str, Any]:
    r: Dict[str, Any] = json.loads(text)
    m: Dict[str, Any] = _obj(r.get("metrics"))
    c: Dict[str, Any] = _obj(r.get("compare"))
    font: Dict[str, Any] = _obj(r.get("font"))
    bbox = m.get("bbox") if m else _obj(r.get("rendering")).get("actual_bbox")
    row: Dict[str, Any] = {
        "id": r.get("id"), "status": r.get("status"), "error_kind": r.get("error_kind"), "error": r.get("error"),
        "density": m.get("density") if m else None, "beam": m.get("beam") if m else None,
        "bbox": tuple(bbox) if isinstance(bbox, list) else None,
        "variations": font.get("variations") if r.get("status") == "success" else None,
        "warnings": r.get("warnings"),
    }
    for k in _COMPARE_KEYS:
        row[k] = c.get(k) if c else None
    if keep_result:
        row["result"] = text
    return row


def _results_frame(results: Sequence[str], index: Any, keep_result: bool) -> "pd.DataFrame":
    import pandas as pd

    rows = [_row(t, keep_result) for t in results]
    data: Dict[str, Any] = {}
    for name, dtype in RESULT_COLUMNS + ((("result", "object"),) if keep_result else ()):
        values = [row[name] for row in rows]
        if dtype == "float64":
            data[name] = pd.Series([math.nan if v is None else float(v) for v in values], dtype="float64",
                                   index=index)
        else:
            data[name] = pd.Series(values, dtype=dtype, index=index)
    return pd.DataFrame(data, index=index)


def render_frame(frame: "pd.DataFrame", *, result: bool = False, **session_opts: Any) -> "pd.DataFrame":
    """Render the jobs of a pandas DataFrame (:func:`jobs_from_frame`) on this process's session
    and return their results as a DataFrame with the same index and the columns of
    ``RESULT_COLUMNS``: ``id``, ``status``, ``error_kind``, ``error``, ``density``, ``beam``,
    ``bbox`` (``(x, y, w, h)``: the metrics' box, or an image's ``actual_bbox``),
    ``variations`` (the location used), the ``compare`` numbers (``pixel_delta``,
    ``center_weighted_delta``, ``iou``, ``differing_pixels``, ``density_a``/``_b``,
    ``aspect_a``/``_b``) and ``warnings``; absent values are NaN/None. ``result=True`` adds
    ``result``, the whole result JSON (image data, sweep points). A job without an id gets
    ``line-N``, N counting the rows of this frame (of its partition, under Dask)."""
    texts = render_numbered(((i + 1, json.dumps(j, ensure_ascii=False, allow_nan=False))
                             for i, j in enumerate(jobs_from_frame(frame))), **session_opts)
    return _results_frame(texts, frame.index, result)


def _frame_part(frame: "pd.DataFrame", keep_result: bool, session_opts: Dict[str, Any]) -> "pd.DataFrame":
    return render_frame(frame, result=keep_result, **session_opts)


def render_dataframe(frame: "dd.DataFrame", *, result: bool = False, **session_opts: Any) -> "dd.DataFrame":
    """:func:`render_frame` over a dask DataFrame of jobs, partition by partition
    (``map_partitions``): a lazy dask DataFrame of results with the same divisions."""
    meta = _results_frame([], _empty_index(), result)
    out: "dd.DataFrame" = frame.map_partitions(_frame_part, result, dict(session_opts), meta=meta)
    return out


def _empty_index() -> Any:
    import pandas as pd

    return pd.RangeIndex(0)


# -- sweeps ------------------------------------------------------------------------------------


def _sweep_part(coords: Sequence[Mapping[str, float]], args: Tuple[Any, ...], kw: Dict[str, Any],
                session_opts: Dict[str, Any]) -> "List[SweepPoint]":
    if not coords:
        return []
    font_path, text, size, width, height = args
    return process_session(**session_opts).sweep(font_path, text, size, width, height, list(coords), **kw)


def sweep_bag(
    font_path: Optional[Union[str, "os.PathLike[str]"]],
    text: str,
    size: float,
    width: int,
    height: int,
    coords: Iterable[Mapping[str, float]],
    *,
    npartitions: Optional[int] = None,
    session_opts: Optional[Mapping[str, Any]] = None,
    **sweep_opts: Any,
) -> db.Bag:
    """:meth:`StreamingSession.sweep` split across the workers: a lazy ``Bag`` of
    :class:`~haforu.SweepPoint`, one per coordinate set, in input order (``.compute()`` gives
    the list a local sweep gives). ``coords`` is cut into ``npartitions`` parts (default: one
    per worker thread of the current client, else 2), each swept in one engine call on a
    worker; ``sweep_opts`` are ``sweep``'s keywords (``format``, ``target``, ``method``,
    ``features``, ``variations``, ``font_bytes``...), sent to every part, ``session_opts``
    the sessions'. A job-level failure (font, target) raises from ``compute()``."""
    from .matching import coords_list

    points = coords_list(coords)
    if npartitions is None:
        client = _current_client()
        npartitions = max(1, sum(client.nthreads().values())) if client is not None else 2
    args = (None if font_path is None else os.fspath(font_path), text, size, width, height)
    return _sequence(points, _partition_size(len(points), npartitions)).map_partitions(
        _sweep_part, args, dict(sweep_opts), dict(session_opts or {}))

