"""One ``haforu.wasm`` instance (its own wasmtime Store) driven through the fast call path.

wasmtime-py's generic ``Func.__call__`` looks the function type up and converts every argument on
each call (~8–25 µs). The hot loop here instead calls ``wasmtime_func_call_unchecked`` through
ctypes prototypes of our own that take plain integers (~1 µs). ctypes releases the GIL for the
duration of the call, so instances in different threads execute wasm in parallel.

Not thread-safe: one instance serves one caller at a time (callers hold a lock).
"""

from __future__ import annotations

import ctypes
import os
import struct
from collections import OrderedDict
from typing import Dict, List, Optional, Tuple, Union

import wasmtime
from wasmtime import _bindings as _ffi  # the ctypes bindings that wasmtime-py itself uses

from ._runtime import EPOCH_TICK_MS, Runtime

__all__ = ["WasmInstance", "Trapped", "ABI_VERSION", "FLAG_DATA_OUT_OF_BAND", "FLAG_POINTS_OUT_OF_BAND",
           "check_max_fonts", "check_max_glyphs"]

#: The ABI version this host speaks (wasm/README.md); other values are refused.
ABI_VERSION = 1
#: ``haforu_run`` flag bit 0: leave image bytes out of band at ``data_ptr/data_len``.
FLAG_DATA_OUT_OF_BAND = 1
#: ``haforu_run`` flag bit 2: a sweep's point images are concatenated at ``data_ptr/data_len``.
FLAG_POINTS_OUT_OF_BAND = 4

_vp = ctypes.c_void_p
try:
    _DLL: ctypes.CDLL = getattr(_ffi, "dll")
    _CALL_UNCHECKED = ctypes.CFUNCTYPE(_vp, _vp, _vp, _vp, ctypes.c_size_t, _vp)(
        ("wasmtime_func_call_unchecked", _DLL)
    )
    _MEMORY_DATA = ctypes.CFUNCTYPE(_vp, _vp, _vp)(("wasmtime_memory_data", _DLL))
    _MEMORY_DATA_SIZE = ctypes.CFUNCTYPE(ctypes.c_size_t, _vp, _vp)(("wasmtime_memory_data_size", _DLL))
    _SET_EPOCH_DEADLINE = ctypes.CFUNCTYPE(None, _vp, ctypes.c_uint64)(
        ("wasmtime_context_set_epoch_deadline", _DLL)
    )
    _VAL_RAW_SIZE = ctypes.sizeof(_ffi.wasmtime_val_raw_t)
except (AttributeError, OSError) as _exc:  # pragma: no cover - another wasmtime-py layout
    raise ImportError(
        f"haforu drives wasmtime-py through its ctypes bindings (tested with wasmtime 50.x); "
        f"this wasmtime-py lacks them: {_exc}"
    ) from _exc
_string_at = ctypes.string_at
_memmove = ctypes.memmove
_unpack_desc = struct.Struct("<5I").unpack

#: Size of one ``wasmtime_val_raw_t`` slot in 32-bit words (the union holds a v128).
_SLOT_WORDS = _VAL_RAW_SIZE // 4
#: Deadline (in epoch ticks) for bookkeeping calls (alloc, register) when a timeout is active.
_NO_DEADLINE = 1 << 62
_MIN_INPUT_CAPACITY = 4096

_EXPORTS = (
    "haforu_abi_version",
    "haforu_alloc",
    "haforu_free",
    "haforu_font_register",
    "haforu_font_drop",
    "haforu_run",
    "haforu_run_batch",
    "haforu_split",
    "haforu_info",
    "haforu_cache_clear",
    "haforu_cache_config",
)
#: Exports of the matching API (SPEC §4), added within ABI version 1: a module without them
#: still loads, and only the matching calls fail (with a clear error).
_MATCHING_EXPORTS = (
    "haforu_image_register",
    "haforu_image_drop",
    "haforu_image_op",
    "haforu_font_info",
)

#: Largest value an i32 argument of ``haforu_cache_config`` can carry.
_I32_MAX = (1 << 31) - 1

FontKey = Union[Tuple[str, str], Tuple[str, bytes]]


def check_max_fonts(value: object, name: str = "max_fonts") -> int:
    """``value`` as a font-cache capacity (an int of at least 1), else TypeError/ValueError."""
    if not isinstance(value, int) or isinstance(value, bool):
        raise TypeError(f"{name} must be an int (fonts kept registered), not {type(value).__name__}")
    if value < 1:
        raise ValueError(f"{name} must be at least 1")
    return value


def check_max_glyphs(value: object, name: str = "max_glyphs") -> Optional[int]:
    """``value`` as a glyph-cache capacity: None (engine default) or an int >= 0 (0 = off)."""
    if value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool):
        raise TypeError(f"{name} must be an int (glyphs cached; 0 turns the cache off) or None, "
                        f"not {type(value).__name__}")
    if value < 0:
        raise ValueError(f"{name} must be 0 (cache off) or more")
    return value


class Trapped(Exception):
    """The guest trapped (or the call failed); the instance is unusable until rebuilt."""

    def __init__(self, kind: str, message: str, *, fatal: bool = True) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message
        #: True when the guest trapped (rebuild the instance); False for a refused allocation.
        self.fatal = fatal


class _FontEntry:
    __slots__ = ("handle", "stamp", "nbytes")

    def __init__(self, handle: int, stamp: Tuple[int, int, int, int], nbytes: int) -> None:
        self.handle = handle
        self.stamp = stamp
        self.nbytes = nbytes


class WasmInstance:
    """A Store + Instance of haforu.wasm with a reusable input buffer and an LRU of font handles."""

    def __init__(
        self,
        runtime: Runtime,
        *,
        max_fonts: int = 512,
        max_glyphs: Optional[int] = None,
        timeout_ms: Optional[int] = None,
        memory_limit_bytes: Optional[int] = None,
    ) -> None:
        max_fonts = check_max_fonts(max_fonts)
        max_glyphs = check_max_glyphs(max_glyphs)
        if timeout_ms is not None and not runtime.epoch:
            raise ValueError("a timeout needs a runtime compiled with epoch interruption")
        self.runtime = runtime
        self.max_fonts = max_fonts
        #: The glyph coverage cache's capacity in glyphs (0: off), or None for the engine's
        #: default (no count cap, only its byte budget). Applied again after every rebuild.
        self.max_glyphs = max_glyphs
        self.timeout_ms = timeout_ms
        self.memory_limit_bytes = memory_limit_bytes
        self._deadline_ticks = 0
        self._mem_hint = 0
        if timeout_ms is not None:
            # +1: the first tick may come at once; the deadline never fires early.
            self._deadline_ticks = max(1, -(-timeout_ms // EPOCH_TICK_MS)) + 1
            runtime.ensure_ticker()
        self.fonts: "OrderedDict[FontKey, _FontEntry]" = OrderedDict()
        self.font_hits = 0
        self.font_misses = 0
        self.font_evictions = 0
        self.rebuilds = 0
        self.traps = 0
        self._args = (ctypes.c_uint32 * (_SLOT_WORDS * 5))()
        self._args_addr = ctypes.addressof(self._args)
        self._trap = ctypes.c_void_p()
        self._trap_addr = ctypes.addressof(self._trap)
        self._keep: List[object] = []
        self._store: Optional[wasmtime.Store] = None
        self._ctx: Optional[int] = None
        self._build()

    # -- lifecycle ---------------------------------------------------------------------------

    def _build(self) -> None:
        store = wasmtime.Store(self.runtime.engine)
        if self.memory_limit_bytes is not None:
            store.set_limits(memory_size=self.memory_limit_bytes)
        if self.runtime.epoch:
            store.set_epoch_deadline(_NO_DEADLINE)
        instance = wasmtime.Instance(store, self.runtime.module, [])
        exports = instance.exports(store)
        funcs: Dict[str, int] = {}
        keep: List[object] = [store, instance]
        for name in _EXPORTS:
            f = exports.get(name)
            if not isinstance(f, wasmtime.Func):
                raise RuntimeError(f"haforu.wasm lacks the export {name!r}: ABI mismatch")
            keep.append(f)
            funcs[name] = ctypes.addressof(f._func)
        for name in _MATCHING_EXPORTS:
            f = exports.get(name)
            if isinstance(f, wasmtime.Func):
                keep.append(f)
                funcs[name] = ctypes.addressof(f._func)
            else:
                funcs[name] = 0
        mem = exports.get("memory")
        if not isinstance(mem, wasmtime.Memory):
            raise RuntimeError("haforu.wasm does not export its memory")
        keep.append(mem)
        version = exports["haforu_abi_version"]
        assert isinstance(version, wasmtime.Func)
        abi = version(store)
        if abi != ABI_VERSION:
            raise RuntimeError(f"haforu.wasm speaks ABI version {abi}; this package needs {ABI_VERSION}")
        self._keep = keep
        self._store = store
        self._ctx = ctypes.cast(store._context(), ctypes.c_void_p).value
        self._mem = ctypes.addressof(mem._memory)
        self._f_alloc = funcs["haforu_alloc"]
        self._f_free = funcs["haforu_free"]
        self._f_register = funcs["haforu_font_register"]
        self._f_drop = funcs["haforu_font_drop"]
        self._f_run = funcs["haforu_run"]
        self._f_run_batch = funcs["haforu_run_batch"]
        self._f_split = funcs["haforu_split"]
        self._f_info = funcs["haforu_info"]
        self._f_cache_clear = funcs["haforu_cache_clear"]
        self._f_cache_config = funcs["haforu_cache_config"]
        self._f_abi = funcs["haforu_abi_version"]
        self._f_image_register = funcs["haforu_image_register"]
        self._f_image_drop = funcs["haforu_image_drop"]
        self._f_image_op = funcs["haforu_image_op"]
        self._f_font_info = funcs["haforu_font_info"]
        self.fonts.clear()
        self._in_ptr = 0
        self._in_cap = 0
        self._ensure_input(_MIN_INPUT_CAPACITY)
        if self.max_glyphs is not None:
            self.cache_config(self.max_glyphs, -1)

    def rebuild(self) -> None:
        """Throw the instance away (its heap may be inconsistent after a trap) and start afresh.
        Fonts are registered again on their next use."""
        self._keep = []
        self.rebuilds += 1
        self._build()

    def close(self) -> None:
        """Free the Store and instance. Later calls raise RuntimeError (never touch freed memory)."""
        self._keep = []
        self._store = None
        self.fonts.clear()
        self._ctx = None

    # -- raw calls -----------------------------------------------------------------------------

    def _call(self, func: int, nargs: int, a0: int = 0, a1: int = 0, a2: int = 0, a3: int = 0,
              a4: int = 0, deadline: bool = False) -> int:
        """Call an export with i32 arguments; return its i32 result as unsigned (0 if none)."""
        args = self._args
        w = _SLOT_WORDS
        args[0] = a0
        if nargs > 1:
            args[w] = a1
            if nargs > 2:
                args[2 * w] = a2
                if nargs > 3:
                    args[3 * w] = a3
                    args[4 * w] = a4
        ctx = self._ctx
        if ctx is None:
            raise RuntimeError("the wasm instance is closed")
        if self._deadline_ticks:
            _SET_EPOCH_DEADLINE(ctx, self._deadline_ticks if deadline else _NO_DEADLINE)
        err = _CALL_UNCHECKED(ctx, func, self._args_addr, 5, self._trap_addr)
        if err or self._trap.value:
            self._raise_trap(err)
        return args[0]

    def _raise_trap(self, err: Optional[int]) -> None:
        self.traps += 1
        if self._trap.value:
            trap = wasmtime.Trap._from_ptr(ctypes.cast(self._trap.value, ctypes.POINTER(_ffi.wasm_trap_t)))
            self._trap.value = None
            code = trap.trap_code
            message = f"wasm trap: {code.name.lower()}" if code is not None else "wasm trap"
        else:
            error = wasmtime.WasmtimeError._from_ptr(ctypes.cast(err or 0, ctypes.POINTER(_ffi.wasmtime_error_t)))
            code = None
            message = str(error).splitlines()[0] if str(error) else "wasmtime error"
        kind = "internal"
        if code == wasmtime.TrapCode.INTERRUPT:
            kind = "resource_limit"
            message = f"deadline exceeded (timeout_ms={self.timeout_ms})"
        elif code in (wasmtime.TrapCode.OUT_OF_FUEL, wasmtime.TrapCode.STACK_OVERFLOW):
            kind = "resource_limit"
        elif self.memory_limit_bytes is not None and self._near_memory_limit():
            kind = "resource_limit"
            message = f"memory limit of {self.memory_limit_bytes >> 20} MB reached ({message})"
        raise Trapped(kind, message)

    def _near_memory_limit(self) -> bool:
        """Heuristic: the guest aborts (``unreachable``) when ``memory.grow`` is refused, and
        wasmtime-py exposes no grow hook. So an abort counts as hitting the cap when linear memory
        plus the job's canvas (``mem_hint``, bytes) comes within 1/8 of the cap."""
        limit = self.memory_limit_bytes
        assert limit is not None
        size = int(_MEMORY_DATA_SIZE(self._ctx, self._mem))
        return size + self._mem_hint + limit // 8 >= limit

    def _live_ctx(self) -> int:
        ctx = self._ctx
        if ctx is None:
            raise RuntimeError("the wasm instance is closed")
        return ctx

    def base(self) -> int:
        """Address of linear memory now (re-read after every call: memory can grow)."""
        return int(_MEMORY_DATA(self._live_ctx(), self._mem) or 0)

    def memory_size(self) -> int:
        return int(_MEMORY_DATA_SIZE(self._live_ctx(), self._mem))

    def abi_version(self) -> int:
        return self._call(self._f_abi, 0)

    def alloc(self, n: int) -> int:
        return self._call(self._f_alloc, 1, n)

    def free(self, ptr: int, n: int) -> None:
        self._call(self._f_free, 2, ptr, n)

    def _ensure_input(self, n: int) -> int:
        if n > self._in_cap:
            cap = max(n, _MIN_INPUT_CAPACITY, self._in_cap * 2)
            if self._in_ptr:
                self.free(self._in_ptr, self._in_cap)
                self._in_ptr = self._in_cap = 0
            ptr = self.alloc(cap)
            if ptr == 0:
                raise Trapped("resource_limit", f"cannot allocate {cap} bytes of input in the wasm heap",
                              fatal=False)
            self._in_ptr, self._in_cap = ptr, cap
        return self._in_ptr

    def _write(self, ptr: int, data: bytes) -> None:
        """Copy ``data`` into linear memory at ``ptr`` (bounds-checked: a bad guest pointer must
        never make the host write outside the memory)."""
        n = len(data)
        if ptr + n > self.memory_size():
            raise Trapped("internal", f"the guest returned an out-of-bounds buffer ({ptr}+{n})")
        _memmove(self.base() + ptr, data, n)

    def _put_input(self, data: bytes) -> int:
        ptr = self._ensure_input(len(data))
        self._write(ptr, data)
        return ptr

    def _put_input_from(self, addr: int, n: int) -> int:
        """Copy ``n`` bytes at host address ``addr`` (e.g. a numpy array's buffer) into the input
        buffer: one copy, no intermediate ``bytes``."""
        ptr = self._ensure_input(max(n, 1))
        if ptr + n > self.memory_size():
            raise Trapped("internal", f"the guest returned an out-of-bounds buffer ({ptr}+{n})")
        if n:
            _memmove(self.base() + ptr, addr, n)
        return ptr

    def _descriptor(self, desc: int) -> Tuple[int, bytes, int, int, int]:
        """Read a result descriptor: (status, json bytes, data_ptr, data_len, memory base).
        Every pointer is checked against the memory size before it is dereferenced."""
        base = self.base()
        size = self.memory_size()
        if desc + 20 > size:
            raise Trapped("internal", f"the guest returned an out-of-bounds descriptor ({desc})")
        json_ptr, json_len, data_ptr, data_len, status = _unpack_desc(_string_at(base + desc, 20))
        if json_ptr + json_len > size or data_ptr + data_len > size or json_len == 0 or status > 1:
            raise Trapped("internal", "the guest returned a malformed result descriptor")
        return status, _string_at(base + json_ptr, json_len), data_ptr, data_len, base

    # -- exports -------------------------------------------------------------------------------

    def run(self, job: bytes, line_no: int, handle: int, flags: int,
            mem_hint: int = 0) -> Tuple[int, bytes, int, int, int]:
        """``haforu_run``: returns (status, json, data_ptr, data_len, base). The data stays valid
        until the next run/batch/split/info/cache_clear call. ``mem_hint``: the job's canvas size
        in bytes, used only to classify an abort under a memory cap."""
        self._mem_hint = mem_hint
        ptr = self._put_input(job)
        desc = self._call(self._f_run, 5, ptr, len(job), line_no, handle, flags, deadline=True)
        return self._descriptor(desc)

    def run_batch(self, text: bytes) -> Tuple[int, bytes]:
        ptr = self._put_input(text)
        desc = self._call(self._f_run_batch, 3, ptr, len(text), 0, deadline=True)
        status, out, _, _, _ = self._descriptor(desc)
        return status, out

    def split(self, text: bytes) -> Tuple[int, bytes]:
        ptr = self._put_input(text)
        desc = self._call(self._f_split, 2, ptr, len(text), deadline=True)
        status, out, _, _, _ = self._descriptor(desc)
        return status, out

    def info(self) -> bytes:
        desc = self._call(self._f_info, 0)
        return self._descriptor(desc)[1]

    def cache_clear(self) -> None:
        self._call(self._f_cache_clear, 0)

    # -- images and font info (matching) ------------------------------------------------------

    @staticmethod
    def _matching(func: int, name: str) -> int:
        if not func:
            raise Trapped("internal", f"this haforu.wasm has no {name} export (it predates the matching API)",
                          fatal=False)
        return func

    def image_register(self, addr: int, n: int, width: int, height: int) -> Tuple[int, bytes]:
        """``haforu_image_register`` of ``n`` bytes at host address ``addr``: ``width × height``
        gray pixels, or with ``width = height = 0`` PGM/PNG file bytes. Returns (status, JSON)."""
        ptr = self._put_input_from(addr, n)
        func = self._matching(self._f_image_register, "haforu_image_register")
        desc = self._call(func, 4, ptr, n, width & 0xFFFFFFFF, height & 0xFFFFFFFF, deadline=True)
        status, out, _, _, _ = self._descriptor(desc)
        return status, out

    def image_drop(self, handle: int) -> bool:
        return self._call(self._matching(self._f_image_drop, "haforu_image_drop"), 1, handle) == 1

    def image_op(self, request: bytes) -> Tuple[int, bytes, int, int, int]:
        """``haforu_image_op``: (status, JSON, data_ptr, data_len, base); the data stays valid
        until the next engine call that answers with a descriptor."""
        ptr = self._put_input(request)
        desc = self._call(self._matching(self._f_image_op, "haforu_image_op"), 2, ptr, len(request), deadline=True)
        return self._descriptor(desc)

    def font_info(self, handle: int, face_index: int) -> Tuple[int, bytes]:
        """``haforu_font_info``: (status, JSON) for a registered font's face."""
        desc = self._call(self._matching(self._f_font_info, "haforu_font_info"), 2, handle, face_index, deadline=True)
        status, out, _, _, _ = self._descriptor(desc)
        return status, out

    def cache_config(self, max_glyphs: int, max_bytes: int) -> int:
        """``haforu_cache_config``: bound the glyph coverage cache to ``max_glyphs`` glyphs (0 =
        off) and ``max_bytes`` bytes; a negative value keeps that bound. Values above the i32
        range are clamped (the engine caps its byte budget anyway)."""
        g = min(max_glyphs, _I32_MAX) & 0xFFFFFFFF
        b = min(max_bytes, _I32_MAX) & 0xFFFFFFFF
        return self._call(self._f_cache_config, 2, g, b)

    def set_max_glyphs(self, max_glyphs: int) -> None:
        """Set (and remember across rebuilds) the glyph cache's capacity in glyphs; 0 = off."""
        n = check_max_glyphs(max_glyphs)
        assert n is not None
        self.cache_config(n, -1)
        self.max_glyphs = n

    def set_max_fonts(self, max_fonts: int) -> None:
        """Resize the font LRU: fonts beyond the new capacity are dropped from the engine now
        (least recently used first)."""
        n = check_max_fonts(max_fonts)
        while len(self.fonts) > n:
            self._drop(next(iter(self.fonts)))
            self.font_evictions += 1
        self.max_fonts = n

    # -- fonts ---------------------------------------------------------------------------------

    def font_for_path(self, path: str) -> int:
        """Handle of the font file at ``path`` (read and registered once; re-read when its size,
        mtime or inode change). Raises OSError when the file cannot be read."""
        st = os.stat(path)
        stamp = (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns)
        key: FontKey = ("path", path)
        entry = self.fonts.get(key)
        if entry is not None:
            if entry.stamp == stamp:
                self.font_hits += 1
                self.fonts.move_to_end(key)
                return entry.handle
            self._drop(key)
        with open(path, "rb") as f:
            data = f.read()
        return self._register(key, data, stamp)

    def font_for_bytes(self, data: bytes) -> int:
        """Handle of in-memory font bytes (keyed by content; hashed once per bytes object)."""
        blob = bytes(data)
        key: FontKey = ("bytes", blob)
        entry = self.fonts.get(key)
        if entry is not None:
            self.font_hits += 1
            self.fonts.move_to_end(key)
            return entry.handle
        return self._register(key, blob, (0, 0, len(blob), 0))

    def _register(self, key: FontKey, data: bytes, stamp: Tuple[int, int, int, int]) -> int:
        self.font_misses += 1
        while len(self.fonts) >= self.max_fonts:
            oldest = next(iter(self.fonts))
            self._drop(oldest)
            self.font_evictions += 1
        n = len(data)
        ptr = self.alloc(n)
        if ptr == 0:
            if n == 0:
                raise Trapped("font_parse", "the font file is empty", fatal=False)
            raise Trapped("resource_limit", f"cannot allocate {n} bytes for the font in the wasm heap",
                          fatal=False)
        self._write(ptr, data)
        handle = self._call(self._f_register, 2, ptr, n)
        if handle == 0:
            raise Trapped("internal", "haforu_font_register refused a live allocation")
        self.fonts[key] = _FontEntry(handle, stamp, n)
        return handle

    def _drop(self, key: FontKey) -> None:
        entry = self.fonts.pop(key)
        self._call(self._f_drop, 1, entry.handle)

    def font_bytes_registered(self) -> int:
        return sum(e.nbytes for e in self.fonts.values())
