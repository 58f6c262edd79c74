"""haforu: a font render engine (HarfBuzz-compatible shaping, anti-aliased rasterising) running as
one sandboxed WebAssembly module inside wasmtime. Job JSON in; bitmaps, metrics and glyph runs out.

    >>> import haforu
    >>> with haforu.StreamingSession() as s:
    ...     img = s.render_to_numpy(None, "Hamburgefonstiv", 48, 800, 100)   # bundled font
    >>> img.shape, img.dtype
    ((100, 800), dtype('uint8'))
"""

from __future__ import annotations

from .batch import process_jobs
from ._fontdirs import find_font, font_dirs
from .errors import FontNotFoundError, HaforuError, InvalidJobError, RenderError
from .parallel import render_batch, render_batch_numpy
from .matching import (
    AlignCompareResult, Comparison, ResizeResult, SweepPoint, align_and_compare, compare, font_info, resize_bilinear,
)
from .session import Metrics, StreamingSession, default_session, metrics, render_to_numpy

#: 3.x: this wasm-based package replaces the native haforu 2.x under the same PyPI name
#: (hosts/python/README.md, "Version"). The single source of the version: pyproject.toml reads it.
__version__ = "3.0.0"


def is_available() -> bool:
    """True if the engine loads and answers on this machine (haforu 2.x probe; the same as the
    classmethod ``StreamingSession.is_available()``). Never raises."""
    return StreamingSession.is_available()


__all__ = [
    "process_jobs",
    "render_batch",
    "render_batch_numpy",
    "StreamingSession",
    "Metrics",
    "render_to_numpy",
    "metrics",
    "default_session",
    "find_font",
    "font_dirs",
    "align_and_compare",
    "compare",
    "resize_bilinear",
    "font_info",
    "Comparison",
    "AlignCompareResult",
    "ResizeResult",
    "SweepPoint",
    "HaforuError",
    "FontNotFoundError",
    "InvalidJobError",
    "RenderError",
    "is_available",
    "__version__",
]
