//! `haforu`: the command-line host and HTTP render server for haforu.wasm (see README.md).

mod batch;
mod fonts;
mod input;
mod job;
mod render;
mod runtime;
mod serve;
mod util;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};

use crate::runtime::{Runtime, Sandbox};
use crate::util::exit;

#[derive(Parser)]
#[command(
    name = "haforu",
    version = env!("CARGO_PKG_VERSION"),
    long_version = env!("HAFORU_LONG_VERSION"),
    about = "Render text with haforu.wasm in a sandbox: batch jobs, a line stream, one-off renders, an HTTP server",
    after_help = "Exit codes: 0 all jobs succeeded; 1 some job gave an error result; 2 usage or unreadable input; \
3 invalid job-list envelope; 4 engine failed to start; 5 results could not be written."
)]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
    #[command(flatten)]
    sandbox: SandboxArgs,
}

/// The sandbox applied to every job.
#[derive(Args)]
struct SandboxArgs {
    /// Linear-memory cap per engine instance, MiB.
    #[arg(long, global = true, default_value_t = 512, value_name = "MIB")]
    memory_mb: u64,
    /// Deadline per job in ms (0 = no deadline: faster, but a job may run forever).
    #[arg(long, global = true, default_value_t = 10_000, value_name = "MS")]
    timeout_ms: u64,
    /// Rebuild an engine instance after this many jobs (0 = only by memory).
    #[arg(long, global = true, default_value_t = 100_000, value_name = "N")]
    recycle_jobs: u64,
    /// Rebuild an engine instance when its memory exceeds this many MiB after a job.
    #[arg(long, global = true, default_value_t = 256, value_name = "MIB")]
    recycle_memory_mb: u64,
}

#[derive(Subcommand)]
enum Cmd {
    /// Run a job list (batch object or JSONL) from FILE or stdin; print one result per line.
    Batch {
        /// Input file, or `-` for stdin (the default).
        input: Option<PathBuf>,
        /// Worker threads, each with its own sandboxed instance (default: number of cores).
        #[arg(short = 'j', long)]
        jobs: Option<usize>,
        /// Print results in input order (default: as they complete).
        #[arg(long)]
        ordered: bool,
        /// Print one JSON line of totals to stderr at the end.
        #[arg(long)]
        stats: bool,
        /// Never draw the progress bar (it is drawn only when stderr is a terminal).
        #[arg(long)]
        no_progress: bool,
    },
    /// One job per stdin line in, one result per stdout line out, flushed per line, in order.
    Stream,
    /// Render one text to an image (PNG by default) or print its metrics or glyphs.
    Render(render::RenderArgs),
    /// Check a job list without rendering: one `{"id","valid",...}` line per job.
    Validate {
        /// Input file, or `-` for stdin (the default).
        input: Option<PathBuf>,
        /// Worker threads (default: number of cores).
        #[arg(short = 'j', long)]
        jobs: Option<usize>,
    },
    /// Print the engine's version, ABI version, limits and cache state as JSON.
    Diagnostics,
    /// Serve renders over HTTP (POST /render, POST /batch, GET /healthz, GET /metrics).
    Serve(serve::ServeArgs),
}

fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let s = &cli.sandbox;
    let sandbox = Sandbox {
        memory_mb: s.memory_mb.max(1),
        timeout_ms: s.timeout_ms,
        recycle_jobs: s.recycle_jobs,
        recycle_memory_mb: s.recycle_memory_mb.max(1),
    };
    let rt = match Runtime::new(sandbox) {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("haforu: {e}");
            return code(exit::ENGINE);
        }
    };
    let rc = match cli.cmd {
        Cmd::Batch {
            input,
            jobs,
            ordered,
            stats,
            no_progress,
        } => batch::run(
            rt,
            batch::Options {
                input,
                jobs: jobs.unwrap_or_else(cores).max(1),
                ordered,
                stats,
                progress: !no_progress,
                mode: batch::Mode::Render,
            },
        ),
        Cmd::Validate { input, jobs } => batch::run(
            rt,
            batch::Options {
                input,
                jobs: jobs.unwrap_or_else(cores).max(1),
                ordered: true,
                stats: false,
                progress: false,
                mode: batch::Mode::Validate,
            },
        ),
        Cmd::Stream => batch::stream(rt),
        Cmd::Render(args) => render::run(rt, args),
        Cmd::Diagnostics => diagnostics(rt),
        Cmd::Serve(args) => serve::run(rt, args, cores()),
    };
    code(rc)
}

fn code(rc: i32) -> ExitCode {
    ExitCode::from(u8::try_from(rc).unwrap_or(1))
}

fn diagnostics(rt: std::sync::Arc<Runtime>) -> i32 {
    let mut w = rt.worker();
    let info = match w.info() {
        Ok(i) => i,
        Err(f) => {
            eprintln!("haforu: {}", f.message);
            return exit::ENGINE;
        }
    };
    let out = serde_json::json!({
        "version": env!("CARGO_PKG_VERSION"),
        "abi_version": runtime::ABI_VERSION,
        "engine": info,
        "module": {
            "sha256": runtime::WASM_SHA256,
            "bytes": runtime::WASM.len(),
            "code_cache": rt.load.cache_path.as_ref().map(|p| p.display().to_string()),
            "code_cache_hit": rt.load.cache_hit,
            "load_ms": (rt.load.load_ms * 1000.0).round() / 1000.0,
            "instance_memory_bytes": w.memory_bytes(),
        },
        "wasmtime": runtime::WASMTIME_VERSION,
        "sandbox": {
            "memory_mb": rt.sandbox.memory_mb,
            "timeout_ms": rt.sandbox.timeout_ms,
            "recycle_jobs": rt.sandbox.recycle_jobs,
            "recycle_memory_mb": rt.sandbox.recycle_memory_mb,
        },
        "default_font_bytes": render::DEFAULT_FONT.len(),
        "font_files_cached": rt.fonts.stats().0,
        "cores": cores(),
    });
    println!(
        "{}",
        serde_json::to_string_pretty(&out).expect("JSON serialises")
    );
    exit::OK
}
