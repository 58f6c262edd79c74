//! haforu.wasm on wasmtime: the embedded module, its on-disk code cache, the sandbox, and one
//! [`Worker`] (a Store plus an instance) per thread.
//!
//! Every call into the module runs under a memory cap (a [`ResourceLimiter`]) and, unless turned
//! off, an epoch deadline. A trap becomes an error result (`resource_limit` for the deadline, the
//! memory cap or stack exhaustion, `internal` for anything else, e.g. a guest panic) and the
//! instance is thrown away; the next job gets a fresh one with fonts re-registered lazily.
//! Instances are also recycled after a number of jobs or when their memory passes a threshold,
//! so a long run cannot creep.

use std::collections::hash_map::DefaultHasher;
use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use wasmtime::{Config, Engine, Instance, Memory, Module, ResourceLimiter, Store, Trap, TypedFunc};

use crate::fonts::{FontFiles, LoadedFont};
use crate::job::{self, ErrorKind, Outcome};

/// The module, embedded at build time (see build.rs).
pub static WASM: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/haforu.wasm"));
/// SHA-256 of [`WASM`], hex.
pub const WASM_SHA256: &str = env!("HAFORU_WASM_SHA256");
/// The wasmtime crate version this binary was built with.
pub const WASMTIME_VERSION: &str = env!("HAFORU_WASMTIME_VERSION");
/// The only ABI version this host speaks (wasm/README.md).
pub const ABI_VERSION: i32 = 1;

/// `haforu_run` flag: leave image bytes out of band instead of base64 in the JSON.
pub const FLAG_DATA_OUT_OF_BAND: u32 = 1;

/// Epoch tick: the deadline's resolution. A 1 ms tick costs one atomic increment per ms.
const EPOCH_TICK: Duration = Duration::from_millis(1);
/// Font bytes a worker keeps registered inside its instance before it drops the least recently
/// used ones (they live in the guest's linear memory, which counts against the memory cap).
const REGISTERED_FONT_BYTES_MAX: usize = 128 << 20;
/// Registered fonts per instance, whatever their size (`--max-fonts`).
pub const REGISTERED_FONTS_DEFAULT: usize = 512;
/// Table elements an instance may grow to (the module has one small function table).
const TABLE_ELEMENTS_MAX: usize = 100_000;

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
    /// Fonts kept registered per instance (least recently used dropped beyond it).
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

/// How the compiled code was obtained at start-up.
#[derive(Clone, Debug)]
pub struct LoadInfo {
    pub cache_path: Option<PathBuf>,
    pub cache_hit: bool,
    pub load_ms: f64,
}

/// The engine, the compiled module and counters shared by every worker.
pub struct Runtime {
    engine: Engine,
    module: Module,
    pub sandbox: Sandbox,
    pub load: LoadInfo,
    pub fonts: FontFiles,
    pub recycles: AtomicU64,
    pub traps: AtomicU64,
    pub instances_built: AtomicU64,
}

impl Runtime {
    /// Builds the engine and loads the module (from the code cache when possible); starts the
    /// epoch ticker when a deadline is configured.
    pub fn new(sandbox: Sandbox) -> Result<Arc<Runtime>, String> {
        let mut config = Config::new();
        config.epoch_interruption(sandbox.timeout_ms > 0);
        config.cranelift_opt_level(wasmtime::OptLevel::Speed);
        let engine = Engine::new(&config).map_err(|e| format!("wasmtime engine: {e}"))?;
        let t0 = Instant::now();
        let (module, cache_path, cache_hit) = load_module(&engine)?;
        if sandbox.max_glyphs.is_some() && module.get_export("haforu_cache_config").is_none() {
            return Err(
                "--max-glyphs: this haforu.wasm lacks the export haforu_cache_config".into(),
            );
        }
        let load = LoadInfo {
            cache_path,
            cache_hit,
            load_ms: t0.elapsed().as_secs_f64() * 1e3,
        };
        if sandbox.timeout_ms > 0 {
            let ticker = engine.clone();
            std::thread::Builder::new()
                .name("haforu-epoch".into())
                .spawn(move || loop {
                    std::thread::sleep(EPOCH_TICK);
                    ticker.increment_epoch();
                })
                .map_err(|e| format!("epoch thread: {e}"))?;
        }
        Ok(Arc::new(Runtime {
            engine,
            module,
            sandbox,
            load,
            fonts: FontFiles::new(),
            recycles: AtomicU64::new(0),
            traps: AtomicU64::new(0),
            instances_built: AtomicU64::new(0),
        }))
    }

    /// True if the module exports `name` (the matching exports are newer than ABI 1's core).
    pub fn has_export(&self, name: &str) -> bool {
        self.module.get_export(name).is_some()
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
            // Missing files are reported by the font loader, with the usual message.
            Err(_) => Ok(joined),
        }
    }

    /// A worker with the configured memory cap.
    pub fn worker(self: &Arc<Self>) -> Worker {
        let cap = self.sandbox.memory_mb.saturating_mul(1 << 20);
        self.worker_with_cap(cap)
    }

    /// A worker with its own memory cap (the envelope splitter needs room for a big input).
    pub fn worker_with_cap(self: &Arc<Self>, memory_cap_bytes: u64) -> Worker {
        Worker {
            rt: Arc::clone(self),
            memory_cap: usize::try_from(memory_cap_bytes).unwrap_or(usize::MAX),
            inst: None,
            handles: HashMap::new(),
            registered_bytes: 0,
            clock: 0,
            armed_ms: 0,
        }
    }
}

/// Where the compiled code is cached: `$HAFORU_CACHE_DIR`, else `$XDG_CACHE_HOME/haforu`, else
/// `~/.cache/haforu`. `HAFORU_NO_CACHE=1` turns the cache off.
fn cache_dir() -> Option<PathBuf> {
    if std::env::var_os("HAFORU_NO_CACHE").is_some_and(|v| !v.is_empty() && v != "0") {
        return None;
    }
    if let Some(d) = std::env::var_os("HAFORU_CACHE_DIR") {
        return Some(PathBuf::from(d));
    }
    if let Some(d) = std::env::var_os("XDG_CACHE_HOME").filter(|d| !d.is_empty()) {
        return Some(PathBuf::from(d).join("haforu"));
    }
    std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache/haforu"))
}

fn load_module(engine: &Engine) -> Result<(Module, Option<PathBuf>, bool), String> {
    // The key covers the module bytes and everything that makes compiled code incompatible:
    // wasmtime's version and the engine configuration (epoch checks on or off, target, flags).
    let mut h = DefaultHasher::new();
    engine.precompile_compatibility_hash().hash(&mut h);
    let key = format!("{}-{:016x}", &WASM_SHA256[..16], h.finish());
    let path = cache_dir().map(|d| d.join(format!("haforu-{key}.cwasm")));
    if let Some(p) = &path {
        if p.is_file() {
            // SAFETY: `deserialize_file` runs the machine code in the file. The file lives in the
            // user's own cache directory, was written by this program from `Module::serialize`,
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
    }
    let module = Module::new(engine, WASM).map_err(|e| format!("compiling haforu.wasm: {e}"))?;
    check_exports(&module)?;
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

fn check_exports(module: &Module) -> Result<(), String> {
    if module.imports().len() != 0 {
        return Err("haforu.wasm must import nothing".into());
    }
    for name in [
        "memory",
        "haforu_abi_version",
        "haforu_alloc",
        "haforu_free",
        "haforu_font_register",
        "haforu_font_drop",
        "haforu_run",
        "haforu_split",
        "haforu_info",
        "haforu_cache_clear",
    ] {
        if module.get_export(name).is_none() {
            return Err(format!("haforu.wasm lacks the export `{name}`"));
        }
    }
    Ok(())
}

/// Store data: the memory cap, and whether it refused a growth (to name a trap correctly).
struct Limits {
    memory_cap: usize,
    memory_denied: bool,
}

impl ResourceLimiter for Limits {
    fn memory_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        if desired > self.memory_cap {
            self.memory_denied = true;
            return Ok(false);
        }
        Ok(true)
    }

    fn table_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        Ok(desired <= TABLE_ELEMENTS_MAX)
    }
}

/// One live instance and its typed exports.
struct Inst {
    store: Store<Limits>,
    memory: Memory,
    alloc: TypedFunc<u32, u32>,
    free: TypedFunc<(u32, u32), ()>,
    register: TypedFunc<(u32, u32), u32>,
    drop_font: TypedFunc<u32, u32>,
    run: TypedFunc<(u32, u32, u32, u32, u32), u32>,
    split: TypedFunc<(u32, u32), u32>,
    info: TypedFunc<(), u32>,
    /// The matching exports (absent from older modules; looked up once per instance).
    image_register: Option<TypedFunc<(u32, u32, u32, u32), u32>>,
    image_drop: Option<TypedFunc<u32, u32>>,
    image_op: Option<TypedFunc<(u32, u32), u32>>,
    font_info: Option<TypedFunc<(u32, u32), u32>>,
    /// The reusable input buffer inside the guest: (ptr, capacity).
    input: (u32, u32),
    jobs: u64,
}

/// What a call produced, copied out of the guest.
pub struct Raw {
    pub json: Vec<u8>,
    pub data: Option<Vec<u8>>,
    pub failed: bool,
}

/// What `haforu_split` gave: `(line_no, job)` pairs, or the envelope's error result line.
pub type Split = Result<Vec<(u32, Vec<u8>)>, Vec<u8>>;

/// Why a call did not produce a result.
#[derive(Debug)]
pub struct Fault {
    pub kind: ErrorKind,
    pub message: String,
}

impl Fault {
    fn internal(message: impl Into<String>) -> Fault {
        Fault {
            kind: ErrorKind::Internal,
            message: message.into(),
        }
    }
}

/// A registered font inside the current instance.
struct Registered {
    handle: u32,
    len: usize,
    last_use: u64,
}

/// One thread's engine instance. Not `Sync`: give every thread its own.
pub struct Worker {
    rt: Arc<Runtime>,
    memory_cap: usize,
    inst: Option<Inst>,
    /// font id → handle in the current instance.
    handles: HashMap<u64, Registered>,
    registered_bytes: usize,
    clock: u64,
    /// The deadline of the current call, ms (for messages).
    armed_ms: u64,
}

impl Worker {
    fn build(&mut self) -> Result<(), Fault> {
        let rt = &self.rt;
        let mut store = Store::new(
            &rt.engine,
            Limits {
                memory_cap: self.memory_cap,
                memory_denied: false,
            },
        );
        store.limiter(|l| l);
        if rt.sandbox.timeout_ms > 0 {
            store.epoch_deadline_trap();
            store.set_epoch_deadline(u64::MAX / 2);
        }
        let instance = Instance::new(&mut store, &rt.module, &[])
            .map_err(|e| Fault::internal(format!("instantiating haforu.wasm: {e}")))?;
        let f = |e: wasmtime::Error| Fault::internal(format!("haforu.wasm exports: {e}"));
        let memory = instance
            .get_memory(&mut store, "memory")
            .ok_or_else(|| Fault::internal("haforu.wasm exports no memory"))?;
        let version: TypedFunc<(), i32> = instance
            .get_typed_func(&mut store, "haforu_abi_version")
            .map_err(f)?;
        let v = version
            .call(&mut store, ())
            .map_err(|e| Fault::internal(format!("haforu_abi_version: {e}")))?;
        if v != ABI_VERSION {
            return Err(Fault::internal(format!(
                "haforu.wasm speaks ABI {v}; this host speaks {ABI_VERSION}"
            )));
        }
        if let Some(n) = rt.sandbox.max_glyphs {
            let config: TypedFunc<(i32, i32), i32> = instance
                .get_typed_func(&mut store, "haforu_cache_config")
                .map_err(|e| {
                    Fault::internal(format!(
                        "--max-glyphs needs the export haforu_cache_config: {e}"
                    ))
                })?;
            let n = i32::try_from(n).unwrap_or(i32::MAX);
            config
                .call(&mut store, (n, -1))
                .map_err(|e| Fault::internal(format!("haforu_cache_config: {e}")))?;
        }
        let inst = Inst {
            alloc: instance
                .get_typed_func(&mut store, "haforu_alloc")
                .map_err(f)?,
            free: instance
                .get_typed_func(&mut store, "haforu_free")
                .map_err(f)?,
            register: instance
                .get_typed_func(&mut store, "haforu_font_register")
                .map_err(f)?,
            drop_font: instance
                .get_typed_func(&mut store, "haforu_font_drop")
                .map_err(f)?,
            run: instance
                .get_typed_func(&mut store, "haforu_run")
                .map_err(f)?,
            split: instance
                .get_typed_func(&mut store, "haforu_split")
                .map_err(f)?,
            info: instance
                .get_typed_func(&mut store, "haforu_info")
                .map_err(f)?,
            image_register: instance
                .get_typed_func(&mut store, "haforu_image_register")
                .ok(),
            image_drop: instance
                .get_typed_func(&mut store, "haforu_image_drop")
                .ok(),
            image_op: instance.get_typed_func(&mut store, "haforu_image_op").ok(),
            font_info: instance.get_typed_func(&mut store, "haforu_font_info").ok(),
            memory,
            store,
            input: (0, 0),
            jobs: 0,
        };
        self.inst = Some(inst);
        self.handles.clear();
        self.registered_bytes = 0;
        rt.instances_built.fetch_add(1, Ordering::Relaxed);
        Ok(())
    }

    /// Throws the instance away (after a trap, or to recycle); the next call builds a new one.
    fn discard(&mut self) {
        self.inst = None;
        self.handles.clear();
        self.registered_bytes = 0;
    }

    /// Sets the deadline for the next call; `budget` overrides the configured timeout.
    fn arm(&mut self, budget: Option<Duration>) {
        let timeout_ms = self.rt.sandbox.timeout_ms;
        self.armed_ms = budget.map_or(timeout_ms, |b| b.as_millis() as u64);
        let Some(inst) = self.inst.as_mut() else {
            return;
        };
        inst.store.data_mut().memory_denied = false;
        if timeout_ms > 0 {
            let ms = budget.map_or(timeout_ms, |b| b.as_millis() as u64);
            let ticks = ms.div_ceil(EPOCH_TICK.as_millis() as u64).max(1) + 1;
            inst.store.set_epoch_deadline(ticks);
        }
    }

    /// Turns a wasmtime error into a fault, discards the instance and counts the trap.
    fn trap(&mut self, e: wasmtime::Error, what: &str) -> Fault {
        let denied = self
            .inst
            .as_ref()
            .is_some_and(|i| i.store.data().memory_denied);
        let trap = e.downcast_ref::<Trap>().copied();
        let timeout_ms = self.armed_ms;
        let fault = match trap {
            Some(Trap::Interrupt) => Fault {
                kind: ErrorKind::ResourceLimit,
                message: format!("{what} exceeded the deadline of {timeout_ms} ms"),
            },
            Some(Trap::OutOfFuel) => Fault {
                kind: ErrorKind::ResourceLimit,
                message: format!("{what} ran out of fuel"),
            },
            Some(Trap::StackOverflow) => Fault {
                kind: ErrorKind::ResourceLimit,
                message: format!("{what} exhausted the wasm stack"),
            },
            _ if denied => Fault {
                kind: ErrorKind::ResourceLimit,
                message: format!(
                    "{what} exceeded the sandbox memory cap of {} MiB",
                    self.memory_cap >> 20
                ),
            },
            Some(t) => Fault::internal(format!("{what}: the engine trapped ({t})")),
            None => Fault::internal(format!("{what}: the engine failed ({e})")),
        };
        self.rt.traps.fetch_add(1, Ordering::Relaxed);
        self.discard();
        fault
    }

    fn ensure(&mut self) -> Result<(), Fault> {
        if self.inst.is_none() {
            self.build()?;
        }
        Ok(())
    }

    /// Copies `bytes` into the reusable input buffer; returns its guest pointer.
    fn stage_input(&mut self, bytes: &[u8], what: &str) -> Result<u32, Fault> {
        self.ensure()?;
        let len = u32::try_from(bytes.len())
            .map_err(|_| limit(format!("{what} is larger than 4 GiB")))?;
        let inst = self.inst.as_mut().expect("built above");
        if len > inst.input.1 || inst.input.0 == 0 {
            if inst.input.0 != 0 {
                let (p, c) = inst.input;
                inst.input = (0, 0);
                if let Err(e) = inst.free.call(&mut inst.store, (p, c)) {
                    return Err(self.trap(e, what));
                }
            }
            let cap = len.max(inst.input.1.saturating_mul(2)).max(64 << 10);
            let p = match inst.alloc.call(&mut inst.store, cap) {
                Ok(p) => p,
                Err(e) => return Err(self.trap(e, what)),
            };
            if p == 0 {
                // The guest could not grow to hold the input under the memory cap.
                self.discard();
                return Err(Fault {
                    kind: ErrorKind::ResourceLimit,
                    message: format!(
                        "{what} ({} bytes) does not fit in the sandbox memory cap of {} MiB",
                        bytes.len(),
                        self.memory_cap >> 20
                    ),
                });
            }
            inst.input = (p, cap);
        }
        let p = inst.input.0;
        let mem = inst.memory.data_mut(&mut inst.store);
        let dst = mem
            .get_mut(p as usize..p as usize + bytes.len())
            .ok_or_else(|| Fault::internal("haforu_alloc returned a buffer outside memory"))?;
        dst.copy_from_slice(bytes);
        Ok(p)
    }

    /// Reads a result descriptor and copies its buffers out of the guest.
    fn read_desc(&self, desc: u32) -> Result<Raw, Fault> {
        let inst = self.inst.as_ref().expect("called after a successful call");
        let mem = inst.memory.data(&inst.store);
        let word = |i: usize| -> Result<u32, Fault> {
            let at = desc as usize + 4 * i;
            mem.get(at..at + 4)
                .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
                .ok_or_else(|| Fault::internal("result descriptor outside memory"))
        };
        let (jp, jl, dp, dl, status) = (word(0)?, word(1)?, word(2)?, word(3)?, word(4)?);
        let slice = |p: u32, l: u32| -> Result<Vec<u8>, Fault> {
            mem.get(p as usize..p as usize + l as usize)
                .map(<[u8]>::to_vec)
                .ok_or_else(|| Fault::internal("result buffer outside memory"))
        };
        let json = slice(jp, jl)?;
        let data = if dp != 0 && dl != 0 {
            Some(slice(dp, dl)?)
        } else {
            None
        };
        Ok(Raw {
            json,
            data,
            failed: status != 0,
        })
    }

    /// Registers `font` in this instance (once), evicting the least recently used fonts past the
    /// budget. Returns the handle.
    fn handle_for(&mut self, font: &LoadedFont, what: &str) -> Result<u32, Fault> {
        self.ensure()?;
        self.clock += 1;
        let now = self.clock;
        if let Some(r) = self.handles.get_mut(&font.id) {
            r.last_use = now;
            return Ok(r.handle);
        }
        // Make room first.
        while !self.handles.is_empty()
            && (self.handles.len() >= self.rt.sandbox.max_fonts.max(1)
                || self.registered_bytes + font.bytes.len() > REGISTERED_FONT_BYTES_MAX)
        {
            let (&id, _) = self
                .handles
                .iter()
                .min_by_key(|(_, r)| r.last_use)
                .expect("non-empty");
            let r = self.handles.remove(&id).expect("present");
            self.registered_bytes -= r.len;
            let inst = self.inst.as_mut().expect("built");
            if let Err(e) = inst.drop_font.call(&mut inst.store, r.handle) {
                return Err(self.trap(e, what));
            }
        }
        let len = u32::try_from(font.bytes.len())
            .map_err(|_| limit(format!("{what}: font file is larger than 4 GiB")))?;
        let inst = self.inst.as_mut().expect("built");
        let p = match inst.alloc.call(&mut inst.store, len) {
            Ok(p) => p,
            Err(e) => return Err(self.trap(e, what)),
        };
        if p == 0 {
            self.discard();
            return Err(Fault {
                kind: ErrorKind::ResourceLimit,
                message: format!(
                    "{what}: the font ({} bytes) does not fit in the sandbox memory cap of {} MiB",
                    font.bytes.len(),
                    self.memory_cap >> 20
                ),
            });
        }
        let inst = self.inst.as_mut().expect("built");
        let mem = inst.memory.data_mut(&mut inst.store);
        mem.get_mut(p as usize..p as usize + font.bytes.len())
            .ok_or_else(|| Fault::internal("haforu_alloc returned a buffer outside memory"))?
            .copy_from_slice(&font.bytes);
        let handle = match inst.register.call(&mut inst.store, (p, len)) {
            Ok(h) => h,
            Err(e) => return Err(self.trap(e, what)),
        };
        if handle == 0 {
            return Err(Fault::internal(format!(
                "{what}: haforu_font_register refused a live buffer"
            )));
        }
        self.registered_bytes += font.bytes.len();
        self.handles.insert(
            font.id,
            Registered {
                handle,
                len: font.bytes.len(),
                last_use: now,
            },
        );
        Ok(handle)
    }

    /// Runs one job (JSON text) with an optional host-loaded font. `budget` overrides the
    /// configured deadline (the server passes what is left of the request's deadline).
    pub fn run_raw(
        &mut self,
        job: &[u8],
        line_no: u32,
        font: Option<&LoadedFont>,
        flags: u32,
        budget: Option<Duration>,
        what: &str,
    ) -> Result<Raw, Fault> {
        // One deadline covers the whole job: font registration, input copy and the run.
        self.ensure()?;
        self.arm(budget);
        let handle = match font {
            Some(f) => self.handle_for(f, what)?,
            None => 0,
        };
        let p = self.stage_input(job, what)?;
        let inst = self.inst.as_mut().expect("staged");
        let len = job.len() as u32;
        let desc = match inst
            .run
            .call(&mut inst.store, (p, len, line_no, handle, flags))
        {
            Ok(d) => d,
            Err(e) => return Err(self.trap(e, what)),
        };
        let raw = self.read_desc(desc);
        self.after_job();
        raw
    }

    /// Recycles the instance when it has served enough jobs or grown too big.
    fn after_job(&mut self) {
        let sandbox = &self.rt.sandbox;
        let Some(inst) = self.inst.as_mut() else {
            return;
        };
        inst.jobs += 1;
        let big = inst.memory.data_size(&inst.store) as u64 > sandbox.recycle_memory_mb << 20;
        let old = sandbox.recycle_jobs > 0 && inst.jobs >= sandbox.recycle_jobs;
        if big || old {
            self.rt.recycles.fetch_add(1, Ordering::Relaxed);
            self.discard();
        }
    }

    /// The full host path for one job of a job list: reads `font.path` on the host, runs the job
    /// and returns the result line with `timing.total_ms` inserted.
    pub fn run_job(&mut self, job: &[u8], line_no: u32, flags: u32) -> Outcome {
        let t0 = Instant::now();
        let peek = job::peek(job);
        let id = peek.id_or(line_no);
        let font = match peek.font_plan() {
            job::FontPlan::Engine => None,
            job::FontPlan::Reject(msg) => {
                return Outcome::error(&id, ErrorKind::BadJob, &msg, peek.path(), t0)
            }
            job::FontPlan::Path(path) => {
                let file = match self.rt.resolve_font_path(path) {
                    Ok(f) => f,
                    Err(msg) => {
                        let msg = format!("job {id}: {msg}");
                        return Outcome::error(&id, ErrorKind::FontNotFound, &msg, Some(path), t0);
                    }
                };
                match self.rt.fonts.load(&file) {
                    Ok(f) => Some(f),
                    Err(e) => {
                        let msg = format!("job {id}: cannot read font file '{path}': {e}");
                        return Outcome::error(&id, e.kind(), &msg, Some(path), t0);
                    }
                }
            }
        };
        self.run_with(
            job,
            line_no,
            font.as_deref(),
            flags,
            None,
            &id,
            peek.path(),
            t0,
        )
    }

    /// Runs a job with an already resolved font and wraps faults as error results.
    #[allow(clippy::too_many_arguments)]
    pub fn run_with(
        &mut self,
        job: &[u8],
        line_no: u32,
        font: Option<&LoadedFont>,
        flags: u32,
        budget: Option<Duration>,
        id: &str,
        path: Option<&str>,
        t0: Instant,
    ) -> Outcome {
        let what = format!("job {id}");
        // Image bytes always come out of band; when the caller wants them inline, the host
        // encodes them (native base64 is several times faster than the guest's) and splices
        // them where the engine would have put them: the same bytes, less time in the guest.
        let inline = flags & FLAG_DATA_OUT_OF_BAND == 0;
        match self.run_raw(
            job,
            line_no,
            font,
            flags | FLAG_DATA_OUT_OF_BAND,
            budget,
            &what,
        ) {
            Ok(mut raw) => {
                if inline {
                    if let Some(data) = raw.data.take() {
                        raw.json = splice_base64(&raw.json, &data);
                    }
                }
                Outcome::from_raw(raw, t0)
            }
            Err(f) => Outcome::error(id, f.kind, &f.message, path, t0),
        }
    }

    /// `haforu_split`: the envelope as `(line_no, job)` pairs, or the envelope's error result.
    pub fn split(&mut self, input: &[u8]) -> Result<Split, Fault> {
        self.ensure()?;
        self.arm(None);
        let p = self.stage_input(input, "the job list")?;
        let inst = self.inst.as_mut().expect("staged");
        let desc = match inst.split.call(&mut inst.store, (p, input.len() as u32)) {
            Ok(d) => d,
            Err(e) => return Err(self.trap(e, "splitting the job list")),
        };
        let raw = self.read_desc(desc)?;
        if raw.failed {
            return Ok(Err(raw.json));
        }
        let mut jobs = Vec::new();
        for line in raw.json.split(|&b| b == b'\n').filter(|l| !l.is_empty()) {
            let tab = line
                .iter()
                .position(|&b| b == b'\t')
                .ok_or_else(|| Fault::internal("haforu_split: a line without a tab"))?;
            let n = std::str::from_utf8(&line[..tab])
                .ok()
                .and_then(|s| s.parse::<u32>().ok())
                .ok_or_else(|| Fault::internal("haforu_split: a bad line number"))?;
            jobs.push((n, line[tab + 1..].to_vec()));
        }
        Ok(Ok(jobs))
    }

    /// `haforu_info` as parsed JSON.
    pub fn info(&mut self) -> Result<serde_json::Value, Fault> {
        self.ensure()?;
        self.arm(None);
        let inst = self.inst.as_mut().expect("built");
        let desc = match inst.info.call(&mut inst.store, ()) {
            Ok(d) => d,
            Err(e) => return Err(self.trap(e, "haforu_info")),
        };
        let raw = self.read_desc(desc)?;
        serde_json::from_slice(&raw.json)
            .map_err(|e| Fault::internal(format!("haforu_info returned bad JSON: {e}")))
    }

    /// `haforu_font_info(handle, face_index)` for `font` (registered in this instance once):
    /// the engine's font info JSON, or its error result (`failed`).
    pub fn font_info(&mut self, font: &LoadedFont, face_index: u32) -> Result<Raw, Fault> {
        let what = "font info";
        self.ensure()?;
        self.arm(None);
        let handle = self.handle_for(font, what)?;
        let inst = self.inst.as_mut().expect("built");
        let func = inst
            .font_info
            .clone()
            .ok_or_else(|| missing("haforu_font_info"))?;
        let desc = match func.call(&mut inst.store, (handle, face_index)) {
            Ok(d) => d,
            Err(e) => return Err(self.trap(e, what)),
        };
        self.read_desc(desc)
    }

    /// `haforu_image_register(ptr, len, 0, 0)`: registers the bytes of a PGM (P5) or grayscale
    /// PNG file as a comparison image. JSON `{"handle","width","height"}` or an error result.
    pub fn image_register_encoded(&mut self, bytes: &[u8], what: &str) -> Result<Raw, Fault> {
        self.ensure()?;
        self.arm(None);
        let p = self.stage_input(bytes, what)?;
        let inst = self.inst.as_mut().expect("staged");
        let func = inst
            .image_register
            .clone()
            .ok_or_else(|| missing("haforu_image_register"))?;
        let desc = match func.call(&mut inst.store, (p, bytes.len() as u32, 0, 0)) {
            Ok(d) => d,
            Err(e) => return Err(self.trap(e, what)),
        };
        self.read_desc(desc)
    }

    /// `haforu_image_op` with a JSON request (wasm/README.md, *Image operations*).
    pub fn image_op(&mut self, request: &[u8], what: &str) -> Result<Raw, Fault> {
        self.ensure()?;
        self.arm(None);
        let p = self.stage_input(request, what)?;
        let inst = self.inst.as_mut().expect("staged");
        let func = inst
            .image_op
            .clone()
            .ok_or_else(|| missing("haforu_image_op"))?;
        let desc = match func.call(&mut inst.store, (p, request.len() as u32)) {
            Ok(d) => d,
            Err(e) => return Err(self.trap(e, what)),
        };
        self.read_desc(desc)
    }

    /// `haforu_image_drop`: true if the image existed.
    pub fn image_drop(&mut self, handle: u32) -> Result<bool, Fault> {
        self.ensure()?;
        self.arm(None);
        let inst = self.inst.as_mut().expect("built");
        let func = inst
            .image_drop
            .clone()
            .ok_or_else(|| missing("haforu_image_drop"))?;
        match func.call(&mut inst.store, handle) {
            Ok(n) => Ok(n == 1),
            Err(e) => Err(self.trap(e, "haforu_image_drop")),
        }
    }

    /// Linear-memory size of the current instance in bytes (0 when none is live).
    pub fn memory_bytes(&self) -> usize {
        self.inst
            .as_ref()
            .map_or(0, |i| i.memory.data_size(&i.store))
    }
}

/// Inserts `"data":"<base64>",` after the `"encoding":"base64",` of the result's `rendering`
/// object — exactly where the engine writes it without `DATA_OUT_OF_BAND` (the parity test
/// checks the bytes). A quote inside a JSON string is escaped, so the pattern cannot match
/// inside the id.
fn splice_base64(json: &[u8], data: &[u8]) -> Vec<u8> {
    use base64::Engine as _;
    const AT: &[u8] = b"\"encoding\":\"base64\",";
    let Some(i) = json.windows(AT.len()).position(|w| w == AT) else {
        return json.to_vec();
    };
    let cut = i + AT.len();
    let b64_len = data.len().div_ceil(3) * 4;
    let mut out = Vec::with_capacity(json.len() + b64_len + 64);
    out.extend_from_slice(&json[..cut]);
    out.extend_from_slice(b"\"data\":\"");
    let start = out.len();
    out.resize(start + b64_len, 0);
    let n = base64::engine::general_purpose::STANDARD
        .encode_slice(data, &mut out[start..])
        .expect("buffer sized for base64");
    out.truncate(start + n);
    out.extend_from_slice(b"\",");
    out.extend_from_slice(&json[cut..]);
    out
}

fn missing(export: &str) -> Fault {
    Fault::internal(format!("this haforu.wasm lacks the export {export}"))
}

fn limit(message: String) -> Fault {
    Fault {
        kind: ErrorKind::LimitExceeded,
        message,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splice_puts_data_where_the_engine_does() {
        let oob = br#"{"id":"a\"encoding\":\"base64\",","status":"success","rendering":{"format":"pgm","encoding":"base64","width":1,"height":1,"actual_bbox":[0,0,0,0]}}"#;
        let inline = br#"{"id":"a\"encoding\":\"base64\",","status":"success","rendering":{"format":"pgm","encoding":"base64","data":"AAEC","width":1,"height":1,"actual_bbox":[0,0,0,0]}}"#;
        assert_eq!(splice_base64(oob, &[0, 1, 2]), inline.to_vec());
        assert_eq!(splice_base64(b"{}", &[1]), b"{}".to_vec());
        let v: serde_json::Value =
            serde_json::from_slice(&splice_base64(oob, &[255, 254, 253, 252])).unwrap();
        assert_eq!(v["rendering"]["data"], "//79/A==");
    }
}
