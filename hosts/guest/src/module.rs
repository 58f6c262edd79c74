//! Compiling `haforu.wasm` once per process, with an optional on-disk cache of the machine
//! code, and the epoch ticker that drives deadlines.

use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};
use wasmtime::{Config, Engine, Module};

use crate::exports::check_exports;

/// The epoch tick: the resolution of deadlines (one atomic increment per tick).
pub const EPOCH_TICK: Duration = Duration::from_millis(1);

/// Where compiled code may be cached.
#[derive(Clone, Debug, Default)]
pub enum CodeCache {
    /// Always compile.
    #[default]
    Off,
    /// Keep `haforu-<key>.cwasm` files in this directory; the key covers the module bytes,
    /// wasmtime's version and the engine configuration.
    Dir(PathBuf),
}

/// How the compiled code was obtained.
#[derive(Clone, Debug)]
pub struct LoadInfo {
    /// The cache file used or written, if caching was on.
    pub cache_path: Option<PathBuf>,
    /// True when the code came from the cache.
    pub cache_hit: bool,
    /// Time to compile or load, ms.
    pub load_ms: f64,
    /// SHA-256 of the module bytes, hex.
    pub sha256: String,
}

/// The wasmtime engine and the compiled module, shared by every [`crate::Guest`] of a process.
pub struct GuestModule {
    pub(crate) engine: Engine,
    pub(crate) module: Module,
    pub(crate) epoch: bool,
    load: LoadInfo,
}

impl GuestModule {
    /// Compiles `wasm` (or loads its code from `cache`), checks its imports and exports, and
    /// with `deadlines` compiles in epoch checks and starts a thread that ticks every
    /// [`EPOCH_TICK`] (without them code runs ~1.3× faster but a call may never return).
    pub fn load(wasm: &[u8], deadlines: bool, cache: CodeCache) -> Result<GuestModule, String> {
        let mut config = Config::new();
        config.epoch_interruption(deadlines);
        config.cranelift_opt_level(wasmtime::OptLevel::Speed);
        // `perf record` needs to know the JIT code's symbols (examples/wasm_profile.rs).
        if std::env::var_os("HAFORU_PERFMAP").is_some() {
            config.profiler(wasmtime::ProfilingStrategy::PerfMap);
        }
        let engine = Engine::new(&config).map_err(|e| format!("wasmtime engine: {e}"))?;
        let t0 = Instant::now();
        let sha256: String = Sha256::digest(wasm)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        let (module, cache_path, cache_hit) = compile(&engine, wasm, &sha256, &cache)?;
        check_exports(&module)?;
        if deadlines {
            let ticker = engine.clone();
            std::thread::Builder::new()
                .name("haforu-epoch".into())
                .spawn(move || loop {
                    std::thread::sleep(EPOCH_TICK);
                    ticker.increment_epoch();
                })
                .map_err(|e| format!("epoch thread: {e}"))?;
        }
        Ok(GuestModule {
            engine,
            module,
            epoch: deadlines,
            load: LoadInfo {
                cache_path,
                cache_hit,
                load_ms: t0.elapsed().as_secs_f64() * 1e3,
                sha256,
            },
        })
    }

    /// How the code was obtained.
    pub fn load_info(&self) -> &LoadInfo {
        &self.load
    }

    /// True when calls run under epoch deadlines.
    pub fn has_deadlines(&self) -> bool {
        self.epoch
    }
}

fn compile(
    engine: &Engine,
    wasm: &[u8],
    sha256: &str,
    cache: &CodeCache,
) -> Result<(Module, Option<PathBuf>, bool), String> {
    let path = match cache {
        CodeCache::Off => None,
        CodeCache::Dir(dir) => {
            let mut h = DefaultHasher::new();
            engine.precompile_compatibility_hash().hash(&mut h);
            Some(dir.join(format!(
                "haforu-{}-{:016x}.cwasm",
                &sha256[..16],
                h.finish()
            )))
        }
    };
    if let Some(p) = path.as_ref().filter(|p| p.is_file()) {
        // SAFETY: `deserialize_file` runs the machine code in the file. The file lives in the
        // caller's cache directory, was written by this function from `Module::serialize`,
        // and its name carries the hash of the wasm and of the engine configuration; wasmtime
        // itself rejects files from another version or configuration (then we recompile).
        // Someone able to write there can already change what the user runs.
        match unsafe { Module::deserialize_file(engine, p) } {
            Ok(m) => return Ok((m, path, true)),
            Err(_) => {
                let _ = std::fs::remove_file(p);
            }
        }
    }
    let module = Module::new(engine, wasm).map_err(|e| format!("compiling haforu.wasm: {e}"))?;
    if let Some(p) = &path {
        // Best effort: a read-only or full disk only costs the next start a compile.
        if let Ok(bytes) = module.serialize() {
            if let Some(dir) = p.parent() {
                let _ = std::fs::create_dir_all(dir);
            }
            let tmp = p.with_extension(format!("tmp{}", std::process::id()));
            if std::fs::write(&tmp, &bytes).is_ok() && std::fs::rename(&tmp, p).is_err() {
                let _ = std::fs::remove_file(&tmp);
            }
        }
    }
    Ok((module, path, false))
}

#[cfg(test)]
pub(crate) mod tests {
    use std::path::{Path, PathBuf};

    /// The module the tests run: `$HAFORU_WASM`, else `target/haforu.wasm` (`make wasm`).
    pub fn module_bytes() -> Vec<u8> {
        let path = std::env::var_os("HAFORU_WASM").map_or_else(
            || Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/haforu.wasm"),
            PathBuf::from,
        );
        std::fs::read(&path).unwrap_or_else(|e| {
            panic!(
                "{}: {e} (run `make wasm` or set HAFORU_WASM)",
                path.display()
            )
        })
    }
}
