//! The core's reference suite, in one test binary: golden raster images (FreeType) and glyph
//! runs (HarfBuzz), one `#[test]` per case and backend (`raster::big_A_1000::native`,
//! `raster::big_A_1000::wasm`, so `cargo test --release -p haforu big_A_1000` runs one case on
//! both); the parity file every other host checks; matching; errors.
//!
//! The wasm backend runs `target/haforu.wasm` (`make wasm`) through `haforu-guest`.

/// One `#[test]` per (case, backend): `$table!` lists the ids, `$check(id, backend)` runs one.
/// Expands to `pub const IDS` (the table, checked against the case file by each module) and
/// a module per id with the tests `native` and `wasm`.
macro_rules! golden_cases {
    ($check:path; $($id:ident),* $(,)?) => {
        /// The case ids, as listed in the macro (the order of the case file).
        pub const IDS: &[&str] = &[$(stringify!($id)),*];
        $(
            #[allow(non_snake_case)]
            mod $id {
                #[test]
                fn native() {
                    $check(stringify!($id), crate::backend::Backend::Native)
                }
                #[test]
                fn wasm() {
                    $check(stringify!($id), crate::backend::Backend::Wasm)
                }
            }
        )*
    };
}

mod backend;
mod budgets;
mod common;
mod errors;
mod fonts;
mod fuzz_regressions;
mod matching;
mod parity;
mod raster;
mod shaping;
mod truncation;
