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
pub use format::compare_answer;
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

/// A failed command's error line on stderr; exit 1. `info` and `compare` run no job, so this
/// is not a job result: it has the result's shape with the command as its id and the file
/// name instead of the engine's job prefix (the same line as `python -m haforu`).
fn fail(id: &str, kind: &str, message: &str, path: Option<&str>) -> i32 {
    let q = |s: &str| serde_json::to_string(s).expect("strings serialise");
    let font = path
        .map(|p| format!(",\"font\":{{\"path\":{}}}", q(p)))
        .unwrap_or_default();
    eprintln!(
        "{{\"id\":{},\"status\":\"error\",\"error\":{},\"error_kind\":{}{font}}}",
        q(id),
        q(message),
        q(kind)
    );
    exit::JOB_ERRORS
}

/// The `error` and `error_kind` of an engine error result, the engine's `job `X`: ` prefix
/// removed (the command names the file instead).
pub fn engine_error(raw_json: &[u8]) -> (String, String) {
    let v: Value = serde_json::from_slice(raw_json).unwrap_or_default();
    let kind = v["error_kind"].as_str().unwrap_or("internal").to_string();
    let mut msg = v["error"]
        .as_str()
        .unwrap_or("the engine gave an unreadable error")
        .to_string();
    if msg.starts_with("job `") {
        if let Some(at) = msg.find("`: ") {
            msg = msg[at + 3..].to_string();
        }
    }
    (kind, msg)
}

pub fn info(rt: Arc<Runtime>, a: InfoArgs) -> i32 {
    let shown = a.font.display().to_string();
    let font = match rt.fonts.load(&a.font, rt.facts.max_font_bytes) {
        Ok((f, _)) => f,
        Err(e @ (FontError::Io(_) | FontError::NotRegular)) => {
            eprintln!("haforu: cannot read font file {shown}: {e}");
            return exit::USAGE;
        }
        Err(e) => {
            let kind = rt.kind_name(e.kind());
            return fail("info", kind, &format!("{shown}: {e}"), Some(&shown));
        }
    };
    let mut w = rt.worker();
    let face = a.face_index;
    let answer = w.call(|g: &mut Guest| {
        let h = g.font_register(&font.bytes)?;
        g.font_info(h, face)
    });
    let (json, _, ok) = match answer {
        Ok(r) => r,
        Err(f) => return fault(&rt, "info", &shown, f, Some(&shown)),
    };
    if !ok {
        let (kind, msg) = engine_error(&json);
        return fail("info", &kind, &format!("{shown}: {msg}"), Some(&shown));
    }
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

fn fault(rt: &Runtime, id: &str, file: &str, f: Fault, path: Option<&str>) -> i32 {
    fail(
        id,
        rt.kind_name(f.kind),
        &format!("{file}: {}", f.reason),
        path,
    )
}

/// Registers the bytes of one image file; its handle, or the exit code after reporting.
fn register(rt: &Runtime, w: &mut Worker, path: &Path) -> Result<u32, i32> {
    let shown = path.display().to_string();
    let bytes = std::fs::read(path).map_err(|e| {
        eprintln!("haforu: cannot read image file {shown}: {e}");
        exit::USAGE
    })?;
    let (json, _, ok) = w
        .call(|g| g.image_register(&bytes, 0, 0))
        .map_err(|f| fault(rt, "compare", &shown, f, None))?;
    if !ok {
        let (kind, msg) = engine_error(&json);
        return Err(fail("compare", &kind, &format!("{shown}: {msg}"), None));
    }
    let v: Value = serde_json::from_slice(&json).unwrap_or_default();
    match v["handle"].as_u64().and_then(|h| u32::try_from(h).ok()) {
        Some(h) => Ok(h),
        None => {
            eprintln!("haforu: haforu_image_register gave no handle for {shown}");
            Err(exit::ENGINE)
        }
    }
}

pub fn compare(rt: Arc<Runtime>, a: CompareArgs) -> i32 {
    let mut w = rt.worker();
    let ha = match register(&rt, &mut w, &a.a) {
        Ok(h) => h,
        Err(rc) => return rc,
    };
    let hb = match register(&rt, &mut w, &a.b) {
        Ok(h) => h,
        Err(rc) => return rc,
    };
    let request = serde_json::json!({
        "op": "compare", "a": ha, "b": hb, "method": a.method.as_str(),
    })
    .to_string();
    let (json, _, ok) = match w.call(|g| g.image_op(request.as_bytes())) {
        Ok(r) => r,
        Err(f) => return fail("compare", rt.kind_name(f.kind), &f.reason, None),
    };
    // The answer is copied out already; the images are not needed any more.
    if let Ok(g) = w.guest(None) {
        for h in [ha, hb] {
            let _ = g.image_drop(h);
        }
    }
    if !ok {
        let (kind, msg) = engine_error(&json);
        return fail("compare", &kind, &msg, None);
    }
    match compare_answer(&json) {
        Some(line) => print_line(&line),
        None => {
            eprintln!("haforu: haforu_image_op gave no comparison");
            exit::ENGINE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn engine_error_drops_the_job_prefix() {
        let (k, m) = engine_error(
            br#"{"id":"image","status":"error","error":"job `image`: PGM image: truncated header","error_kind":"bad_job"}"#,
        );
        assert_eq!(
            (k.as_str(), m.as_str()),
            ("bad_job", "PGM image: truncated header")
        );
    }
}
