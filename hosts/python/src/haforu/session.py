"""``StreamingSession``: one long-lived engine instance for many renders."""

from __future__ import annotations

import atexit
import json
import os
import threading
from dataclasses import dataclass
from types import TracebackType
from typing import TYPE_CHECKING, Any, Dict, Iterable, Iterator, List, Mapping, Optional, Sequence, Tuple, Type, Union

from ._envelope import AnyJobIter, JobSource, job_text, parse_jobs
from ._abi import ABI_VERSION
from ._instance import check_max_fonts, check_max_glyphs
from ._renderer import Outcome, Renderer
from ._runtime import default_font_path
from .errors import InvalidJobError

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

    from .matching import AlignCompareResult, Comparison, ImageInput, ResizeResult, SweepPoint

__all__ = ["StreamingSession", "Metrics", "default_session", "render_to_numpy", "metrics"]

PathLike = Union[str, "os.PathLike[str]"]


@dataclass(frozen=True)
class Metrics:
    """Ink metrics of a render (SPEC §3): coverage-weighted ``density`` in [0, 1], ``beam`` (the
    longest run of inked pixels in row-major order over W·H) and the tight ink ``bbox``
    ``(x, y, w, h)``, ``(0, 0, 0, 0)`` for a blank canvas."""

    density: float
    beam: float
    bbox: Tuple[int, int, int, int]


class StreamingSession:
    """A persistent renderer: fonts stay registered and caches stay warm between calls.

    Thread safety: every method takes the session's lock, so one session may be shared between
    threads, but its renders then run one at a time. For parallel rendering give each thread its
    own session, or use :func:`haforu.process_jobs` with ``workers``.

    Args:
        cache_size: fonts kept registered in the engine, least recently used dropped first (the
            haforu 2.x font-cache capacity; positional, as in 2.x; None means 512).
        max_fonts: the same capacity under its newer name; when not None it overrides
            ``cache_size``.
        max_glyphs: capacity of the engine's glyph coverage cache, in glyphs; ``0`` turns the
            cache off, ``None`` keeps the engine's default (a 32 MiB budget, no count cap).
        timeout_ms: per-job deadline; a job that runs longer yields ``resource_limit``.
        memory_limit_mb: cap on the engine's linear memory; exceeding it yields ``resource_limit``.
        base_dir: when given, font paths are resolved against it and must stay inside it.
        font_search: a bare font file name (``"DejaVuSans.ttf"``) that is not in the working
            directory is looked for in the usual font folders, like Pillow's
            ``ImageFont.truetype`` (:func:`haforu.find_font`); never with ``base_dir``.
    """

    def __init__(
        self,
        cache_size: Optional[int] = 512,
        *,
        max_fonts: Optional[int] = None,
        max_glyphs: Optional[int] = 2048,
        timeout_ms: Optional[int] = None,
        memory_limit_mb: Optional[int] = None,
        base_dir: Optional[PathLike] = None,
        font_search: bool = True,
    ) -> None:
        if max_fonts is None:
            fonts = check_max_fonts(512 if cache_size is None else cache_size, "cache_size")
        else:
            fonts = check_max_fonts(max_fonts)
        glyphs = check_max_glyphs(max_glyphs)
        self._lock = threading.Lock()
        self._config: Dict[str, Any] = dict(
            max_fonts=fonts, max_glyphs=glyphs, timeout_ms=timeout_ms, memory_limit_mb=memory_limit_mb,
            base_dir=base_dir, font_search=font_search,
        )
        self._renderer: Optional[Renderer] = Renderer(**self._config)
        #: Extra engine instances for ``sweep(workers > 1)``, created on first use and kept.
        self._helpers: List[Renderer] = []

    @classmethod
    def is_available(cls) -> bool:
        """True if the engine loads and answers on this machine (the haforu 2.x probe; also
        ``haforu.is_available()``). Never raises."""
        try:
            with cls(1, max_glyphs=None) as s:
                return s.ping()
        except Exception:
            return False

    # -- lifecycle -----------------------------------------------------------------------------

    def _r(self) -> Renderer:
        r = self._renderer
        if r is None:
            raise RuntimeError("this StreamingSession is closed")
        return r

    def close(self) -> None:
        """Release the engine instance. Idempotent; any later call raises RuntimeError."""
        with self._lock:
            if self._renderer is not None:
                self._renderer.close()
                self._renderer = None
            for h in self._helpers:
                h.close()
            self._helpers = []

    @property
    def closed(self) -> bool:
        return self._renderer is None

    def __enter__(self) -> "StreamingSession":
        self._r()
        return self

    def __exit__(
        self,
        exc_type: Optional[Type[BaseException]],
        exc: Optional[BaseException],
        tb: Optional[TracebackType],
    ) -> None:
        self.close()

    # -- JSON API ------------------------------------------------------------------------------

    def render(self, job_json: Union[str, bytes, Mapping[str, Any]]) -> str:
        """Render one job (SPEC §1 JSON object, as text or as a dict); return its result JSON.
        Never raises for a bad job: errors come back as ``"status": "error"`` results with an
        ``error_kind``. Any other argument type raises TypeError."""
        if not isinstance(job_json, (str, bytes, bytearray, memoryview, Mapping)):
            raise TypeError(
                f"render() takes one job as a JSON string (str or bytes) or a dict, not {type(job_json).__name__}"
            )
        job = job_text(job_json, "the render() argument")
        with self._lock:
            return self._r().render_json(job)

    def render_many(self, jobs: JobSource) -> Iterator[str]:
        """Render jobs one after another, yielding each result as soon as it is ready (input
        order). ``jobs``: a list or iterator of job dicts or JSON strings, a text file object (one
        job per line), or a job list as text or dict as for :func:`haforu.process_jobs`. Type
        and envelope errors are raised at the call. Other threads may use the session between
        two jobs."""
        self._r()
        _, items = parse_jobs(jobs, "render_many", allow_empty=True)
        return self._render_iter(items)

    def _render_iter(self, items: AnyJobIter) -> Iterator[str]:
        for line_no, job in items:
            with self._lock:
                result = self._r().render_json(job, line_no)
            yield result

    def _outcomes(self, jobs: JobSource) -> "Iterator[Outcome]":
        """:meth:`render_many` with each result's descriptor status and error-kind code
        (``(text, status, kind)``), for ``python -m haforu stream``."""
        self._r()
        _, items = parse_jobs(jobs, "render_many", allow_empty=True)
        return self._outcome_iter(items)

    def _outcome_iter(self, items: AnyJobIter) -> "Iterator[Outcome]":
        for line_no, job in items:
            with self._lock:
                outcome = self._r().render(job, line_no)
            yield outcome

    # -- native API ----------------------------------------------------------------------------

    def render_to_numpy(
        self,
        font_path: Optional[PathLike],
        text: str,
        size: float,
        width: int,
        height: int,
        variations: Optional[Mapping[str, float]] = None,
        script: Optional[str] = None,
        direction: Optional[str] = None,
        language: Optional[str] = None,
        *,
        features: Optional[Sequence[str]] = None,
        face_index: int = 0,
        instance: Optional[str] = None,
        font_bytes: Optional[bytes] = None,
    ) -> "npt.NDArray[np.uint8]":
        """Render ``text`` and return the canvas as a new C-contiguous ``uint8`` array of shape
        ``(height, width)``: 0 = full ink, 255 = paper. ``font_path=None`` with no ``font_bytes``
        uses the bundled default font. The first nine parameters may be positional (the haforu
        2.x order); ``features``, ``face_index``, ``instance`` and ``font_bytes`` are keyword-only.
        Raises a :class:`~haforu.HaforuError` subclass (a ``RuntimeError``) on error."""
        path = _font_path(font_path, font_bytes, "render_to_numpy")
        with self._lock:
            r = self._r()
            job = _build_job(
                "render_to_numpy", "raw", path, text, size, width, height, variations, script, direction, language,
                features, face_index, instance,
            )
            return r.render_pixels(job, width, height, "render_to_numpy", path, _req(path, font_bytes))

    def metrics(
        self,
        font_path: Optional[PathLike],
        text: str,
        size: float,
        width: int,
        height: int,
        variations: Optional[Mapping[str, float]] = None,
        script: Optional[str] = None,
        direction: Optional[str] = None,
        language: Optional[str] = None,
        *,
        features: Optional[Sequence[str]] = None,
        face_index: int = 0,
        instance: Optional[str] = None,
        font_bytes: Optional[bytes] = None,
    ) -> Metrics:
        """Ink metrics of the same render as :meth:`render_to_numpy` (no image is built)."""
        path = _font_path(font_path, font_bytes, "metrics")
        with self._lock:
            r = self._r()
            job = _build_job(
                "metrics", "metrics", path, text, size, width, height, variations, script, direction, language,
                features, face_index, instance,
            )
            result, _, _ = r.run_native(job, "metrics", path, 0, _req(path, font_bytes))
        m = result["metrics"]
        x, y, w, h = (int(v) for v in m["bbox"])
        return Metrics(density=float(m["density"]), beam=float(m["beam"]), bbox=(x, y, w, h))

    # -- matching (SPEC §4) -----------------------------------------------------------------

    def align_and_compare(self, a: "ImageInput", b: "ImageInput", method: str = "center") -> "AlignCompareResult":
        """:func:`haforu.align_and_compare` on this session's engine instance."""
        from .matching import AlignCompareResult, compare_on

        with self._lock:
            c, pa, pb = compare_on(self._r(), a, b, method, True, "align_and_compare")
        assert pa is not None and pb is not None
        return AlignCompareResult(pa, pb, c.width, c.height, c.pixel_delta, c.center_weighted_delta, c.density_a,
                                  c.density_b, c.aspect_a, c.aspect_b, c.iou, c.differing_pixels)

    def compare(self, a: "ImageInput", b: "ImageInput", method: str = "center") -> "Comparison":
        """:func:`haforu.compare`: the metrics only (no aligned images are copied out)."""
        from .matching import compare_on

        with self._lock:
            return compare_on(self._r(), a, b, method, False, "compare")[0]

    def resize_bilinear(self, image: "ImageInput", multiplier: float) -> "ResizeResult":
        """:func:`haforu.resize_bilinear` on this session's engine instance."""
        from .matching import resize_on

        with self._lock:
            return resize_on(self._r(), image, multiplier, "resize_bilinear")

    def font_info(self, font: Union[PathLike, bytes], face_index: int = 0) -> Dict[str, Any]:
        """:func:`haforu.font_info`; a font path is registered (and kept) like a render's font."""
        from .matching import font_info_on

        with self._lock:
            return font_info_on(self._r(), font, face_index)

    def sweep(
        self,
        font_path: Optional[PathLike],
        text: str,
        size: float,
        width: int,
        height: int,
        coords: Iterable[Mapping[str, float]],
        *,
        format: str = "metrics",
        target: "Optional[ImageInput]" = None,
        method: str = "center",
        features: Optional[Sequence[str]] = None,
        script: Optional[str] = None,
        direction: Optional[str] = None,
        language: Optional[str] = None,
        instance: Optional[str] = None,
        variations: Optional[Mapping[str, float]] = None,
        face_index: int = 0,
        font_bytes: Optional[bytes] = None,
        workers: int = 1,
    ) -> "List[SweepPoint]":
        """Render ``text`` at every coordinate set of ``coords`` (each applied over ``instance``
        and ``variations``) in one engine call, and return one :class:`~haforu.SweepPoint` per
        coordinate set, in input order. ``format``: ``"metrics"`` (``point.metrics``),
        ``"raw"`` (``point.image``, a new (height, width) uint8 array), ``"pgm"``/``"png"``
        (``point.data``, the file; ``pgm`` also fills ``image``) or ``"glyphs"``.

        ``target``: an image to compare every point's render with (``point.compare``; ``a`` is
        the render, ``b`` the target), as a 2-D uint8 array, PGM/PNG bytes or a file path; it is
        registered in the engine once per call. With ``format="metrics"`` no pixels leave the
        engine at all. ``method``: ``"center"`` or ``"corner"`` alignment.

        A point that fails (a bad tag or value) carries its own ``error``; the others render.
        Job-level failures (font, target, more than 4,096 points) raise a
        :class:`~haforu.HaforuError`. ``workers > 1`` splits the points over that many engine
        instances running in parallel threads (kept by the session for later sweeps); the
        result is the same as with one."""
        from .matching import SWEEP_FORMATS, coords_list, run_parallel, split_evenly, sweep_on, target_source

        job_id = "sweep"
        points = coords_list(coords)
        if not isinstance(workers, int) or isinstance(workers, bool) or workers < 1:
            raise ValueError("workers must be an int of at least 1")
        # The points are split over workers only when the engine would accept the whole job's
        # shape; otherwise one engine call judges it and writes the error (too many points, an
        # unknown format or method), the same as with one worker.
        whole = (len(points) > self._r().facts.max_sweep_points or format not in SWEEP_FORMATS
                 or method not in ("center", "corner"))
        path = _font_path(font_path, font_bytes, job_id)
        src = target_source(target)

        def build(r: Renderer, extra: Mapping[str, Any]) -> bytes:
            return _build_job(job_id, format, path, text, size, width, height, variations, script, direction,
                              language, features, face_index, instance, extra)

        def run(r: Renderer, chunk: Sequence[object]) -> "List[SweepPoint]":
            return sweep_on(r, build, chunk, src, method, format, width, height, path, job_id,
                            _req(path, font_bytes))

        k = 1 if whole else max(1, min(workers, len(points)))
        with self._lock:
            main = self._r()
            if k == 1:
                return run(main, points)
            while len(self._helpers) < k - 1:
                self._helpers.append(Renderer(**self._config))
            return run_parallel([main, *self._helpers[: k - 1]], split_evenly(points, k), run)

    # -- housekeeping --------------------------------------------------------------------------

    def warm_up(
        self,
        font_path: Optional[PathLike] = None,
        *,
        text: str = "Haforu",
        size: float = 600.0,
        width: int = 128,
        height: int = 128,
    ) -> bool:
        """Register a font and render ``text`` once, so the first real call pays no start-up
        cost; errors (a missing font...) are raised. ``font_path=None`` warms up with the bundled
        font (or, in a build without it, just queries the engine). Returns True (as haforu 2.x
        did)."""
        if font_path is None:
            font = default_font_path()
            if font is None:
                with self._lock:
                    self._r().info()
                return True
            font_path = str(font)
        self.metrics(font_path, text, size, width, height)
        return True

    def ping(self) -> bool:
        """True if the engine instance answers (and speaks the ABI this package needs)."""
        with self._lock:
            return self._r().inst.abi_version() == ABI_VERSION

    def cache_stats(self) -> Dict[str, Any]:
        """Cache counters. The haforu 2.x keys: ``capacity``/``font_capacity`` (fonts kept
        bound in the engine), ``entries``/``font_entries`` (fonts bound now), ``glyph_capacity``
        (the engine's glyph coverage cache capacity in glyphs; 0 = off, None = no count cap),
        ``glyph_entries`` and ``glyph_hits``. Also the font counters (``fonts_registered``,
        ``font_hits``, ``font_misses`` = files read and bound, ``font_evictions``,
        ``font_changes`` = files forgotten because they changed) and ``engine``, the engine's
        own ``cache`` report from ``haforu_info``."""
        with self._lock:
            r = self._r()
            engine: Dict[str, Any] = r.info().get("cache", {})
            stats = r.stats(engine)
        glyphs: Dict[str, Any] = engine.get("glyphs", {}) if isinstance(engine.get("glyphs"), dict) else {}
        capacity = glyphs.get("capacity", stats["max_glyphs"])
        compat: Dict[str, Any] = {
            "capacity": stats["max_fonts"],
            "entries": stats["fonts_registered"],
            "font_capacity": stats["max_fonts"],
            "font_entries": stats["fonts_registered"],
            "glyph_capacity": capacity,
            "glyph_entries": int(glyphs.get("entries", 0)),
            "glyph_hits": int(glyphs.get("hits", 0)),
        }
        compat.update(stats)
        compat["engine"] = engine
        return compat

    def set_cache_size(self, cache_size: int) -> None:
        """Resize the font cache (the haforu 2.x name): at most ``cache_size`` fonts stay
        bound in the engine; the least recently used beyond it are dropped now."""
        n = check_max_fonts(cache_size, "cache_size")
        with self._lock:
            self._r().set_max_fonts(n)
            for h in self._helpers:
                h.set_max_fonts(n)
            self._config["max_fonts"] = n

    def set_glyph_cache_size(self, max_glyphs: int) -> None:
        """Set the engine's glyph coverage cache capacity in glyphs (``haforu_cache_config``);
        ``0`` turns the cache off. Entries beyond it are evicted now. Pixels never change."""
        n = check_max_glyphs(max_glyphs)
        if n is None:
            raise TypeError("set_glyph_cache_size() takes an int (glyphs; 0 turns the cache off), not None")
        with self._lock:
            self._r().inst.set_max_glyphs(n)
            for h in self._helpers:
                h.inst.set_max_glyphs(n)
            self._config["max_glyphs"] = n

    def info(self) -> Dict[str, Any]:
        """The engine's ``haforu_info`` object: version, ABI version, limits, cache."""
        with self._lock:
            return self._r().info()

    def clear_cache(self) -> None:
        """Empty the engine's glyph and shaping caches (fonts stay registered)."""
        with self._lock:
            self._r().inst.cache_clear()


def _req(path: Optional[str], font_bytes: Optional[bytes]) -> Optional[bytes]:
    """The in-memory font of a keyword call (None when it names a file): registered once per
    content and passed as ``haforu_run``'s font handle, so its results name no font path."""
    if path is not None:
        return None
    assert font_bytes is not None
    return bytes(font_bytes)


def _font_path(font_path: Optional[PathLike], font_bytes: Optional[bytes], job_id: str) -> Optional[str]:
    """The font file to use: the given path, None for ``font_bytes``, else the bundled font."""
    if font_path is not None:
        return os.fspath(font_path)
    if font_bytes is not None:
        return None
    default = default_font_path()
    if default is None:
        raise InvalidJobError("no font given and this build has no bundled default font", "bad_job", job_id=job_id)
    return str(default)


def _build_job(
    job_id: str,
    fmt: str,
    path: Optional[str],
    text: str,
    size: float,
    width: int,
    height: int,
    variations: Optional[Mapping[str, float]],
    script: Optional[str],
    direction: Optional[str],
    language: Optional[str],
    features: Optional[Sequence[str]],
    face_index: int,
    instance: Optional[str],
    extra: Optional[Mapping[str, Any]] = None,
) -> bytes:
    """The SPEC job for a keyword call, as compact JSON bytes (built here, never parsed). The
    font is named by its path, or (``path=None``, in-memory bytes) by no source at all: the
    handle goes as ``haforu_run``'s argument. ``extra``: more top-level keys (``sweep``,
    ``compare``)."""
    font: Dict[str, Any] = {"size": size}
    if path is not None:
        font["path"] = path
    if face_index:
        font["face_index"] = face_index
    if instance is not None:
        font["instance"] = instance
    if variations:
        font["variations"] = dict(variations)
    text_obj: Dict[str, Any] = {"content": text}
    if script is not None:
        text_obj["script"] = script
    if direction is not None:
        text_obj["direction"] = direction
    if language is not None:
        text_obj["language"] = language
    if features:
        text_obj["features"] = list(features)
    job = {
        "id": job_id,
        "font": font,
        "text": text_obj,
        "rendering": {"format": fmt, "width": width, "height": height},
    }
    if extra:
        job.update(extra)
    try:
        encoded = json.dumps(job, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise InvalidJobError(f"job `{job_id}`: {exc}", "bad_job", job_id=job_id, font_path=path) from None
    return encoded.encode("utf-8")


# -- module-level functions on a default session ----------------------------------------------

_default: Optional[StreamingSession] = None
_default_pid = 0
_default_lock = threading.Lock()


def default_session() -> StreamingSession:
    """The session the module-level functions (:func:`haforu.render_to_numpy`,
    :func:`haforu.metrics`, :func:`haforu.compare`...) use: created on first use with the default
    options, closed at interpreter exit; a forked child makes its own. Shared, so calls from
    several threads run one at a time: give each thread its own session for parallelism."""
    global _default, _default_pid
    s = _default
    if s is None or s.closed or _default_pid != os.getpid():
        with _default_lock:
            s = _default
            if s is None or s.closed or _default_pid != os.getpid():
                s = _default = StreamingSession()
                _default_pid = os.getpid()
    return s


@atexit.register
def _close_default() -> None:
    s = _default
    if s is not None and _default_pid == os.getpid():
        s.close()


def render_to_numpy(
    font_path: Optional[PathLike],
    text: str,
    size: float,
    width: int,
    height: int,
    variations: Optional[Mapping[str, float]] = None,
    script: Optional[str] = None,
    direction: Optional[str] = None,
    language: Optional[str] = None,
    *,
    features: Optional[Sequence[str]] = None,
    face_index: int = 0,
    instance: Optional[str] = None,
    font_bytes: Optional[bytes] = None,
) -> "npt.NDArray[np.uint8]":
    """:meth:`StreamingSession.render_to_numpy` on the :func:`default_session`."""
    return default_session().render_to_numpy(
        font_path, text, size, width, height, variations, script, direction, language,
        features=features, face_index=face_index, instance=instance, font_bytes=font_bytes,
    )


def metrics(
    font_path: Optional[PathLike],
    text: str,
    size: float,
    width: int,
    height: int,
    variations: Optional[Mapping[str, float]] = None,
    script: Optional[str] = None,
    direction: Optional[str] = None,
    language: Optional[str] = None,
    *,
    features: Optional[Sequence[str]] = None,
    face_index: int = 0,
    instance: Optional[str] = None,
    font_bytes: Optional[bytes] = None,
) -> Metrics:
    """:meth:`StreamingSession.metrics` on the :func:`default_session`."""
    return default_session().metrics(
        font_path, text, size, width, height, variations, script, direction, language,
        features=features, face_index=face_index, instance=instance, font_bytes=font_bytes,
    )
