//! The export list of `haforu.wasm`, once, in the order of wasm/README.md's *Exports* table.

use wasmtime::Module;

/// Every export of ABI v2, in the README's order. The module exports exactly these (checked
/// by [`check_exports`] and by this crate's tests against the README).
pub const EXPORTS: [&str; 24] = [
    "memory",
    "haforu_abi_version",
    "haforu_alloc",
    "haforu_free",
    "haforu_font_register",
    "haforu_font_register_default",
    "haforu_font_drop",
    "haforu_font_bind",
    "haforu_font_forget",
    "haforu_run",
    "haforu_run_batch",
    "haforu_split",
    "haforu_envelope_probe",
    "haforu_work_estimate",
    "haforu_result_error",
    "haforu_result_timing",
    "haforu_result_restate",
    "haforu_info",
    "haforu_cache_clear",
    "haforu_image_register",
    "haforu_image_drop",
    "haforu_image_op",
    "haforu_font_info",
    "haforu_cache_config",
];

/// Checks that `module` imports nothing and exports every name of [`EXPORTS`] (the
/// signatures are checked when [`crate::Guest::new`] looks the functions up).
pub fn check_exports(module: &Module) -> Result<(), String> {
    if module.imports().len() != 0 {
        return Err("haforu.wasm must import nothing".into());
    }
    for name in EXPORTS {
        if module.get_export(name).is_none() {
            return Err(format!("haforu.wasm lacks the export `{name}`"));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    /// The export names of wasm/README.md's *Exports* table, in order.
    fn readme_exports() -> Vec<String> {
        let readme = std::fs::read_to_string(
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../../wasm/README.md"),
        )
        .expect("wasm/README.md");
        readme
            .lines()
            .skip_while(|l| l.trim() != "## Exports")
            .skip(1)
            .take_while(|l| !l.starts_with("#"))
            .filter_map(|l| l.strip_prefix("| `"))
            .filter_map(|l| l.split('`').next())
            .map(str::to_string)
            .collect()
    }

    #[test]
    fn export_list_is_the_readme_table() {
        let table = readme_exports();
        assert!(table.len() > 10, "no Exports table found: {table:?}");
        assert_eq!(table, EXPORTS.to_vec());
    }

    #[test]
    fn the_module_exports_exactly_these() {
        let engine = wasmtime::Engine::default();
        let module = Module::new(&engine, crate::module::tests::module_bytes()).unwrap();
        // The linker's two globals are not part of the ABI (wasm/README.md does not list them).
        let linker = ["__data_end", "__heap_base"];
        let mut names: Vec<&str> = module
            .exports()
            .map(|e| e.name())
            .filter(|n| !linker.contains(n))
            .collect();
        let mut want = EXPORTS.to_vec();
        names.sort_unstable();
        want.sort_unstable();
        assert_eq!(names, want);
        check_exports(&module).unwrap();
    }
}
