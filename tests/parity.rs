//! Parity: every golden job gives byte-identical results natively and through `haforu.wasm`
//! in wasmtime, and both match `tests/golden/parity.json` — the hashes every other host checks.
//! `HAFORU_BLESS=1 cargo test --release --test parity` rewrites that file from the native core
//! (after the golden raster tests have passed against FreeType, which is what makes it right).
//!
//! Needs `target/haforu.wasm` (`make wasm`).

mod common;
use common::*;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use wasmtime::{Engine, Instance, Memory, Module, Store, TypedFunc};

fn wasm_module(engine: &Engine) -> Module {
    let path = repo().join("target/haforu.wasm");
    let bytes = std::fs::read(&path)
        .unwrap_or_else(|e| panic!("{}: {e} — build it with `make wasm`", path.display()));
    Module::new(engine, bytes).unwrap()
}

struct Guest {
    store: Store<()>,
    memory: Memory,
    alloc: TypedFunc<i32, i32>,
    free: TypedFunc<(i32, i32), ()>,
    register: TypedFunc<(i32, i32), i32>,
    run: TypedFunc<(i32, i32, i32, i32, i32), i32>,
    handles: std::collections::HashMap<String, i32>,
}

impl Guest {
    fn new(engine: &Engine, module: &Module) -> Guest {
        let mut store = Store::new(engine, ());
        let inst = Instance::new(&mut store, module, &[]).unwrap();
        let memory = inst.get_memory(&mut store, "memory").unwrap();
        let version: TypedFunc<(), i32> = inst
            .get_typed_func(&mut store, "haforu_abi_version")
            .unwrap();
        assert_eq!(version.call(&mut store, ()).unwrap(), 2);
        Guest {
            alloc: inst.get_typed_func(&mut store, "haforu_alloc").unwrap(),
            free: inst.get_typed_func(&mut store, "haforu_free").unwrap(),
            register: inst
                .get_typed_func(&mut store, "haforu_font_register")
                .unwrap(),
            run: inst.get_typed_func(&mut store, "haforu_run").unwrap(),
            memory,
            store,
            handles: Default::default(),
        }
    }

    fn put(&mut self, bytes: &[u8]) -> i32 {
        let p = self
            .alloc
            .call(&mut self.store, bytes.len() as i32)
            .unwrap();
        assert_ne!(p, 0);
        self.memory
            .write(&mut self.store, p as usize, bytes)
            .unwrap();
        p
    }

    fn handle(&mut self, path: &str) -> i32 {
        if let Some(h) = self.handles.get(path) {
            return *h;
        }
        let bytes = std::fs::read(repo().join(path)).unwrap();
        let p = self.put(&bytes);
        let h = self
            .register
            .call(&mut self.store, (p, bytes.len() as i32))
            .unwrap();
        assert!(h >= 1);
        self.handles.insert(path.to_string(), h);
        h
    }

    /// Run a job; returns (json bytes, data bytes, status).
    fn run(&mut self, job: &[u8], handle: i32, flags: i32) -> (Vec<u8>, Vec<u8>, u32) {
        let p = self.put(job);
        let d = self
            .run
            .call(&mut self.store, (p, job.len() as i32, 0, handle, flags))
            .unwrap();
        self.free
            .call(&mut self.store, (p, job.len() as i32))
            .unwrap();
        let mut desc = [0u8; 28];
        self.memory
            .read(&self.store, d as usize, &mut desc)
            .unwrap();
        let f = |i: usize| u32::from_le_bytes(desc[i * 4..i * 4 + 4].try_into().unwrap()) as usize;
        let mut json = vec![0; f(1)];
        self.memory.read(&self.store, f(0), &mut json).unwrap();
        let mut data = vec![0; f(3)];
        if f(3) > 0 {
            self.memory.read(&self.store, f(2), &mut data).unwrap();
        }
        (json, data, f(4) as u32)
    }
}

fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[test]
fn module_has_no_imports_and_the_documented_exports() {
    let engine = Engine::default();
    let module = wasm_module(&engine);
    assert_eq!(
        module.imports().count(),
        0,
        "haforu.wasm must import nothing"
    );
    let mut exports: Vec<String> = module.exports().map(|e| e.name().to_string()).collect();
    exports.sort();
    // The table in wasm/README.md, plus what the linker always adds.
    let readme = std::fs::read_to_string(repo().join("wasm/README.md")).unwrap();
    let mut documented: Vec<String> = readme
        .lines()
        .filter_map(|l| l.strip_prefix("| `"))
        .filter_map(|l| l.split('`').next())
        .filter(|n| *n == "memory" || n.starts_with("haforu_"))
        .map(str::to_string)
        .collect();
    documented.sort();
    documented.dedup();
    let linker: &[&str] = &["__data_end", "__heap_base"];
    let exports: Vec<String> = exports
        .into_iter()
        .filter(|e| !linker.contains(&e.as_str()))
        .collect();
    assert_eq!(exports, documented);
}

#[test]
fn native_and_wasm_give_identical_bytes_and_match_parity_file() {
    let engine = Engine::default();
    let module = wasm_module(&engine);
    let mut guest = Guest::new(&engine, &module);
    let mut host = Host::new();
    let mut parity = serde_json::Map::new();
    let mut jobs: Vec<Value> = Vec::new();
    for case in raster_cases() {
        for format in ["pgm", "png", "raw", "metrics", "glyphs"] {
            jobs.push(with_format(&case, format));
        }
    }
    for job in &jobs {
        let text = job.to_string();
        let path = job["font"]["path"].as_str().unwrap();
        let (nh, gh) = (host.handle(path), guest.handle(path));
        for oob in [false, true] {
            let native = host.engine.run_json(text.as_bytes(), 0, Some(nh), oob);
            let (json, data, status) = guest.run(text.as_bytes(), gh, oob as i32);
            let id = &job["id"];
            assert_eq!(
                String::from_utf8_lossy(&native.json),
                String::from_utf8_lossy(&json),
                "{id}"
            );
            assert_eq!(native.data, data, "{id}");
            assert_eq!(status, (!native.is_ok()) as u32);
        }
        let out = host.engine.run_json(text.as_bytes(), 0, Some(nh), true);
        let result: Value = serde_json::from_slice(&out.json).unwrap();
        let id = job["id"].as_str().unwrap();
        let entry = parity.entry(id.to_string()).or_insert_with(|| json!({}));
        match job["rendering"]["format"].as_str().unwrap() {
            "pgm" => entry["pgm_sha256"] = Value::from(sha256_hex(&out.data)),
            "metrics" => entry["metrics"] = result["metrics"].clone(),
            _ => {}
        }
    }
    let path = repo().join("tests/golden/parity.json");
    let current = serde_json::to_string_pretty(&Value::Object(parity)).unwrap() + "\n";
    if std::env::var_os("HAFORU_BLESS").is_some() {
        std::fs::write(&path, &current).unwrap();
    }
    let stored = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        stored == current,
        "tests/golden/parity.json is out of date; if the golden raster tests pass, run \
         `HAFORU_BLESS=1 cargo test --release --test parity` and commit it"
    );
}

#[test]
fn errors_are_identical_too() {
    let engine = Engine::default();
    let module = wasm_module(&engine);
    let mut guest = Guest::new(&engine, &module);
    let mut host = Host::new();
    let jobs: [&[u8]; 4] = [
        b"{nope",
        br#"{"id":"x","font":{"path":"a.ttf","size":0},"text":{"content":"a"},"rendering":{"format":"pgm","width":1,"height":1}}"#,
        br#"{"id":"y","font":{"data":"AAAA","size":10},"text":{"content":"a"},"rendering":{"format":"pgm","width":1,"height":1}}"#,
        br#"{"id":"z","font":{"path":"unresolved.ttf","size":10},"text":{"content":"a"},"rendering":{"format":"pgm","width":1,"height":1}}"#,
    ];
    for job in jobs {
        let native = host.engine.run_json(job, 0, None, false);
        let (json, data, status) = guest.run(job, 0, 0);
        assert_eq!(native.json, json);
        assert_eq!(status, native.status.code());
        // An unbound path is a needs-font answer naming the key, not an error.
        let unbound = job.starts_with(br#"{"id":"z""#);
        assert_eq!(status, if unbound { 2 } else { 1 });
        if unbound {
            assert_eq!(data, b"unresolved.ttf");
        }
    }
}

#[test]
fn sweeps_and_comparisons_are_identical_in_wasm() {
    use base64::Engine as _;
    let engine = Engine::default();
    let module = wasm_module(&engine);
    let mut guest = Guest::new(&engine, &module);
    let mut host = Host::new();
    let vf = "tests/fonts/Inter-VF-subset.ttf";
    // A target rendered from another font, passed inline as PGM.
    let target_job = json!({"id": "t", "font": {"path": "tests/fonts/DejaVuSans-subset.ttf", "size": 220},
        "text": {"content": "Ag"}, "rendering": {"format": "pgm", "width": 400, "height": 260}});
    let (_, pgm) = host.run(&target_job);
    let target = base64::engine::general_purpose::STANDARD.encode(&pgm);
    let sweep: Vec<Value> = (0..9).map(|i| json!({"wght": 100 + 100 * i})).collect();
    let mut jobs = Vec::new();
    for format in ["metrics", "pgm", "raw", "glyphs"] {
        for method in ["center", "corner"] {
            let mut j = json!({"id": format!("{format}-{method}"), "font": {"path": vf, "size": 200},
                "text": {"content": "Ag"}, "rendering": {"format": format, "width": 380, "height": 250},
                "sweep": sweep});
            if format != "glyphs" {
                j["compare"] = json!({"target": target, "method": method});
            }
            jobs.push(j);
        }
    }
    for job in &jobs {
        let text = job.to_string();
        let (nh, gh) = (host.handle(vf), guest.handle(vf));
        for flags in [0, 1, 4, 5] {
            let mut native = haforu::Output::default();
            host.engine.run_json_with(
                text.as_bytes(),
                0,
                Some(nh),
                haforu::RunOptions {
                    data_out_of_band: flags & 1 != 0,
                    points_out_of_band: flags & 4 != 0,
                    ..Default::default()
                },
                &mut native,
            );
            assert!(native.is_ok(), "{}", String::from_utf8_lossy(&native.json));
            let (json, data, status) = guest.run(text.as_bytes(), gh, flags);
            assert_eq!(
                String::from_utf8_lossy(&native.json),
                String::from_utf8_lossy(&json),
                "{} flags {flags}",
                job["id"]
            );
            assert_eq!(native.data, data);
            assert_eq!(status, 0);
        }
    }
}
