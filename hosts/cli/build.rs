//! Embeds `haforu.wasm` and the bundled default font into the `haforu` binary.
//!
//! The module comes from, in order: the file named by `HAFORU_WASM`; `target/haforu.wasm` at the
//! workspace root (what `make wasm` writes); else a nested
//! `cargo build --profile wasm --target wasm32-unknown-unknown -p haforu-wasm` into
//! `target/nested-wasm` (a separate target directory, so the nested cargo does not wait for the
//! lock that the outer cargo holds).

use std::env;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use sha2::{Digest, Sha256};

fn main() {
    let manifest_dir = PathBuf::from(env::var("CARGO_MANIFEST_DIR").expect("CARGO_MANIFEST_DIR"));
    let root = manifest_dir
        .parent()
        .and_then(Path::parent)
        .expect("hosts/cli sits two levels below the workspace root")
        .to_path_buf();
    let out_dir = PathBuf::from(env::var("OUT_DIR").expect("OUT_DIR"));

    println!("cargo:rerun-if-env-changed=HAFORU_WASM");
    println!("cargo:rerun-if-changed=build.rs");

    let wasm_path = locate_wasm(&root);
    println!("cargo:rerun-if-changed={}", wasm_path.display());
    let wasm =
        fs::read(&wasm_path).unwrap_or_else(|e| panic!("cannot read {}: {e}", wasm_path.display()));
    assert!(
        wasm.starts_with(b"\0asm"),
        "{} is not a wasm module",
        wasm_path.display()
    );
    fs::write(out_dir.join("haforu.wasm"), &wasm).expect("write OUT_DIR/haforu.wasm");
    let sha = hex(&Sha256::digest(&wasm));
    println!("cargo:rustc-env=HAFORU_WASM_SHA256={sha}");

    // The bundled default font (used by `haforu render` without `-f`). If it is not there yet,
    // an empty file is embedded and `render` asks for `-f`.
    let font_path = root.join("src/default_font/Inter-VF-Latin.ttf");
    println!("cargo:rerun-if-changed={}", font_path.display());
    let font = fs::read(&font_path).unwrap_or_default();
    if font.is_empty() {
        println!(
            "cargo:warning=no default font at {}; `haforu render` will need -f",
            font_path.display()
        );
    }
    fs::write(out_dir.join("default_font.ttf"), &font).expect("write OUT_DIR/default_font.ttf");

    let wasmtime = wasmtime_version(&root).unwrap_or_else(|| "48".to_string());
    println!("cargo:rustc-env=HAFORU_WASMTIME_VERSION={wasmtime}");
    let long_version = format!(
        "{} (haforu.wasm sha256 {}, {} bytes; wasmtime {wasmtime})",
        env::var("CARGO_PKG_VERSION").unwrap_or_default(),
        &sha[..16],
        wasm.len()
    );
    println!("cargo:rustc-env=HAFORU_LONG_VERSION={long_version}");
}

fn locate_wasm(root: &Path) -> PathBuf {
    if let Some(p) = env::var_os("HAFORU_WASM") {
        return PathBuf::from(p);
    }
    let made = root.join("target/haforu.wasm");
    if made.is_file() {
        return made;
    }
    // Rebuild when the engine sources change (only on this path: with a prebuilt module the
    // module file itself is the dependency).
    for dir in ["src", "wasm/abi/src", "wasm/abi/Cargo.toml", "Cargo.toml"] {
        println!("cargo:rerun-if-changed={}", root.join(dir).display());
    }
    let cargo = env::var("CARGO").unwrap_or_else(|_| "cargo".to_string());
    let target_dir = root.join("target/nested-wasm");
    let status = Command::new(cargo)
        .current_dir(root)
        .args([
            "build",
            "--profile",
            "wasm",
            "--target",
            "wasm32-unknown-unknown",
            "-p",
            "haforu-wasm",
            "--target-dir",
        ])
        .arg(&target_dir)
        // Flags meant for the host build must not leak into the wasm build.
        .env_remove("CARGO_ENCODED_RUSTFLAGS")
        .env_remove("RUSTFLAGS")
        .env_remove("CARGO_BUILD_TARGET")
        .env_remove("CARGO_TARGET_DIR")
        .status()
        .expect("run nested cargo to build haforu.wasm");
    assert!(
        status.success(),
        "building haforu.wasm failed; run `make wasm` or set HAFORU_WASM=/path/to/haforu.wasm"
    );
    target_dir.join("wasm32-unknown-unknown/wasm/haforu_wasm.wasm")
}

/// The wasmtime version from the workspace lock file (for `--version` and diagnostics only).
fn wasmtime_version(root: &Path) -> Option<String> {
    let lock = fs::read_to_string(root.join("Cargo.lock")).ok()?;
    let mut lines = lock.lines();
    while let Some(line) = lines.next() {
        if line.trim() == "name = \"wasmtime\"" {
            let v = lines.next()?.trim();
            return v
                .strip_prefix("version = \"")
                .and_then(|s| s.strip_suffix('"'))
                .map(str::to_string);
        }
    }
    None
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
