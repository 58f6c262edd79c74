"""Base64 of image bytes straight from wasm linear memory, off the GIL where possible.

``binascii.b2a_base64`` holds the GIL (~1 µs per KB), which would serialise the worker threads of
``process_jobs`` on image formats. On Linux, OpenSSL's ``EVP_EncodeBlock`` (libcrypto, already
loaded by Python's ``hashlib``) does the same standard, padded, newline-free encoding and, called
through ctypes, runs with the GIL released. It is self-tested once; anything unexpected falls back
to binascii.
"""

from __future__ import annotations

import binascii
import ctypes
import sys
from typing import Any, Optional

__all__ = ["encode_into", "backend"]

_CANDIDATES = ("libcrypto.so.3", "libcrypto.so.1.1")
_encode_block: Optional[Any] = None
_loaded = False


def _load() -> Optional[Any]:
    global _encode_block, _loaded
    _loaded = True
    if not sys.platform.startswith("linux"):  # e.g. macOS aborts on unversioned libcrypto loads
        return None
    for name in _CANDIDATES:
        try:
            fn = ctypes.CDLL(name).EVP_EncodeBlock
        except (OSError, AttributeError):
            continue
        fn.restype = ctypes.c_int
        fn.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_int]
        sample = bytes(range(256)) * 3 + b"ab"
        src = ctypes.create_string_buffer(sample, len(sample))
        dst = ctypes.create_string_buffer(4 * ((len(sample) + 2) // 3) + 1)
        n = fn(dst, src, len(sample))
        if dst.raw[:n] == binascii.b2a_base64(sample, newline=False):
            _encode_block = fn
            return fn
    return None


def backend() -> str:
    """``"openssl"`` (GIL released) or ``"binascii"``."""
    if not _loaded:
        _load()
    return "openssl" if _encode_block is not None else "binascii"


def encode_into(buf: bytearray, offset: int, src_addr: int, n: int) -> None:
    """Write base64 of the ``n`` bytes at address ``src_addr`` into ``buf[offset:]``, which must
    hold ``4 * ceil(n / 3) + 1`` bytes from ``offset`` (the last one is scratch)."""
    fn = _encode_block if _loaded else _load()
    m = 4 * ((n + 2) // 3)
    if fn is not None and n < 2**31 // 4 * 3:
        dst = (ctypes.c_char * (m + 1)).from_buffer(buf, offset)
        fn(dst, src_addr, n)
        del dst
        return
    buf[offset:offset + m] = binascii.b2a_base64((ctypes.c_char * n).from_address(src_addr), newline=False)
