//! The result descriptor, once: `wasm/abi` writes it and `hosts/guest` reads it (that crate
//! includes this file, as it cannot depend on a wasm32-only crate).

/// The result descriptor every `desc_ptr` points to (`wasm/README.md`, *The result
/// descriptor*): seven little-endian `u32`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Descriptor {
    /// The JSON text (a result object, JSONL, an info object, a needs-font answer).
    pub json_ptr: u32,
    /// Its length.
    pub json_len: u32,
    /// Out-of-band bytes (image payload; the key of a needs-font answer), or 0.
    pub data_ptr: u32,
    /// Their length.
    pub data_len: u32,
    /// 0 success, 1 error, 2 needs font.
    pub status: u32,
    /// Status 1: the error-kind code; status 2: the font key kind (1 path, 2 name); status 0
    /// with a single job's image out of band: its format (1 pgm, 2 png, 3 raw); else 0.
    pub kind: u32,
    /// With `SPLICE_DATA`: where in the JSON the base64 text of the data goes; else 0.
    pub splice_at: u32,
}
