//! `haforu info FONT` (the engine's font metadata) and `haforu compare A B` (the engine's image
//! comparison of two PGM/PNG files), and the pieces `render --compare` shares with them.

mod format;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use clap::{Args, ValueEnum};
use serde_json::Value;

use haforu_guest::{Fault, Guest};

use crate::runtime::{FontError, Runtime, Worker};
use crate::util::exit;
use format::{info_text, pretty, with_raw_numbers};

#[derive(Args)]
pub struct InfoArgs {
    /// Font file (.ttf, .otf, .ttc).
    #[arg(value_name = "FONT")]
    font: PathBuf,
    /// Face index inside a collection.
    #[arg(long, default_value_t = 0, value_name = "N")]
    face_index: u32,
    /// json (the default: the engine's font info, pretty-printed) or text (a summary).
    #[arg(long, value_enum, default_value_t = InfoFormat::Json)]
    format: InfoFormat,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum InfoFormat {
    Json,
    Text,
}

#[derive(Args)]
pub struct CompareArgs {
    /// Image `a`: a binary PGM (P5) or grayscale PNG file (0 = ink).
    #[arg(value_name = "A")]
    a: PathBuf,
    /// Image `b`, compared with `a`.
    #[arg(value_name = "B")]
    b: PathBuf,
    /// Alignment on the max(W)×max(H) canvas: center (default) or corner.
    #[arg(long, value_enum, default_value_t = Method::Center)]
    method: Method,
}

/// How two images of different sizes are aligned before comparing them.
#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Method {
    Center,
    Corner,
}

impl Method {
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Center => "center",
            Method::Corner => "corner",
        }
    }
}

/// Prints `text` plus a newline on stdout (exit 0, or 5 when it cannot be written).
fn print_line(text: &str) -> i32 {
    crate::print_out(&format!("{text}\n"))
}

/// Prints an engine-written command error line on stderr; exit 1 (5 when the engine could
/// not write it).
fn print_error(line: Result<(Vec<u8>, Vec<u8>, bool), Fault>, reason: &str) -> i32 {
    match line {
        Ok((json, _, _)) => {
            eprintln!("{}", String::from_utf8_lossy(&json));
            exit::JOB_ERRORS
        }
        Err(f) => {
            eprintln!("haforu: {reason} ({})", f.reason);
            exit::ENGINE
        }
    }
}

/// A failure the host saw (`kind`, `reason`) about `subject`, written by the engine.
fn host_failure(
    w: &mut Worker,
    command: &str,
    subject: &str,
    font: bool,
    kind: u32,
    reason: &str,
) -> i32 {
    let line = w.call(|g| {
        g.result_error(None, 0, kind, reason, 0)?;
        g.result_restate(command, subject, font)
    });
    print_error(line, reason)
}

pub fn info(rt: Arc<Runtime>, a: InfoArgs) -> i32 {
    let shown = a.font.display().to_string();
    let mut w = rt.worker();
    let font = match rt.fonts.load(&a.font, rt.facts.max_font_bytes) {
        Ok((f, _)) => f,
        Err(e @ (FontError::Io(_) | FontError::NotRegular)) => {
            eprintln!("haforu: cannot read font file {shown}: {e}");
            return exit::USAGE;
        }
        Err(e) => return host_failure(&mut w, "info", &shown, true, e.kind(), &e.to_string()),
    };
    let face = a.face_index;
    let answer = w.call(|g: &mut Guest| {
        let h = g.font_register(&font.bytes)?;
        let d = g.font_info(h, face)?;
        g.restated_unless_ok(d, "info", &shown, true)
    });
    let json = match answer {
        Ok((json, _, true)) => json,
        Ok(failed) => return print_error(Ok(failed), "haforu_font_info failed"),
        Err(f) => return host_failure(&mut w, "info", &shown, true, f.kind, &f.reason),
    };
    let text = match a.format {
        InfoFormat::Json => pretty(&json),
        InfoFormat::Text => match with_raw_numbers(&json) {
            Some(v) => info_text(&v),
            None => {
                eprintln!("haforu: haforu_font_info returned bad JSON");
                return exit::ENGINE;
            }
        },
    };
    print_line(text.trim_end())
}

/// Registers the bytes of one image file; its handle, or the exit code after reporting.
fn register(w: &mut Worker, path: &Path) -> Result<u32, i32> {
    let shown = path.display().to_string();
    let bytes = std::fs::read(path).map_err(|e| {
        eprintln!("haforu: cannot read image file {shown}: {e}");
        exit::USAGE
    })?;
    let answer = w.call(|g| {
        let d = g.image_register(&bytes, 0, 0)?;
        g.restated_unless_ok(d, "compare", &shown, false)
    });
    let json = match answer {
        Ok((json, _, true)) => json,
        Ok(failed) => return Err(print_error(Ok(failed), "haforu_image_register failed")),
        Err(f) => return Err(host_failure(w, "compare", &shown, false, f.kind, &f.reason)),
    };
    let v: Value = serde_json::from_slice(&json).unwrap_or_default();
    match v["handle"].as_u64().and_then(|h| u32::try_from(h).ok()) {
        Some(h) => Ok(h),
        None => {
            eprintln!("haforu: haforu_image_register gave no handle for {shown}");
            Err(exit::ENGINE)
        }
    }
}

/// `compare A B`: the engine's answer (`{"status":"success","compare":{...}}`) as it is.
pub fn compare(rt: Arc<Runtime>, a: CompareArgs) -> i32 {
    let mut w = rt.worker();
    let ha = match register(&mut w, &a.a) {
        Ok(h) => h,
        Err(rc) => return rc,
    };
    let hb = match register(&mut w, &a.b) {
        Ok(h) => h,
        Err(rc) => return rc,
    };
    let request = serde_json::json!({
        "op": "compare", "a": ha, "b": hb, "method": a.method.as_str(),
    })
    .to_string();
    let answer = w.call(|g| {
        let d = g.image_op(request.as_bytes())?;
        g.restated_unless_ok(d, "compare", "", false)
    });
    // The answer is copied out already; the images are not needed any more.
    if let Ok(g) = w.guest(None) {
        for h in [ha, hb] {
            let _ = g.image_drop(h);
        }
    }
    match answer {
        Ok((json, _, true)) => print_line(&String::from_utf8_lossy(&json)),
        Ok(failed) => print_error(Ok(failed), "haforu_image_op failed"),
        Err(f) => host_failure(&mut w, "compare", "", false, f.kind, &f.reason),
    }
}
