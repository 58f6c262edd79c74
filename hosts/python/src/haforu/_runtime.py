"""Loading ``haforu.wasm``: one wasmtime Engine + compiled Module per configuration, per process.

The compiled machine code is cached on disk (``Module.serialize``), keyed by the wasm's sha256, the
wasmtime version, the engine configuration and the machine, so a second process starts without
compiling (deserialising takes well under a millisecond; compiling takes ~0.5 s).
"""

from __future__ import annotations

import hashlib
import importlib.resources
import os
import platform
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, Optional

import wasmtime

__all__ = ["Runtime", "get_runtime", "wasm_path", "default_font_path", "cache_dir", "EPOCH_TICK_MS"]

#: Granularity of the deadline clock: a background thread bumps the engine epoch this often.
#: A deadline of ``timeout_ms`` therefore fires between ``timeout_ms`` and ``timeout_ms + 2·tick``.
EPOCH_TICK_MS = 5

_DEFAULT_FONT = "Inter-VF-Latin.ttf"


def wasm_path() -> Path:
    """The ``haforu.wasm`` in use: ``$HAFORU_WASM`` if set, else the one shipped in the package."""
    override = os.environ.get("HAFORU_WASM")
    if override:
        return Path(override)
    return Path(str(importlib.resources.files("haforu").joinpath("haforu.wasm")))


def default_font_path() -> Optional[Path]:
    """The bundled default font (Inter variable, Latin subset), or None if this build lacks it."""
    p = Path(str(importlib.resources.files("haforu").joinpath("default_font", _DEFAULT_FONT)))
    return p if p.is_file() else None


def cache_dir() -> Optional[Path]:
    """Where compiled modules are cached: ``$HAFORU_CACHE_DIR``, else ``$XDG_CACHE_HOME/haforu``
    or ``~/.cache/haforu``. ``HAFORU_CACHE_DIR=""`` (empty) disables the cache."""
    env = os.environ.get("HAFORU_CACHE_DIR")
    if env is not None:
        return Path(env) if env else None
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg) if xdg else Path.home() / ".cache"
    return base / "haforu"


def wasmtime_version() -> str:
    """The installed wasmtime-py version, read from its dist-info directory name (importing
    importlib.metadata would cost tens of milliseconds of start-up)."""
    site = Path(wasmtime.__file__).resolve().parent.parent
    for d in site.glob("wasmtime-*.dist-info"):
        return d.name[len("wasmtime-"):-len(".dist-info")]
    import importlib.metadata

    try:
        return importlib.metadata.version("wasmtime")
    except importlib.metadata.PackageNotFoundError:  # pragma: no cover - vendored wasmtime
        return "unknown"


@dataclass
class Runtime:
    """A wasmtime Engine and the compiled haforu Module for one configuration (shared, thread-safe)."""

    engine: wasmtime.Engine
    module: wasmtime.Module
    epoch: bool
    wasm_sha256: str
    cache_file: Optional[Path]
    #: "hit" (deserialised from disk), "miss" (compiled, then stored) or "off" (compiled, no cache)
    cache_status: str
    load_ms: float
    _ticker: Optional[threading.Thread] = field(default=None, repr=False)
    _ticker_lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def ensure_ticker(self) -> None:
        """Start (once) the daemon thread that advances the epoch clock of this engine."""
        if self._ticker is not None:
            return
        with self._ticker_lock:
            if self._ticker is not None:
                return
            engine = self.engine

            def tick() -> None:
                period = EPOCH_TICK_MS / 1000.0
                while True:
                    time.sleep(period)
                    engine.increment_epoch()

            t = threading.Thread(target=tick, name="haforu-epoch", daemon=True)
            t.start()
            self._ticker = t


_RUNTIMES: Dict[bool, Runtime] = {}
_RUNTIMES_LOCK = threading.Lock()


def get_runtime(epoch: bool = False) -> Runtime:
    """The process-wide runtime; ``epoch=True`` compiles with epoch interruption (deadlines)."""
    rt = _RUNTIMES.get(epoch)
    if rt is not None:
        return rt
    with _RUNTIMES_LOCK:
        rt = _RUNTIMES.get(epoch)
        if rt is None:
            rt = _load(epoch)
            _RUNTIMES[epoch] = rt
        return rt


def _load(epoch: bool) -> Runtime:
    t0 = time.perf_counter()
    path = wasm_path()
    try:
        wasm = path.read_bytes()
    except OSError as exc:
        raise RuntimeError(
            f"haforu.wasm not found at {path}: this haforu build is incomplete "
            "(build the wasm with `make wasm`, then rebuild the wheel)"
        ) from exc
    digest = hashlib.sha256(wasm).hexdigest()
    config = wasmtime.Config()
    if epoch:
        config.epoch_interruption = True
    engine = wasmtime.Engine(config)
    tag = "epoch" if epoch else "plain"
    cdir = cache_dir()
    cache_file: Optional[Path] = None
    module: Optional[wasmtime.Module] = None
    status = "off"
    if cdir is not None:
        name = f"haforu-{digest[:24]}-wasmtime{wasmtime_version()}-{tag}-{platform.machine()}.cwasm"
        cache_file = cdir / name
        if cache_file.is_file():
            try:
                module = wasmtime.Module.deserialize_file(engine, str(cache_file))
                status = "hit"
            except Exception:  # stale or corrupt cache entry: recompile below
                module = None
    if module is None:
        module = wasmtime.Module(engine, wasm)
        if cache_file is not None:
            status = "miss" if _store(cache_file, module) else "off"
    return Runtime(
        engine=engine,
        module=module,
        epoch=epoch,
        wasm_sha256=digest,
        cache_file=cache_file,
        cache_status=status,
        load_ms=(time.perf_counter() - t0) * 1000.0,
    )


def _store(cache_file: Path, module: wasmtime.Module) -> bool:
    """Write the serialised module atomically; a read-only cache directory is not an error."""
    try:
        cache_file.parent.mkdir(parents=True, exist_ok=True)
        data = bytes(module.serialize())
        fd, tmp = tempfile.mkstemp(dir=str(cache_file.parent), prefix=".tmp-", suffix=".cwasm")
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(data)
            os.replace(tmp, cache_file)
        except BaseException:
            try:
                os.unlink(tmp)
            except OSError:
                pass
            raise
        return True
    except OSError:
        return False
