//! `make bench` (= `cargo bench --bench engine`): the engine's workloads W1–W5 run, interleaved
//! round by round, by our native core, by `haforu.wasm` inside wasmtime, and by the
//! uharfbuzz + freetype-py peer (`bench/peer.py --serve`, same jobs and geometry, numpy
//! compositing). Prints per-workload medians in µs/job and the ratios. Never gated.

use haforu_guest::{flags, CodeCache, Guest, GuestModule, SandboxLimits};
use serde_json::Value;
use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::time::Instant;

fn repo() -> std::path::PathBuf {
    std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

struct Native {
    out: haforu::Output,
    engine: haforu::Engine,
    handles: std::collections::HashMap<String, u32>,
}

impl Native {
    fn run(&mut self, job: &Value, text: &[u8]) -> usize {
        let path = job["font"]["path"].as_str().unwrap();
        let h = match self.handles.get(path) {
            Some(h) => *h,
            None => {
                let h = self
                    .engine
                    .register_font(std::fs::read(repo().join(path)).unwrap())
                    .unwrap();
                self.handles.insert(path.into(), h);
                h
            }
        };
        let out = &mut self.out;
        self.engine.run_json_into(text, 0, Some(h), true, out);
        assert!(out.is_ok(), "{}", String::from_utf8_lossy(&out.json));
        out.data.len() + out.json.len()
    }
}

/// `haforu.wasm` through the typed guest (`haforu-guest`), as the CLI runs it.
struct Wasm {
    guest: Guest,
    handles: std::collections::HashMap<String, u32>,
}

impl Wasm {
    fn new(module: &GuestModule) -> Self {
        Wasm {
            guest: Guest::new(module, SandboxLimits::default()).unwrap_or_else(|f| panic!("{f:?}")),
            handles: Default::default(),
        }
    }

    fn run(&mut self, job: &Value, text: &[u8]) -> usize {
        let path = job["font"]["path"].as_str().unwrap();
        let h = match self.handles.get(path) {
            Some(h) => *h,
            None => {
                let bytes = std::fs::read(repo().join(path)).unwrap();
                let h = self.guest.font_register(&bytes).unwrap();
                self.handles.insert(path.into(), h);
                h
            }
        };
        // The guest stages every job in one reused input buffer, as real hosts do.
        let d = self.guest.run(text, 0, h, flags::DATA_OUT_OF_BAND).unwrap();
        assert!(
            d.is_ok(),
            "{}",
            String::from_utf8_lossy(self.guest.json(&d).unwrap())
        );
        // Touch the result like a host that reads it in place.
        self.guest.json(&d).unwrap().len() + self.guest.data(&d).unwrap().len()
    }

    fn memory_mb(&self) -> f64 {
        self.guest.memory_bytes() as f64 / 1048576.0
    }
}

struct Peer {
    stdin: std::process::ChildStdin,
    stdout: BufReader<std::process::ChildStdout>,
}

impl Peer {
    fn start() -> Option<Peer> {
        let python = repo().join("target/venv/bin/python");
        let mut child = Command::new(&python)
            .arg(repo().join("bench/peer.py"))
            .arg("--serve")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .map_err(|e| {
                eprintln!(
                    "peer not started ({}: {e}); run `make venv`",
                    python.display()
                )
            })
            .ok()?;
        let mut stdout = BufReader::new(child.stdout.take()?);
        let mut line = String::new();
        stdout.read_line(&mut line).ok()?;
        (line.trim() == "ready").then_some(Peer {
            stdin: child.stdin.take()?,
            stdout,
        })
    }

    fn run(&mut self, id: &str, n: usize) -> f64 {
        writeln!(self.stdin, "{id} {n}").unwrap();
        let mut line = String::new();
        self.stdout.read_line(&mut line).unwrap();
        line.trim().parse().unwrap()
    }
}

fn time_us(n: usize, mut f: impl FnMut()) -> f64 {
    let t = Instant::now();
    for _ in 0..n {
        f();
    }
    t.elapsed().as_secs_f64() * 1e6 / n as f64
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    v[v.len() / 2]
}

fn main() {
    let rounds: usize = std::env::var("BENCH_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(7);
    // BENCH_WORKLOADS=file runs other jobs (ours only; the peer knows bench/workloads.jsonl).
    let custom = std::env::var("BENCH_WORKLOADS").ok();
    let text = std::fs::read_to_string(
        custom
            .clone()
            .unwrap_or_else(|| repo().join("bench/workloads.jsonl").display().to_string()),
    )
    .unwrap();
    let jobs: Vec<Value> = text
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let wasm = std::fs::read(repo().join("target/haforu.wasm"))
        .expect("target/haforu.wasm: run `make wasm`");
    // No deadlines (no epoch checks compiled in): the fastest code the guest can run.
    let module = GuestModule::load(&wasm, false, CodeCache::Off).unwrap();
    let mut native = Native {
        out: Default::default(),
        engine: haforu::Engine::new(),
        handles: Default::default(),
    };
    let mut guest = Wasm::new(&module);
    let mut peer = if custom.is_some() {
        None
    } else {
        Peer::start()
    };
    // Per workload, the job texts run in turn: one, or for a cold workload (`"bench_cold":
    // true`) 997 different wght values, so every run is a new location and no cache helps
    // (the peer uses the same values, see bench/peer.py `cold_variants`).
    let variants: Vec<Vec<Vec<u8>>> = jobs
        .iter()
        .map(|j| {
            if j.get("bench_cold").and_then(Value::as_bool) == Some(true) {
                (0..997)
                    .map(|k| {
                        let mut v = j.clone();
                        v["font"]["variations"] =
                            serde_json::json!({"wght": 100.0 + ((k * 389) % 800) as f64 + 0.25});
                        v.to_string().into_bytes()
                    })
                    .collect()
            } else {
                vec![j.to_string().into_bytes()]
            }
        })
        .collect();
    let texts: Vec<Vec<u8>> = variants.iter().map(|v| v[0].clone()).collect();
    let mut turn = 0usize;
    let mut next = |k: usize| -> usize {
        turn += 1;
        turn % variants[k].len()
    };

    // Memory: a fresh module instance per workload, one job each — what one render needs.
    let mut mem = Vec::new();
    for (job, t) in jobs.iter().zip(&texts) {
        let mut g = Wasm::new(&module);
        let before = g.memory_mb();
        g.run(job, t);
        mem.push(g.memory_mb() - before);
    }

    // Iterations per measurement: about 0.1 s of native time.
    let iters: Vec<usize> = jobs
        .iter()
        .zip(&texts)
        .map(|(j, t)| {
            native.run(j, t);
            guest.run(j, t);
            let us = time_us(3, || {
                native.run(j, t);
            });
            let _ = &variants;
            ((100_000.0 / us) as usize).clamp(5, 20_000)
        })
        .collect();
    let mut samples = vec![[Vec::new(), Vec::new(), Vec::new()]; jobs.len()];
    for _ in 0..rounds {
        for (k, (job, t)) in jobs.iter().zip(&texts).enumerate() {
            let n = iters[k];
            let _ = t;
            samples[k][0].push(time_us(n, || {
                let t = &variants[k][next(k)];
                std::hint::black_box(native.run(job, t));
            }));
            samples[k][1].push(time_us(n, || {
                let t = &variants[k][next(k)];
                std::hint::black_box(guest.run(job, t));
            }));
            if let Some(p) = peer.as_mut() {
                let id = job["id"].as_str().unwrap();
                samples[k][2].push(p.run(id, (n / 4).max(3)));
            }
        }
    }
    println!(
        "haforu bench: median µs/job over {rounds} interleaved rounds (peer = uharfbuzz + freetype-py + numpy)"
    );
    println!(
        "{:<8} {:>10} {:>10} {:>10} {:>12} {:>12} {:>14}",
        "workload", "native", "wasm", "peer", "wasm/native", "peer/native", "wasm mem MB"
    );
    for (k, job) in jobs.iter().enumerate() {
        let n = median(&mut samples[k][0]);
        let w = median(&mut samples[k][1]);
        let p = if samples[k][2].is_empty() {
            f64::NAN
        } else {
            median(&mut samples[k][2])
        };
        println!(
            "{:<8} {:>10.1} {:>10.1} {:>10.1} {:>11.2}× {:>11.2}× {:>14.1}",
            job["id"].as_str().unwrap(),
            n,
            w,
            p,
            w / n,
            p / n,
            mem[k]
        );
    }
    println!(
        "targets: wasm/native ≤ 1.3 on every workload; peer/native > 1 on W1–W4 and ≥ 3 on W5"
    );
    println!("haforu.wasm: {} bytes", wasm.len());
}
