//! `haforu-guest`: the one typed wasmtime guest for `haforu.wasm`, ABI version 2
//! (`wasm/README.md` is the contract).
//!
//! - [`GuestModule`] compiles (or loads from an on-disk code cache) the module once per
//!   process and, when a deadline is wanted, runs the epoch ticker.
//! - [`Guest`] is one instance in its own Store, sandboxed by a linear-memory cap (a
//!   `ResourceLimiter`) and an epoch deadline, with one typed method per export. Inputs are
//!   staged in one growing buffer inside the guest.
//! - [`Descriptor`] is the result descriptor, read by named fields.
//! - [`EXPORTS`] is the export list, once, in the order of the README's table.
//!
//! This crate knows the ABI and nothing else: no files, no job policy, no output format.
//! Hosts (the CLI, the parity test, the benchmark) add their own.

mod calls;
mod descriptor;
mod exports;
mod instance;
mod module;
#[cfg(test)]
mod tests;

pub use descriptor::{Descriptor, Fault};
pub use exports::{check_exports, EXPORTS};
pub use instance::{Guest, SandboxLimits};
pub use module::{CodeCache, GuestModule, LoadInfo, EPOCH_TICK};

/// The ABI version this crate speaks; [`Guest::new`] refuses a module reporting another.
pub const ABI_VERSION: i32 = 2;

/// `haforu_run` flag bits (wasm/README.md, *`haforu_run`*).
pub mod flags {
    /// Image bytes stay at `data_ptr/data_len`; the JSON's `rendering` has no `data` key.
    pub const DATA_OUT_OF_BAND: u32 = 1;
    /// Parse and validate only; nothing is rendered.
    pub const VALIDATE_ONLY: u32 = 2;
    /// A sweep's point images go out of band, concatenated.
    pub const POINTS_OUT_OF_BAND: u32 = 4;
    /// Like [`DATA_OUT_OF_BAND`], but the JSON keeps `"data":""` and the descriptor's
    /// `splice_at` says where the base64 text of the data goes.
    pub const SPLICE_DATA: u32 = 8;
    /// `font.handle` in the job is refused (`bad_job`).
    pub const NO_HANDLES: u32 = 16;
    /// The server's rule: `font.path` refused, `font.name` is a font the host provides.
    pub const NAMED_FONTS: u32 = 32;
    /// With `DATA_OUT_OF_BAND`, a `raw` image may be only its ink box (`rendering.data_box`).
    pub const INK_BOX: u32 = 64;
}

/// Descriptor `status` values.
pub mod status {
    /// Success.
    pub const OK: u32 = 0;
    /// The JSON is an error result; `kind` is its error-kind code.
    pub const ERROR: u32 = 1;
    /// The job needs a font the host must read; `kind` is the key kind, `data` the key.
    pub const NEEDS_FONT: u32 = 2;
}

/// Error-kind codes (wasm/README.md, *Error-kind codes*). Their names come from the engine
/// (`haforu_info`'s `error_kinds`, where `error_kinds[code - 1]` names `code`).
pub mod kind {
    pub const BAD_JSON: u32 = 1;
    pub const BAD_JOB: u32 = 2;
    pub const FONT_NOT_FOUND: u32 = 3;
    pub const FONT_PARSE: u32 = 4;
    pub const LIMIT_EXCEEDED: u32 = 5;
    /// A sandbox limit: fuel, deadline, memory cap.
    pub const RESOURCE_LIMIT: u32 = 6;
    /// A trap or a bug.
    pub const INTERNAL: u32 = 7;
    /// A host's queue is full, or a deadline passed while the job waited.
    pub const OVERLOADED: u32 = 8;
}

/// A success descriptor's `kind` when a single job's image bytes are out of band: their format.
pub mod image {
    pub const PGM: u32 = 1;
    pub const PNG: u32 = 2;
    pub const RAW: u32 = 3;
}

/// Key kinds of a *needs font* answer and of `haforu_font_bind` / `haforu_font_forget`.
pub mod key {
    /// The job's `font.path`.
    pub const PATH: u32 = 1;
    /// The job's `font.name` (with [`crate::flags::NAMED_FONTS`]).
    pub const NAME: u32 = 2;
}
