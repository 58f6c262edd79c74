//! `haforu serve` on 127.0.0.1: render, batch, healthz, metrics, limits, fonts by name only,
//! the bounded queue (503), the heavy lane, slow bodies (408) and a graceful SIGTERM drain.

mod common;

use std::io::Write;
use std::net::TcpStream;
use std::time::{Duration, Instant};

use base64::Engine as _;
use common::*;

fn job_named(id: &str, name: &str, format: &str) -> String {
    serde_json::json!({
        "id": id,
        "font": {"name": name, "size": 48},
        "text": {"content": "Hamburg"},
        "rendering": {"format": format, "width": 300, "height": 64},
    })
    .to_string()
}

/// A job that takes a few hundred ms (a huge glyph run on the largest canvas).
fn slow_job(id: &str) -> String {
    serde_json::json!({
        "id": id,
        "font": {"name": "DejaVuSans-subset.ttf", "size": 8000},
        "text": {"content": "WM".repeat(20)},
        "rendering": {"format": "metrics", "width": 10000, "height": 5000},
    })
    .to_string()
}

#[test]
fn render_endpoint() {
    let s = Server::start(&[]);
    // PNG: image bytes, the result JSON in a header.
    let r = s.request(
        "POST",
        "/render",
        job_named("p", "DejaVuSans-subset.ttf", "png").as_bytes(),
    );
    assert_eq!(r.status, 200);
    assert_eq!(r.header("content-type"), Some("image/png"));
    assert!(r.body.starts_with(b"\x89PNG"));
    let head: serde_json::Value =
        serde_json::from_str(r.header("x-haforu-result").unwrap()).unwrap();
    assert_eq!(head["id"], "p");
    assert_eq!(head["rendering"]["width"], 300);
    // The body is the data: the header's result has it empty.
    assert_eq!(head["rendering"]["data"], "");

    // Other formats: the result JSON.
    let r = s.request(
        "POST",
        "/render",
        job_named("m", "Inter-VF-subset.ttf", "metrics").as_bytes(),
    );
    assert_eq!(r.status, 200);
    assert_eq!(r.header("content-type"), Some("application/json"));
    let v = r.json();
    assert_eq!(v["status"], "success");
    assert!(v["metrics"]["density"].as_f64().unwrap() > 0.0);
    assert!(v["timing"]["total_ms"].as_f64().is_some());

    // Same pixels as the CLI for the same font bytes.
    let r = s.request(
        "POST",
        "/render",
        job_named("g", "DejaVuSans-subset.ttf", "pgm").as_bytes(),
    );
    let served = r.json()["rendering"]["data"].as_str().unwrap().to_string();
    let cli = run(
        &["stream"],
        format!("{}\n", job("g", DEJAVU, "Hamburg", "pgm", 300, 64)).as_bytes(),
    );
    assert_eq!(
        lines(&cli)[0]["rendering"]["data"].as_str().unwrap(),
        served
    );

    // Inline font bytes.
    let data = base64::engine::general_purpose::STANDARD
        .encode(std::fs::read(root().join(DEJAVU)).unwrap());
    let inline = serde_json::json!({
        "id": "inline", "font": {"data": data, "size": 48},
        "text": {"content": "Hamburg"}, "rendering": {"format": "pgm", "width": 300, "height": 64},
    });
    let r = s.request("POST", "/render", inline.to_string().as_bytes());
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["rendering"]["data"].as_str().unwrap(), served);

    // Errors map to 4xx with the JSON error body.
    let r = s.request(
        "POST",
        "/render",
        job_named("u", "unknown.ttf", "png").as_bytes(),
    );
    assert_eq!(r.status, 404);
    assert_eq!(r.json()["error_kind"], "font_not_found");
    for name in [
        "../fonts/DejaVuSans-subset.ttf",
        "../../etc/passwd",
        "/etc/passwd",
        "broken/../DejaVuSans-subset.ttf",
    ] {
        let r = s.request("POST", "/render", job_named("t", name, "png").as_bytes());
        assert_eq!(r.status, 400, "{name}");
        assert_eq!(r.json()["error_kind"], "bad_job");
    }
    let r = s.request(
        "POST",
        "/render",
        job("path", DEJAVU, "x", "png", 10, 10).as_bytes(),
    );
    assert_eq!(r.status, 400);
    assert!(r.json()["error"].as_str().unwrap().contains("font.name"));
    let r = s.request("POST", "/render", b"{nope");
    assert_eq!(r.status, 400);
    assert_eq!(r.json()["error_kind"], "bad_json");
    let r = s.request(
        "POST",
        "/render",
        job_named("big", "DejaVuSans-subset.ttf", "png")
            .replace("300", "20000")
            .as_bytes(),
    );
    assert_eq!(r.status, 422);
    assert_eq!(r.json()["error_kind"], "limit_exceeded");
    let r = s.request(
        "POST",
        "/render",
        job_named("b", "broken/truncated.ttf", "png").as_bytes(),
    );
    assert_eq!(r.status, 400);
    if root().join("tests/fonts/broken/truncated.ttf").exists() {
        // Reachable only by name inside the directory: not a plain name, so refused.
        assert_eq!(r.json()["error_kind"], "bad_job");
    }
    let r = s.request("GET", "/nothing", b"");
    assert_eq!(r.status, 404);
}

#[test]
fn batch_endpoint_streams_in_order() {
    let s = Server::start(&["--workers", "2"]);
    let mut body = String::new();
    for i in 0..20 {
        body.push_str(&job_named(
            &format!("b{i}"),
            "DejaVuSans-subset.ttf",
            "metrics",
        ));
        body.push('\n');
    }
    body.push_str("not json\n\n");
    body.push_str(&job_named("unknown", "nope.ttf", "metrics"));
    body.push('\n');
    body.push_str(&job_named("last", "Inter-VF-subset.ttf", "glyphs"));
    let r = s.request("POST", "/batch", body.as_bytes());
    assert_eq!(r.status, 200);
    assert_eq!(r.header("content-type"), Some("application/x-ndjson"));
    let l = r.json_lines();
    assert_eq!(l.len(), 23);
    for (i, v) in l.iter().take(20).enumerate() {
        assert_eq!(v["id"], format!("b{i}"));
        assert_eq!(v["status"], "success");
    }
    assert_eq!(l[20]["id"], "line-21");
    assert_eq!(l[20]["error_kind"], "bad_json");
    assert_eq!(l[21]["error_kind"], "font_not_found");
    assert_eq!(l[22]["id"], "last");
    assert_eq!(l[22]["status"], "success");

    // A batch object works too.
    let obj = format!(
        "{{\"version\":\"1.0\",\"jobs\":[\n{},\n{}\n]}}",
        job_named("o1", "DejaVuSans-subset.ttf", "metrics"),
        job_named("o2", "DejaVuSans-subset.ttf", "glyphs")
    );
    let r = s.request("POST", "/batch", obj.as_bytes());
    let l = r.json_lines();
    assert_eq!(l.len(), 2);
    assert_eq!(l[0]["id"], "o1");
    assert_eq!(l[1]["id"], "o2");
    let r = s.request("POST", "/batch", br#"{"version":"9","jobs":[{}]}"#);
    let l = r.json_lines();
    assert_eq!(l.len(), 1);
    assert_eq!(l[0]["id"], "batch");
}

#[test]
fn healthz_metrics_and_body_limit() {
    let s = Server::start(&["--max-body-mb", "1"]);
    let r = s.request("GET", "/healthz", b"");
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["status"], "ok");
    let _ = s.request(
        "POST",
        "/render",
        job_named("x", "DejaVuSans-subset.ttf", "metrics").as_bytes(),
    );
    let _ = s.request(
        "POST",
        "/render",
        job_named("y", "missing.ttf", "metrics").as_bytes(),
    );

    // Oversize bodies: 413 with a JSON error, for both endpoints.
    let big = vec![b' '; 2 << 20];
    let r = s.request("POST", "/render", &big);
    assert_eq!(r.status, 413);
    assert_eq!(r.json()["error_kind"], "limit_exceeded");
    let r = s.request("POST", "/batch", &big);
    assert_eq!(r.status, 413);

    let r = s.request("GET", "/metrics", b"");
    assert_eq!(r.status, 200);
    let text = String::from_utf8(r.body).unwrap();
    for needle in [
        "haforu_requests_total{endpoint=\"render\",code=\"200\"} 1",
        "haforu_requests_total{endpoint=\"render\",code=\"404\"} 1",
        "haforu_requests_total{endpoint=\"render\",code=\"413\"} 1",
        "haforu_errors_total{kind=\"font_not_found\"} 1",
        "haforu_request_duration_seconds_bucket{endpoint=\"render\",le=\"+Inf\"}",
        "haforu_request_duration_seconds_count{endpoint=\"render\"}",
        "haforu_in_flight_requests",
        "haforu_instance_recycles_total 0",
        "haforu_queue_depth 0",
        "haforu_resident_memory_bytes",
    ] {
        assert!(text.contains(needle), "{needle} missing in\n{text}");
    }
}

/// One worker, a queue of one: concurrent slow renders beyond that get 503 at once.
#[test]
fn queue_full_answers_503() {
    // No heavy lane: the slow jobs queue on the main pool.
    let s = Server::start(&["--workers", "1", "--queue", "1", "--heavy-workers", "0"]);
    let addr = s.addr.clone();
    let threads: Vec<_> = (0..6)
        .map(|i| {
            let addr = addr.clone();
            std::thread::spawn(move || {
                let t0 = Instant::now();
                let r = http(
                    &addr,
                    "POST",
                    "/render",
                    slow_job(&format!("q{i}")).as_bytes(),
                );
                (r, t0.elapsed())
            })
        })
        .collect();
    let results: Vec<_> = threads.into_iter().map(|t| t.join().unwrap()).collect();
    let ok = results.iter().filter(|(r, _)| r.status == 200).count();
    let busy: Vec<_> = results.iter().filter(|(r, _)| r.status == 503).collect();
    assert!(
        ok >= 1,
        "{:?}",
        results.iter().map(|r| r.0.status).collect::<Vec<_>>()
    );
    assert!(
        !busy.is_empty(),
        "{:?}",
        results.iter().map(|r| r.0.status).collect::<Vec<_>>()
    );
    assert_eq!(ok + busy.len(), 6);
    for (r, _) in &busy {
        assert_eq!(r.json()["error_kind"], "overloaded");
        assert_eq!(r.header("retry-after"), Some("1"));
    }
    let m = String::from_utf8(s.request("GET", "/metrics", b"").body).unwrap();
    assert!(
        m.contains(&format!("haforu_queue_rejections_total {}", busy.len())),
        "{m}"
    );
}

/// Expensive jobs (by the engine's work estimate) run on the heavy lane: a cheap job sent
/// while they run is answered before they finish, though there is one main worker; beyond the
/// heavy queue `/render` answers 503 `overloaded` at once.
#[test]
fn expensive_jobs_take_the_heavy_lane() {
    let s = Server::start(&["--workers", "1", "--heavy-queue", "1"]);
    let done = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let threads: Vec<_> = (0..5)
        .map(|i| {
            let (addr, done) = (s.addr.clone(), std::sync::Arc::clone(&done));
            std::thread::spawn(move || {
                let r = http(
                    &addr,
                    "POST",
                    "/render",
                    slow_job(&format!("h{i}")).as_bytes(),
                );
                if r.status == 200 {
                    done.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                }
                r
            })
        })
        .collect();
    std::thread::sleep(Duration::from_millis(20));
    let cheap = s.request(
        "POST",
        "/render",
        job_named("cheap", "DejaVuSans-subset.ttf", "metrics").as_bytes(),
    );
    let finished_heavy = done.load(std::sync::atomic::Ordering::SeqCst);
    assert_eq!(
        cheap.status,
        200,
        "{}",
        String::from_utf8_lossy(&cheap.body)
    );
    let results: Vec<_> = threads.into_iter().map(|t| t.join().unwrap()).collect();
    let ok = results.iter().filter(|r| r.status == 200).count();
    let busy: Vec<_> = results.iter().filter(|r| r.status == 503).collect();
    assert!(
        ok >= 1 && !busy.is_empty() && ok + busy.len() == 5,
        "{:?}",
        results.iter().map(|r| r.status).collect::<Vec<_>>()
    );
    // The heavy lane runs one at a time, so some heavy answers came after the cheap one.
    assert!(
        finished_heavy < ok,
        "{finished_heavy} heavy jobs finished before the cheap one"
    );
    for r in &busy {
        assert_eq!(r.json()["error_kind"], "overloaded");
        assert!(
            r.json()["error"]
                .as_str()
                .unwrap()
                .contains("expensive jobs"),
            "{}",
            r.json()
        );
    }
    let m = String::from_utf8(s.request("GET", "/metrics", b"").body).unwrap();
    assert!(m.contains("haforu_heavy_jobs_total 5"), "{m}");
    assert!(
        m.contains(&format!("haforu_heavy_rejections_total {}", busy.len())),
        "{m}"
    );
    assert!(m.contains("haforu_queue_rejections_total 0"), "{m}");
    let h = s.request("GET", "/healthz", b"").json();
    assert_eq!(
        (
            h["heavy_workers"].as_u64(),
            h["heavy_queue_capacity"].as_u64()
        ),
        (Some(1), Some(1))
    );
}

/// A client that stops sending half way through its body gets 408 once `--body-timeout-s`
/// passes, and holds nothing after that.
#[test]
fn slow_body_times_out() {
    let s = Server::start(&["--body-timeout-s", "1"]);
    let mut c = TcpStream::connect(&s.addr).unwrap();
    c.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    let head = format!(
        "POST /render HTTP/1.1\r\nHost: {}\r\nContent-Length: 1000\r\nConnection: close\r\n\r\n{{\"id\":",
        s.addr
    );
    c.write_all(head.as_bytes()).unwrap();
    let t0 = Instant::now();
    let r = read_response(&mut c);
    assert_eq!(r.status, 408, "{}", String::from_utf8_lossy(&r.body));
    assert!(t0.elapsed() >= Duration::from_millis(900));
    assert_eq!(r.json()["error_kind"], "resource_limit");
    assert!(r.json()["error"]
        .as_str()
        .unwrap()
        .contains("did not arrive within 1 s"));
    let ok = s.request(
        "POST",
        "/render",
        job_named("after", "DejaVuSans-subset.ttf", "metrics").as_bytes(),
    );
    assert_eq!(ok.status, 200);
}

/// The per-request deadline: a job that cannot finish in time is a 422 `resource_limit`; the
/// server keeps serving.
#[test]
fn request_deadline() {
    let s = Server::start(&["--timeout-ms", "30", "--workers", "1"]);
    let r = s.request("POST", "/render", slow_job("late").as_bytes());
    assert_eq!(r.status, 422, "{}", String::from_utf8_lossy(&r.body));
    assert_eq!(r.json()["error_kind"], "resource_limit");
    let r = s.request(
        "POST",
        "/render",
        job_named("fine", "DejaVuSans-subset.ttf", "metrics").as_bytes(),
    );
    assert_eq!(r.status, 200);
    let m = String::from_utf8(s.request("GET", "/metrics", b"").body).unwrap();
    assert!(m.contains("haforu_traps_total 1"), "{m}");
}

/// SIGTERM: the listener closes, the in-flight batch still completes, the process exits 0.
#[test]
fn sigterm_drains_in_flight_requests() {
    let mut s = Server::start(&["--workers", "1"]);
    let mut body = String::new();
    let n = 8;
    for i in 0..n {
        body.push_str(&slow_job(&format!("d{i}")));
        body.push('\n');
    }
    let mut conn = TcpStream::connect(&s.addr).unwrap();
    conn.set_read_timeout(Some(Duration::from_secs(120)))
        .unwrap();
    write!(
        conn,
        "POST /batch HTTP/1.1\r\nHost: x\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    // Let the batch start, then ask the server to stop.
    std::thread::sleep(Duration::from_millis(300));
    s.terminate();
    let r = read_response(&mut conn);
    assert_eq!(r.status, 200);
    let l = r.json_lines();
    assert_eq!(l.len(), n, "the in-flight batch was cut short");
    assert!(l.iter().all(|v| v["status"] == "success"));
    let t0 = Instant::now();
    let code = loop {
        if let Some(st) = s.child.try_wait().unwrap() {
            break st.code();
        }
        assert!(
            t0.elapsed() < Duration::from_secs(30),
            "server did not exit"
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    assert_eq!(code, Some(0));
    assert!(
        TcpStream::connect(&s.addr).is_err(),
        "still accepting after shutdown"
    );
}
