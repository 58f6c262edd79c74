"""Variable-font matching (SPEC §4): image comparison and resizing computed by the engine, design-
space sweeps, and font metadata.

Pixels stay inside the engine: an image is copied into linear memory once (registered by handle,
dropped after the call) and only numbers come back, plus the pixels a call asks for, copied once
out of linear memory. Nothing here computes a metric in numpy.

    >>> import numpy as np, haforu
    >>> a = np.full((40, 60), 255, np.uint8); a[10:30, 20:40] = 0
    >>> r = haforu.align_and_compare(a, a[5:35, 15:45])
    >>> (r.width, r.height, r.pixel_delta, r.iou)
    (60, 40, 0.0, 1.0)

The module-level functions use one lazily created default :class:`~haforu.StreamingSession`;
the same calls exist as session methods.
"""

from __future__ import annotations

import ctypes
import json
import math
import os
import threading
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import (
    TYPE_CHECKING, Any, Dict, Iterable, Iterator, List, Mapping, Optional, Sequence, Tuple, Union,
)

from ._renderer import Renderer
from .errors import HaforuError, InvalidJobError, RenderError, error_for_kind

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

    from .session import Metrics, StreamingSession

__all__ = [
    "Comparison",
    "AlignCompareResult",
    "ResizeResult",
    "SweepPoint",
    "align_and_compare",
    "compare",
    "resize_bilinear",
    "font_info",
    "compare_json",
    "font_info_json",
    "SWEEP_FORMATS",
]

#: ``format`` values of :meth:`StreamingSession.sweep`.
SWEEP_FORMATS = ("metrics", "raw", "pgm", "png", "glyphs")

#: An image argument: a 2-D ``uint8`` numpy array (0 = ink, 255 = paper), the bytes of a binary
#: PGM (P5) or grayscale PNG file, or the path of such a file.
ImageInput = Union["npt.NDArray[np.uint8]", bytes, bytearray, memoryview, str, "os.PathLike[str]"]

_string_at = ctypes.string_at
_memmove = ctypes.memmove


def _np() -> Any:
    import numpy

    return numpy


# -- results ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Comparison:
    """The engine's comparison of ``a`` with ``b`` (SPEC §4), both pasted on white
    ``width × height`` = max(W) × max(H): ``pixel_delta`` (mean |a−b| on 0..255),
    ``center_weighted_delta`` (Gaussian-weighted mean |a−b|, centre (W/2, H/2),
    σ = max(min(W, H)/4, 1)), ``density_a/b`` (fraction of pixels < 128 of each input),
    ``aspect_a/b`` (width/height of the box of pixels < 128, 1.0 if none), ``iou`` (of the
    pixels < 128 on the aligned canvas, 1.0 if neither has any) and ``differing_pixels``
    (pixels with |a−b| > 8)."""

    width: int
    height: int
    pixel_delta: float
    center_weighted_delta: float
    density_a: float
    density_b: float
    aspect_a: float
    aspect_b: float
    iou: float
    differing_pixels: int

    @classmethod
    def from_json(cls, c: Mapping[str, Any]) -> "Comparison":
        return cls(
            width=int(c["width"]),
            height=int(c["height"]),
            pixel_delta=float(c["pixel_delta"]),
            center_weighted_delta=float(c["center_weighted_delta"]),
            density_a=float(c["density_a"]),
            density_b=float(c["density_b"]),
            aspect_a=float(c["aspect_a"]),
            aspect_b=float(c["aspect_b"]),
            iou=float(c["iou"]),
            differing_pixels=int(c["differing_pixels"]),
        )


@dataclass(frozen=True)
class AlignCompareResult:
    """:func:`align_and_compare`'s answer: the haforu 2.x fields (``aligned_a``/``aligned_b`` are
    the two images pasted on the aligned canvas as ``bytes``, ``width × height`` gray pixels
    each) plus ``iou`` and ``differing_pixels``; ``array_a``/``array_b`` view them as numpy."""

    aligned_a: bytes
    aligned_b: bytes
    width: int
    height: int
    pixel_delta: float
    center_weighted_delta: float
    density_a: float
    density_b: float
    aspect_a: float
    aspect_b: float
    iou: float
    differing_pixels: int

    @property
    def array_a(self) -> "npt.NDArray[np.uint8]":
        """``aligned_a`` as a read-only ``(height, width)`` uint8 array (a view, no copy)."""
        arr: "npt.NDArray[np.uint8]" = _np().frombuffer(self.aligned_a, dtype="uint8").reshape(self.height, self.width)
        return arr

    @property
    def array_b(self) -> "npt.NDArray[np.uint8]":
        """``aligned_b`` as a read-only ``(height, width)`` uint8 array (a view, no copy)."""
        arr: "npt.NDArray[np.uint8]" = _np().frombuffer(self.aligned_b, dtype="uint8").reshape(self.height, self.width)
        return arr

    @property
    def comparison(self) -> Comparison:
        """The numbers alone, as returned by :func:`compare`."""
        return Comparison(self.width, self.height, self.pixel_delta, self.center_weighted_delta, self.density_a,
                          self.density_b, self.aspect_a, self.aspect_b, self.iou, self.differing_pixels)


@dataclass(frozen=True)
class ResizeResult:
    """:func:`resize_bilinear`'s answer: the haforu 2.x fields (``image``: ``width × height``
    gray pixels as ``bytes``, row-major) and ``array``, a read-only ``(height, width)`` numpy
    view of them."""

    image: bytes
    width: int
    height: int

    @property
    def array(self) -> "npt.NDArray[np.uint8]":
        arr: "npt.NDArray[np.uint8]" = _np().frombuffer(self.image, dtype="uint8").reshape(self.height, self.width)
        return arr


@dataclass(frozen=True, eq=False)
class SweepPoint:
    """One point of :meth:`StreamingSession.sweep`, in input order.

    ``variations``: the coordinates applied (clamped, over ``instance``/``variations``), or for a
    failed point the ones requested. ``metrics`` (format ``metrics``), ``compare`` (with a
    ``target``), ``image`` (a ``(height, width)`` uint8 array: a new one for ``raw``, a
    read-only view of ``data`` for ``pgm``),
    ``data`` (the file bytes for ``pgm``/``png``), ``glyphs`` (format ``glyphs``): None when not
    produced. ``error``: None, or the :class:`~haforu.HaforuError` of a point that failed (the
    other points are unaffected). ``warnings``: the point's own warnings."""

    variations: Dict[str, float]
    metrics: "Optional[Metrics]" = None
    compare: Optional[Comparison] = None
    image: "Optional[npt.NDArray[np.uint8]]" = None
    data: Optional[bytes] = None
    glyphs: Optional[List[Dict[str, Any]]] = None
    warnings: Tuple[str, ...] = ()
    error: Optional[HaforuError] = field(default=None)

    @property
    def ok(self) -> bool:
        return self.error is None


# -- images into the engine -------------------------------------------------------------------


class _Source:
    """An image argument ready to copy into linear memory: an address and length kept alive by
    ``keep``; ``width = height = 0`` for PGM/PNG bytes."""

    __slots__ = ("addr", "n", "width", "height", "keep")

    def __init__(self, addr: int, n: int, width: int, height: int, keep: object) -> None:
        self.addr, self.n, self.width, self.height, self.keep = addr, n, width, height, keep


def _source(image: object, what: str) -> _Source:
    np_ = _np()
    if isinstance(image, np_.ndarray):
        if image.dtype != np_.uint8:
            raise TypeError(f"{what}: the image must be a uint8 array (0 = ink, 255 = paper), not {image.dtype}")
        if image.ndim != 2:
            raise InvalidJobError(f"{what}: the image must be 2-D (height, width), not {image.ndim}-D", "bad_job")
        h, w = image.shape
        if h == 0 or w == 0:
            raise InvalidJobError(f"{what}: the image is empty ({w}×{h})", "bad_job")
        arr = np_.ascontiguousarray(image)
        return _Source(int(arr.ctypes.data), int(arr.size), int(w), int(h), arr)
    if isinstance(image, (bytes, bytearray, memoryview)):
        data = bytes(image)
    elif isinstance(image, (str, os.PathLike)):
        with open(os.fspath(image), "rb") as f:
            data = f.read()
    else:
        raise TypeError(f"{what}: an image is a 2-D uint8 numpy array, PGM/PNG bytes or a path, "
                        f"not {type(image).__name__}")
    if not data:
        raise InvalidJobError(f"{what}: the image file is empty", "bad_job")
    buf = np_.frombuffer(data, dtype=np_.uint8)
    return _Source(int(buf.ctypes.data), len(data), 0, 0, buf)


@contextmanager
def _registered(r: Renderer, sources: Sequence[_Source], what: str) -> Iterator[List[Tuple[int, int, int]]]:
    """Register the images for the duration of the block, then drop them (unless the instance
    was rebuilt after a trap, which forgot them already)."""
    rebuilds = r.inst.rebuilds
    handles: List[Tuple[int, int, int]] = []
    try:
        for s in sources:
            handles.append(r.register_image(s.addr, s.n, s.width, s.height, what))
        yield handles
    finally:
        if r.inst.rebuilds == rebuilds:
            for h, _, _ in handles:
                r.drop_image(h)


def _method(method: object, what: str) -> str:
    if not isinstance(method, str):
        raise InvalidJobError(f"{what}: method must be \"center\" or \"corner\", not {method!r}", "bad_job")
    return method


# -- operations on one renderer (the caller holds the session lock) ---------------------------


def compare_on(r: Renderer, a: object, b: object, method: object, aligned: bool, what: str
               ) -> Tuple[Comparison, Optional[bytes], Optional[bytes]]:
    m = _method(method, what)
    sa, sb = _source(a, f"{what} (a)"), _source(b, f"{what} (b)")
    with _registered(r, (sa, sb), what) as ((ha, _, _), (hb, _, _)):
        answer, addr, n = r.image_op({"op": "compare", "a": ha, "b": hb, "method": m, "aligned": aligned}, what)
        c = Comparison.from_json(answer["compare"])
        if not aligned:
            return c, None, None
        size = c.width * c.height
        if n != 2 * size:
            raise RenderError(f"{what}: the engine returned {n} bytes for two {c.width}x{c.height} images", "internal")
        return c, _string_at(addr, size), _string_at(addr + size, size)


def resize_on(r: Renderer, image: object, multiplier: object, what: str) -> ResizeResult:
    if not isinstance(multiplier, (int, float)) or isinstance(multiplier, bool):
        raise TypeError(f"{what}: multiplier must be a number, not {type(multiplier).__name__}")
    if not math.isfinite(multiplier):  # JSON cannot carry it; the engine checks the range
        raise InvalidJobError(f"{what}: resize multiplier {multiplier} must be between 0.01 and 100", "bad_job")
    s = _source(image, what)
    with _registered(r, (s,), what) as ((h, _, _),):
        answer, addr, n = r.image_op({"op": "resize", "image": h, "multiplier": float(multiplier)}, what)
        w, hh = int(answer["width"]), int(answer["height"])
        if n != w * hh:
            raise RenderError(f"{what}: the engine returned {n} bytes for a {w}x{hh} image", "internal")
        return ResizeResult(image=_string_at(addr, n), width=w, height=hh)


def font_info_on(r: Renderer, font: object, face_index: object, what: str = "font_info") -> Dict[str, Any]:
    info: Dict[str, Any] = json.loads(font_info_text_on(r, font, face_index, what))
    return info


def font_info_text_on(r: Renderer, font: object, face_index: object, what: str = "font_info") -> bytes:
    if not isinstance(face_index, int) or isinstance(face_index, bool) or not 0 <= face_index < 1 << 31:
        raise InvalidJobError(f"{what}: face_index must be an int >= 0, not {face_index!r}", "bad_job")
    if isinstance(font, (bytes, bytearray, memoryview)):
        return r.font_info_text(bytes(font), face_index, what)
    if isinstance(font, (str, os.PathLike)):
        return r.font_info_text(os.fspath(font), face_index, what)
    raise TypeError(f"{what}() takes a font path or the font's bytes, not {type(font).__name__}")


def compare_text_on(r: Renderer, a: object, b: object, method: object, what: str = "compare") -> bytes:
    """The engine's answer to comparing ``a`` with ``b``, ``{"status":"success","compare":{...}}``,
    as its own JSON text (byte-identical on every host)."""
    m = _method(method, what)
    sa, sb = _source(a, f"{what} (a)"), _source(b, f"{what} (b)")
    with _registered(r, (sa, sb), what) as ((ha, _, _), (hb, _, _)):
        out, _, _ = r.image_op_text({"op": "compare", "a": ha, "b": hb, "method": m, "aligned": False}, what)
    return out


def _points_json(coords: Sequence[object]) -> List[object]:
    """The sweep's coordinate objects for JSON. A non-finite number cannot be written in JSON:
    it is sent as its text ("nan", "inf"), which the engine reports as that point's own
    ``bad_job`` error, so the other points still render."""
    out: List[object] = []
    for p in coords:
        if isinstance(p, Mapping):
            q: Dict[Any, Any] = {}
            for k, v in p.items():
                q[k] = str(v) if isinstance(v, float) and not math.isfinite(v) else v
            out.append(q)
        else:
            out.append(p)
    return out


def _pgm_offset(data: bytes) -> int:
    """Where the pixels of a binary PGM written by the engine start (after ``P5 W H 255``)."""
    at = 0
    fields = 0
    while fields < 4:
        while data[at:at + 1].isspace():
            at += 1
        while at < len(data) and not data[at:at + 1].isspace():
            at += 1
        fields += 1
    return at + 1


def sweep_on(
    r: Renderer,
    build_job: Any,
    coords: Sequence[object],
    target: Optional[_Source],
    method: str,
    fmt: str,
    width: int,
    height: int,
    font_path: Optional[str],
    job_id: str = "sweep",
    font_bytes: Optional[bytes] = None,
) -> List[SweepPoint]:
    """Run one sweep job (``coords`` within the engine's ``max_sweep_points``) on ``r``.
    ``build_job(r, extra)`` builds the job JSON with the extra top-level keys; ``font_bytes``:
    the in-memory font (when the job names no file)."""
    from .session import Metrics

    with _registered(r, (target,) if target is not None else (), "sweep target") as handles:
        extra: Dict[str, Any] = {"sweep": _points_json(coords)}
        if handles:
            extra["compare"] = {"target": handles[0][0], "method": method}
        job = build_job(r, extra)
        result, addr, n = r.run_sweep(job, job_id, font_path, font_bytes)
        np_ = _np() if fmt in ("raw", "pgm") else None
        points: List[SweepPoint] = []
        for p in result.get("points", ()):
            variations = {str(k): float(v) for k, v in (p.get("variations") or {}).items()}
            if p.get("status") != "success":
                err = error_for_kind(str(p.get("error_kind") or "internal"), str(p.get("error") or "unknown error"),
                                     job_id=job_id, font_path=font_path)
                points.append(SweepPoint(variations=variations, error=err))
                continue
            metrics = None
            m = p.get("metrics")
            if m is not None:
                x, y, w, h = (int(v) for v in m["bbox"])
                metrics = Metrics(density=float(m["density"]), beam=float(m["beam"]), bbox=(x, y, w, h))
            c = p.get("compare")
            image = None
            data = None
            rend = p.get("rendering")
            if rend is not None:
                off, length = int(rend["data_offset"]), int(rend["data_length"])
                if off < 0 or length < 0 or off + length > n:
                    raise RenderError(f"job `{job_id}`: a sweep point's image lies outside the engine's data",
                                      "internal", job_id=job_id, font_path=font_path)
                if fmt == "raw":
                    if length != width * height:
                        raise RenderError(f"job `{job_id}`: the engine returned {length} pixel bytes for a "
                                          f"{width}x{height} canvas", "internal", job_id=job_id, font_path=font_path)
                    assert np_ is not None
                    image = np_.empty((height, width), dtype=np_.uint8)
                    _memmove(image.ctypes.data, addr + off, length)
                else:
                    data = _string_at(addr + off, length)
                    if fmt == "pgm":
                        assert np_ is not None
                        image = np_.frombuffer(data, dtype=np_.uint8, count=width * height,
                                               offset=_pgm_offset(data)).reshape(height, width)
            points.append(SweepPoint(
                variations=variations,
                metrics=metrics,
                compare=Comparison.from_json(c) if c is not None else None,
                image=image,
                data=data,
                glyphs=p.get("glyphs"),
                warnings=tuple(str(w) for w in p.get("warnings", ())),
            ))
        return points


def split_evenly(items: Sequence[object], k: int) -> List[Sequence[object]]:
    """``items`` in ``k`` contiguous chunks whose sizes differ by at most one (input order)."""
    n = len(items)
    q, rem = divmod(n, k)
    out: List[Sequence[object]] = []
    at = 0
    for i in range(k):
        size = q + (1 if i < rem else 0)
        out.append(items[at:at + size])
        at += size
    return out


def run_parallel(renderers: Sequence[Renderer], chunks: Sequence[Sequence[object]],
                 run: Any) -> List[SweepPoint]:
    """``run(renderer, chunk)`` for each pair, chunk 0 on this thread and the others in threads
    (wasm runs with the GIL released); results concatenated in input order. The first
    exception (in chunk order) is raised after every thread has finished."""
    results: List[Optional[List[SweepPoint]]] = [None] * len(chunks)
    errors: List[Optional[BaseException]] = [None] * len(chunks)

    def work(i: int) -> None:
        try:
            results[i] = run(renderers[i], chunks[i])
        except BaseException as exc:  # re-raised on the calling thread
            errors[i] = exc

    threads = [threading.Thread(target=work, args=(i,), name=f"haforu-sweep-{i}", daemon=True)
               for i in range(1, len(chunks))]
    for t in threads:
        t.start()
    work(0)
    for t in threads:
        t.join()
    out: List[SweepPoint] = []
    for res, exc in zip(results, errors):
        if exc is not None:
            raise exc
        assert res is not None
        out.extend(res)
    return out


def target_source(target: object) -> Optional[_Source]:
    if target is None:
        return None
    return _source(target, "sweep target")


def coords_list(coords: Iterable[object]) -> List[object]:
    if isinstance(coords, (str, bytes, Mapping)):
        raise TypeError("coords must be a sequence of coordinate mappings such as [{'wght': 400}, ...]")
    return list(coords)


# -- module-level functions on a default session ----------------------------------------------

def default_session() -> "StreamingSession":
    """:func:`haforu.session.default_session`: the session the module-level functions use."""
    from .session import default_session as session

    return session()


def align_and_compare(a: ImageInput, b: ImageInput, method: str = "center") -> AlignCompareResult:
    """Align two gray images (0 = ink) on white max(W) × max(H) — ``"center"``: each pasted at
    floor((T − w)/2); ``"corner"``: at (0, 0) — and compare them in the engine. Returns the
    haforu 2.x result (aligned images as bytes + the metrics) plus ``iou`` and
    ``differing_pixels``. ``a``/``b``: 2-D uint8 numpy arrays (or PGM/PNG bytes or paths).
    Another method raises :class:`~haforu.InvalidJobError` (a ``ValueError``)."""
    return default_session().align_and_compare(a, b, method)


def compare(a: ImageInput, b: ImageInput, method: str = "center") -> Comparison:
    """The metrics of :func:`align_and_compare` without copying the aligned images out."""
    return default_session().compare(a, b, method)


def resize_bilinear(image: ImageInput, multiplier: float) -> ResizeResult:
    """Bilinear resize in the engine (OpenCV ``INTER_LINEAR`` geometry: pixel-centre mapping with
    edge clamp, rounded to the nearest level): each side becomes max(1, round(side · m)).
    ``multiplier`` outside 0.01..100 raises :class:`~haforu.InvalidJobError` (a ``ValueError``)."""
    return default_session().resize_bilinear(image, multiplier)


def compare_json(a: ImageInput, b: ImageInput, method: str = "center") -> str:
    """:func:`compare` as the engine's own answer line, ``{"status":"success","compare":{...}}``,
    e.g. for a command line that must print the same bytes as the other hosts."""
    s = default_session()
    with s._lock:
        return compare_text_on(s._r(), a, b, method).decode("utf-8")


def font_info_json(font: Union[str, "os.PathLike[str]", bytes], face_index: int = 0) -> str:
    """:func:`font_info` as the engine's own JSON text."""
    s = default_session()
    with s._lock:
        return font_info_text_on(s._r(), font, face_index).decode("utf-8")


def font_info(font: Union[str, "os.PathLike[str]", bytes], face_index: int = 0) -> Dict[str, Any]:
    """Metadata of a font file (path) or font bytes: names, ``unitsPerEm``, ``glyphCount``,
    ``axes`` (tag, name, min/default/max), named ``instances``, ``features``, ``codepoints``...
    — the engine's ``haforu_font_info`` JSON as a dict."""
    return default_session().font_info(font, face_index)
