//! Run one job many times inside haforu.wasm with wasmtime's perf map enabled, for
//! `perf record -g -- cargo run --release --example wasm_profile -- JOB.json N`.
use wasmtime::{Config, Engine, Instance, Module, ProfilingStrategy, Store, TypedFunc};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let job = std::fs::read(&args[1]).unwrap();
    let n: usize = args.get(2).and_then(|v| v.parse().ok()).unwrap_or(10000);
    let v: serde_json::Value = serde_json::from_slice(&job).unwrap();
    let mut config = Config::new();
    config.profiler(ProfilingStrategy::PerfMap);
    let engine = Engine::new(&config).unwrap();
    let module = Module::new(&engine, std::fs::read("target/haforu.wasm").unwrap()).unwrap();
    let mut store = Store::new(&engine, ());
    let inst = Instance::new(&mut store, &module, &[]).unwrap();
    let mem = inst.get_memory(&mut store, "memory").unwrap();
    let alloc: TypedFunc<i32, i32> = inst.get_typed_func(&mut store, "haforu_alloc").unwrap();
    let reg: TypedFunc<(i32, i32), i32> = inst
        .get_typed_func(&mut store, "haforu_font_register")
        .unwrap();
    let run: TypedFunc<(i32, i32, i32, i32, i32), i32> =
        inst.get_typed_func(&mut store, "haforu_run").unwrap();
    let font = std::fs::read(v["font"]["path"].as_str().unwrap()).unwrap();
    let p = alloc.call(&mut store, font.len() as i32).unwrap();
    mem.write(&mut store, p as usize, &font).unwrap();
    let h = reg.call(&mut store, (p, font.len() as i32)).unwrap();
    let q = alloc.call(&mut store, job.len() as i32).unwrap();
    mem.write(&mut store, q as usize, &job).unwrap();
    let t = std::time::Instant::now();
    for _ in 0..n {
        run.call(&mut store, (q, job.len() as i32, 0, h, 1))
            .unwrap();
    }
    eprintln!("{:.1} µs/job", t.elapsed().as_secs_f64() * 1e6 / n as f64);
}
