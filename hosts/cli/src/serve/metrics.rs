//! Counters, the latency histogram, `GET /healthz` and `GET /metrics` (Prometheus text).

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use axum::extract::State;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

use super::respond::json_response;
use super::App;
use crate::runtime::{Outcome, Runtime};
use crate::util;

/// Upper bounds of the latency histogram, seconds.
const BUCKETS: [f64; 14] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

#[derive(Default)]
pub struct Histogram {
    counts: [AtomicU64; BUCKETS.len()],
    count: AtomicU64,
    sum_us: AtomicU64,
}

impl Histogram {
    pub fn observe(&self, secs: f64) {
        for (i, b) in BUCKETS.iter().enumerate() {
            if secs <= *b {
                self.counts[i].fetch_add(1, Ordering::Relaxed);
            }
        }
        self.count.fetch_add(1, Ordering::Relaxed);
        self.sum_us
            .fetch_add((secs * 1e6) as u64, Ordering::Relaxed);
    }
}

#[derive(Default)]
pub struct Metrics {
    requests: Mutex<BTreeMap<(&'static str, u16), u64>>,
    jobs_ok: AtomicU64,
    job_errors: Mutex<BTreeMap<String, u64>>,
    pub rejected_full: AtomicU64,
    /// Jobs moved to the heavy lane, and `/render` jobs refused because it was full.
    pub heavy_jobs: AtomicU64,
    pub rejected_heavy: AtomicU64,
    pub in_flight: AtomicI64,
    pub latency_render: Histogram,
    pub latency_batch: Histogram,
}

impl Metrics {
    pub fn request(&self, endpoint: &'static str, code: StatusCode) {
        *self
            .requests
            .lock()
            .expect("metrics lock")
            .entry((endpoint, code.as_u16()))
            .or_default() += 1;
    }

    /// Counts a finished job by status, and errors by the engine's name of their kind.
    pub fn job(&self, rt: &Runtime, o: &Outcome) {
        if o.ok() {
            self.jobs_ok.fetch_add(1, Ordering::Relaxed);
        } else {
            *self
                .job_errors
                .lock()
                .expect("metrics lock")
                .entry(rt.kind_name(o.kind).to_string())
                .or_default() += 1;
        }
    }
}

/// Counts a request as in flight while alive.
pub struct InFlight(Arc<App>);

impl InFlight {
    pub fn new(app: &Arc<App>) -> InFlight {
        app.metrics.in_flight.fetch_add(1, Ordering::Relaxed);
        InFlight(Arc::clone(app))
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.metrics.in_flight.fetch_sub(1, Ordering::Relaxed);
    }
}

pub async fn healthz(State(app): State<Arc<App>>) -> Response {
    let draining = app.draining.load(Ordering::SeqCst);
    let code = if draining {
        StatusCode::SERVICE_UNAVAILABLE
    } else {
        StatusCode::OK
    };
    app.metrics.request("healthz", code);
    let body = serde_json::json!({
        "status": if draining { "draining" } else { "ok" },
        "workers": app.workers,
        "queue_depth": app.pool.queued(),
        "queue_capacity": app.pool.capacity(),
        "heavy_workers": app.lanes.heavy_shape().0,
        "heavy_queue_capacity": app.lanes.heavy_shape().1,
        "in_flight": app.metrics.in_flight.load(Ordering::Relaxed),
        "uptime_s": app.started.elapsed().as_secs(),
        "version": env!("CARGO_PKG_VERSION"),
    });
    json_response(code, format!("{body}\n").into_bytes())
}

pub async fn metrics(State(app): State<Arc<App>>) -> Response {
    app.metrics.request("metrics", StatusCode::OK);
    let m = &app.metrics;
    let mut s = String::new();
    let mut line = |l: String| {
        s.push_str(&l);
        s.push('\n');
    };
    line("# HELP haforu_requests_total HTTP requests by endpoint and status code.".into());
    line("# TYPE haforu_requests_total counter".into());
    for ((ep, code), n) in m.requests.lock().expect("metrics lock").iter() {
        line(format!(
            "haforu_requests_total{{endpoint=\"{ep}\",code=\"{code}\"}} {n}"
        ));
    }
    line("# HELP haforu_jobs_total Jobs finished, by status.".into());
    line("# TYPE haforu_jobs_total counter".into());
    line(format!(
        "haforu_jobs_total{{status=\"success\"}} {}",
        m.jobs_ok.load(Ordering::Relaxed)
    ));
    let errors = m.job_errors.lock().expect("metrics lock").clone();
    line(format!(
        "haforu_jobs_total{{status=\"error\"}} {}",
        errors.values().sum::<u64>()
    ));
    line("# HELP haforu_errors_total Job error results by error_kind.".into());
    line("# TYPE haforu_errors_total counter".into());
    for (kind, n) in &errors {
        line(format!("haforu_errors_total{{kind=\"{kind}\"}} {n}"));
    }
    line("# HELP haforu_queue_rejections_total /render requests answered 503 because the queue was full.".into());
    line("# TYPE haforu_queue_rejections_total counter".into());
    line(format!(
        "haforu_queue_rejections_total {}",
        m.rejected_full.load(Ordering::Relaxed)
    ));
    line("# HELP haforu_heavy_jobs_total Jobs run on the heavy lane (by work estimate or body size).".into());
    line("# TYPE haforu_heavy_jobs_total counter".into());
    line(format!(
        "haforu_heavy_jobs_total {}",
        m.heavy_jobs.load(Ordering::Relaxed)
    ));
    line("# HELP haforu_heavy_rejections_total /render jobs answered 503 because the heavy lane was full.".into());
    line("# TYPE haforu_heavy_rejections_total counter".into());
    line(format!(
        "haforu_heavy_rejections_total {}",
        m.rejected_heavy.load(Ordering::Relaxed)
    ));
    line("# HELP haforu_request_duration_seconds Request latency.".into());
    line("# TYPE haforu_request_duration_seconds histogram".into());
    for (ep, h) in [("render", &m.latency_render), ("batch", &m.latency_batch)] {
        for (i, b) in BUCKETS.iter().enumerate() {
            line(format!(
                "haforu_request_duration_seconds_bucket{{endpoint=\"{ep}\",le=\"{b}\"}} {}",
                h.counts[i].load(Ordering::Relaxed)
            ));
        }
        let count = h.count.load(Ordering::Relaxed);
        line(format!(
            "haforu_request_duration_seconds_bucket{{endpoint=\"{ep}\",le=\"+Inf\"}} {count}"
        ));
        line(format!(
            "haforu_request_duration_seconds_sum{{endpoint=\"{ep}\"}} {}",
            h.sum_us.load(Ordering::Relaxed) as f64 / 1e6
        ));
        line(format!(
            "haforu_request_duration_seconds_count{{endpoint=\"{ep}\"}} {count}"
        ));
    }
    line("# HELP haforu_in_flight_requests Requests being handled.".into());
    line("# TYPE haforu_in_flight_requests gauge".into());
    line(format!(
        "haforu_in_flight_requests {}",
        m.in_flight.load(Ordering::Relaxed)
    ));
    line("# HELP haforu_queue_depth Jobs waiting for a worker.".into());
    line("# TYPE haforu_queue_depth gauge".into());
    line(format!("haforu_queue_depth {}", app.pool.queued()));
    line(
        "# HELP haforu_instance_recycles_total Engine instances rebuilt by the recycling policy."
            .into(),
    );
    line("# TYPE haforu_instance_recycles_total counter".into());
    line(format!(
        "haforu_instance_recycles_total {}",
        app.rt.recycles.load(Ordering::Relaxed)
    ));
    line(
        "# HELP haforu_traps_total Jobs that trapped the sandbox (the instance was rebuilt)."
            .into(),
    );
    line("# TYPE haforu_traps_total counter".into());
    line(format!(
        "haforu_traps_total {}",
        app.rt.traps.load(Ordering::Relaxed)
    ));
    line("# HELP haforu_instances_built_total Engine instances created.".into());
    line("# TYPE haforu_instances_built_total counter".into());
    line(format!(
        "haforu_instances_built_total {}",
        app.rt.instances_built.load(Ordering::Relaxed)
    ));
    line("# HELP haforu_resident_memory_bytes Resident set size of the process.".into());
    line("# TYPE haforu_resident_memory_bytes gauge".into());
    line(format!(
        "haforu_resident_memory_bytes {}",
        util::rss_bytes()
    ));
    let mut r = (StatusCode::OK, s).into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; version=0.0.4"),
    );
    r
}
