"""One ``haforu.wasm`` instance (its own wasmtime Store) driven through the fast call path.

wasmtime-py's generic ``Func.__call__`` looks the function type up and converts every argument on
each call (~8–25 µs). The hot loop here instead calls ``wasmtime_func_call_unchecked`` through
ctypes prototypes of our own that take plain integers (~1 µs). ctypes releases the GIL for the
duration of the call, so instances in different threads execute wasm in parallel.

Not thread-safe: one instance serves one caller at a time (callers hold a lock).
"""

from __future__ import annotations

import ctypes
import struct
import json
from typing import Any, Dict, List, Optional, Tuple

import wasmtime
from wasmtime import _bindings as _ffi  # the ctypes bindings that wasmtime-py itself uses

from ._abi import ABI_VERSION, DESCRIPTOR_SIZE, EXPORTS, STATUS_NEEDS_FONT, Descriptor, unpack_descriptor
from ._runtime import EPOCH_TICK_MS, Runtime

__all__ = ["WasmInstance", "Trapped", "EngineFacts", "FACTS", "check_max_fonts", "check_max_glyphs"]

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
_f64_words = struct.Struct("<d").pack
_two_words = struct.Struct("<2I").unpack

#: Size of one ``wasmtime_val_raw_t`` slot in 32-bit words (the union holds a v128).
_SLOT_WORDS = _VAL_RAW_SIZE // 4
#: Most parameters of an export (``haforu_result_error``).
_MAX_ARGS = max(EXPORTS.values())
#: Deadline (in epoch ticks) for bookkeeping calls (alloc, register) when a timeout is active.
_NO_DEADLINE = 1 << 62
_MIN_INPUT_CAPACITY = 4096

#: Largest value an i32 argument of ``haforu_cache_config`` can carry.
_I32_MAX = (1 << 31) - 1


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


class EngineFacts:
    """What ``haforu_info`` says about a module that never changes: its limits and error kinds
    (read once per module; hosts keep no copies of their own)."""

    __slots__ = ("limits", "error_kinds", "codes", "max_font_bytes", "max_job_bytes", "max_sweep_points")

    def __init__(self, info: Dict[str, Any]) -> None:
        limits = info.get("limits")
        kinds = info.get("error_kinds")
        if not isinstance(limits, dict) or not isinstance(kinds, list) or not all(isinstance(k, str) for k in kinds):
            raise RuntimeError("haforu.wasm's haforu_info has no limits or error_kinds: ABI mismatch")
        self.limits: Dict[str, Any] = limits
        self.error_kinds: Tuple[str, ...] = tuple(kinds)
        #: error-kind name -> code (``error_kinds[code - 1]``)
        self.codes: Dict[str, int] = {k: i + 1 for i, k in enumerate(kinds)}
        self.max_font_bytes = int(limits["max_font_bytes"])
        self.max_job_bytes = int(limits["max_job_json_bytes"])
        self.max_sweep_points = int(limits["max_sweep_points"])

    def code(self, kind: str) -> int:
        """The code of error kind ``kind`` (``internal`` for a name the engine does not know)."""
        return self.codes.get(kind) or self.codes.get("internal", 0)

    def kind(self, code: int) -> str:
        return self.error_kinds[code - 1] if 1 <= code <= len(self.error_kinds) else "internal"


#: EngineFacts per module (by the wasm's sha256).
FACTS: Dict[str, EngineFacts] = {}


class WasmInstance:
    """A Store + Instance of haforu.wasm with a reusable input buffer. Fonts named by path are
    the engine's business (``haforu_font_bind``: it remembers path -> font, least recently used
    dropped past ``max_fonts``); this class only moves bytes."""

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
        #: Bound fonts the engine keeps (``haforu_cache_config``'s third argument).
        self.max_fonts = max_fonts
        #: The glyph coverage cache's capacity in glyphs (0: off), or None for the engine's
        #: default (no count cap, only its byte budget). Applied again after every rebuild.
        self.max_glyphs = max_glyphs
        self.timeout_ms = timeout_ms
        self.memory_limit_bytes = memory_limit_bytes
        self._deadline_ticks = 0
        if timeout_ms is not None:
            # +1: the first tick may come at once; the deadline never fires early.
            self._deadline_ticks = max(1, -(-timeout_ms // EPOCH_TICK_MS)) + 1
            runtime.ensure_ticker()
        self.rebuilds = 0
        self.traps = 0
        self._args = (ctypes.c_uint32 * (_SLOT_WORDS * _MAX_ARGS))()
        self._args_addr = ctypes.addressof(self._args)
        self._trap = ctypes.c_void_p()
        self._trap_addr = ctypes.addressof(self._trap)
        self._keep: List[object] = []
        self._store: Optional[wasmtime.Store] = None
        self._ctx: Optional[int] = None
        self.facts: EngineFacts
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
        for name in EXPORTS:
            f = exports.get(name)
            if not isinstance(f, wasmtime.Func):
                raise RuntimeError(f"haforu.wasm lacks the export {name!r}: ABI mismatch")
            keep.append(f)
            funcs[name] = ctypes.addressof(f._func)
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
        self._f = funcs
        self._f_alloc = funcs["haforu_alloc"]
        self._f_run = funcs["haforu_run"]
        self._in_ptr = 0
        self._in_cap = 0
        facts = FACTS.get(self.runtime.wasm_sha256)
        if facts is None:
            facts = FACTS[self.runtime.wasm_sha256] = EngineFacts(json.loads(self.info()))
        self.facts = facts
        self._ensure_input(_MIN_INPUT_CAPACITY)
        self.cache_config(-1 if self.max_glyphs is None else self.max_glyphs, -1, self.max_fonts)

    def rebuild(self) -> None:
        """Throw the instance away (its heap may be inconsistent after a trap) and start afresh.
        Fonts are read and bound again when jobs next need them."""
        self._keep = []
        self.rebuilds += 1
        self._build()

    def close(self) -> None:
        """Free the Store and instance. Later calls raise RuntimeError (never touch freed memory)."""
        self._keep = []
        self._store = None
        self._ctx = None

    # -- raw calls -----------------------------------------------------------------------------

    def _call(self, func: int, nargs: int, a0: int = 0, a1: int = 0, a2: int = 0, a3: int = 0,
              a4: int = 0, a5: int = 0, deadline: bool = False) -> int:
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
                    args[5 * w] = a5
        return self._invoke(func, deadline)

    def _invoke(self, func: int, deadline: bool) -> int:
        ctx = self._ctx
        if ctx is None:
            raise RuntimeError("the wasm instance is closed")
        if self._deadline_ticks:
            _SET_EPOCH_DEADLINE(ctx, self._deadline_ticks if deadline else _NO_DEADLINE)
        err = _CALL_UNCHECKED(ctx, func, self._args_addr, _MAX_ARGS, self._trap_addr)
        if err or self._trap.value:
            self._raise_trap(err)
        return int(self._args[0])

    def call(self, name: str, *args: int) -> int:
        """Call the export ``name`` with i32 arguments (negative values pass as their two's
        complement)."""
        slots = self._args
        for i, v in enumerate(args):
            slots[i * _SLOT_WORDS] = v & 0xFFFFFFFF
        return self._invoke(self._f[name], False)

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
        elif self.memory_limit_bytes is not None and code == wasmtime.TrapCode.UNREACHABLE:
            # The engine aborts when an allocation is refused and panics are not expected:
            # under a memory cap an abort is taken for the cap (wasmtime-py has no grow hook).
            kind = "resource_limit"
            message = f"memory limit of {self.memory_limit_bytes >> 20} MB reached ({message})"
        raise Trapped(kind, message)

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
        return self.call("haforu_abi_version")

    def alloc(self, n: int) -> int:
        return self._call(self._f_alloc, 1, n)

    def free(self, ptr: int, n: int) -> None:
        self.call("haforu_free", ptr, n)

    def _ensure_input(self, n: int) -> int:
        if n > self._in_cap:
            cap = max(n, _MIN_INPUT_CAPACITY, min(self._in_cap * 2, self.facts.max_job_bytes))
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

    def _descriptor(self, desc: int) -> Tuple[Descriptor, bytes, int]:
        """Read a result descriptor: (descriptor, JSON bytes, memory base). Every pointer is
        checked against the memory size before it is dereferenced."""
        base = self.base()
        size = self.memory_size()
        if desc + DESCRIPTOR_SIZE > size:
            raise Trapped("internal", f"the guest returned an out-of-bounds descriptor ({desc})")
        d = unpack_descriptor(_string_at(base + desc, DESCRIPTOR_SIZE))
        if (d.json_ptr + d.json_len > size or d.data_ptr + d.data_len > size or d.json_len == 0
                or d.status > STATUS_NEEDS_FONT or d.splice_at > d.json_len):
            raise Trapped("internal", "the guest returned a malformed result descriptor")
        return d, _string_at(base + d.json_ptr, d.json_len), base

    # -- exports -------------------------------------------------------------------------------

    def run(self, job: bytes, line_no: int, handle: int, flags: int) -> Tuple[Descriptor, bytes, int]:
        """``haforu_run``: (descriptor, JSON, memory base). The data stays valid until the next
        call that answers with a descriptor."""
        ptr = self._put_input(job)
        desc = self._call(self._f_run, 5, ptr, len(job), line_no, handle, flags, deadline=True)
        return self._descriptor(desc)

    def result_error(self, job: Optional[bytes], line_no: int, kind: str, message: str,
                     flags: int = 0) -> Tuple[Descriptor, bytes]:
        """``haforu_result_error``: the engine's error result for a failure the host saw (with
        the run's ``flags``: under ``VALIDATE_ONLY`` the invalid verdict line). ``job=None`` when
        the job is not in memory (the id is then ``line-N`` / ``job``)."""
        msg = message.encode("utf-8", "replace")
        job_b = job if job is not None and len(job) + len(msg) <= self.facts.max_job_bytes else b""
        ptr = self._put_input(job_b + msg)
        desc = self.call("haforu_result_error", ptr, len(job_b), line_no, self.facts.code(kind),
                         ptr + len(job_b), len(msg), flags)
        d, out, _ = self._descriptor(desc)
        return d, out

    def result_restate(self, command: str, subject: str, font: bool) -> Tuple[Descriptor, bytes]:
        """``haforu_result_restate``: the current error result restated as the error of the host
        command ``command`` about the file ``subject`` (``font``: written as ``font.path``); any
        other current result comes back unchanged."""
        cmd_b, sub_b = command.encode("utf-8", "replace"), subject.encode("utf-8", "replace")
        ptr = self._put_input(cmd_b + sub_b)
        desc = self.call("haforu_result_restate", ptr, len(cmd_b), ptr + len(cmd_b), len(sub_b), int(font))
        d, out, _ = self._descriptor(desc)
        return d, out

    def result_timing(self, total_ms: float) -> Tuple[Descriptor, bytes, int]:
        """``haforu_result_timing``: the current result with its ``timing`` added."""
        lo, hi = _two_words(_f64_words(total_ms))
        args = self._args
        args[0] = lo
        args[1] = hi
        desc = self._invoke(self._f["haforu_result_timing"], False)
        return self._descriptor(desc)

    def run_batch(self, text: bytes) -> Tuple[int, bytes]:
        ptr = self._put_input(text)
        desc = self._call(self._f["haforu_run_batch"], 3, ptr, len(text), 0, deadline=True)
        d, out, _ = self._descriptor(desc)
        return d.status, out

    def split(self, text: bytes) -> Tuple[int, bytes]:
        ptr = self._put_input(text)
        desc = self._call(self._f["haforu_split"], 2, ptr, len(text), deadline=True)
        d, out, _ = self._descriptor(desc)
        return d.status, out

    def envelope_probe(self, first_line: bytes) -> int:
        """``haforu_envelope_probe``: 0 JSONL, 1 read the whole input and split it."""
        ptr = self._put_input(first_line)
        return self.call("haforu_envelope_probe", ptr, len(first_line))

    def info(self) -> bytes:
        return self._descriptor(self.call("haforu_info"))[1]

    def cache_clear(self) -> None:
        self.call("haforu_cache_clear")

    # -- fonts ---------------------------------------------------------------------------------

    def _hand_over(self, data: bytes) -> int:
        """A new allocation holding ``data``, to hand over to the module."""
        n = len(data)
        ptr = self.alloc(n)
        if ptr == 0:
            if n == 0:
                raise Trapped("font_parse", "the font file is empty", fatal=False)
            raise Trapped("resource_limit", f"cannot allocate {n} bytes for the font in the wasm heap",
                          fatal=False)
        self._write(ptr, data)
        return ptr

    def font_bind(self, key_kind: int, key: bytes, data: bytes) -> int:
        """``haforu_font_bind``: the engine keeps ``data`` as the font of ``key``."""
        ptr = self._hand_over(data)
        kptr = self._put_input(key)
        handle = self.call("haforu_font_bind", key_kind, kptr, len(key), ptr, len(data))
        if handle == 0:
            raise Trapped("internal", "haforu_font_bind refused a live allocation")
        return handle

    def font_forget(self, key_kind: int, key: bytes) -> bool:
        kptr = self._put_input(key)
        return self.call("haforu_font_forget", key_kind, kptr, len(key)) == 1

    def font_register(self, data: bytes) -> int:
        """``haforu_font_register``: a handle for ``data`` (drop it with :meth:`font_drop`)."""
        ptr = self._hand_over(data)
        handle = self.call("haforu_font_register", ptr, len(data))
        if handle == 0:
            raise Trapped("internal", "haforu_font_register refused a live allocation")
        return handle

    def font_drop(self, handle: int) -> bool:
        return self.call("haforu_font_drop", handle) == 1

    # -- images and font info (matching) ------------------------------------------------------

    def image_register(self, addr: int, n: int, width: int, height: int) -> Tuple[int, bytes]:
        """``haforu_image_register`` of ``n`` bytes at host address ``addr``: ``width × height``
        gray pixels, or with ``width = height = 0`` PGM/PNG file bytes. Returns (status, JSON)."""
        ptr = self._put_input_from(addr, n)
        desc = self._call(self._f["haforu_image_register"], 4, ptr, n, width & 0xFFFFFFFF, height & 0xFFFFFFFF,
                          deadline=True)
        d, out, _ = self._descriptor(desc)
        return d.status, out

    def image_drop(self, handle: int) -> bool:
        return self.call("haforu_image_drop", handle) == 1

    def image_op(self, request: bytes) -> Tuple[Descriptor, bytes, int]:
        """``haforu_image_op``: (descriptor, JSON, base); the data stays valid until the next
        engine call that answers with a descriptor."""
        ptr = self._put_input(request)
        desc = self._call(self._f["haforu_image_op"], 2, ptr, len(request), deadline=True)
        return self._descriptor(desc)

    def font_info(self, handle: int, face_index: int) -> Tuple[int, bytes]:
        """``haforu_font_info``: (status, JSON) for a registered font's face."""
        desc = self._call(self._f["haforu_font_info"], 2, handle, face_index, deadline=True)
        d, out, _ = self._descriptor(desc)
        return d.status, out

    # -- caches --------------------------------------------------------------------------------

    def cache_config(self, max_glyphs: int, max_bytes: int, max_fonts: int = -1) -> int:
        """``haforu_cache_config``: bound the glyph coverage cache to ``max_glyphs`` glyphs (0 =
        off) and ``max_bytes`` bytes, and the bound fonts to ``max_fonts``; a negative value
        keeps that bound. Values above the i32 range are clamped."""
        return self.call("haforu_cache_config", min(max_glyphs, _I32_MAX), min(max_bytes, _I32_MAX),
                         min(max_fonts, _I32_MAX))

    def set_max_glyphs(self, max_glyphs: int) -> None:
        """Set (and remember across rebuilds) the glyph cache's capacity in glyphs; 0 = off."""
        n = check_max_glyphs(max_glyphs)
        assert n is not None
        self.cache_config(n, -1)
        self.max_glyphs = n

    def set_max_fonts(self, max_fonts: int) -> None:
        """Bound the engine's bound fonts (least recently used beyond it are dropped now)."""
        n = check_max_fonts(max_fonts)
        self.cache_config(-1, -1, n)
        self.max_fonts = n
