//! One sandboxed instance of `haforu.wasm` and its typed exports.

use std::time::Duration;

use wasmtime::{Instance, Memory, ResourceLimiter, Store, Trap, TypedFunc};

use crate::descriptor::{Descriptor, Fault};
use crate::module::{GuestModule, EPOCH_TICK};
use crate::{kind, ABI_VERSION};

/// The sandbox of one instance.
#[derive(Clone, Copy, Debug)]
pub struct SandboxLimits {
    /// Largest linear memory, bytes; growth past it fails (and a trap it causes is
    /// `resource_limit`).
    pub memory_cap_bytes: usize,
    /// Largest function table, elements (the module has one small table).
    pub table_elements: usize,
}

impl Default for SandboxLimits {
    fn default() -> Self {
        SandboxLimits {
            memory_cap_bytes: 512 << 20,
            table_elements: 100_000,
        }
    }
}

/// Store data: the limiter and whether it refused a growth (to name a trap correctly).
pub(crate) struct Limiter {
    limits: SandboxLimits,
    memory_denied: bool,
}

impl ResourceLimiter for Limiter {
    fn memory_growing(
        &mut self,
        _: usize,
        desired: usize,
        _: Option<usize>,
    ) -> wasmtime::Result<bool> {
        let ok = desired <= self.limits.memory_cap_bytes;
        self.memory_denied |= !ok;
        Ok(ok)
    }

    fn table_growing(
        &mut self,
        _: usize,
        desired: usize,
        _: Option<usize>,
    ) -> wasmtime::Result<bool> {
        Ok(desired <= self.limits.table_elements)
    }
}

type F<P, R> = TypedFunc<P, R>;
/// `haforu_result_error`'s parameters: job ptr/len, line, kind, message ptr/len, flags.
type ResultErrorArgs = (u32, u32, u32, u32, u32, u32, u32);

/// Every function export, typed (looking them up checks their signatures).
pub(crate) struct Funcs {
    pub(crate) alloc: F<u32, u32>,
    pub(crate) free: F<(u32, u32), ()>,
    pub(crate) font_register: F<(u32, u32), u32>,
    pub(crate) font_register_default: F<(), u32>,
    pub(crate) font_drop: F<u32, u32>,
    pub(crate) font_bind: F<(u32, u32, u32, u32, u32), u32>,
    pub(crate) font_forget: F<(u32, u32, u32), u32>,
    pub(crate) run: F<(u32, u32, u32, u32, u32), u32>,
    pub(crate) run_batch: F<(u32, u32, u32), u32>,
    pub(crate) split: F<(u32, u32), u32>,
    pub(crate) envelope_probe: F<(u32, u32), u32>,
    pub(crate) work_estimate: F<(u32, u32), u64>,
    pub(crate) result_error: F<ResultErrorArgs, u32>,
    pub(crate) result_timing: F<f64, u32>,
    pub(crate) result_restate: F<(u32, u32, u32, u32, u32), u32>,
    pub(crate) info: F<(), u32>,
    pub(crate) cache_clear: F<(), ()>,
    pub(crate) image_register: F<(u32, u32, u32, u32), u32>,
    pub(crate) image_drop: F<u32, u32>,
    pub(crate) image_op: F<(u32, u32), u32>,
    pub(crate) font_info: F<(u32, u32), u32>,
    pub(crate) cache_config: F<(i32, i32, i32), i32>,
}

/// One instance of `haforu.wasm` in its own Store. Not `Sync`: one per thread.
///
/// Every method is one export call under the sandbox. A trap returns a [`Fault`] and poisons
/// the instance (its heap may be inconsistent): drop it and build a new one.
pub struct Guest {
    store: Store<Limiter>,
    memory: Memory,
    pub(crate) f: Funcs,
    /// The growing input buffer inside the guest: (ptr, capacity).
    input: (u32, u32),
    epoch: bool,
    armed_ms: u64,
    poisoned: bool,
}

impl Guest {
    /// Instantiates the module under `limits` and checks its ABI version.
    pub fn new(module: &GuestModule, limits: SandboxLimits) -> Result<Guest, Fault> {
        let mut store = Store::new(
            &module.engine,
            Limiter {
                limits,
                memory_denied: false,
            },
        );
        store.limiter(|l| l);
        if module.epoch {
            store.epoch_deadline_trap();
            store.set_epoch_deadline(u64::MAX / 2);
        }
        let instance = Instance::new(&mut store, &module.module, &[])
            .map_err(|e| Fault::internal(format!("instantiating haforu.wasm: {e}")))?;
        let memory = instance
            .get_memory(&mut store, "memory")
            .ok_or_else(|| Fault::internal("haforu.wasm exports no memory"))?;
        macro_rules! func {
            ($name:literal) => {
                instance
                    .get_typed_func(&mut store, $name)
                    .map_err(|e| Fault::internal(format!("haforu.wasm export {}: {e}", $name)))?
            };
        }
        let version: F<(), i32> = func!("haforu_abi_version");
        let f = Funcs {
            alloc: func!("haforu_alloc"),
            free: func!("haforu_free"),
            font_register: func!("haforu_font_register"),
            font_register_default: func!("haforu_font_register_default"),
            font_drop: func!("haforu_font_drop"),
            font_bind: func!("haforu_font_bind"),
            font_forget: func!("haforu_font_forget"),
            run: func!("haforu_run"),
            run_batch: func!("haforu_run_batch"),
            split: func!("haforu_split"),
            envelope_probe: func!("haforu_envelope_probe"),
            work_estimate: func!("haforu_work_estimate"),
            result_error: func!("haforu_result_error"),
            result_timing: func!("haforu_result_timing"),
            result_restate: func!("haforu_result_restate"),
            info: func!("haforu_info"),
            cache_clear: func!("haforu_cache_clear"),
            image_register: func!("haforu_image_register"),
            image_drop: func!("haforu_image_drop"),
            image_op: func!("haforu_image_op"),
            font_info: func!("haforu_font_info"),
            cache_config: func!("haforu_cache_config"),
        };
        let mut guest = Guest {
            store,
            memory,
            f,
            input: (0, 0),
            epoch: module.epoch,
            armed_ms: 0,
            poisoned: false,
        };
        let v = guest.call(|s| version.call(s, ()))?;
        if v != ABI_VERSION {
            return Err(Fault::internal(format!(
                "haforu.wasm speaks ABI {v}; this host speaks {ABI_VERSION}"
            )));
        }
        Ok(guest)
    }

    /// Sets the deadline of the calls that follow (`None`: none). It counts from now and covers
    /// every call until the next `set_deadline`; without epoch checks in the module it has no
    /// effect.
    pub fn set_deadline(&mut self, budget: Option<Duration>) {
        self.store.data_mut().memory_denied = false;
        if !self.epoch {
            return;
        }
        match budget {
            None => self.store.set_epoch_deadline(u64::MAX / 2),
            Some(b) => {
                self.armed_ms = b.as_millis() as u64;
                let tick = EPOCH_TICK.as_millis().max(1) as u64;
                self.store
                    .set_epoch_deadline(self.armed_ms.div_ceil(tick).max(1) + 1);
            }
        }
    }

    /// True after a trap: the instance must not be used again.
    pub fn is_poisoned(&self) -> bool {
        self.poisoned
    }

    /// Size of the linear memory, bytes.
    pub fn memory_bytes(&self) -> usize {
        self.memory.data_size(&self.store)
    }

    /// `len` bytes of guest memory at `ptr` (valid until the next call).
    pub fn bytes(&self, ptr: u32, len: u32) -> Result<&[u8], Fault> {
        self.memory
            .data(&self.store)
            .get(ptr as usize..ptr as usize + len as usize)
            .ok_or_else(|| Fault::internal("a result buffer lies outside memory"))
    }

    /// The JSON text a descriptor points at.
    pub fn json(&self, d: &Descriptor) -> Result<&[u8], Fault> {
        self.bytes(d.json_ptr, d.json_len)
    }

    /// The out-of-band bytes a descriptor points at (empty when there are none).
    pub fn data(&self, d: &Descriptor) -> Result<&[u8], Fault> {
        if d.data_len == 0 {
            return Ok(&[]);
        }
        self.bytes(d.data_ptr, d.data_len)
    }

    /// Runs one export call, turning a trap into a [`Fault`] (and poisoning the instance).
    pub(crate) fn call<R>(
        &mut self,
        f: impl FnOnce(&mut Store<Limiter>) -> wasmtime::Result<R>,
    ) -> Result<R, Fault> {
        if self.poisoned {
            return Err(Fault::internal("the engine instance trapped earlier"));
        }
        f(&mut self.store).map_err(|e| self.trap(e))
    }

    fn trap(&mut self, e: wasmtime::Error) -> Fault {
        self.poisoned = true;
        let denied = self.store.data().memory_denied;
        let cap_mib = self.store.data().limits.memory_cap_bytes >> 20;
        let (kind, reason) = match e.downcast_ref::<Trap>().copied() {
            Some(Trap::Interrupt) => (
                kind::RESOURCE_LIMIT,
                format!("exceeded the deadline of {} ms", self.armed_ms),
            ),
            Some(Trap::OutOfFuel) => (kind::RESOURCE_LIMIT, "ran out of fuel".to_string()),
            Some(Trap::StackOverflow) => {
                (kind::RESOURCE_LIMIT, "exhausted the wasm stack".to_string())
            }
            _ if denied => (
                kind::RESOURCE_LIMIT,
                format!("exceeded the sandbox memory cap of {cap_mib} MiB"),
            ),
            Some(t) => (kind::INTERNAL, format!("the engine trapped ({t})")),
            None => (kind::INTERNAL, format!("the engine failed ({e})")),
        };
        Fault {
            kind,
            reason,
            trapped: true,
        }
    }

    pub(crate) fn descriptor(&self, ptr: u32) -> Result<Descriptor, Fault> {
        let b = self.bytes(ptr, Descriptor::SIZE as u32)?;
        Ok(Descriptor::from_le_bytes(b.try_into().expect("28 bytes")))
    }

    fn too_big(&self, what: &str, len: usize) -> Fault {
        Fault {
            kind: kind::RESOURCE_LIMIT,
            reason: format!(
                "{what} ({len} bytes) does not fit in the sandbox memory cap of {} MiB",
                self.store.data().limits.memory_cap_bytes >> 20
            ),
            trapped: false,
        }
    }

    /// Copies `parts` one after the other into the input buffer (grown when needed); returns
    /// the guest address of the first.
    pub(crate) fn stage(&mut self, parts: &[&[u8]]) -> Result<u32, Fault> {
        let total: usize = parts.iter().map(|p| p.len()).sum();
        let len = u32::try_from(total).map_err(|_| self.too_big("the input", total))?;
        if len > self.input.1 || self.input.0 == 0 {
            let (old, old_cap) = self.input;
            if old != 0 {
                self.input = (0, 0);
                let free = self.f.free.clone();
                self.call(|s| free.call(s, (old, old_cap)))?;
            }
            let alloc = self.f.alloc.clone();
            let want = len.max(old_cap.saturating_mul(2)).max(64 << 10);
            let mut p = self.call(|s| alloc.call(s, want))?;
            let mut cap = want;
            if p == 0 && want > len && len > 0 {
                p = self.call(|s| alloc.call(s, len))?;
                cap = len;
            }
            if p == 0 {
                if len == 0 {
                    return Ok(0);
                }
                return Err(self.too_big("the input", total));
            }
            self.input = (p, cap);
        }
        let p = self.input.0;
        let mem = self.memory.data_mut(&mut self.store);
        let mut at = p as usize;
        for part in parts {
            mem.get_mut(at..at + part.len())
                .ok_or_else(|| Fault::internal("haforu_alloc gave a buffer outside memory"))?
                .copy_from_slice(part);
            at += part.len();
        }
        Ok(p)
    }

    /// Allocates a buffer, fills it with `bytes` and returns (ptr, len), for a call that takes
    /// the buffer over (`haforu_font_register`, `haforu_font_bind`).
    pub(crate) fn hand_over(&mut self, bytes: &[u8], what: &str) -> Result<(u32, u32), Fault> {
        let len = u32::try_from(bytes.len()).map_err(|_| self.too_big(what, bytes.len()))?;
        let alloc = self.f.alloc.clone();
        let p = self.call(|s| alloc.call(s, len))?;
        if p == 0 {
            return Err(self.too_big(what, bytes.len()));
        }
        self.memory
            .data_mut(&mut self.store)
            .get_mut(p as usize..p as usize + bytes.len())
            .ok_or_else(|| Fault::internal("haforu_alloc gave a buffer outside memory"))?
            .copy_from_slice(bytes);
        Ok((p, len))
    }
}
