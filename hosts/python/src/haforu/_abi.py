"""The ABI of ``haforu.wasm`` (wasm/README.md), written down once for this package: the version,
the exports with their parameter counts, the ``haforu_run`` flags, the result descriptor.

``tests/test_abi.py`` checks :data:`EXPORTS` against the *Exports* table of wasm/README.md and
against the shipped module. Everything else about the wire format (error kinds, limits, result
JSON, job envelopes) is the engine's: the host reads it from ``haforu_info`` or lets the engine
write it.
"""

from __future__ import annotations

import struct
from typing import Dict, NamedTuple

__all__ = [
    "ABI_VERSION", "EXPORTS", "Descriptor", "DESCRIPTOR_SIZE", "unpack_descriptor",
    "DATA_OUT_OF_BAND", "VALIDATE_ONLY", "POINTS_OUT_OF_BAND", "SPLICE_DATA", "NO_HANDLES", "NAMED_FONTS",
    "INK_BOX",
    "STATUS_OK", "STATUS_ERROR", "STATUS_NEEDS_FONT", "KEY_PATH", "KEY_NAME",
]

#: The ABI version this host speaks; a module answering another ``haforu_abi_version`` is refused.
ABI_VERSION = 2

#: Every function export: name -> number of parameters (all ``i32`` except
#: ``haforu_result_timing``'s ``f64``), in the order of the README's table. ``memory`` is the
#: one non-function export.
EXPORTS: Dict[str, int] = {
    "haforu_abi_version": 0,
    "haforu_alloc": 1,
    "haforu_free": 2,
    "haforu_font_register": 2,
    "haforu_font_register_default": 0,
    "haforu_font_drop": 1,
    "haforu_font_bind": 5,
    "haforu_font_forget": 3,
    "haforu_run": 5,
    "haforu_run_batch": 3,
    "haforu_split": 2,
    "haforu_envelope_probe": 2,
    "haforu_work_estimate": 2,
    "haforu_result_error": 7,
    "haforu_result_timing": 1,
    "haforu_result_restate": 5,
    "haforu_info": 0,
    "haforu_cache_clear": 0,
    "haforu_image_register": 4,
    "haforu_image_drop": 1,
    "haforu_image_op": 2,
    "haforu_font_info": 2,
    "haforu_cache_config": 3,
}

# ``haforu_run`` flags.
#: Image bytes stay out of band at ``data_ptr/data_len``; the JSON has no ``data`` key.
DATA_OUT_OF_BAND = 1
#: Check the job as ``haforu validate`` does (font provided as for a run, face opened, text
#: shaped; nothing rasterised but a ``compare`` job's metrics): the JSON is the verdict line.
VALIDATE_ONLY = 2
#: A sweep's point images are concatenated out of band.
POINTS_OUT_OF_BAND = 4
#: Like ``DATA_OUT_OF_BAND``, but the JSON keeps ``"data":""`` and ``splice_at`` says where the
#: base64 text goes (the result is then the engine's inline output byte for byte).
SPLICE_DATA = 8
#: ``font.handle`` in the job is refused.
NO_HANDLES = 16
#: ``font.path`` is refused; ``font.name`` is a font the host provides (the server's rule).
NAMED_FONTS = 32
#: With ``DATA_OUT_OF_BAND``, a ``raw`` image may be only its ink box (``rendering.data_box``
#: ``[x, y, w, h]``; paper elsewhere), when the box is at most a quarter of the canvas.
INK_BOX = 64

# Descriptor ``status`` values.
STATUS_OK = 0
STATUS_ERROR = 1
STATUS_NEEDS_FONT = 2
# Descriptor ``kind`` of a needs-font answer (also ``haforu_font_bind``'s ``key_kind``).
KEY_PATH = 1
KEY_NAME = 2


class Descriptor(NamedTuple):
    """The 28-byte result descriptor: seven little-endian ``u32`` (wasm/README.md)."""

    json_ptr: int
    json_len: int
    data_ptr: int
    data_len: int
    #: 0 success, 1 error result, 2 the job needs a font.
    status: int
    #: status 1: the error-kind code (``haforu_info``'s ``error_kinds[kind - 1]``); status 2: the key kind.
    kind: int
    #: With ``SPLICE_DATA``: where the base64 of the out-of-band bytes goes in the JSON.
    splice_at: int


_DESC = struct.Struct("<7I")
DESCRIPTOR_SIZE = _DESC.size


def unpack_descriptor(raw: bytes) -> Descriptor:
    """A :class:`Descriptor` from its 28 bytes."""
    return Descriptor._make(_DESC.unpack(raw))
