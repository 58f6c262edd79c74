//! `haforu`: the command-line host and HTTP render server for haforu.wasm (see README.md).

mod batch;
mod input;
mod inspect;
mod pool;
mod render;
mod runtime;
mod serve;
mod util;

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, CommandFactory, FromArgMatches, Parser, Subcommand, ValueEnum};

use crate::runtime::{Runtime, Sandbox, REGISTERED_FONTS_DEFAULT};
use crate::util::exit;

#[derive(Parser)]
#[command(
    name = "haforu",
    version = env!("CARGO_PKG_VERSION"),
    long_version = env!("HAFORU_LONG_VERSION"),
    about = "Render text with haforu.wasm in a sandbox: batch jobs, a line stream, one-off renders, an HTTP server"
)]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
    #[command(flatten)]
    sandbox: SandboxArgs,
}

/// The sandbox and caches applied to every job.
#[derive(Args)]
struct SandboxArgs {
    /// Linear-memory cap per engine instance, MiB.
    #[arg(
        long,
        global = true,
        default_value_t = 512,
        value_name = "MIB",
        alias = "memory-limit-mb"
    )]
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
    /// Fonts kept registered per engine instance (least recently used dropped beyond it).
    #[arg(long, global = true, default_value_t = REGISTERED_FONTS_DEFAULT, value_name = "N")]
    max_fonts: usize,
    /// Glyph cache capacity per engine instance, in glyphs (0 = off; default: no count limit,
    /// only the engine's byte budget).
    #[arg(long, global = true, value_name = "N")]
    max_glyphs: Option<u32>,
}

/// Where a job list comes from: `FILE` or `-i FILE` (`-` or nothing: stdin).
#[derive(Args)]
struct InputArgs {
    /// Input file, or `-` for stdin (the default).
    #[arg(value_name = "FILE")]
    input: Option<PathBuf>,
    /// The same as FILE (haforu 2.x spelling).
    #[arg(
        short = 'i',
        long = "input",
        value_name = "FILE",
        conflicts_with = "input"
    )]
    input_flag: Option<PathBuf>,
}

impl InputArgs {
    fn path(self) -> Option<PathBuf> {
        self.input.or(self.input_flag)
    }
}

/// Options shared by `batch`, `stream` and `validate`.
#[derive(Args)]
struct RunArgs {
    /// Write results to FILE instead of stdout.
    #[arg(short = 'o', long, value_name = "FILE", alias = "output-file")]
    output: Option<PathBuf>,
    /// Resolve `font.path` against DIR and refuse paths that lead outside it.
    #[arg(long, value_name = "DIR")]
    base_dir: Option<PathBuf>,
}

// Parsed once per process: the size of the variants does not matter.
#[allow(clippy::large_enum_variant)]
#[derive(Subcommand)]
enum Cmd {
    /// Run a job list (batch object or JSONL) from FILE or stdin; print one result per line.
    Batch {
        #[command(flatten)]
        input: InputArgs,
        #[command(flatten)]
        run: RunArgs,
        /// Worker threads, each with its own sandboxed instance (0 or default: number of cores).
        #[arg(
            short = 'j',
            long,
            visible_alias = "workers",
            short_alias = 'w',
            value_name = "N"
        )]
        jobs: Option<usize>,
        /// Print results in input order (default: as they complete).
        #[arg(long)]
        ordered: bool,
        /// Exit 1 if any job gave an error result (default: 0 once the input was processed).
        #[arg(long)]
        strict: bool,
        /// Print one JSON line of totals to stderr at the end.
        #[arg(long)]
        stats: bool,
        /// Never draw the progress bar (it is drawn only when stderr is a terminal).
        #[arg(
            long,
            visible_alias = "quiet",
            short_alias = 'q',
            conflicts_with = "progress"
        )]
        no_progress: bool,
        /// Draw the progress bar even when stderr is not a terminal (one line per second).
        #[arg(long)]
        progress: bool,
    },
    /// One job per input line, one result per output line, flushed per line, in order.
    Stream {
        #[command(flatten)]
        input: InputArgs,
        #[command(flatten)]
        run: RunArgs,
        /// Exit 1 if any job gave an error result (default: 0 once the input was processed).
        #[arg(long)]
        strict: bool,
        /// Print one JSON line of totals to stderr at the end.
        #[arg(long)]
        stats: bool,
    },
    /// Render one text to an image (format from -o's extension, PNG by default) or print its
    /// metrics or glyphs.
    Render(render::RenderArgs),
    /// Check a job list without rendering: one `{"id","valid",...}` line per job, with the
    /// job's warnings.
    Validate {
        #[command(flatten)]
        input: InputArgs,
        #[command(flatten)]
        run: RunArgs,
        /// Worker threads (0 or default: number of cores).
        #[arg(
            short = 'j',
            long,
            visible_alias = "workers",
            short_alias = 'w',
            value_name = "N"
        )]
        jobs: Option<usize>,
    },
    /// Print a font's metadata (names, metrics, axes, named instances, features, coverage) as
    /// the engine's font info JSON, pretty-printed, or as text.
    Info(inspect::InfoArgs),
    /// Compare two PGM/PNG images in the engine (pixel delta, densities, aspects, IoU, ...);
    /// print the comparison JSON.
    Compare(inspect::CompareArgs),
    /// Print the engine's version, ABI version, limits and cache state.
    Diagnostics {
        /// json (the default) or text.
        #[arg(long, value_enum, default_value_t = DiagFormat::Json)]
        format: DiagFormat,
    },
    /// Print the version (the same as --version).
    Version,
    /// Serve renders over HTTP (POST /render, POST /batch, GET /healthz, GET /metrics).
    Serve(serve::ServeArgs),
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum DiagFormat {
    Json,
    Text,
}

fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// `-j 0` (haforu 2.x: "all cores") and no `-j` both mean the number of cores.
fn workers(jobs: Option<usize>) -> usize {
    match jobs {
        None | Some(0) => cores(),
        Some(n) => n,
    }
}

fn main() -> ExitCode {
    let help = util::exit_code_help();
    let mut command = Cli::command().after_help(help.clone());
    for name in [
        "batch",
        "stream",
        "render",
        "validate",
        "info",
        "compare",
        "diagnostics",
        "serve",
    ] {
        command = command.mut_subcommand(name, |c| c.after_help(help.clone()));
    }
    let matches = command.get_matches();
    let cli = Cli::from_arg_matches(&matches).unwrap_or_else(|e| e.exit());
    if matches!(cli.cmd, Cmd::Version) {
        return code(print_out(&format!(
            "haforu {}\n",
            env!("HAFORU_LONG_VERSION")
        )));
    }
    let base_dir = match &cli.cmd {
        Cmd::Batch { run, .. } | Cmd::Stream { run, .. } | Cmd::Validate { run, .. } => {
            run.base_dir.clone()
        }
        Cmd::Render(a) => a.base_dir().cloned(),
        _ => None,
    };
    let base_dir = match base_dir.map(|d| (d.canonicalize(), d)) {
        None => None,
        Some((Ok(c), _)) if c.is_dir() => Some(c),
        Some((_, d)) => {
            eprintln!("haforu: --base-dir {} is not a directory", d.display());
            return code(exit::USAGE);
        }
    };
    let s = &cli.sandbox;
    let sandbox = Sandbox {
        memory_mb: s.memory_mb.max(1),
        timeout_ms: s.timeout_ms,
        recycle_jobs: s.recycle_jobs,
        recycle_memory_mb: s.recycle_memory_mb.max(1),
        max_fonts: s.max_fonts.max(1),
        max_glyphs: s.max_glyphs,
        base_dir,
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
            run,
            jobs,
            ordered,
            strict,
            stats,
            no_progress,
            progress,
        } => batch::run(
            rt,
            batch::Options {
                input: input.path(),
                output: run.output,
                jobs: workers(jobs),
                ordered,
                strict,
                stats,
                progress: if no_progress {
                    batch::ProgressWhen::Never
                } else if progress {
                    batch::ProgressWhen::Always
                } else {
                    batch::ProgressWhen::Auto
                },
                mode: batch::Mode::Render,
            },
        ),
        Cmd::Validate { input, run, jobs } => batch::run(
            rt,
            batch::Options {
                input: input.path(),
                output: run.output,
                jobs: workers(jobs),
                ordered: true,
                strict: true,
                stats: false,
                progress: batch::ProgressWhen::Never,
                mode: batch::Mode::Validate,
            },
        ),
        Cmd::Stream {
            input,
            run,
            strict,
            stats,
        } => batch::stream(
            rt,
            batch::StreamOptions {
                input: input.path(),
                output: run.output,
                strict,
                stats,
            },
        ),
        Cmd::Render(args) => render::run(rt, args),
        Cmd::Info(args) => inspect::info(rt, args),
        Cmd::Compare(args) => inspect::compare(rt, args),
        Cmd::Diagnostics { format } => diagnostics(rt, format),
        Cmd::Serve(args) => serve::run(rt, args, cores()),
        Cmd::Version => unreachable!("handled above"),
    };
    code(rc)
}

fn code(rc: i32) -> ExitCode {
    ExitCode::from(u8::try_from(rc).unwrap_or(1))
}

/// Writes `text` to stdout: a closed pipe is not an error (exit 0, nothing said), any other
/// write error is exit code 5.
fn print_out(text: &str) -> i32 {
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|_| out.flush()) {
        Ok(()) => exit::OK,
        Err(e) if util::is_broken_pipe(&e) => exit::OK,
        Err(e) => {
            eprintln!("haforu: writing to stdout: {e}");
            exit::OUTPUT
        }
    }
}

fn diagnostics(rt: std::sync::Arc<Runtime>, format: DiagFormat) -> i32 {
    let mut w = rt.worker();
    let info = match w.call(|g| g.info()) {
        Ok((json, _, _)) => serde_json::from_slice(&json).unwrap_or_default(),
        Err(f) => {
            eprintln!("haforu: {}", f.reason);
            return exit::ENGINE;
        }
    };
    let info: serde_json::Value = info;
    let load = rt.load_info();
    let out = serde_json::json!({
        "version": env!("CARGO_PKG_VERSION"),
        "abi_version": haforu_guest::ABI_VERSION,
        "engine": info,
        "module": {
            "sha256": runtime::WASM_SHA256,
            "bytes": runtime::WASM.len(),
            "code_cache": load.cache_path.as_ref().map(|p| p.display().to_string()),
            "code_cache_hit": load.cache_hit,
            "load_ms": (load.load_ms * 1000.0).round() / 1000.0,
            "instance_memory_bytes": w.memory_bytes(),
        },
        "wasmtime": runtime::WASMTIME_VERSION,
        "sandbox": {
            "memory_mb": rt.sandbox.memory_mb,
            "timeout_ms": rt.sandbox.timeout_ms,
            "recycle_jobs": rt.sandbox.recycle_jobs,
            "recycle_memory_mb": rt.sandbox.recycle_memory_mb,
            "max_fonts": rt.sandbox.max_fonts,
            "max_glyphs": rt.sandbox.max_glyphs,
        },
        "default_font_bytes": render::DEFAULT_FONT.len(),
        "font_files_cached": rt.fonts.stats().0,
        "cores": cores(),
    });
    let text = match format {
        DiagFormat::Json => serde_json::to_string_pretty(&out).expect("JSON serialises") + "\n",
        DiagFormat::Text => {
            let mut lines = Vec::new();
            flatten("", &out, &mut lines);
            lines.join("\n") + "\n"
        }
    };
    print_out(&text)
}

/// `a.b.c: value` lines for `diagnostics --format text`.
fn flatten(prefix: &str, v: &serde_json::Value, out: &mut Vec<String>) {
    match v {
        serde_json::Value::Object(m) if !m.is_empty() => {
            for (k, v) in m {
                let key = if prefix.is_empty() {
                    k.clone()
                } else {
                    format!("{prefix}.{k}")
                };
                flatten(&key, v, out);
            }
        }
        serde_json::Value::String(s) => out.push(format!("{prefix}: {s}")),
        other => out.push(format!("{prefix}: {other}")),
    }
}
