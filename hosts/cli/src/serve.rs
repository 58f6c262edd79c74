//! `haforu serve`: the HTTP render server.
//!
//! Requests are handled on a small tokio runtime; jobs run on `--workers` OS threads, each with
//! its own sandboxed engine instance, fed by one bounded queue. `/render` answers 503 when the
//! queue is full; `/batch` waits for room instead (it streams, so it applies backpressure to its
//! client). SIGTERM (or Ctrl-C) stops accepting connections and lets in-flight requests finish.

use std::collections::BTreeMap;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::{Body, Bytes};
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use clap::Args;
use futures_util::StreamExt;
use tokio::sync::{mpsc, oneshot};

use crate::job::{self, ErrorKind, Outcome};
use crate::runtime::{Fault, Runtime, Split, FLAG_DATA_OUT_OF_BAND};
use crate::util::{self, exit};

#[derive(Args)]
pub struct ServeArgs {
    /// Address to listen on (port 0 picks a free port; the address is printed on stdout).
    #[arg(long, default_value = "127.0.0.1:8080")]
    addr: SocketAddr,
    /// Directory of font files that jobs may name with `font.name`.
    #[arg(long, value_name = "DIR")]
    fonts: Option<PathBuf>,
    /// Worker threads, each with its own engine instance (0 or default: number of cores).
    #[arg(long, short_alias = 'j', alias = "jobs", value_name = "N")]
    workers: Option<usize>,
    /// Jobs that may wait for a worker; /render answers 503 beyond that.
    #[arg(long, default_value_t = 64)]
    queue: usize,
    /// Largest request body, MiB (413 beyond that).
    #[arg(long, default_value_t = 32, value_name = "MIB")]
    max_body_mb: usize,
}

/// A unit of work for the pool.
enum Work {
    Run(Task),
    Split(Vec<u8>, oneshot::Sender<SplitResult>),
}

type SplitResult = Result<Split, Fault>;

struct Task {
    job: Vec<u8>,
    line_no: u32,
    id: String,
    font: Option<PathBuf>,
    flags: u32,
    /// When the request's deadline passes (None: only the per-job timeout applies).
    deadline: Option<Instant>,
    enqueued: Instant,
    reply: oneshot::Sender<Outcome>,
}

/// Upper bounds of the latency histogram, seconds.
const BUCKETS: [f64; 14] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

#[derive(Default)]
struct Histogram {
    counts: [AtomicU64; BUCKETS.len()],
    count: AtomicU64,
    sum_us: AtomicU64,
}

impl Histogram {
    fn observe(&self, secs: f64) {
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
struct Metrics {
    requests: Mutex<BTreeMap<(&'static str, u16), u64>>,
    jobs_ok: AtomicU64,
    job_errors: Mutex<BTreeMap<String, u64>>,
    rejected_full: AtomicU64,
    in_flight: AtomicI64,
    latency_render: Histogram,
    latency_batch: Histogram,
}

impl Metrics {
    fn request(&self, endpoint: &'static str, code: StatusCode) {
        *self
            .requests
            .lock()
            .expect("metrics lock")
            .entry((endpoint, code.as_u16()))
            .or_default() += 1;
    }

    fn job(&self, o: &Outcome) {
        if o.ok {
            self.jobs_ok.fetch_add(1, Ordering::Relaxed);
        } else {
            *self
                .job_errors
                .lock()
                .expect("metrics lock")
                .entry(o.kind.clone().unwrap_or_else(|| "internal".into()))
                .or_default() += 1;
        }
    }
}

/// Counts a request as in flight while alive.
struct InFlight(Arc<App>);

impl InFlight {
    fn new(app: &Arc<App>) -> InFlight {
        app.metrics.in_flight.fetch_add(1, Ordering::Relaxed);
        InFlight(Arc::clone(app))
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.metrics.in_flight.fetch_sub(1, Ordering::Relaxed);
    }
}

struct App {
    rt: Arc<Runtime>,
    queue: async_channel::Sender<Work>,
    queue_capacity: usize,
    workers: usize,
    fonts_dir: Option<PathBuf>,
    max_body: usize,
    draining: AtomicBool,
    metrics: Metrics,
    started: Instant,
}

pub fn run(rt: Arc<Runtime>, a: ServeArgs, cores: usize) -> i32 {
    let fonts_dir = match &a.fonts {
        None => None,
        Some(d) => match d.canonicalize() {
            Ok(c) if c.is_dir() => Some(c),
            _ => {
                eprintln!("haforu: --fonts {} is not a directory", d.display());
                return exit::USAGE;
            }
        },
    };
    let workers = match a.workers {
        None | Some(0) => cores,
        Some(n) => n,
    };
    // Check that the engine starts before accepting connections.
    if let Err(f) = rt.worker().info() {
        eprintln!("haforu: {}", f.message);
        return exit::ENGINE;
    }
    let (tx, rx) = async_channel::bounded::<Work>(a.queue.max(1));
    let mut threads = Vec::new();
    for i in 0..workers {
        let rx = rx.clone();
        let mut worker = rt.worker();
        let rt = Arc::clone(&rt);
        threads.push(
            std::thread::Builder::new()
                .name(format!("haforu-worker-{i}"))
                .spawn(move || {
                    while let Ok(work) = rx.recv_blocking() {
                        match work {
                            Work::Run(t) => {
                                let o = execute(&rt, &mut worker, &t);
                                let _ = t.reply.send(o);
                            }
                            Work::Split(bytes, reply) => {
                                let _ = reply.send(worker.split(&bytes));
                            }
                        }
                    }
                })
                .expect("spawn worker"),
        );
    }
    drop(rx);
    let app = Arc::new(App {
        rt,
        queue: tx,
        queue_capacity: a.queue.max(1),
        workers,
        fonts_dir,
        max_body: a.max_body_mb.max(1) << 20,
        draining: AtomicBool::new(false),
        metrics: Metrics::default(),
        started: Instant::now(),
    });
    let tokio_rt = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(cores.clamp(1, 4))
        .thread_name("haforu-http")
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("haforu: tokio: {e}");
            return exit::ENGINE;
        }
    };
    let served = tokio_rt.block_on(serve(Arc::clone(&app), a.addr));
    // Stop the workers once every request has been answered.
    app.queue.close();
    drop(app);
    for t in threads {
        let _ = t.join();
    }
    match served {
        Ok(()) => {
            eprintln!("haforu serve: stopped");
            exit::OK
        }
        Err(e) => {
            eprintln!("haforu serve: {e}");
            exit::ENGINE
        }
    }
}

async fn serve(app: Arc<App>, addr: SocketAddr) -> std::io::Result<()> {
    let listener = tokio::net::TcpListener::bind(addr).await?;
    let local = listener.local_addr()?;
    println!("haforu serve: listening on http://{local}");
    eprintln!(
        "haforu serve: {} workers, queue {}, fonts {}",
        app.workers,
        app.queue_capacity,
        app.fonts_dir
            .as_ref()
            .map_or_else(|| "(none)".to_string(), |d| d.display().to_string())
    );
    let router = Router::new()
        .route("/render", post(render))
        .route("/batch", post(batch))
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics))
        .layer(DefaultBodyLimit::disable())
        .with_state(Arc::clone(&app));
    let drain = Arc::clone(&app);
    axum::serve(listener, router)
        .with_graceful_shutdown(async move {
            shutdown_signal().await;
            drain.draining.store(true, Ordering::SeqCst);
            eprintln!("haforu serve: draining in-flight requests");
        })
        .await
}

async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = term.recv() => {}
                    _ = tokio::signal::ctrl_c() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

/// Runs one task on a worker thread.
fn execute(rt: &Runtime, worker: &mut crate::runtime::Worker, t: &Task) -> Outcome {
    let now = Instant::now();
    let budget = match t.deadline {
        Some(d) if d <= now => {
            let waited = now.duration_since(t.enqueued).as_millis();
            let msg = format!(
                "job {}: the request's deadline passed while it waited {waited} ms for a worker",
                t.id
            );
            return Outcome::error(&t.id, ErrorKind::Overloaded, &msg, None, t.enqueued);
        }
        Some(d) => Some(d - now),
        None => None,
    };
    let font = match &t.font {
        None => None,
        Some(p) => match rt.fonts.load(p) {
            Ok(f) => {
                if let Some(j) = job::with_handle_placeholder(&t.job) {
                    return worker.run_with(
                        &j,
                        t.line_no,
                        Some(&f),
                        t.flags,
                        budget,
                        &t.id,
                        None,
                        now,
                    );
                }
                Some(f)
            }
            Err(e) => {
                let name = p.file_name().map(|n| n.to_string_lossy().into_owned());
                let msg = format!(
                    "job {}: font '{}' cannot be used: {e}",
                    t.id,
                    name.unwrap_or_default()
                );
                return Outcome::error(&t.id, e.kind(), &msg, None, now);
            }
        },
    };
    worker.run_with(
        &t.job,
        t.line_no,
        font.as_deref(),
        t.flags,
        budget,
        &t.id,
        None,
        now,
    )
}

/// What the server needs before queueing a job: its id and font, or an immediate error.
struct Prepared {
    id: String,
    font: Option<PathBuf>,
    format: Option<String>,
}

/// The server's font rule: `font.name` (a file in --fonts) or inline `font.data`; never a path
/// and never an engine handle.
fn prepare(app: &App, job: &[u8], line_no: u32) -> Result<Prepared, Outcome> {
    let t0 = Instant::now();
    let peek = job::peek(job);
    let id = peek.id_or(line_no);
    let fail = |kind: ErrorKind, msg: String| Outcome::error(&id, kind, &msg, None, t0);
    if peek.has_path() {
        return Err(fail(
            ErrorKind::BadJob,
            format!(
                "job {id}: the server does not read font paths; name a font from its fonts \
                 directory with font.name, or send the bytes as font.data"
            ),
        ));
    }
    if peek.has_handle() {
        return Err(fail(
            ErrorKind::BadJob,
            format!("job {id}: font.handle is private to the engine; use font.name or font.data"),
        ));
    }
    let font = if peek.has_name() && !peek.has_data() {
        let Some(name) = peek.name() else {
            return Err(fail(
                ErrorKind::BadJob,
                format!("job {id}: font.name must be a string"),
            ));
        };
        match resolve_name(app.fonts_dir.as_deref(), name) {
            Ok(p) => Some(p),
            Err((kind, msg)) => return Err(fail(kind, format!("job {id}: {msg}"))),
        }
    } else {
        None
    };
    Ok(Prepared {
        format: peek.format().map(str::to_string),
        id,
        font,
    })
}

/// Maps `font.name` to a file directly inside the fonts directory, refusing anything that could
/// leave it (separators, `..`, hidden names, symlinks pointing outside).
fn resolve_name(dir: Option<&Path>, name: &str) -> Result<PathBuf, (ErrorKind, String)> {
    let plain = !name.is_empty()
        && name.len() <= 255
        && !name.starts_with('.')
        && !name.contains(['/', '\\', '\0', ':']);
    if !plain {
        return Err((
            ErrorKind::BadJob,
            format!(
                "font.name {name:?} is not a plain file name (no path separators, no leading dot)"
            ),
        ));
    }
    let Some(dir) = dir else {
        return Err((
            ErrorKind::FontNotFound,
            format!("no font named {name:?}: the server was started without --fonts"),
        ));
    };
    let canon = dir.join(name).canonicalize().map_err(|_| {
        (
            ErrorKind::FontNotFound,
            format!("no font named {name:?} in the fonts directory"),
        )
    })?;
    if !canon.starts_with(dir) || !canon.is_file() {
        return Err((
            ErrorKind::BadJob,
            format!("font.name {name:?} does not name a file inside the fonts directory"),
        ));
    }
    Ok(canon)
}

fn status_for(kind: Option<&str>) -> StatusCode {
    match kind.unwrap_or("internal") {
        "bad_json" | "bad_job" => StatusCode::BAD_REQUEST,
        "font_not_found" => StatusCode::NOT_FOUND,
        "font_parse" | "limit_exceeded" | "resource_limit" => StatusCode::UNPROCESSABLE_ENTITY,
        "overloaded" => StatusCode::SERVICE_UNAVAILABLE,
        "internal" => StatusCode::INTERNAL_SERVER_ERROR,
        _ => StatusCode::BAD_REQUEST,
    }
}

fn json_response(code: StatusCode, body: Vec<u8>) -> Response {
    let mut r = (code, body).into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    if code == StatusCode::SERVICE_UNAVAILABLE {
        r.headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
    }
    r
}

fn error_response(id: &str, kind: ErrorKind, message: &str, code: StatusCode) -> Response {
    let mut body = job::error_json(id, kind.as_str(), message, None).into_bytes();
    body.push(b'\n');
    json_response(code, body)
}

fn content_length(headers: &HeaderMap) -> Option<u64> {
    headers
        .get(header::CONTENT_LENGTH)?
        .to_str()
        .ok()?
        .parse()
        .ok()
}

fn too_large(app: &App) -> Response {
    error_response(
        "request",
        ErrorKind::LimitExceeded,
        &format!("the request body is larger than {} MiB", app.max_body >> 20),
        StatusCode::PAYLOAD_TOO_LARGE,
    )
}

async fn render(State(app): State<Arc<App>>, headers: HeaderMap, body: Body) -> Response {
    let t0 = Instant::now();
    let _guard = InFlight::new(&app);
    let r = render_inner(&app, &headers, body, t0).await;
    app.metrics.request("render", r.status());
    app.metrics
        .latency_render
        .observe(t0.elapsed().as_secs_f64());
    r
}

async fn render_inner(app: &Arc<App>, headers: &HeaderMap, body: Body, t0: Instant) -> Response {
    if content_length(headers).is_some_and(|n| n > app.max_body as u64) {
        return too_large(app);
    }
    let Ok(bytes) = axum::body::to_bytes(body, app.max_body).await else {
        return too_large(app);
    };
    let prepared = match prepare(app, &bytes, 0) {
        Ok(p) => p,
        Err(o) => {
            app.metrics.job(&o);
            let code = status_for(o.kind.as_deref());
            let mut body = o.json;
            body.push(b'\n');
            return json_response(code, body);
        }
    };
    let png = prepared.format.as_deref() == Some("png");
    let (reply, rx) = oneshot::channel();
    let timeout = app.rt.sandbox.timeout_ms;
    let task = Task {
        job: bytes.to_vec(),
        line_no: 0,
        id: prepared.id.clone(),
        font: prepared.font,
        flags: if png { FLAG_DATA_OUT_OF_BAND } else { 0 },
        deadline: (timeout > 0).then(|| t0 + Duration::from_millis(timeout)),
        enqueued: t0,
        reply,
    };
    if let Err(e) = app.queue.try_send(Work::Run(task)) {
        let full = e.is_full();
        if full {
            app.metrics.rejected_full.fetch_add(1, Ordering::Relaxed);
        }
        let msg = if full {
            format!(
                "job {}: the server is busy ({} jobs queued); retry later",
                prepared.id, app.queue_capacity
            )
        } else {
            format!("job {}: the server is shutting down", prepared.id)
        };
        let o = Outcome::error(&prepared.id, ErrorKind::Overloaded, &msg, None, t0);
        app.metrics.job(&o);
        return json_response(StatusCode::SERVICE_UNAVAILABLE, with_newline(o.json));
    }
    let Ok(o) = rx.await else {
        return error_response(
            &prepared.id,
            ErrorKind::Internal,
            "the worker stopped before answering",
            StatusCode::INTERNAL_SERVER_ERROR,
        );
    };
    app.metrics.job(&o);
    if !o.ok {
        let code = status_for(o.kind.as_deref());
        return json_response(code, with_newline(o.json));
    }
    match (png, o.data) {
        (true, Some(data)) => {
            let mut r = (StatusCode::OK, data).into_response();
            let h = r.headers_mut();
            h.insert(header::CONTENT_TYPE, HeaderValue::from_static("image/png"));
            if let Ok(v) = HeaderValue::from_bytes(&o.json) {
                h.insert("x-haforu-result", v);
            }
            r
        }
        _ => json_response(StatusCode::OK, with_newline(o.json)),
    }
}

fn with_newline(mut v: Vec<u8>) -> Vec<u8> {
    v.push(b'\n');
    v
}

async fn batch(State(app): State<Arc<App>>, headers: HeaderMap, body: Body) -> Response {
    let t0 = Instant::now();
    let guard = InFlight::new(&app);
    if content_length(&headers).is_some_and(|n| n > app.max_body as u64) {
        app.metrics.request("batch", StatusCode::PAYLOAD_TOO_LARGE);
        return too_large(&app);
    }
    let (line_tx, line_rx) = mpsc::channel::<Bytes>(64);
    let driver_app = Arc::clone(&app);
    tokio::spawn(async move {
        drive_batch(&driver_app, body, line_tx).await;
        driver_app
            .metrics
            .latency_batch
            .observe(t0.elapsed().as_secs_f64());
        drop(guard);
    });
    app.metrics.request("batch", StatusCode::OK);
    let stream = futures_util::stream::unfold(line_rx, |mut rx| async move {
        rx.recv().await.map(|b| (Ok::<Bytes, Infallible>(b), rx))
    });
    let mut r = Response::new(Body::from_stream(stream));
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/x-ndjson"),
    );
    r
}

/// Reads the body's job lines, queues them (waiting for room), and writes results in input
/// order to `out` as they finish.
async fn drive_batch(app: &Arc<App>, body: Body, out: mpsc::Sender<Bytes>) {
    let in_flight = app.workers * 2 + 8;
    let (order_tx, mut order_rx) = mpsc::channel::<oneshot::Receiver<Outcome>>(in_flight);
    let writer_app = Arc::clone(app);
    let writer = tokio::spawn(async move {
        while let Some(rx) = order_rx.recv().await {
            let Ok(o) = rx.await else { continue };
            writer_app.metrics.job(&o);
            if out.send(Bytes::from(with_newline(o.json))).await.is_err() {
                break; // the client went away
            }
        }
    });
    let mut lines = BodyLines::new(body, app.max_body);
    let mut first = true;
    loop {
        let next = lines.next_line().await;
        let (line_no, text) = match next {
            Line::Job(n, t) => (n, t),
            Line::End => break,
            Line::Broken => break,
            Line::TooLarge => {
                let (tx, rx) = oneshot::channel();
                let msg = format!(
                    "the request body is larger than {} MiB; the rest was not run",
                    app.max_body >> 20
                );
                let _ = tx.send(Outcome::error(
                    "batch",
                    ErrorKind::LimitExceeded,
                    &msg,
                    None,
                    Instant::now(),
                ));
                let _ = order_tx.send(rx).await;
                break;
            }
        };
        if first {
            first = false;
            if let Some(whole) = lines.maybe_object(&text).await {
                run_object(app, whole, &order_tx).await;
                break;
            }
        }
        if !submit(app, text, line_no, &order_tx).await {
            break;
        }
    }
    drop(order_tx);
    let _ = writer.await;
}

/// Queues one job line; false when the pool is closed or the client is gone.
async fn submit(
    app: &Arc<App>,
    text: Vec<u8>,
    line_no: u32,
    order: &mpsc::Sender<oneshot::Receiver<Outcome>>,
) -> bool {
    let (tx, rx) = oneshot::channel();
    match prepare(app, &text, line_no) {
        Err(o) => {
            let _ = tx.send(o);
        }
        Ok(p) => {
            let task = Task {
                job: text,
                line_no,
                id: p.id,
                font: p.font,
                flags: 0,
                deadline: None,
                enqueued: Instant::now(),
                reply: tx,
            };
            if app.queue.send(Work::Run(task)).await.is_err() {
                return false;
            }
        }
    }
    order.send(rx).await.is_ok()
}

/// A whole batch object: split by the engine, then run job by job.
async fn run_object(
    app: &Arc<App>,
    whole: Vec<u8>,
    order: &mpsc::Sender<oneshot::Receiver<Outcome>>,
) {
    let t0 = Instant::now();
    let (tx, rx) = oneshot::channel();
    if app.queue.send(Work::Split(whole, tx)).await.is_err() {
        return;
    }
    let split = rx.await;
    let jobs = match split {
        Ok(Ok(Ok(jobs))) => jobs,
        Ok(Ok(Err(mut json))) => {
            job::insert_timing(&mut json, t0);
            let kind = job::error_kind_of(&json);
            let (otx, orx) = oneshot::channel();
            let _ = otx.send(Outcome {
                json,
                data: None,
                ok: false,
                kind,
            });
            let _ = order.send(orx).await;
            return;
        }
        Ok(Err(f)) => {
            let (otx, orx) = oneshot::channel();
            let _ = otx.send(Outcome::error("batch", f.kind, &f.message, None, t0));
            let _ = order.send(orx).await;
            return;
        }
        Err(_) => return,
    };
    for (n, text) in jobs {
        if !submit(app, text, n, order).await {
            return;
        }
    }
}

enum Line {
    Job(u32, Vec<u8>),
    End,
    Broken,
    TooLarge,
}

/// Splits a streamed request body into non-blank lines, enforcing the body limit.
struct BodyLines {
    stream: axum::body::BodyDataStream,
    buf: Vec<u8>,
    pos: usize,
    total: usize,
    max: usize,
    line_no: u32,
    eof: bool,
}

impl BodyLines {
    fn new(body: Body, max: usize) -> BodyLines {
        BodyLines {
            stream: body.into_data_stream(),
            buf: Vec::new(),
            pos: 0,
            total: 0,
            max,
            line_no: 0,
            eof: false,
        }
    }

    /// Pulls one more chunk; false at the end of the body.
    async fn fill(&mut self) -> Result<bool, Line> {
        if self.eof {
            return Ok(false);
        }
        match self.stream.next().await {
            None => {
                self.eof = true;
                Ok(false)
            }
            Some(Err(_)) => Err(Line::Broken),
            Some(Ok(chunk)) => {
                self.total += chunk.len();
                if self.total > self.max {
                    return Err(Line::TooLarge);
                }
                if self.pos > 0 {
                    self.buf.drain(..self.pos);
                    self.pos = 0;
                }
                self.buf.extend_from_slice(&chunk);
                Ok(true)
            }
        }
    }

    async fn next_line(&mut self) -> Line {
        loop {
            if let Some(i) = self.buf[self.pos..].iter().position(|&b| b == b'\n') {
                let mut line = self.buf[self.pos..self.pos + i].to_vec();
                self.pos += i + 1;
                self.line_no += 1;
                if line.last() == Some(&b'\r') {
                    line.pop();
                }
                if line.iter().all(u8::is_ascii_whitespace) {
                    continue;
                }
                return Line::Job(self.line_no, line);
            }
            match self.fill().await {
                Ok(true) => continue,
                Ok(false) => {
                    if self.pos < self.buf.len() {
                        let line = self.buf[self.pos..].to_vec();
                        self.pos = self.buf.len();
                        self.line_no += 1;
                        if !line.iter().all(u8::is_ascii_whitespace) {
                            return Line::Job(self.line_no, line);
                        }
                    }
                    return Line::End;
                }
                Err(l) => return l,
            }
        }
    }

    /// Given the first non-blank line, decides whether the body is a batch object (SPEC §1)
    /// and if so returns the whole body (reading the rest of it).
    async fn maybe_object(&mut self, first: &[u8]) -> Option<Vec<u8>> {
        let starts_object = first
            .iter()
            .find(|b| !b.is_ascii_whitespace())
            .is_some_and(|&b| b == b'{');
        if !starts_object {
            return None;
        }
        let candidate = match serde_json::from_slice::<serde_json::Value>(first) {
            Ok(v) => v
                .as_object()
                .is_some_and(|m| m.contains_key("jobs") || m.contains_key("version")),
            Err(e) => e.is_eof(),
        };
        if !candidate {
            return None;
        }
        // Read the rest of the body; decide on the whole text.
        loop {
            match self.fill().await {
                Ok(true) => continue,
                Ok(false) => break,
                Err(_) => return None,
            }
        }
        let mut whole = first.to_vec();
        whole.push(b'\n');
        whole.extend_from_slice(&self.buf[self.pos..]);
        let is_object = serde_json::from_slice::<serde_json::Value>(&whole)
            .ok()
            .and_then(|v| {
                v.as_object()
                    .map(|m| m.contains_key("jobs") || m.contains_key("version"))
            })
            .unwrap_or(false);
        if is_object {
            self.pos = self.buf.len();
            Some(whole)
        } else {
            None
        }
    }
}

async fn healthz(State(app): State<Arc<App>>) -> Response {
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
        "queue_depth": app.queue.len(),
        "queue_capacity": app.queue_capacity,
        "in_flight": app.metrics.in_flight.load(Ordering::Relaxed),
        "uptime_s": app.started.elapsed().as_secs(),
        "version": env!("CARGO_PKG_VERSION"),
    });
    json_response(code, format!("{body}\n").into_bytes())
}

async fn metrics(State(app): State<Arc<App>>) -> Response {
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
    line(format!("haforu_queue_depth {}", app.queue.len()));
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_plain() {
        let dir = std::env::temp_dir().join(format!("haforu-names-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("A.ttf"), b"x").unwrap();
        let dir = dir.canonicalize().unwrap();
        assert!(resolve_name(Some(&dir), "A.ttf").is_ok());
        for bad in [
            "../A.ttf",
            "/etc/passwd",
            "..",
            ".hidden",
            "a/b",
            "a\\b",
            "",
        ] {
            let e = resolve_name(Some(&dir), bad).unwrap_err();
            assert_eq!(e.0, ErrorKind::BadJob, "{bad}");
        }
        assert_eq!(
            resolve_name(Some(&dir), "nope.ttf").unwrap_err().0,
            ErrorKind::FontNotFound
        );
        assert_eq!(
            resolve_name(None, "A.ttf").unwrap_err().0,
            ErrorKind::FontNotFound
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
