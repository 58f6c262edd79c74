//! Shared helpers: the golden case files, PGM reading, and the native test host (it registers
//! each font file once and passes handles, as the engine's hosts may).

use haforu::Engine;
use serde_json::Value;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

pub fn read_jsonl(rel: &str) -> Vec<Value> {
    let text = std::fs::read_to_string(repo().join(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"));
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{rel}: {e}: {l}")))
        .collect()
}

/// The raster golden cases (`tests/golden/raster/cases.jsonl`), in file order.
pub fn raster_cases() -> &'static [Value] {
    static CASES: OnceLock<Vec<Value>> = OnceLock::new();
    CASES.get_or_init(|| read_jsonl("tests/golden/raster/cases.jsonl"))
}

/// The shaping golden cases (`tests/golden/shaping/cases.jsonl`), in file order.
pub fn shaping_cases() -> &'static [Value] {
    static CASES: OnceLock<Vec<Value>> = OnceLock::new();
    CASES.get_or_init(|| read_jsonl("tests/golden/shaping/cases.jsonl"))
}

/// The case with this id.
pub fn case<'a>(cases: &'a [Value], id: &str) -> &'a Value {
    cases
        .iter()
        .find(|c| c["id"] == id)
        .unwrap_or_else(|| panic!("no golden case {id}"))
}

/// The ids of `cases`, in order.
pub fn ids(cases: &[Value]) -> Vec<&str> {
    cases.iter().map(|c| c["id"].as_str().unwrap()).collect()
}

/// Read a binary PGM (optionally gzip'd) into (width, height, pixels).
pub fn read_pgm(path: &Path) -> (u32, u32, Vec<u8>) {
    let raw = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let bytes = if path.extension().is_some_and(|e| e == "gz") {
        let mut out = Vec::new();
        flate2::read::GzDecoder::new(&raw[..])
            .read_to_end(&mut out)
            .unwrap();
        out
    } else {
        raw
    };
    parse_pgm(&bytes)
}

pub fn parse_pgm(bytes: &[u8]) -> (u32, u32, Vec<u8>) {
    // P5\nW H\n255\n
    let mut fields = Vec::new();
    let mut i = 0;
    while fields.len() < 4 {
        while bytes[i].is_ascii_whitespace() {
            i += 1;
        }
        let start = i;
        while !bytes[i].is_ascii_whitespace() {
            i += 1;
        }
        fields.push(std::str::from_utf8(&bytes[start..i]).unwrap().to_string());
    }
    assert_eq!(fields[0], "P5");
    let (w, h): (u32, u32) = (fields[1].parse().unwrap(), fields[2].parse().unwrap());
    let px = bytes[i + 1..].to_vec();
    assert_eq!(px.len(), (w * h) as usize);
    (w, h, px)
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The native test host: registers each font file once and passes handles.
pub struct Host {
    pub engine: Engine,
    handles: HashMap<String, u32>,
}

impl Host {
    pub fn new() -> Self {
        Host {
            engine: Engine::new(),
            handles: HashMap::new(),
        }
    }

    pub fn handle(&mut self, path: &str) -> u32 {
        if let Some(h) = self.handles.get(path) {
            return *h;
        }
        let bytes = std::fs::read(repo().join(path)).unwrap_or_else(|e| panic!("{path}: {e}"));
        let h = self.engine.register_font(bytes).unwrap();
        self.handles.insert(path.to_string(), h);
        h
    }

    /// Run a job value; returns (result JSON, out-of-band data).
    pub fn run(&mut self, job: &Value) -> (Value, Vec<u8>) {
        let path = job["font"]["path"].as_str().unwrap().to_string();
        let h = self.handle(&path);
        let out = self
            .engine
            .run_json(job.to_string().as_bytes(), 0, Some(h), true);
        (serde_json::from_slice(&out.json).unwrap(), out.data)
    }
}

/// A copy of `job` with a different format.
pub fn with_format(job: &Value, format: &str) -> Value {
    let mut j = job.clone();
    j["rendering"]["format"] = Value::from(format);
    j
}
