"""Job-level duties of the host around one engine instance, shared by the session and the batch
workers: answering the engine's *needs font* (reading the file: regular files only, bounded by
the engine's ``max_font_bytes``, inside ``base_dir``), noticing font files that changed, timing,
the base64 splice, and traps (the instance is rebuilt).

The host never parses a job: the engine says which font a job needs, and writes every result,
including the failures only the host sees (``haforu_result_error``).
"""

from __future__ import annotations

import ctypes
import json
import os
import stat as _stat
import time
from collections import OrderedDict
from typing import TYPE_CHECKING, Any, Dict, Optional, Tuple, Union

import wasmtime

from ._abi import (
    DATA_OUT_OF_BAND, INK_BOX, KEY_PATH, POINTS_OUT_OF_BAND, SPLICE_DATA, STATUS_NEEDS_FONT, STATUS_OK, VALIDATE_ONLY,
    Descriptor,
)
from ._b64 import encode_into
from ._fontdirs import find_font
from ._instance import FACTS, EngineFacts, Trapped, WasmInstance
from ._runtime import get_runtime
from .errors import HaforuError, InvalidJobError, RenderError, error_for_kind

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

__all__ = ["Renderer", "TooLong", "HostFailure", "Outcome", "read_font_file", "engine_facts"]

#: numpy, imported on first use: JSON-only users (and the start-up time) do not pay for it.
_np: Any = None


def _numpy() -> Any:
    global _np
    if _np is None:
        import numpy

        _np = numpy
    return _np


_perf = time.perf_counter
_memmove = ctypes.memmove
_string_at = ctypes.string_at
_O_READ = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_NOCTTY", 0)
#: Bound font files checked for changes before each JSON job (round robin beyond this many).
_STAMP_CHECKS_PER_JOB = 16

Stamp = Tuple[int, int, int, int]
#: One job's answer: (the engine's JSON line, descriptor status, descriptor kind code).
Outcome = Tuple[str, int, int]


class HostFailure(Exception):
    """A failure the host saw (a font file it cannot read...): ``kind`` and the bare reason;
    the engine writes the result (``haforu_result_error``)."""

    def __init__(self, kind: str, reason: str) -> None:
        super().__init__(reason)
        self.kind = kind
        self.reason = reason


class TooLong:
    """A job line longer than the engine's job limit, not kept in memory (only its length):
    answered with a ``limit_exceeded`` result for its line."""

    __slots__ = ("n",)

    def __init__(self, n: int) -> None:
        self.n = n


def _stamp(st: os.stat_result) -> Stamp:
    return (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns)


def read_font_file(path: str, limit: int, shown: Optional[str] = None) -> Tuple[bytes, Stamp]:
    """The bytes of the regular file at ``path`` (at most ``limit`` bytes, read no further) and
    its stamp. Raises HostFailure: ``font_not_found`` for a missing or unreadable file, a
    directory, a FIFO, a device...; ``limit_exceeded`` for a file over ``limit``. The open does
    not block (``O_NONBLOCK``: a FIFO without a writer is refused, not waited for)."""
    name = shown if shown is not None else path

    def failure(kind: str, why: str) -> HostFailure:
        # The CLI's wording, so that both hosts answer the same bytes.
        return HostFailure(kind, f"cannot read font file '{name}': {why}")

    try:
        fd = os.open(path, _O_READ)
    except OSError as exc:
        raise failure("font_not_found", _os_text(exc)) from None
    try:
        st = os.fstat(fd)
        if not _stat.S_ISREG(st.st_mode):
            raise failure("font_not_found", "not a regular file")
        if st.st_size > limit:
            raise failure("limit_exceeded", f"the file has {st.st_size} bytes, more than the engine's "
                          f"limit of {limit} (limits.max_font_bytes)")
        chunks = []
        got = 0
        while got <= limit:
            chunk = os.read(fd, min(limit + 1 - got, 1 << 24))
            if not chunk:
                break
            chunks.append(chunk)
            got += len(chunk)
        if got > limit:  # the file grew while it was read
            raise failure("limit_exceeded", f"the file has more than the engine's limit of {limit} bytes "
                          "(limits.max_font_bytes)")
        if not got:
            raise failure("font_parse", "the file is empty")
        return (chunks[0] if len(chunks) == 1 else b"".join(chunks)), _stamp(st)
    except OSError as exc:
        raise failure("font_not_found", _os_text(exc)) from None
    finally:
        os.close(fd)


def _os_text(exc: OSError) -> str:
    """An OS error as Rust's ``std::io::Error`` prints it: ``No such file or directory (os error 2)``."""
    if exc.errno is not None and exc.strerror:
        return f"{exc.strerror} (os error {exc.errno})"
    return str(exc)


def engine_facts() -> EngineFacts:
    """The limits and error kinds of the module in use (read from ``haforu_info`` once)."""
    facts = FACTS.get(get_runtime().wasm_sha256)
    if facts is None:
        r = Renderer()
        facts = r.facts
        r.close()
    return facts



def _gray_array(addr: int, width: int, height: int,
                box: Optional[Tuple[int, int, int, int]] = None) -> "npt.NDArray[np.uint8]":
    """A new C-contiguous ``(height, width)`` uint8 array of the gray pixels at ``addr`` in linear
    memory: the whole canvas, or only ``box`` = (x, y, w, h) of it, row by row (``INK_BOX``),
    pasted on paper (255). One copy out of linear memory: call it before the next engine call."""
    np_ = _np if _np is not None else _numpy()
    if box is None or (box[2], box[3]) == (width, height):
        arr: "npt.NDArray[np.uint8]" = np_.empty((height, width), dtype=np_.uint8)
        if width * height:
            _memmove(arr.ctypes.data, addr, width * height)
        return arr
    x, y, bw, bh = box
    arr = np_.full((height, width), 255, dtype=np_.uint8)
    if bw * bh:
        rows = np_.frombuffer((ctypes.c_uint8 * (bw * bh)).from_address(addr), dtype=np_.uint8)
        arr[y:y + bh, x:x + bw] = rows.reshape(bh, bw)
    return arr


class Renderer:
    """One wasm instance plus the host's duties around it. Not thread-safe."""

    def __init__(
        self,
        *,
        max_fonts: int = 512,
        max_glyphs: Optional[int] = None,
        timeout_ms: Optional[int] = None,
        memory_limit_mb: Optional[int] = None,
        base_dir: Union[str, "os.PathLike[str]", None] = None,
        font_search: bool = True,
    ) -> None:
        if timeout_ms is not None and (not isinstance(timeout_ms, int) or timeout_ms <= 0):
            raise ValueError("timeout_ms must be a positive integer (milliseconds) or None")
        if memory_limit_mb is not None and (not isinstance(memory_limit_mb, int) or memory_limit_mb <= 0):
            raise ValueError("memory_limit_mb must be a positive integer (MiB) or None")
        self.base_dir = os.path.realpath(os.fspath(base_dir)) if base_dir is not None else None
        #: Bare font file names missing from the working directory are looked for in the usual
        #: font folders (``_fontdirs``); never with ``base_dir``.
        self.font_search = bool(font_search) and self.base_dir is None
        runtime = get_runtime(epoch=timeout_ms is not None)
        try:
            self.inst = WasmInstance(
                runtime,
                max_fonts=max_fonts,
                max_glyphs=max_glyphs,
                timeout_ms=timeout_ms,
                memory_limit_bytes=memory_limit_mb * 1024 * 1024 if memory_limit_mb is not None else None,
            )
        except wasmtime.WasmtimeError as exc:
            if memory_limit_mb is not None:
                raise ValueError(
                    f"memory_limit_mb={memory_limit_mb} is below what the engine needs to start ({exc})"
                ) from None
            raise
        #: Files bound in the engine: key -> (file opened, stamp), checked for changes before
        #: jobs (``haforu_font_forget`` when one changed). Not a font cache: the engine keeps the
        #: fonts and evicts them; this only remembers what to watch.
        self._watch: "OrderedDict[bytes, Tuple[str, Stamp]]" = OrderedDict()
        self._watch_at = 0
        #: In-memory fonts (``font_bytes=``) registered with ``haforu_font_register``: bytes ->
        #: handle, least recently used dropped past ``max_fonts``; emptied when the instance is
        #: rebuilt (its handles die with it).
        self._bytes_fonts: "OrderedDict[bytes, int]" = OrderedDict()
        self.font_binds = 0
        self.font_changes = 0
        self.font_hits = 0
        self.font_bytes_bound = 0

    def close(self) -> None:
        self.inst.close()
        self._watch.clear()
        self._bytes_fonts.clear()

    @property
    def facts(self) -> EngineFacts:
        return self.inst.facts

    # -- fonts ---------------------------------------------------------------------------------

    def resolve_path(self, path: str) -> str:
        """The path to open. With ``base_dir``: relative paths are taken from it, symlinks are
        resolved, and anything that ends up outside it is refused as ``font_not_found``. Without
        it, a bare file name that is not in the working directory is looked for in the usual
        font folders (``font_search``; :func:`haforu.find_font`)."""
        base = self.base_dir
        if base is None:
            if self.font_search and not os.path.lexists(path):
                found = find_font(path)
                if found is not None:
                    return found
            return path
        real = os.path.realpath(os.path.join(base, path))
        if real != base and not real.startswith(base.rstrip(os.sep) + os.sep):
            raise HostFailure("font_not_found", f"font path {path!r} resolves outside base_dir {base!r}")
        return real

    def _provide(self, key_kind: int, key: bytes) -> None:
        """Answer a *needs font*: read the file named by ``key`` and bind it. Raises HostFailure
        or Trapped."""
        if key_kind != KEY_PATH:
            raise HostFailure("internal", "the engine asked for a font by name, which this host does not serve")
        path = key.decode("utf-8", "surrogateescape")
        real = self.resolve_path(path)
        data, stamp = read_font_file(real, self.facts.max_font_bytes, path)
        self.inst.font_bind(KEY_PATH, key, data)
        self._watch[key] = (real, stamp)
        self._watch.move_to_end(key)
        while len(self._watch) > self.inst.max_fonts:  # the engine evicted one of them too
            old, _ = self._watch.popitem(last=False)
            self.inst.font_forget(KEY_PATH, old)
        self.font_binds += 1
        self.font_bytes_bound += len(data)

    def bytes_handle(self, data: bytes) -> Tuple[int, bool]:
        """The handle of in-memory font bytes (registered once per content, by
        ``haforu_font_register``) and whether it was registered just now. Raises Trapped."""
        fonts = self._bytes_fonts
        handle = fonts.get(data)
        if handle is not None:
            fonts.move_to_end(data)
            return handle, False
        handle = self.inst.font_register(data)
        fonts[data] = handle
        self.font_binds += 1
        self.font_bytes_bound += len(data)
        self._trim_bytes_fonts()
        return handle, True

    def _trim_bytes_fonts(self) -> None:
        fonts = self._bytes_fonts
        while len(fonts) > self.inst.max_fonts:
            _, old = fonts.popitem(last=False)
            self.inst.font_drop(old)

    def set_max_fonts(self, max_fonts: int) -> None:
        """Bound the fonts kept (the engine's bound files, and the in-memory fonts here)."""
        self.inst.set_max_fonts(max_fonts)
        try:
            self._trim_bytes_fonts()
        except Trapped as t:
            self._after_trap(t)

    def _check_fonts(self, key: Optional[bytes] = None) -> None:
        """Forget bound files that changed (size, mtime, inode) or went away: ``key`` alone, or
        up to ``_STAMP_CHECKS_PER_JOB`` of the watched files, round robin."""
        watch = self._watch
        if not watch:
            return
        if key is not None:
            keys = [key] if key in watch else []
        elif len(watch) <= _STAMP_CHECKS_PER_JOB:
            keys = list(watch)
        else:
            all_keys = list(watch)
            at = self._watch_at % len(all_keys)
            keys = (all_keys[at:] + all_keys[:at])[:_STAMP_CHECKS_PER_JOB]
            self._watch_at = at + _STAMP_CHECKS_PER_JOB
        for k in keys:
            real, stamp = watch[k]
            try:
                now: Optional[Stamp] = _stamp(os.stat(real))
            except OSError:
                now = None
            if now != stamp:
                del watch[k]
                self.font_changes += 1
                try:
                    self.inst.font_forget(KEY_PATH, k)
                except Trapped as t:
                    self._after_trap(t)
                    return

    def _after_trap(self, t: Trapped) -> None:
        if t.fatal:
            self.inst.rebuild()
            self._watch.clear()
            self._bytes_fonts.clear()

    def _trap_text(self, t: Trapped) -> str:
        if t.fatal:
            return f"{t.message} (the engine instance was rebuilt)"
        return t.message

    # -- one job -------------------------------------------------------------------------------

    def _execute(self, job: Optional[bytes], line_no: int, flags: int, handle: int = 0
                 ) -> Tuple[Descriptor, bytes, int, bool, bool]:
        """Run one job (with ``handle``, when not 0, as its font), answering *needs font*; every
        failure the host sees (an unreadable font, a trap, a job over the size limit:
        ``job=None``) becomes the engine's error result. Returns (descriptor, JSON, memory base,
        whether a font had to be bound, whether the result is such a host-side failure)."""
        limit = self.facts.max_job_bytes
        if job is None or len(job) > limit:
            return self._fail(None, line_no, "limit_exceeded", f"the job is longer than the limit of {limit} bytes",
                              flags) + (False, True)
        bound = False
        try:
            for _ in range(3):
                d, out, base = self.inst.run(job, line_no, handle, flags)
                if d.status != STATUS_NEEDS_FONT:
                    return d, out, base, bound, False
                key = _string_at(base + d.data_ptr, d.data_len)
                try:
                    self._provide(d.kind, key)
                except HostFailure as f:
                    return self._fail(job, line_no, f.kind, f.reason, flags) + (bound, True)
                bound = True
            return self._fail(job, line_no, "internal", "the engine asked again for a font it was given",
                              flags) + (bound, True)
        except Trapped as t:
            self._after_trap(t)
            return self._fail(job, line_no, t.kind, self._trap_text(t), flags) + (bound, True)

    def _fail(self, job: Optional[bytes], line_no: int, kind: str, reason: str,
              flags: int = 0) -> Tuple[Descriptor, bytes, int]:
        """``haforu_result_error`` for a host-side failure, with the run's ``flags`` (a
        ``VALIDATE_ONLY`` run gets its verdict line); a second try without the job text, e.g.
        when the job cannot be copied in, gives the ``line-N`` id."""
        for attempt in (job, None):
            try:
                d, out = self.inst.result_error(attempt, line_no, kind, reason, flags)
                return d, out, 0
            except Trapped as t:
                self._after_trap(t)
                if attempt is None:
                    raise error_for_kind(t.kind, f"{reason}; and the engine could not report it: {t.message}") from None
        raise AssertionError("unreachable")  # pragma: no cover

    def _timed(self, out: bytes, t0: float) -> bytes:
        """The current result with the host-measured ``timing`` (``haforu_result_timing``)."""
        try:
            return self.inst.result_timing((_perf() - t0) * 1000.0)[1]
        except Trapped as t:
            self._after_trap(t)
            return out

    # -- JSON jobs -----------------------------------------------------------------------------

    def _job_bytes(self, job: Union[str, bytes, TooLong]) -> Optional[bytes]:
        """The job's bytes, or None for a job over the size limit (never copied)."""
        if isinstance(job, TooLong):
            return None
        if isinstance(job, str):
            # A str longer than the limit in characters is longer in bytes: never encode it.
            return None if len(job) > self.facts.max_job_bytes else job.encode("utf-8", "surrogatepass")
        return job

    def validate_json(self, job: Union[str, bytes, TooLong], line_no: int = 0) -> Outcome:
        """Check one job (``VALIDATE_ONLY``, fonts provided as for a run): the engine's verdict
        line ``{"id","valid",...}`` as it is, with the descriptor's status (0 valid, 1 invalid)
        and error-kind code."""
        self._check_fonts()
        d, out, _, _, _ = self._execute(self._job_bytes(job), line_no, VALIDATE_ONLY)
        return out.decode("utf-8"), d.status, d.kind

    def render_json(self, job: Union[str, bytes, TooLong], line_no: int = 0) -> str:
        """Run one job (JSON text, any bytes); always returns one result JSON (errors included)."""
        return self.render(job, line_no)[0]

    def render(self, job: Union[str, bytes, TooLong], line_no: int = 0) -> Outcome:
        """:meth:`render_json` with the descriptor's status (0 success, 1 error) and error-kind
        code (0 on success), for callers that count outcomes without reading the JSON. Image
        bytes come out of band and are base64-encoded here straight from linear memory (C speed,
        GIL released where possible, see _b64) into the place the engine reports
        (``SPLICE_DATA``): the text is the engine's inline output byte for byte."""
        t0 = _perf()
        job_bytes = self._job_bytes(job)
        self._check_fonts()
        d, out, base, _, _ = self._execute(job_bytes, line_no, SPLICE_DATA)
        n = d.data_len
        if d.status != STATUS_OK or not n:
            return self._timed(out, t0).decode("utf-8"), d.status, d.kind if d.status else 0
        s = d.splice_at
        m = 4 * ((n + 2) // 3)
        buf = bytearray(s + m + 1)
        buf[:s] = out[:s]
        encode_into(buf, s, base + d.data_ptr, n)
        timed = self._timed(out, t0)
        buf[s + m:] = timed[s:]
        return buf.decode("utf-8"), d.status, 0

    def render_out_of_band(self, job: Union[str, bytes, TooLong]) -> Tuple[str, bytes, int]:
        """Run one job with its image bytes out of band (``DATA_OUT_OF_BAND``): the result JSON
        (with ``timing``; an image's ``rendering`` has no ``data``), the image bytes (empty for
        other formats and errors), and the status (0 success)."""
        t0 = _perf()
        job_bytes = self._job_bytes(job)
        self._check_fonts()
        d, out, base, _, _ = self._execute(job_bytes, 0, DATA_OUT_OF_BAND)
        data = _string_at(base + d.data_ptr, d.data_len) if d.status == STATUS_OK and d.data_len else b""
        return self._timed(out, t0).decode("utf-8"), data, d.status

    def render_array(self, job: Union[str, bytes, TooLong], line_no: int = 0
                     ) -> "Tuple[str, Optional[npt.NDArray[np.uint8]], int]":
        """Run one JSON job for its pixels: (the result JSON, with ``timing`` and without
        ``rendering.data``; a new ``(height, width)`` uint8 array, or None; the status, 0 success).
        ``raw`` and ``pgm`` jobs give their pixels (copied once, straight from linear memory);
        any other success (``png``, ``metrics``, ``glyphs``, a sweep) becomes the engine's
        ``bad_job`` error result for the job, so that no answer is silently dropped."""
        t0 = _perf()
        job_bytes = self._job_bytes(job)
        self._check_fonts()
        d, out, base, _, _ = self._execute(job_bytes, line_no, DATA_OUT_OF_BAND)
        if d.status != STATUS_OK:
            return self._timed(out, t0).decode("utf-8"), None, d.status
        result = json.loads(out)
        rendering = result.get("rendering")
        fmt = rendering.get("format") if isinstance(rendering, dict) else None
        if fmt not in ("raw", "pgm"):
            what = (f"a `{fmt}` job" if fmt else "a sweep" if "points" in result
                    else "a `metrics` job" if "metrics" in result else "a `glyphs` job" if "glyphs" in result
                    else "a job without an image")
            d, out, _ = self._fail(job_bytes, line_no, "bad_job",
                                   f"this is {what}; render_batch_numpy returns the pixels of raw and pgm jobs "
                                   "(use render_batch for the others)", DATA_OUT_OF_BAND)
            return self._timed(out, t0).decode("utf-8"), None, d.status or 1
        width, height = int(rendering["width"]), int(rendering["height"])
        addr, n = base + d.data_ptr, d.data_len
        if fmt == "pgm" and n > width * height:  # the pixels are the file's last W x H bytes
            addr, n = addr + n - width * height, width * height
        if n != width * height:
            d, out, _ = self._fail(job_bytes, line_no, "internal",
                                   f"the engine returned {n} pixel bytes for a {width}x{height} canvas",
                                   DATA_OUT_OF_BAND)
            return self._timed(out, t0).decode("utf-8"), None, d.status or 1
        return self._timed(out, t0).decode("utf-8"), _gray_array(addr, width, height), 0

    # -- native calls --------------------------------------------------------------------------

    def run_native(self, job: bytes, job_id: str, font_path: Optional[str], flags: int = 0,
                   font_bytes: Optional[bytes] = None) -> Tuple[Dict[str, Any], Descriptor, int]:
        """Run a job built by the host: (parsed result, descriptor, memory base); an error
        result raises the matching HaforuError. The font is ``font_bytes`` when given (passed
        as ``haforu_run``'s font handle; the job names no font source), else the job's."""
        handle = 0
        fresh = False
        if font_bytes is not None:
            try:
                handle, fresh = self.bytes_handle(font_bytes)
            except Trapped as t:
                self._after_trap(t)
                d, out, _ = self._fail(job, 0, t.kind, self._trap_text(t))
                raise self._error_from(json.loads(out), job_id, None) from None
        elif font_path is not None:
            self._check_fonts(font_path.encode("utf-8", "surrogateescape"))
        d, out, base, bound, _ = self._execute(job, 0, flags, handle)
        result: Dict[str, Any] = json.loads(out)
        if d.status:
            raise self._error_from(result, job_id, font_path)
        if not bound and not fresh:
            self.font_hits += 1
        return result, d, base

    def render_pixels(
        self, job: bytes, width: int, height: int, job_id: str, font_path: Optional[str],
        font_bytes: Optional[bytes] = None,
    ) -> "npt.NDArray[np.uint8]":
        """Run a ``raw`` job with out-of-band data and return a new (H, W) array. The engine sends
        a small ink box alone (``INK_BOX``): numpy fills the white canvas and pastes the box,
        which gives the same pixels as copying a whole canvas out of linear memory, faster."""
        result, d, base = self.run_native(job, job_id, font_path, DATA_OUT_OF_BAND | INK_BOX, font_bytes)
        x, y, bw, bh = (int(v) for v in result["rendering"].get("data_box") or (0, 0, width, height))
        n = bw * bh
        if d.data_len != n or (n and not d.data_ptr) or x + bw > width or y + bh > height:
            raise RenderError(
                f"job {job_id!r}: the engine returned {d.data_len} pixel bytes for the box "
                f"{[x, y, bw, bh]} of a {width}x{height} canvas",
                "internal", job_id=job_id, font_path=font_path,
            )
        return _gray_array(base + d.data_ptr, width, height, (x, y, bw, bh))

    def run_sweep(self, job: bytes, job_id: str, font_path: Optional[str], font_bytes: Optional[bytes] = None
                  ) -> Tuple[Dict[str, Any], int, int]:
        """Run a sweep job with the point images out of band: (result, data address, data
        length); a job-level error raises. Copy the data before the next engine call."""
        result, d, base = self.run_native(job, job_id, font_path, POINTS_OUT_OF_BAND, font_bytes)
        return result, base + d.data_ptr, d.data_len

    @staticmethod
    def _error_from(result: Dict[str, Any], job_id: str, font_path: Optional[str]) -> HaforuError:
        kind = str(result.get("error_kind") or "internal")
        message = str(result.get("error") or "unknown error")
        if font_path is not None and font_path not in message:
            message = f"{message} (font {font_path!r})"
        return error_for_kind(kind, message, job_id=str(result.get("id") or job_id), font_path=font_path)

    # -- matching: images, image operations, sweeps, font info ------------------------------

    def _engine_error(self, out: bytes, what: str, font_path: Optional[str] = None) -> HaforuError:
        """The exception for the current engine error result of a non-job call (image op, font
        info): the engine restates it as the error of ``what`` (no job prefix)."""
        d, line = self.inst.result_restate(what, "", False)
        result: Dict[str, Any] = json.loads(line if d.status == 1 else out)
        kind = str(result.get("error_kind") or "internal")
        message = str(result.get("error") or "unknown error")
        err = error_for_kind(kind, f"{what}: {message}", font_path=font_path)
        err.result = out.decode("utf-8", "replace")
        return err

    def command_error(self, command: str, subject: str, font: bool, failure: Union[HaforuError, str],
                      kind: str = "internal") -> str:
        """The error line of the host command ``command`` about the file ``subject`` (``font``:
        a font file), written by the engine: the current error result restated when ``failure``
        is the exception of an engine error; else (a trap, or a reason the host found, of
        ``kind``) the engine's error for that reason."""
        d, line = self.inst.result_restate(command, subject, font)
        if d.status != 1 or not isinstance(failure, HaforuError) or failure.result is None:
            reason = failure if isinstance(failure, str) else str(failure)
            self.inst.result_error(None, 0, kind if isinstance(failure, str) else failure.kind, reason)
            d, line = self.inst.result_restate(command, subject, font)
        return line.decode("utf-8", "replace")

    def _trap_error(self, t: Trapped, what: str, font_path: Optional[str] = None) -> HaforuError:
        self._after_trap(t)
        return error_for_kind(t.kind, f"{what}: {self._trap_text(t)}", font_path=font_path)

    def register_image(self, addr: int, n: int, width: int, height: int, what: str) -> Tuple[int, int, int]:
        """Register ``n`` bytes at host address ``addr`` as a comparison image (``width × height``
        gray pixels, or PGM/PNG bytes with ``width = height = 0``); (handle, width, height)."""
        try:
            status, out = self.inst.image_register(addr, n, width, height)
        except Trapped as t:
            raise self._trap_error(t, what) from None
        if status:
            raise self._engine_error(out, what)
        obj = json.loads(out)
        return int(obj["handle"]), int(obj["width"]), int(obj["height"])

    def drop_image(self, handle: int) -> None:
        try:
            self.inst.image_drop(handle)
        except Trapped as t:
            self._after_trap(t)

    def image_op(self, request: Dict[str, Any], what: str) -> Tuple[Dict[str, Any], int, int]:
        """Run ``haforu_image_op``; returns (answer, data address, data length). The data stays
        valid until the next engine call; copy it first."""
        out, addr, n = self.image_op_text(request, what)
        answer: Dict[str, Any] = json.loads(out)
        return answer, addr, n

    def image_op_text(self, request: Dict[str, Any], what: str) -> Tuple[bytes, int, int]:
        """:meth:`image_op` with the answer as the engine's JSON text."""
        try:
            req = json.dumps(request, separators=(",", ":"), allow_nan=False).encode("utf-8")
        except (TypeError, ValueError) as exc:
            raise InvalidJobError(f"{what}: {exc}", "bad_job") from None
        try:
            d, out, base = self.inst.image_op(req)
        except Trapped as t:
            raise self._trap_error(t, what) from None
        if d.status:
            raise self._engine_error(out, what)
        return out, base + d.data_ptr, d.data_len

    def font_info_text(self, font: Union[str, bytes], face_index: int, what: str) -> bytes:
        """The engine's ``haforu_font_info`` JSON text for a font file (path) or font bytes,
        registered for this call only; an error result raises."""
        font_path: Optional[str] = None
        try:
            if isinstance(font, str):
                font_path = font
                data, _ = read_font_file(self.resolve_path(font), self.facts.max_font_bytes, font)
            else:
                data = font
        except HostFailure as f:
            raise error_for_kind(f.kind, f"{what}: {f.reason}", font_path=font_path) from None
        try:
            handle = self.inst.font_register(data)
            status, out = self.inst.font_info(handle, face_index)
            self.inst.font_drop(handle)  # (after a trap the rebuilt instance has forgotten it)
        except Trapped as t:
            raise self._trap_error(t, what, font_path) from None
        if status:
            err = self._engine_error(out, what, font_path)
            if font_path is not None and font_path not in str(err):
                err.args = (f"{err} (font {font_path!r})",)
            raise err
        return out

    # -- misc ----------------------------------------------------------------------------------

    def info(self) -> Dict[str, Any]:
        try:
            info: Dict[str, Any] = json.loads(self.inst.info())
        except Trapped as t:
            self._after_trap(t)
            raise error_for_kind(t.kind, self._trap_text(t)) from None
        return info

    def stats(self, engine_cache: Optional[Dict[str, Any]] = None) -> Dict[str, Any]:
        """The host's counters plus the engine's bound-font figures (``cache.bound_fonts`` of
        ``haforu_info``, passed in when the caller has it); ``fonts_registered`` counts the
        bound files and the in-memory fonts registered here."""
        inst = self.inst
        if engine_cache is None:
            engine_cache = self.info().get("cache", {})
        bound = engine_cache.get("bound_fonts") if isinstance(engine_cache, dict) else None
        if isinstance(bound, dict):
            entries = int(bound.get("entries", bound.get("fonts", 0)) or 0)
            font_bytes = bound.get("bytes")
            hits = bound.get("hits")
            evictions = bound.get("evictions")
        else:
            entries = int(bound or 0)
            font_bytes = hits = evictions = None
        entries += len(self._bytes_fonts)
        if font_bytes is not None:
            font_bytes = int(font_bytes) + sum(len(b) for b in self._bytes_fonts)
        if evictions is None:
            evictions = max(0, self.font_binds - self.font_changes - entries)
        return {
            "fonts_registered": entries,
            "font_bytes": int(font_bytes) if font_bytes is not None else None,
            "max_fonts": inst.max_fonts,
            "max_glyphs": inst.max_glyphs,
            "font_hits": int(hits) if hits is not None else self.font_hits,
            "font_misses": self.font_binds,
            "font_evictions": int(evictions),
            "font_changes": self.font_changes,
            "traps": inst.traps,
            "instance_rebuilds": inst.rebuilds,
            "wasm_memory_bytes": inst.memory_size(),
        }

    def split(self, spec: bytes) -> Tuple[int, bytes]:
        """``haforu_split``: ``(status, JSON)``, the JSON being ``N<TAB>JOB`` lines or (status 1)
        the envelope's error result. A trap raises the matching HaforuError."""
        try:
            return self.inst.split(spec)
        except Trapped as t:
            self._after_trap(t)
            raise error_for_kind(t.kind, f"splitting the job list: {self._trap_text(t)}") from None

    def envelope_probe(self, first_line: bytes) -> int:
        """``haforu_envelope_probe`` of an input's first line: 0 JSONL, 1 read it whole."""
        if len(first_line) > self.facts.max_job_bytes:
            return 0  # no envelope can be that long: JSONL, and the line an over-long job
        try:
            return self.inst.envelope_probe(first_line)
        except Trapped as t:
            self._after_trap(t)
            raise error_for_kind(t.kind, f"reading the job list: {self._trap_text(t)}") from None
