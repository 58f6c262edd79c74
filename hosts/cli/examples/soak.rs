//! The hostile-load soak of `haforu serve` (bench/soak.sh, `make soak`).
//!
//! `soak ADDR HEALTHY.jsonl HOSTILE.jsonl --pid PID [--connections N] [--seconds S]
//!       [--hostile-every K] [--idle-seconds S]`
//!
//! 1. Each healthy job is sent once on an idle server; its answer (timing removed) is the
//!    reference.
//! 2. Idle phase: N keep-alive connections send healthy jobs only (closed loop) → the idle p99.
//! 3. Hostile phase: the same, but every K-th request of a connection is hostile: the next line
//!    of HOSTILE.jsonl, or (for the line `"slow-client"`) a client that sends half a request
//!    and stops. Every healthy answer must equal its reference.
//!
//! Beside both phases a probe sends `GET /healthz` every 50 ms (1 s timeout) and the server's
//! RSS is read from /proc every 100 ms. Prints one JSON line per phase and a verdict: healthy
//! answers that differed or failed, the hostile/idle p99 ratio, and the RSS at the end of the
//! idle phase, at its highest, and settled (3 s after the hostile phase). Loopback only.

#[path = "common/http.rs"]
mod http;

use std::io::{BufReader, Write};
use std::net::{SocketAddr, TcpStream};

use http::{connect, exchange};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

struct Opts {
    addr: SocketAddr,
    healthy: Vec<Vec<u8>>,
    hostile: Vec<Vec<u8>>,
    pid: u32,
    conns: usize,
    secs: f64,
    idle_secs: f64,
    every: usize,
}

fn main() {
    let o = Arc::new(parse_args());
    // References: each healthy job alone on the idle server.
    let mut c = connect(o.addr).expect("connect");
    let reference: Vec<(u16, Vec<u8>)> = o
        .healthy
        .iter()
        .map(|j| {
            let (code, body) = exchange(&mut c, &post(o.addr, j)).expect("reference request");
            (code, strip_timing(&body))
        })
        .collect();
    assert!(
        reference.iter().all(|(c, _)| *c == 200),
        "every healthy job succeeds on the idle server"
    );
    let reference = Arc::new(reference);
    let idle = phase(&o, &reference, o.idle_secs, 0);
    println!("{}", idle.json("idle"));
    let hostile = phase(&o, &reference, o.secs, o.every);
    println!("{}", hostile.json("hostile"));
    // Settled: what the server keeps once the last hostile answers have been sent and the
    // heavy lane's queue (up to a few giant jobs whose clients gave up waiting) has drained.
    std::thread::sleep(Duration::from_secs(3));
    let settled = rss_of(o.pid).unwrap_or(0);
    let p99_ratio = hostile.p99 / idle.p99.max(0.001);
    let base = idle.rss_end.max(1) as f64;
    let drift = (settled as f64 - base) / base;
    println!(
        "{{\"phase\":\"verdict\",\"healthy_mismatches\":{},\"healthy_failures\":{},\"p99_ratio\":{p99_ratio:.2},\"rss_idle_mb\":{:.1},\"rss_max_mb\":{:.1},\"rss_settled_mb\":{:.1},\"rss_drift_pct\":{:.1},\"healthz_failures\":{}}}",
        hostile.mismatches,
        hostile.failures,
        base / 1048576.0,
        hostile.rss_max as f64 / 1048576.0,
        settled as f64 / 1048576.0,
        drift * 100.0,
        idle.healthz_failures + hostile.healthz_failures,
    );
}

fn parse_args() -> Opts {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut pos = Vec::new();
    let (mut conns, mut secs, mut idle_secs, mut every, mut pid) = (16, 30.0, 10.0, 5, 0u32);
    let mut i = 0;
    while i < args.len() {
        let next = || args.get(i + 1).cloned().unwrap_or_default();
        match args[i].as_str() {
            "--connections" => conns = next().parse().expect("--connections N"),
            "--seconds" => secs = next().parse().expect("--seconds S"),
            "--idle-seconds" => idle_secs = next().parse().expect("--idle-seconds S"),
            "--hostile-every" => every = next().parse().expect("--hostile-every K"),
            "--pid" => pid = next().parse().expect("--pid PID"),
            a => {
                pos.push(a.to_string());
                i += 1;
                continue;
            }
        }
        i += 2;
    }
    let [addr, healthy, hostile] = &pos[..] else {
        eprintln!("usage: soak ADDR HEALTHY.jsonl HOSTILE.jsonl --pid PID [options]");
        std::process::exit(2);
    };
    let addr: SocketAddr = addr.parse().expect("ADDR as ip:port");
    assert!(addr.ip().is_loopback(), "soak only talks to loopback");
    let lines = |f: &str| -> Vec<Vec<u8>> {
        std::fs::read(f)
            .expect("jobs file")
            .split(|&b| b == b'\n')
            .filter(|l| !l.is_empty())
            .map(<[u8]>::to_vec)
            .collect()
    };
    Opts {
        addr,
        healthy: lines(healthy),
        hostile: lines(hostile),
        pid,
        conns,
        secs,
        idle_secs,
        every,
    }
}

#[derive(Default)]
struct Phase {
    healthy: u64,
    hostile: u64,
    mismatches: u64,
    failures: u64,
    p50: f64,
    p99: f64,
    max: f64,
    healthz_failures: u64,
    healthz_max_ms: f64,
    rss_start: u64,
    rss_min: u64,
    rss_max: u64,
    rss_end: u64,
    seconds: f64,
}

impl Phase {
    fn json(&self, name: &str) -> String {
        let mb = |b: u64| b as f64 / 1048576.0;
        format!(
            "{{\"phase\":\"{name}\",\"seconds\":{:.1},\"healthy\":{},\"hostile\":{},\"healthy_per_s\":{:.0},\"p50_ms\":{:.3},\"p99_ms\":{:.3},\"max_ms\":{:.3},\"mismatches\":{},\"failures\":{},\"healthz_failures\":{},\"healthz_max_ms\":{:.1},\"rss_mb\":{{\"start\":{:.1},\"min\":{:.1},\"max\":{:.1},\"end\":{:.1}}}}}",
            self.seconds,
            self.healthy,
            self.hostile,
            self.healthy as f64 / self.seconds,
            self.p50,
            self.p99,
            self.max,
            self.mismatches,
            self.failures,
            self.healthz_failures,
            self.healthz_max_ms,
            mb(self.rss_start),
            mb(self.rss_min),
            mb(self.rss_max),
            mb(self.rss_end),
        )
    }
}

fn phase(o: &Arc<Opts>, reference: &Arc<Vec<(u16, Vec<u8>)>>, secs: f64, every: usize) -> Phase {
    let stop = Arc::new(AtomicBool::new(false));
    let rss = Arc::new(Mutex::new(Vec::<u64>::new()));
    let hz_fail = Arc::new(AtomicU64::new(0));
    let hz_max = Arc::new(AtomicU64::new(0));
    let sampler = {
        let (stop, rss, pid) = (Arc::clone(&stop), Arc::clone(&rss), o.pid);
        std::thread::spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                if let Some(r) = rss_of(pid) {
                    rss.lock().unwrap().push(r);
                }
                std::thread::sleep(Duration::from_millis(100));
            }
        })
    };
    let probe = {
        let (stop, fail, max, addr) = (
            Arc::clone(&stop),
            Arc::clone(&hz_fail),
            Arc::clone(&hz_max),
            o.addr,
        );
        std::thread::spawn(move || {
            let req = format!("GET /healthz HTTP/1.1\r\nHost: {addr}\r\n\r\n").into_bytes();
            while !stop.load(Ordering::Relaxed) {
                let t = Instant::now();
                let ok = connect(addr)
                    .and_then(|mut c| {
                        c.get_mut().set_read_timeout(Some(Duration::from_secs(1)))?;
                        exchange(&mut c, &req)
                    })
                    .is_ok_and(|(code, _)| code == 200);
                if !ok {
                    fail.fetch_add(1, Ordering::Relaxed);
                }
                max.fetch_max(t.elapsed().as_micros() as u64, Ordering::Relaxed);
                std::thread::sleep(Duration::from_millis(50));
            }
        })
    };
    let t0 = Instant::now();
    let end = t0 + Duration::from_secs_f64(secs);
    let workers: Vec<_> = (0..o.conns)
        .map(|k| {
            let (o, reference) = (Arc::clone(o), Arc::clone(reference));
            std::thread::spawn(move || connection(&o, &reference, k, end, every))
        })
        .collect();
    let mut ph = Phase::default();
    let mut lat = Vec::new();
    for w in workers {
        let r = w.join().expect("connection thread");
        lat.extend(r.lat);
        ph.healthy += r.healthy;
        ph.hostile += r.hostile;
        ph.mismatches += r.mismatches;
        ph.failures += r.failures;
    }
    ph.seconds = t0.elapsed().as_secs_f64();
    stop.store(true, Ordering::Relaxed);
    let _ = sampler.join();
    let _ = probe.join();
    lat.sort_unstable();
    let q = |p: f64| -> f64 {
        if lat.is_empty() {
            return 0.0;
        }
        let i = ((lat.len() as f64 * p).ceil() as usize).clamp(1, lat.len()) - 1;
        lat[i] as f64 / 1000.0
    };
    (ph.p50, ph.p99, ph.max) = (q(0.5), q(0.99), q(1.0));
    ph.healthz_failures = hz_fail.load(Ordering::Relaxed);
    ph.healthz_max_ms = hz_max.load(Ordering::Relaxed) as f64 / 1000.0;
    let rss = rss.lock().unwrap();
    ph.rss_start = rss.first().copied().unwrap_or(0);
    ph.rss_end = rss.last().copied().unwrap_or(0);
    ph.rss_min = rss.iter().copied().min().unwrap_or(0);
    ph.rss_max = rss.iter().copied().max().unwrap_or(0);
    ph
}

#[derive(Default)]
struct ConnResult {
    lat: Vec<u32>,
    healthy: u64,
    hostile: u64,
    mismatches: u64,
    failures: u64,
}

/// One keep-alive connection's closed loop. Hostile requests go on their own socket (a
/// server may close a connection after a malformed request), healthy ones on the kept one.
fn connection(
    o: &Opts,
    reference: &[(u16, Vec<u8>)],
    k: usize,
    end: Instant,
    every: usize,
) -> ConnResult {
    let mut r = ConnResult::default();
    let mut conn: Option<BufReader<TcpStream>> = None;
    let mut n = k; // stagger the connections
    let requests: Vec<Vec<u8>> = o.healthy.iter().map(|j| post(o.addr, j)).collect();
    while Instant::now() < end {
        n += 1;
        if every > 0 && n.is_multiple_of(every) {
            let h = &o.hostile[(n / every + k) % o.hostile.len()];
            r.hostile += 1;
            hostile(o.addr, h);
            continue;
        }
        let i = n % requests.len();
        if conn.is_none() {
            conn = connect(o.addr).ok();
        }
        let Some(c) = conn.as_mut() else {
            r.failures += 1;
            std::thread::sleep(Duration::from_millis(10));
            continue;
        };
        let t = Instant::now();
        match exchange(c, &requests[i]) {
            Ok((code, body)) => {
                r.lat
                    .push(t.elapsed().as_micros().min(u32::MAX as u128) as u32);
                r.healthy += 1;
                if (code, strip_timing(&body)) != reference[i] {
                    r.mismatches += 1;
                    if r.mismatches == 1 {
                        eprintln!(
                            "soak: healthy job {i} answered {code}: {}",
                            String::from_utf8_lossy(&body[..body.len().min(300)])
                        );
                    }
                }
            }
            Err(_) => {
                r.failures += 1;
                conn = None;
            }
        }
    }
    r
}

/// Sends one hostile request on a fresh socket and reads what comes back (if anything).
fn hostile(addr: SocketAddr, job: &[u8]) {
    let Ok(mut c) = connect(addr) else { return };
    let _ = c.get_mut().set_read_timeout(Some(Duration::from_secs(30)));
    if job == b"\"slow-client\"" {
        // Announce a 4 KiB body, send half of it, stall, and go away.
        let head = format!(
            "POST /render HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: 4096\r\n\r\n{{\"id\":\"slow\",\"text\":{{\"content\":\""
        );
        let _ = c.get_mut().write_all(head.as_bytes());
        let _ = c.get_mut().write_all(&[b'a'; 2000]);
        std::thread::sleep(Duration::from_millis(300));
        return;
    }
    let _ = exchange(&mut c, &post(addr, job));
}

fn post(addr: SocketAddr, body: &[u8]) -> Vec<u8> {
    [
        format!(
            "POST /render HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
            body.len()
        )
        .into_bytes(),
        body.to_vec(),
    ]
    .concat()
}

/// The answer without its `"timing":{…}` member (the only part that differs run to run).
fn strip_timing(body: &[u8]) -> Vec<u8> {
    let key = b",\"timing\":{";
    let Some(at) = body.windows(key.len()).position(|w| w == key) else {
        return body.to_vec();
    };
    let Some(close) = body[at..].iter().position(|&b| b == b'}') else {
        return body.to_vec();
    };
    [&body[..at], &body[at + close + 1..]].concat()
}

fn rss_of(pid: u32) -> Option<u64> {
    let s = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let l = s.lines().find(|l| l.starts_with("VmRSS:"))?;
    let kb: u64 = l.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}
