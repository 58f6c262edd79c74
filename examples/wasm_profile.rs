//! Run one job many times inside haforu.wasm (through the one typed guest) with wasmtime's
//! perf map enabled, for
//! `HAFORU_PERFMAP=1 perf record -g -- cargo run --release --example wasm_profile -- JOB.json N`.
use haforu_guest::{flags, CodeCache, Guest, GuestModule, SandboxLimits};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let job = std::fs::read(&args[1]).expect("JOB.json");
    let n: usize = args.get(2).and_then(|v| v.parse().ok()).unwrap_or(10000);
    let wasm = std::fs::read("target/haforu.wasm").expect("target/haforu.wasm (make wasm)");
    let module = GuestModule::load(&wasm, false, CodeCache::Off).expect("module");
    let mut g = Guest::new(&module, SandboxLimits::default()).expect("instance");
    // The job names its font by path: the engine asks for it once, the host binds it.
    let d = g.run(&job, 0, 0, flags::DATA_OUT_OF_BAND).expect("run");
    if d.needs_font() {
        let key = g.data(&d).expect("key").to_vec();
        let path = String::from_utf8(key.clone()).expect("UTF-8 path");
        let font = std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
        g.font_bind(d.kind, &key, &font).expect("bind");
    }
    let t = std::time::Instant::now();
    for _ in 0..n {
        let d = g.run(&job, 0, 0, flags::DATA_OUT_OF_BAND).expect("run");
        assert!(
            d.is_ok(),
            "{}",
            String::from_utf8_lossy(g.json(&d).unwrap())
        );
    }
    eprintln!("{:.1} µs/job", t.elapsed().as_secs_f64() * 1e6 / n as f64);
}
