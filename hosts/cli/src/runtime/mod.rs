//! The engine as this CLI runs it: the embedded module (compiled once, code cached on disk),
//! the sandbox configuration, the facts read from the engine (`haforu_info`: limits and
//! error-kind names), the shared font-file cache and the counters every worker updates.
//!
//! Each thread owns a [`Worker`] (one sandboxed [`haforu_guest::Guest`] at a time). A trap
//! becomes an error result written by the engine (`haforu_result_error`) and the instance is
//! thrown away; instances are also recycled after a number of jobs or when their memory passes
//! a threshold, so a long run cannot creep.

mod bind;
mod fonts;
mod splice;
mod worker;

use std::path::PathBuf;
use std::sync::atomic::AtomicU64;
use std::sync::{Arc, OnceLock};

use haforu_guest::{CodeCache, GuestModule, LoadInfo, SandboxLimits};

pub use fonts::{FontError, FontFiles};
pub use worker::{Outcome, Split, Worker};

/// The module, embedded at build time (see build.rs).
pub static WASM: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/haforu.wasm"));
/// SHA-256 of [`WASM`], hex.
pub const WASM_SHA256: &str = env!("HAFORU_WASM_SHA256");
/// The wasmtime crate version this binary was built with.
pub const WASMTIME_VERSION: &str = env!("HAFORU_WASMTIME_VERSION");

/// Font bindings per engine instance (`--max-fonts`; the engine drops the least recently used).
pub const REGISTERED_FONTS_DEFAULT: usize = 512;

/// The sandbox applied to every job.
#[derive(Clone, Debug)]
pub struct Sandbox {
    /// Linear-memory cap per instance, in MiB.
    pub memory_mb: u64,
    /// Deadline per job in ms; 0 turns epoch interruption off (faster, no hang protection).
    pub timeout_ms: u64,
    /// Rebuild an instance after this many jobs (0 = never by count).
    pub recycle_jobs: u64,
    /// Rebuild an instance once its linear memory exceeds this many MiB after a job.
    pub recycle_memory_mb: u64,
    /// Fonts kept bound per instance (`haforu_cache_config`'s `max_fonts`).
    pub max_fonts: usize,
    /// Capacity of the engine's glyph coverage cache in glyphs (`None`: the engine's default,
    /// `Some(0)`: cache off), set with `haforu_cache_config` on every new instance.
    pub max_glyphs: Option<u32>,
    /// When set (canonical), `font.path` is resolved against it and must stay inside it.
    pub base_dir: Option<PathBuf>,
}

impl Default for Sandbox {
    fn default() -> Self {
        Sandbox {
            memory_mb: 512,
            timeout_ms: 10_000,
            recycle_jobs: 100_000,
            recycle_memory_mb: 256,
            max_fonts: REGISTERED_FONTS_DEFAULT,
            max_glyphs: None,
            base_dir: None,
        }
    }
}

/// What the engine says about itself (`haforu_info`), read once at start.
pub struct Facts {
    /// `error_kinds[code - 1]` names error-kind `code`.
    pub error_kinds: Vec<String>,
    /// `limits.max_font_bytes`: the largest font file the host reads.
    pub max_font_bytes: u64,
    /// `limits.max_job_json_bytes`: the largest job text the engine takes.
    pub max_job_bytes: u64,
    /// `limits.max_canvas_side` and `limits.max_canvas_pixels` (for `render`'s defaults).
    pub max_canvas_side: u64,
    pub max_canvas_pixels: u64,
}

/// The engine, the compiled module and counters shared by every worker.
pub struct Runtime {
    module: GuestModule,
    pub sandbox: Sandbox,
    pub facts: Facts,
    pub fonts: FontFiles,
    /// The server's `--fonts` directory (canonical): where `font.name` is looked up.
    fonts_dir: OnceLock<PathBuf>,
    pub recycles: AtomicU64,
    pub traps: AtomicU64,
    pub instances_built: AtomicU64,
}

impl Runtime {
    /// Loads the module (from the code cache when possible), starts the epoch ticker when a
    /// deadline is configured and reads the engine's facts from a first instance.
    pub fn new(sandbox: Sandbox) -> Result<Arc<Runtime>, String> {
        let module = GuestModule::load(WASM, sandbox.timeout_ms > 0, code_cache())?;
        give_back_freed_memory();
        let mut guest =
            haforu_guest::Guest::new(&module, SandboxLimits::default()).map_err(|f| f.reason)?;
        let d = guest.info().map_err(|f| f.reason)?;
        let info: serde_json::Value = serde_json::from_slice(guest.json(&d).map_err(|f| f.reason)?)
            .map_err(|e| format!("haforu_info returned bad JSON: {e}"))?;
        let limit = |k: &str| -> Result<u64, String> {
            info["limits"][k]
                .as_u64()
                .ok_or_else(|| format!("haforu_info has no limits.{k}"))
        };
        let error_kinds = info["error_kinds"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|k| k.as_str().map(str::to_string))
                    .collect()
            })
            .ok_or("haforu_info has no error_kinds")?;
        let facts = Facts {
            max_font_bytes: limit("max_font_bytes")?,
            max_job_bytes: limit("max_job_json_bytes")?,
            max_canvas_side: limit("max_canvas_side")?,
            max_canvas_pixels: limit("max_canvas_pixels")?,
            error_kinds,
        };
        Ok(Arc::new(Runtime {
            module,
            sandbox,
            facts,
            fonts: FontFiles::new(),
            fonts_dir: OnceLock::new(),
            recycles: AtomicU64::new(0),
            traps: AtomicU64::new(0),
            instances_built: AtomicU64::new(0),
        }))
    }

    /// How the compiled code was obtained at start-up.
    pub fn load_info(&self) -> &LoadInfo {
        self.module.load_info()
    }

    /// The name of error-kind `code` (from `haforu_info`); `"internal"` for an unknown code.
    pub fn kind_name(&self, code: u32) -> &str {
        (code as usize)
            .checked_sub(1)
            .and_then(|i| self.facts.error_kinds.get(i))
            .map_or("internal", String::as_str)
    }

    /// Sets the directory `font.name` is looked up in (the server's `--fonts`, canonical).
    pub fn set_fonts_dir(&self, dir: PathBuf) {
        let _ = self.fonts_dir.set(dir);
    }

    /// The directory of `font.name` fonts, if the server has one.
    pub fn fonts_dir(&self) -> Option<&std::path::Path> {
        self.fonts_dir.get().map(PathBuf::as_path)
    }

    /// The file a job's `font.path` names: the path itself, or with `--base-dir` the path taken
    /// from that directory, symlinks resolved, refused when it ends up outside it.
    pub fn resolve_font_path(&self, path: &str) -> Result<PathBuf, String> {
        let Some(base) = &self.sandbox.base_dir else {
            return Ok(PathBuf::from(path));
        };
        let joined = base.join(path);
        match joined.canonicalize() {
            Ok(real) if real.starts_with(base) => Ok(real),
            Ok(_) => Err(format!(
                "font path '{path}' resolves outside --base-dir {}",
                base.display()
            )),
            // Missing files are reported by the font reader, with the usual message.
            Err(_) => Ok(joined),
        }
    }

    /// A worker with the configured memory cap.
    pub fn worker(self: &Arc<Self>) -> Worker {
        let cap = self.sandbox.memory_mb.saturating_mul(1 << 20);
        Worker::new(Arc::clone(self), cap)
    }

    /// A worker with its own memory cap (the envelope splitter needs room for a big input).
    pub fn worker_with_cap(self: &Arc<Self>, memory_cap_bytes: u64) -> Worker {
        Worker::new(Arc::clone(self), memory_cap_bytes)
    }
}

/// Returns memory freed inside the allocator to the system (at start, and after each job of the
/// server's heavy lane). Compiling the module (a code-cache
/// miss) leaves ~35 MB free in the compiler threads' malloc arenas (82 → 46 MB RSS at start),
/// which glibc would otherwise keep for the life of a long-running `serve`.
pub fn give_back_freed_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only releases free pages of the allocator's own arenas.
    unsafe {
        libc::malloc_trim(0);
    }
}

/// Where the compiled code is cached: `$HAFORU_CACHE_DIR`, else `$XDG_CACHE_HOME/haforu`, else
/// `~/.cache/haforu`. `HAFORU_NO_CACHE=1` turns the cache off.
fn code_cache() -> CodeCache {
    if std::env::var_os("HAFORU_NO_CACHE").is_some_and(|v| !v.is_empty() && v != "0") {
        return CodeCache::Off;
    }
    let dir = if let Some(d) = std::env::var_os("HAFORU_CACHE_DIR") {
        Some(PathBuf::from(d))
    } else if let Some(d) = std::env::var_os("XDG_CACHE_HOME").filter(|d| !d.is_empty()) {
        Some(PathBuf::from(d).join("haforu"))
    } else {
        std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache/haforu"))
    };
    dir.map_or(CodeCache::Off, CodeCache::Dir)
}
