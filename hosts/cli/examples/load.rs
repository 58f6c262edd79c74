//! A small closed-loop HTTP load generator for the benchmark (bench/cli_bench.sh).
//!
//! `load ADDR BODY_FILE [--connections N] [--seconds S] [--path /render]`
//!
//! N keep-alive connections each send the same POST and wait for its answer, for S seconds;
//! prints one JSON line: requests/s, latency p50/p90/p99/max, status counts. Only loopback
//! addresses are accepted, and the run always stops after S seconds.

use std::collections::BTreeMap;
#[path = "common/http.rs"]
mod http;

use std::io::BufReader;
use std::net::{SocketAddr, TcpStream};

use http::{connect, exchange};
use std::time::{Duration, Instant};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut pos = Vec::new();
    let (mut conns, mut secs, mut path) = (16usize, 30f64, "/render".to_string());
    let mut i = 0;
    while i < args.len() {
        match args[i].as_str() {
            "--connections" => {
                conns = args[i + 1].parse().expect("--connections N");
                i += 1;
            }
            "--seconds" => {
                secs = args[i + 1].parse().expect("--seconds S");
                i += 1;
            }
            "--path" => {
                path = args[i + 1].clone();
                i += 1;
            }
            a => pos.push(a.to_string()),
        }
        i += 1;
    }
    let [addr, body_file] = &pos[..] else {
        eprintln!("usage: load ADDR BODY_FILE [--connections N] [--seconds S] [--path P]");
        std::process::exit(2);
    };
    let addr: SocketAddr = addr.parse().expect("ADDR as ip:port");
    assert!(
        addr.ip().is_loopback(),
        "load is only sent to loopback addresses"
    );
    let body = std::fs::read(body_file).expect("BODY_FILE");
    let request = [
        format!(
            "POST {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
            body.len()
        )
        .into_bytes(),
        body,
    ]
    .concat();
    let end = Instant::now() + Duration::from_secs_f64(secs);
    let t0 = Instant::now();
    let threads: Vec<_> = (0..conns)
        .map(|_| {
            let request = request.clone();
            std::thread::spawn(move || worker(addr, &request, end))
        })
        .collect();
    let mut lat: Vec<u32> = Vec::new();
    let mut codes: BTreeMap<u16, u64> = BTreeMap::new();
    let mut io_errors = 0u64;
    for t in threads {
        let (l, c, e) = t.join().expect("worker");
        lat.extend(l);
        for (k, v) in c {
            *codes.entry(k).or_default() += v;
        }
        io_errors += e;
    }
    let wall = t0.elapsed().as_secs_f64();
    lat.sort_unstable();
    let q = |p: f64| -> f64 {
        if lat.is_empty() {
            return 0.0;
        }
        let i = ((lat.len() as f64 * p).ceil() as usize).clamp(1, lat.len()) - 1;
        lat[i] as f64 / 1000.0
    };
    let ok = codes.get(&200).copied().unwrap_or(0);
    println!(
        "{{\"connections\":{conns},\"seconds\":{wall:.2},\"requests\":{},\"ok\":{ok},\"req_per_s\":{:.1},\"p50_ms\":{:.3},\"p90_ms\":{:.3},\"p99_ms\":{:.3},\"max_ms\":{:.3},\"codes\":{},\"io_errors\":{io_errors}}}",
        lat.len(),
        lat.len() as f64 / wall,
        q(0.50),
        q(0.90),
        q(0.99),
        q(1.0),
        serde_json::to_string(&codes).expect("codes serialise"),
    );
}

/// One keep-alive connection: latencies in µs, status counts, I/O errors.
fn worker(addr: SocketAddr, request: &[u8], end: Instant) -> (Vec<u32>, BTreeMap<u16, u64>, u64) {
    let mut lat = Vec::new();
    let mut codes = BTreeMap::new();
    let mut errors = 0;
    let mut conn: Option<BufReader<TcpStream>> = None;
    while Instant::now() < end {
        if conn.is_none() {
            match connect(addr) {
                Ok(c) => conn = Some(c),
                Err(_) => {
                    errors += 1;
                    std::thread::sleep(Duration::from_millis(10));
                    continue;
                }
            }
        }
        let c = conn.as_mut().expect("connected");
        let t = Instant::now();
        match exchange(c, request) {
            Ok((code, _)) => {
                lat.push(t.elapsed().as_micros().min(u32::MAX as u128) as u32);
                *codes.entry(code).or_default() += 1;
            }
            Err(_) => {
                errors += 1;
                conn = None;
            }
        }
    }
    (lat, codes, errors)
}
