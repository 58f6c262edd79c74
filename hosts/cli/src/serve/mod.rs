//! `haforu serve`: the HTTP render server.
//!
//! Requests are handled on a small tokio runtime; jobs run on the shared worker [`Pool`]
//! (`--workers` OS threads, each with its own sandboxed engine instance) behind one bounded
//! queue. `/render` answers 503 when the queue is full; `/batch` waits for room instead (it
//! streams, so it applies backpressure to its client). Expensive jobs move to a lane of their
//! own ([`lanes`]) so they cannot hold every worker; a request body must arrive within
//! `--body-timeout-s`. SIGTERM (or Ctrl-C) stops accepting
//! connections and lets in-flight requests finish.
//!
//! Jobs run with `NO_HANDLES | NAMED_FONTS`: the engine refuses `font.path` and `font.handle`
//! and asks for a `font.name`, which the host looks up in `--fonts DIR` ([`resolve_name`]).

mod batch;
mod body;
mod fonts_dir;
mod lanes;
mod metrics;
mod render;
mod respond;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};
use axum::Router;
use clap::Args;
use haforu_guest::flags;

use crate::pool::Pool;
use crate::runtime::{Runtime, Worker};
use crate::util::exit;
pub use fonts_dir::resolve_name;
use lanes::Lanes;
use metrics::Metrics;

/// The flags of every server job: no engine handles, `font.name` instead of `font.path`.
const SERVER_FLAGS: u32 = flags::NO_HANDLES | flags::NAMED_FONTS;

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
    /// Threads of the heavy lane, where jobs over --heavy-work run (0: no lane; every job
    /// runs on the main workers).
    #[arg(long, default_value_t = 1, value_name = "N")]
    heavy_workers: usize,
    /// Jobs that may wait for the heavy lane; /render answers 503 beyond that.
    #[arg(long, default_value_t = 4, value_name = "N")]
    heavy_queue: usize,
    /// A job is heavy when the engine estimates it touches more than this many megapixels
    /// (a 1000 px glyph on 3000x1200 as pgm is about 5; a 10000x5000 canvas 50).
    #[arg(long, default_value_t = 8, value_name = "MPX")]
    heavy_work: u64,
    /// Seconds a client may take to send a request body (408 beyond that).
    #[arg(long, default_value_t = 30, value_name = "S")]
    body_timeout_s: u64,
}

pub struct App {
    rt: Arc<Runtime>,
    pool: Pool,
    /// The heavy lane ([`lanes`]).
    lanes: Lanes,
    /// An instance of its own for what the HTTP side asks the engine directly: the envelope
    /// probe and the error results of requests that never reach a worker (queue full, body
    /// too large). Each use takes microseconds.
    clerk: Mutex<Worker>,
    workers: usize,
    max_body: usize,
    body_timeout: std::time::Duration,
    draining: AtomicBool,
    metrics: Metrics,
    started: Instant,
}

impl App {
    /// Runs `f` on the clerk instance.
    fn clerk<R>(&self, f: impl FnOnce(&mut Worker) -> R) -> R {
        let mut w = self.clerk.lock().unwrap_or_else(|e| e.into_inner());
        f(&mut w)
    }
}

pub fn run(rt: Arc<Runtime>, a: ServeArgs, cores: usize) -> i32 {
    if let Some(d) = &a.fonts {
        match d.canonicalize() {
            Ok(c) if c.is_dir() => rt.set_fonts_dir(c),
            _ => {
                eprintln!("haforu: --fonts {} is not a directory", d.display());
                return exit::USAGE;
            }
        }
    }
    let workers = match a.workers {
        None | Some(0) => cores,
        Some(n) => n,
    };
    let app = Arc::new(App {
        pool: Pool::new(&rt, workers, a.queue),
        lanes: Lanes::new(&rt, a.heavy_workers, a.heavy_queue, a.heavy_work),
        clerk: Mutex::new(rt.worker()),
        rt,
        workers,
        max_body: a.max_body_mb.max(1) << 20,
        body_timeout: std::time::Duration::from_secs(a.body_timeout_s.max(1)),
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
    app.pool.close();
    app.lanes.close();
    drop(tokio_rt);
    if let Ok(app) = Arc::try_unwrap(app) {
        app.pool.join();
        app.lanes.join();
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
    let (heavy, heavy_queue) = app.lanes.heavy_shape();
    eprintln!(
        "haforu serve: {} workers, queue {}, heavy lane {heavy} (queue {heavy_queue}), fonts {}",
        app.workers,
        app.pool.capacity(),
        app.rt
            .fonts_dir()
            .map_or_else(|| "(none)".to_string(), |d| d.display().to_string())
    );
    let router = Router::new()
        .route("/render", post(render::render))
        .route("/batch", post(batch::batch))
        .route("/healthz", get(metrics::healthz))
        .route("/metrics", get(metrics::metrics))
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
