//! The result descriptor, read by named fields, and the fault of a call that gave none.

use crate::{kind, status};

#[path = "../../../wasm/abi/src/descriptor.rs"]
mod wire;
pub use wire::Descriptor;

impl Descriptor {
    /// Its size in guest memory.
    pub const SIZE: usize = 28;

    /// Reads the seven fields from their little-endian bytes.
    pub fn from_le_bytes(b: &[u8; Self::SIZE]) -> Descriptor {
        let w = |i: usize| u32::from_le_bytes([b[4 * i], b[4 * i + 1], b[4 * i + 2], b[4 * i + 3]]);
        Descriptor {
            json_ptr: w(0),
            json_len: w(1),
            data_ptr: w(2),
            data_len: w(3),
            status: w(4),
            kind: w(5),
            splice_at: w(6),
        }
    }

    /// Status 0.
    pub fn is_ok(&self) -> bool {
        self.status == status::OK
    }

    /// Status 2: the host must read a font (`kind` is the key kind, `data` the key).
    pub fn needs_font(&self) -> bool {
        self.status == status::NEEDS_FONT
    }
}

/// Why a call gave no descriptor: a trap (the instance is then unusable, see
/// [`Guest::is_poisoned`]) or a host-side problem staging the input.
#[derive(Clone, Debug)]
pub struct Fault {
    /// The error-kind code to report it with ([`kind::RESOURCE_LIMIT`] for the deadline, the
    /// memory cap or stack exhaustion, [`kind::INTERNAL`] otherwise).
    pub kind: u32,
    /// The bare reason, for `haforu_result_error` (the engine adds the job prefix).
    pub reason: String,
    /// True when the instance trapped.
    pub trapped: bool,
}

impl Fault {
    pub(crate) fn internal(reason: impl Into<String>) -> Fault {
        Fault {
            kind: kind::INTERNAL,
            reason: reason.into(),
            trapped: false,
        }
    }
}
