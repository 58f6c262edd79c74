"""Job-level logic shared by the session and the batch workers: font paths resolved by the host
(with ``base_dir`` containment), handles passed to the engine, timing added, traps turned into
error results with the instance rebuilt."""

from __future__ import annotations

import ctypes
import json
import os
import time
from typing import TYPE_CHECKING, Any, Dict, Optional, Tuple, Union

import wasmtime

from ._b64 import encode_into
from ._instance import FLAG_DATA_OUT_OF_BAND, FLAG_POINTS_OUT_OF_BAND, Trapped, WasmInstance
from ._runtime import get_runtime
from .errors import FontNotFoundError, HaforuError, InvalidJobError, RenderError, error_for_kind

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

__all__ = ["Renderer", "error_result", "with_timing"]

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
_IMAGE_FORMATS = frozenset({"raw", "pgm", "png"})
_RENDERING_KEY = b'"rendering":{'
_ENCODING_KEY = b'"encoding":"base64",'


def with_timing(result: bytes, t0: float) -> str:
    """Append the host-measured ``timing.total_ms`` (ABI *Timing*: replace the final ``}``)."""
    total_ms = (_perf() - t0) * 1000.0
    return result[:-1].decode("utf-8") + ',"timing":{"total_ms":%.4f}}' % total_ms


def error_result(job_id: str, kind: str, message: str, t0: Optional[float] = None) -> str:
    """An error result built by the host (same shape as the engine's)."""
    obj: Dict[str, Any] = {"id": job_id, "status": "error", "error": message, "error_kind": kind}
    if t0 is not None:
        obj["timing"] = {"total_ms": round((_perf() - t0) * 1000.0, 4)}
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False)


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
    ) -> None:
        if timeout_ms is not None and (not isinstance(timeout_ms, int) or timeout_ms <= 0):
            raise ValueError("timeout_ms must be a positive integer (milliseconds) or None")
        if memory_limit_mb is not None and (not isinstance(memory_limit_mb, int) or memory_limit_mb <= 0):
            raise ValueError("memory_limit_mb must be a positive integer (MiB) or None")
        self.base_dir = os.path.realpath(os.fspath(base_dir)) if base_dir is not None else None
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

    def close(self) -> None:
        self.inst.close()

    # -- fonts ---------------------------------------------------------------------------------

    def resolve_path(self, path: str) -> str:
        """The path to open. With ``base_dir``: relative paths are taken from it, symlinks are
        resolved, and anything that ends up outside it is refused as ``font_not_found``."""
        base = self.base_dir
        if base is None:
            return path
        real = os.path.realpath(os.path.join(base, path))
        if real != base and not real.startswith(base.rstrip(os.sep) + os.sep):
            raise FontNotFoundError(
                f"font path {path!r} resolves outside base_dir {base!r}", "font_not_found", font_path=path
            )
        return real

    def font_handle(self, path: str, job_id: Optional[str] = None) -> int:
        """Register (once) the font file at ``path``; raise HaforuError on failure."""
        try:
            return self._font_handle(path)
        except HaforuError as exc:
            if job_id is not None:
                exc.args = (f"job {job_id!r}: {exc}",)
                exc.job_id = job_id
            raise

    def _font_handle(self, path: str) -> int:
        real = self.resolve_path(path)
        try:
            return self.inst.font_for_path(real)
        except IsADirectoryError:
            raise FontNotFoundError(f"font path {path!r} is a directory", "font_not_found", font_path=path) from None
        except OSError as exc:
            reason = exc.strerror or type(exc).__name__
            raise FontNotFoundError(
                f"font file {path!r} cannot be read: {reason}", "font_not_found", font_path=path
            ) from None
        except Trapped as t:
            self._after_trap(t)
            raise error_for_kind(t.kind, f"font {path!r}: {t.message}", font_path=path) from None

    def bytes_handle(self, data: bytes) -> int:
        try:
            return self.inst.font_for_bytes(data)
        except Trapped as t:
            self._after_trap(t)
            raise error_for_kind(t.kind, f"font bytes: {t.message}") from None

    def _after_trap(self, t: Trapped) -> None:
        if t.fatal:
            self.inst.rebuild()

    # -- JSON jobs -----------------------------------------------------------------------------

    def render_json(self, job: Union[str, bytes], line_no: int = 0) -> str:
        """Run one job (JSON text); always returns one result JSON (errors included)."""
        t0 = _perf()
        job_bytes = job.encode("utf-8") if isinstance(job, str) else bytes(job)
        job_id = f"line-{line_no}" if line_no else "job"
        handle = 0
        mem_hint = 0
        image = False
        try:
            obj: Any = json.loads(job_bytes)
        except ValueError:
            obj = None  # the engine reports it as bad_json
        if isinstance(obj, dict):
            jid = obj.get("id")
            if isinstance(jid, str) and jid:
                job_id = jid
            rendering = obj.get("rendering")
            if isinstance(rendering, dict):
                image = rendering.get("format") in _IMAGE_FORMATS
                w, h = rendering.get("width"), rendering.get("height")
                if isinstance(w, int) and isinstance(h, int) and w > 0 and h > 0:
                    mem_hint = w * h
            font = obj.get("font")
            if isinstance(font, dict) and "data" not in font and "handle" not in font:
                path = font.get("path")
                if isinstance(path, str) and path:
                    try:
                        handle = self.font_handle(path, job_id)
                    except HaforuError as exc:
                        return error_result(job_id, exc.kind, str(exc), t0)
        try:
            if image:
                return self._render_image_json(job_bytes, line_no, handle, mem_hint, t0)
            _, out, _, _, _ = self.inst.run(job_bytes, line_no, handle, 0, mem_hint)
        except Trapped as t:
            self._after_trap(t)
            return error_result(job_id, t.kind, f"job {job_id!r}: {self._trap_text(t)}", t0)
        return with_timing(out, t0)

    def _render_image_json(self, job: bytes, line_no: int, handle: int, mem_hint: int, t0: float) -> str:
        """Image formats: the engine leaves the bytes out of band; they are base64-encoded here
        straight from linear memory (C speed, GIL released where possible, see _b64) and
        ``"data"`` is put where the engine puts it (after ``"encoding":"base64",``), so the text
        is byte-identical to the engine's inline output, only faster."""
        status, out, data_ptr, data_len, base = self.inst.run(job, line_no, handle, FLAG_DATA_OUT_OF_BAND, mem_hint)
        if status or not data_len:
            return with_timing(out, t0)
        at = out.find(_RENDERING_KEY)
        if at < 0:  # pragma: no cover - the engine always writes a rendering object here
            raise Trapped("internal", "image result without a rendering object", fatal=False)
        enc = out.find(_ENCODING_KEY, at)
        cut = enc + len(_ENCODING_KEY) if enc >= 0 else at + len(_RENDERING_KEY)
        head = out[:cut] + b'"data":"'
        m = 4 * ((data_len + 2) // 3)
        buf = bytearray(len(head) + m + 1)
        buf[: len(head)] = head
        encode_into(buf, len(head), base + data_ptr, data_len)
        total_ms = (_perf() - t0) * 1000.0
        buf[len(head) + m:] = b'",' + out[cut:-1] + b',"timing":{"total_ms":%.4f}}' % total_ms
        return buf.decode("utf-8")

    def _trap_text(self, t: Trapped) -> str:
        if t.fatal:
            return f"{t.message} (the engine instance was rebuilt)"
        return t.message

    # -- native calls --------------------------------------------------------------------------

    def run_native(self, job: bytes, handle: int, job_id: str, font_path: Optional[str],
                   mem_hint: int = 0) -> Dict[str, Any]:
        """Run a job built by the host; return the parsed result or raise the matching error."""
        try:
            status, out, _, _, _ = self.inst.run(job, 0, handle, 0, mem_hint)
        except Trapped as t:
            self._after_trap(t)
            raise error_for_kind(t.kind, f"job {job_id!r}: {self._trap_text(t)}", job_id=job_id, font_path=font_path) from None
        result: Dict[str, Any] = json.loads(out)
        if status:
            raise self._error_from(result, job_id, font_path)
        return result

    def render_pixels(
        self, job: bytes, handle: int, width: int, height: int, job_id: str, font_path: Optional[str]
    ) -> "npt.NDArray[np.uint8]":
        """Run a ``raw`` job with out-of-band data; copy the pixels once into a new (H, W) array."""
        try:
            status, out, data_ptr, data_len, base = self.inst.run(
                job, 0, handle, FLAG_DATA_OUT_OF_BAND, width * height)
        except Trapped as t:
            self._after_trap(t)
            raise error_for_kind(t.kind, f"job {job_id!r}: {self._trap_text(t)}", job_id=job_id, font_path=font_path) from None
        if status:
            raise self._error_from(json.loads(out), job_id, font_path)
        n = width * height
        if data_len != n or (n and not data_ptr):
            raise RenderError(
                f"job {job_id!r}: the engine returned {data_len} pixel bytes for a {width}x{height} canvas",
                "internal", job_id=job_id, font_path=font_path,
            )
        np_ = _np if _np is not None else _numpy()
        arr: "npt.NDArray[np.uint8]" = np_.empty((height, width), dtype=np_.uint8)
        if n:
            # One copy, straight from linear memory into the array's buffer.
            _memmove(arr.ctypes.data, base + data_ptr, n)
        return arr

    @staticmethod
    def _error_from(result: Dict[str, Any], job_id: str, font_path: Optional[str]) -> HaforuError:
        kind = str(result.get("error_kind") or "internal")
        message = str(result.get("error") or "unknown error")
        if job_id not in message:
            message = f"job {job_id!r}: {message}"
        if font_path is not None and font_path not in message:
            message = f"{message} (font {font_path!r})"
        return error_for_kind(kind, message, job_id=job_id, font_path=font_path)

    # -- matching: images, image operations, sweeps, font info ------------------------------

    def _engine_error(self, out: bytes, what: str, font_path: Optional[str] = None) -> HaforuError:
        """The exception for an engine error result of a non-job call (image op, font info):
        the engine's ``job `id`: `` prefix is replaced by ``what``."""
        result: Dict[str, Any] = json.loads(out)
        kind = str(result.get("error_kind") or "internal")
        message = str(result.get("error") or "unknown error")
        prefix = f"job `{result.get('id')}`: "
        if message.startswith(prefix):
            message = message[len(prefix):]
        return error_for_kind(kind, f"{what}: {message}", font_path=font_path)

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
            status, out, data_ptr, data_len, base = self.inst.image_op(req)
        except Trapped as t:
            raise self._trap_error(t, what) from None
        if status:
            raise self._engine_error(out, what)
        return out, base + data_ptr, data_len

    def font_info(self, handle: int, face_index: int, what: str, font_path: Optional[str]) -> Dict[str, Any]:
        info: Dict[str, Any] = json.loads(self.font_info_text(handle, face_index, what, font_path))
        return info

    def font_info_text(self, handle: int, face_index: int, what: str, font_path: Optional[str]) -> bytes:
        """The engine's ``haforu_font_info`` JSON text; an error result raises."""
        try:
            status, out = self.inst.font_info(handle, face_index)
        except Trapped as t:
            raise self._trap_error(t, what, font_path) from None
        if status:
            err = self._engine_error(out, what, font_path)
            if font_path is not None and font_path not in str(err):
                err.args = (f"{err} (font {font_path!r})",)
            raise err
        return out

    def run_sweep(self, job: bytes, handle: int, job_id: str, font_path: Optional[str],
                  mem_hint: int) -> Tuple[Dict[str, Any], int, int]:
        """Run a sweep job with the point images out of band: (result, data address, data
        length); a job-level error raises. Copy the data before the next engine call."""
        try:
            status, out, data_ptr, data_len, base = self.inst.run(job, 0, handle, FLAG_POINTS_OUT_OF_BAND, mem_hint)
        except Trapped as t:
            self._after_trap(t)
            raise error_for_kind(t.kind, f"job {job_id!r}: {self._trap_text(t)}", job_id=job_id, font_path=font_path) from None
        result: Dict[str, Any] = json.loads(out)
        if status:
            raise self._error_from(result, job_id, font_path)
        return result, base + data_ptr, data_len

    # -- misc ----------------------------------------------------------------------------------

    def info(self) -> Dict[str, Any]:
        try:
            info: Dict[str, Any] = json.loads(self.inst.info())
        except Trapped as t:
            self._after_trap(t)
            raise error_for_kind(t.kind, self._trap_text(t)) from None
        return info

    def stats(self) -> Dict[str, Any]:
        inst = self.inst
        return {
            "fonts_registered": len(inst.fonts),
            "font_bytes": inst.font_bytes_registered(),
            "max_fonts": inst.max_fonts,
            "max_glyphs": inst.max_glyphs,
            "font_hits": inst.font_hits,
            "font_misses": inst.font_misses,
            "font_evictions": inst.font_evictions,
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
