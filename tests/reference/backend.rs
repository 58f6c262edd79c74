//! The two backends every reference case runs on: the native core (`haforu::Engine`) and
//! `haforu.wasm` in wasmtime through the one typed guest (`haforu-guest`). Both answer a run
//! with the same [`Answer`], so a case is written once.
//!
//! The wasm backend needs `target/haforu.wasm` (`make wasm`, or `$HAFORU_WASM`); its compiled
//! code is cached in `target/reference-guest/`.

use crate::common::repo;
use haforu_guest::{flags, CodeCache, Guest, GuestModule, SandboxLimits};
use serde_json::Value;
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::OnceLock;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Native,
    Wasm,
}

/// One run's answer: the descriptor's fields and the bytes they point at.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Answer {
    pub json: Vec<u8>,
    pub data: Vec<u8>,
    pub status: u32,
    pub kind: u32,
}

impl Answer {
    pub fn value(&self) -> Value {
        serde_json::from_slice(&self.json)
            .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&self.json)))
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.json).into_owned()
    }
}

/// The compiled module, once per test process.
pub fn module() -> &'static GuestModule {
    static MODULE: OnceLock<GuestModule> = OnceLock::new();
    MODULE.get_or_init(|| {
        let path = std::env::var_os("HAFORU_WASM")
            .map_or_else(|| repo().join("target/haforu.wasm"), PathBuf::from);
        let wasm = std::fs::read(&path).unwrap_or_else(|e| {
            panic!(
                "{}: {e} (build it with `make wasm`, or set HAFORU_WASM)",
                path.display()
            )
        });
        let cache = CodeCache::Dir(repo().join("target/reference-guest"));
        GuestModule::load(&wasm, false, cache).unwrap_or_else(|e| panic!("{e}"))
    })
}

enum Core {
    Native(Box<haforu::Engine>),
    Wasm(Box<Guest>),
}

/// One engine of a backend, with the test fonts registered once each (by handle).
pub struct Runner {
    core: Core,
    handles: HashMap<String, u32>,
}

impl Runner {
    pub fn new(backend: Backend) -> Runner {
        let core = match backend {
            Backend::Native => Core::Native(Box::new(haforu::Engine::new())),
            Backend::Wasm => Core::Wasm(Box::new(
                Guest::new(module(), SandboxLimits::default())
                    .unwrap_or_else(|f| panic!("{}", f.reason)),
            )),
        };
        Runner {
            core,
            handles: HashMap::new(),
        }
    }

    /// The handle of a font file (a path relative to the repository), registered on first use.
    pub fn handle(&mut self, path: &str) -> u32 {
        if let Some(h) = self.handles.get(path) {
            return *h;
        }
        let bytes = std::fs::read(repo().join(path)).unwrap_or_else(|e| panic!("{path}: {e}"));
        let h = match &mut self.core {
            Core::Native(e) => e.register_font(bytes).unwrap(),
            Core::Wasm(g) => g
                .font_register(&bytes)
                .unwrap_or_else(|f| panic!("{}", f.reason)),
        };
        assert!(h >= 1);
        self.handles.insert(path.to_string(), h);
        h
    }

    /// Registers font bytes (any bytes: the engine opens them lazily); the handle.
    pub fn register(&mut self, bytes: &[u8]) -> u32 {
        match &mut self.core {
            Core::Native(e) => e.register_font(bytes.to_vec()).unwrap(),
            Core::Wasm(g) => g
                .font_register(bytes)
                .unwrap_or_else(|f| panic!("{}", f.reason)),
        }
    }

    /// Forgets a registered font.
    pub fn drop_font(&mut self, handle: u32) {
        match &mut self.core {
            Core::Native(e) => {
                e.drop_font(handle);
            }
            Core::Wasm(g) => {
                g.font_drop(handle)
                    .unwrap_or_else(|f| panic!("{}", f.reason));
            }
        }
    }

    /// `haforu_run(job, line_no, handle, flags)` (handle 0: none).
    pub fn run_text(&mut self, job: &[u8], line_no: u32, handle: u32, flags: u32) -> Answer {
        match &mut self.core {
            Core::Native(e) => {
                let opts = haforu::RunOptions {
                    data_out_of_band: flags & flags::DATA_OUT_OF_BAND != 0,
                    points_out_of_band: flags & flags::POINTS_OUT_OF_BAND != 0,
                    splice_data: flags & flags::SPLICE_DATA != 0,
                    no_handles: flags & flags::NO_HANDLES != 0,
                    named_fonts: flags & flags::NAMED_FONTS != 0,
                    ink_box: flags & flags::INK_BOX != 0,
                };
                assert_eq!(
                    flags & flags::VALIDATE_ONLY,
                    0,
                    "the native runner does not validate"
                );
                let mut out = haforu::Output::default();
                e.run_json_with(
                    job,
                    line_no,
                    (handle != 0).then_some(handle),
                    opts,
                    &mut out,
                );
                Answer {
                    status: out.status.code(),
                    kind: out.kind_code(),
                    json: out.json,
                    data: out.data,
                }
            }
            Core::Wasm(g) => {
                let d = g
                    .run(job, line_no, handle, flags)
                    .unwrap_or_else(|f| panic!("{}", f.reason));
                Answer {
                    json: g.json(&d).unwrap().to_vec(),
                    data: g.data(&d).unwrap().to_vec(),
                    status: d.status,
                    kind: d.kind,
                }
            }
        }
    }

    /// Runs a job with the handle of its `font.path`.
    pub fn run(&mut self, job: &Value, flags: u32) -> Answer {
        let h = self.handle(job["font"]["path"].as_str().unwrap());
        self.run_text(job.to_string().as_bytes(), 0, h, flags)
    }
}
