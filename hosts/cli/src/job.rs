//! The little the host needs to know about a job before handing it to the engine (its id and
//! where its font comes from), and result lines: host-made error results and `timing`.

use std::time::Instant;

use serde::de::IgnoredAny;
use serde::Deserialize;

/// The error kinds the host itself produces (the engine's own kinds pass through as strings).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorKind {
    BadJob,
    FontNotFound,
    FontParse,
    LimitExceeded,
    /// A sandbox trap: deadline, memory cap, stack.
    ResourceLimit,
    /// The server's queue is full or a request's deadline passed while it waited.
    Overloaded,
    Internal,
}

impl ErrorKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::BadJob => "bad_job",
            ErrorKind::FontNotFound => "font_not_found",
            ErrorKind::FontParse => "font_parse",
            ErrorKind::LimitExceeded => "limit_exceeded",
            ErrorKind::ResourceLimit => "resource_limit",
            ErrorKind::Overloaded => "overloaded",
            ErrorKind::Internal => "internal",
        }
    }
}

#[derive(Deserialize, Default)]
struct PeekFont {
    #[serde(default)]
    path: Option<serde_json::Value>,
    #[serde(default)]
    name: Option<serde_json::Value>,
    #[serde(default)]
    data: Option<IgnoredAny>,
    #[serde(default)]
    handle: Option<IgnoredAny>,
}

#[derive(Deserialize, Default)]
struct PeekRendering {
    #[serde(default)]
    format: Option<serde_json::Value>,
}

#[derive(Deserialize, Default)]
struct PeekJob {
    #[serde(default)]
    id: Option<serde_json::Value>,
    #[serde(default)]
    font: Option<PeekFont>,
    #[serde(default)]
    rendering: Option<PeekRendering>,
}

#[derive(Deserialize)]
struct PeekId {
    #[serde(default)]
    id: Option<serde_json::Value>,
}

/// What the host read from a job's JSON (nothing if it is not a JSON object of the usual shape;
/// the engine then reports the problem itself).
#[derive(Default)]
pub struct Peek {
    id: Option<String>,
    path: Option<String>,
    name: Option<String>,
    has_path: bool,
    has_name: bool,
    has_data: bool,
    has_handle: bool,
    format: Option<String>,
    understood: bool,
}

/// Where a job's font will come from.
pub enum FontPlan<'a> {
    /// Let the engine handle it (`font.data`, or report what is wrong).
    Engine,
    /// Read this file on the host and pass a handle.
    Path(&'a str),
    /// Refuse the job with this message (`bad_job`).
    Reject(String),
}

/// Reads the job's id and font fields; never fails.
pub fn peek(job: &[u8]) -> Peek {
    match serde_json::from_slice::<PeekJob>(job) {
        Ok(j) => {
            let font = j.font.unwrap_or_default();
            Peek {
                id: string(j.id),
                has_path: font.path.is_some(),
                has_name: font.name.is_some(),
                path: string(font.path),
                name: string(font.name),
                has_data: font.data.is_some(),
                has_handle: font.handle.is_some(),
                format: j.rendering.and_then(|r| string(r.format)),
                understood: true,
            }
        }
        Err(_) => Peek {
            id: serde_json::from_slice::<PeekId>(job)
                .ok()
                .and_then(|p| string(p.id)),
            ..Peek::default()
        },
    }
}

fn string(v: Option<serde_json::Value>) -> Option<String> {
    match v {
        Some(serde_json::Value::String(s)) => Some(s),
        _ => None,
    }
}

impl Peek {
    /// The id the result will carry: the job's own, else `line-N`, else `job` (SPEC §1).
    pub fn id_or(&self, line_no: u32) -> String {
        match &self.id {
            Some(id) if !id.is_empty() => id.clone(),
            _ if line_no == 0 => "job".to_string(),
            _ => format!("line-{line_no}"),
        }
    }

    pub fn path(&self) -> Option<&str> {
        self.path.as_deref()
    }

    pub fn name(&self) -> Option<&str> {
        self.name.as_deref()
    }

    pub fn has_path(&self) -> bool {
        self.has_path
    }

    pub fn has_name(&self) -> bool {
        self.has_name
    }

    pub fn has_data(&self) -> bool {
        self.has_data
    }

    pub fn has_handle(&self) -> bool {
        self.has_handle
    }

    pub fn format(&self) -> Option<&str> {
        self.format.as_deref()
    }

    /// The CLI's rule: `font.path` is read on the host; `font.handle` is refused (handles are
    /// private to one engine instance); everything else goes to the engine as it is.
    pub fn font_plan(&self) -> FontPlan<'_> {
        if !self.understood {
            return FontPlan::Engine;
        }
        if self.has_handle {
            return FontPlan::Reject(format!(
                "job {}: font.handle is private to one engine instance; give font.path or font.data",
                self.id_or(0)
            ));
        }
        match (&self.path, self.has_data) {
            (Some(p), false) => FontPlan::Path(p),
            _ => FontPlan::Engine,
        }
    }
}

/// Adds `"handle": 1` to the job's `font` when the host supplies the font (by handle) and the
/// job names none itself. The engine overrides the value with the handle the host passes, but
/// (unlike wasm/README.md says) it rejects a job whose `font` has no source at all as `bad_job`
/// before looking at that handle. Returns `None` when the job needs no change or is not an
/// object (the engine then reports it as it is).
pub fn with_handle_placeholder(job: &[u8]) -> Option<Vec<u8>> {
    let mut v: serde_json::Value = serde_json::from_slice(job).ok()?;
    let font = v
        .as_object_mut()?
        .entry("font")
        .or_insert_with(|| serde_json::json!({}));
    let font = font.as_object_mut()?;
    if ["path", "data", "handle"]
        .iter()
        .any(|k| font.contains_key(*k))
    {
        return None;
    }
    font.insert("handle".into(), serde_json::json!(1));
    serde_json::to_vec(&v).ok()
}

/// One finished job: the result line (with `timing`), out-of-band bytes, and its status.
pub struct Outcome {
    pub json: Vec<u8>,
    pub data: Option<Vec<u8>>,
    pub ok: bool,
    pub kind: Option<String>,
}

impl Outcome {
    /// Wraps the engine's answer, adding `timing.total_ms` measured from `t0`.
    pub fn from_raw(raw: crate::runtime::Raw, t0: Instant) -> Outcome {
        let kind = if raw.failed {
            Some(error_kind_of(&raw.json).unwrap_or_else(|| "internal".to_string()))
        } else {
            None
        };
        let mut json = raw.json;
        insert_timing(&mut json, t0);
        Outcome {
            json,
            data: raw.data,
            ok: !raw.failed,
            kind,
        }
    }

    /// A host-made error result in the engine's shape.
    pub fn error(
        id: &str,
        kind: ErrorKind,
        message: &str,
        path: Option<&str>,
        t0: Instant,
    ) -> Outcome {
        let mut json = error_json(id, kind.as_str(), message, path).into_bytes();
        insert_timing(&mut json, t0);
        Outcome {
            json,
            data: None,
            ok: false,
            kind: Some(kind.as_str().to_string()),
        }
    }
}

/// `{"id":..,"status":"error","error":..,"error_kind":..[,"font":{"path":..}]}`
pub fn error_json(id: &str, kind: &str, message: &str, path: Option<&str>) -> String {
    let q = |s: &str| serde_json::to_string(s).expect("strings serialise");
    let font = path
        .map(|p| format!(",\"font\":{{\"path\":{}}}", q(p)))
        .unwrap_or_default();
    format!(
        "{{\"id\":{},\"status\":\"error\",\"error\":{},\"error_kind\":{}{font}}}",
        q(id),
        q(message),
        q(kind)
    )
}

/// Replaces the final `}` with `,"timing":{"total_ms":X}}` (wasm/README.md, *Timing*).
pub fn insert_timing(json: &mut Vec<u8>, t0: Instant) {
    let ms = t0.elapsed().as_secs_f64() * 1e3;
    if json.last() == Some(&b'}') {
        json.pop();
        let sep = if json.ends_with(b"{") { "" } else { "," };
        json.extend_from_slice(format!("{sep}\"timing\":{{\"total_ms\":{ms:.3}}}}}").as_bytes());
    }
}

/// The `error_kind` of a result line, found without parsing the whole line (a quote inside a
/// JSON string is always escaped, so the pattern cannot match inside a message).
pub fn error_kind_of(json: &[u8]) -> Option<String> {
    const KEY: &[u8] = b"\"error_kind\":\"";
    let at = json.windows(KEY.len()).position(|w| w == KEY)? + KEY.len();
    let end = json[at..].iter().position(|&b| b == b'"')?;
    String::from_utf8(json[at..at + end].to_vec()).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn peek_reads_id_and_font() {
        let p =
            peek(br#"{"id":"a","font":{"path":"x.ttf","size":9},"rendering":{"format":"png"}}"#);
        assert_eq!(p.id_or(3), "a");
        assert!(matches!(p.font_plan(), FontPlan::Path("x.ttf")));
        assert_eq!(p.format(), Some("png"));
        let p = peek(br#"{"font":{"data":"AAAA","path":"x"}}"#);
        assert_eq!(p.id_or(3), "line-3");
        assert!(matches!(p.font_plan(), FontPlan::Engine));
        let p = peek(br#"{"id":"h","font":{"handle":1}}"#);
        assert!(matches!(p.font_plan(), FontPlan::Reject(_)));
        let p = peek(b"{not json");
        assert_eq!(p.id_or(0), "job");
        assert!(matches!(p.font_plan(), FontPlan::Engine));
        let p = peek(br#"{"id":"k","font":"oops"}"#);
        assert_eq!(p.id_or(1), "k");
    }

    #[test]
    fn timing_and_kind() {
        let mut j = br#"{"id":"a","status":"error","error":"x \"error_kind\":\"no\"","error_kind":"bad_job"}"#.to_vec();
        assert_eq!(error_kind_of(&j).as_deref(), Some("bad_job"));
        insert_timing(&mut j, Instant::now());
        let v: serde_json::Value = serde_json::from_slice(&j).unwrap();
        assert!(v["timing"]["total_ms"].as_f64().unwrap() >= 0.0);
        let e = error_json("i\"d", "font_not_found", "m", Some("p\\q"));
        let v: serde_json::Value = serde_json::from_str(&e).unwrap();
        assert_eq!(v["font"]["path"], "p\\q");
        assert_eq!(v["id"], "i\"d");
    }
}
