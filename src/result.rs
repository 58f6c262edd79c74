//! Result JSON (SPEC §2), written without `timing` (hosts add it; the core has no clock).

use crate::bindings::FontKeyKind;
use crate::compare::{self, Comparison};
use crate::encode;
use crate::error::{Error, ErrorKind};
use crate::job::{Format, Job};
use crate::render::Metrics;
use crate::shape::ShapedGlyph;
use serde::ser::{SerializeMap, Serializer};
use serde::Serialize;

/// How [`crate::Engine::run_json_with`] answers: where image bytes go, and which font sources
/// the host's rules allow.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RunOptions {
    /// A single job's image bytes go to [`Output::data`]; the JSON has no `data`.
    pub data_out_of_band: bool,
    /// A sweep's point images go to [`Output::data`], concatenated; each point's `rendering`
    /// names its `data_offset`/`data_length`. Without it sweeps carry base64 inline, whatever
    /// `data_out_of_band` says (hosts that splice a single job's base64 stay correct).
    pub points_out_of_band: bool,
    /// Like `data_out_of_band`, but the JSON keeps `"data":""` and [`Output::splice_at`] is
    /// the offset between its quotes, where the host inserts the base64 text of the data.
    pub splice_data: bool,
    /// `font.handle` in the job is refused (handles are private to one engine instance).
    pub no_handles: bool,
    /// The server's rule: `font.path` is refused and `font.name` is a font the host provides.
    pub named_fonts: bool,
    /// With `data_out_of_band`, a `raw` image may be sent as its ink box alone (rows of the box,
    /// `rendering.data_box` = `[x, y, w, h]`, paper elsewhere) when the box is at most a quarter
    /// of the canvas; otherwise the whole canvas, with `data_box` `[0, 0, width, height]`. For
    /// hosts that build the canvas themselves (numpy, JS): the bytes they assemble are the same.
    pub ink_box: bool,
}

/// A rendered job, before serialisation.
#[derive(Debug, Clone, PartialEq)]
pub struct Rendered {
    /// The job id.
    pub id: String,
    /// The output format.
    pub format: Format,
    /// Canvas width.
    pub width: u32,
    /// Canvas height.
    pub height: u32,
    /// The encoded image payload (`pgm`/`png`) or bare pixels (`raw`); empty otherwise.
    pub data: Vec<u8>,
    /// Tight ink box (image formats).
    pub actual_bbox: [u32; 4],
    /// With [`RunOptions::ink_box`], the part of the `raw` canvas that `data` holds,
    /// `[x, y, w, h]` (every other pixel is paper, 255); `None`: `data` is the whole image.
    pub data_box: Option<[u32; 4]>,
    /// Metrics (`metrics` format).
    pub metrics: Option<Metrics>,
    /// The glyph run (`glyphs` format).
    pub glyphs: Option<Vec<ShapedGlyph>>,
    /// `font.path` as given.
    pub font_path: Option<String>,
    /// Applied (clamped) axis coordinates, in axis order.
    pub variations: Vec<(String, f32)>,
    /// What was accepted but ignored or changed (SPEC §4); never changes the status.
    pub warnings: Vec<String>,
    /// The comparison with the job's `compare.target`.
    pub compare: Option<compare::Comparison>,
}

/// One point of a sweep: its render, or the requested coordinates and why it failed.
#[derive(Debug, Clone, PartialEq)]
pub enum SweepPoint {
    /// The point rendered. `data` of an image format holds the point's payload.
    Done(Box<Rendered>),
    /// The point failed; the others are unaffected.
    Failed {
        /// The coordinates as requested (empty when they could not be read).
        requested: Vec<(String, f32)>,
        /// What went wrong.
        error: Error,
    },
}

/// A job's failure: the error plus what is known about the job for the error result.
#[derive(Debug, Clone, PartialEq)]
pub struct JobError {
    /// The job id (or its `line-N` fallback).
    pub id: String,
    /// `font.path`, when it was read.
    pub font_path: Option<String>,
    /// What went wrong.
    pub error: Error,
}

/// What a run answered (the descriptor's `status` and `kind`, `wasm/README.md`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Status {
    /// The job (or call) succeeded.
    #[default]
    Success,
    /// It failed: the JSON is an error result of this kind.
    Error(ErrorKind),
    /// The job names a font file the host must read and bind ([`crate::Engine::bind_font`]);
    /// [`Output::data`] holds the key.
    NeedsFont(FontKeyKind),
}

impl Status {
    /// The ABI status code: 0 success, 1 error, 2 needs font.
    pub fn code(self) -> u32 {
        match self {
            Status::Success => 0,
            Status::Error(_) => 1,
            Status::NeedsFont(_) => 2,
        }
    }

    /// The ABI kind code: the error kind's code, the font key's kind, or 0.
    pub fn kind_code(self) -> u32 {
        match self {
            Status::Success => 0,
            Status::Error(k) => k.code(),
            Status::NeedsFont(k) => k.code(),
        }
    }
}

/// A serialised result: SPEC §2 JSON (without `timing`) and, optionally, out-of-band bytes.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Output {
    /// The result JSON, one line, ending in `}`.
    pub json: Vec<u8>,
    /// The image payload when requested out of band (the font key when a font is needed).
    pub data: Vec<u8>,
    /// Success, the error's kind, or the font the host must provide.
    pub status: Status,
    /// With [`RunOptions::splice_data`]: where in `json` the base64 text of `data` belongs.
    pub splice_at: Option<usize>,
    /// An error's message as the engine made it, without the ``job `id`: `` prefix (empty
    /// unless `status` is an error): what [`Output::restate`] words for a host command.
    pub message: String,
    /// The format of a single job's image bytes when they are in `data` (out of band).
    pub data_format: Option<Format>,
}

impl Output {
    /// `true` when the job succeeded.
    pub fn is_ok(&self) -> bool {
        self.status == Status::Success
    }

    /// A successful answer with no out-of-band data.
    pub fn success(json: Vec<u8>) -> Output {
        Output {
            json,
            ..Output::default()
        }
    }

    /// The descriptor's `kind`: the error kind's code, the font key's kind, or for a success
    /// with its image out of band the format's [`Format::image_code`]; else 0.
    pub fn kind_code(&self) -> u32 {
        match self.status {
            Status::Success => self.data_format.map_or(0, Format::image_code),
            s => s.kind_code(),
        }
    }

    /// This error answer restated as the error of the host command `command` about the file
    /// `subject` (see [`command_error_json`]); `None` when this answer is not an error.
    pub fn restate(&self, command: &str, subject: &str, font: bool) -> Option<Output> {
        let Status::Error(kind) = self.status else {
            return None;
        };
        let error = Error::new(kind, self.message.clone());
        Some(Output {
            json: command_error_json(command, subject, font, &error),
            status: self.status,
            message: error.message,
            ..Output::default()
        })
    }

    /// Add `"timing":{"total_ms":X}` (three decimals) as the last key of a job result; other
    /// answers (needs font, JSONL, info) are left as they are.
    pub fn add_timing(&mut self, total_ms: f64) {
        if matches!(self.status, Status::NeedsFont(_)) || self.json.last() != Some(&b'}') {
            return;
        }
        let ms = if total_ms.is_finite() {
            total_ms.max(0.0)
        } else {
            0.0
        };
        self.json.pop();
        let sep = if self.json.len() > 1 { "," } else { "" };
        self.json
            .extend_from_slice(format!("{sep}\"timing\":{{\"total_ms\":{ms:.3}}}}}").as_bytes());
    }
}

#[derive(Serialize)]
struct RenderingJson<'a> {
    format: &'static str,
    encoding: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    data: Option<String>,
    /// Sweep points out of band: where the point's bytes are in the result's data buffer.
    #[serde(skip_serializing_if = "Option::is_none")]
    data_offset: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    data_length: Option<usize>,
    width: u32,
    height: u32,
    actual_bbox: [u32; 4],
    #[serde(skip_serializing_if = "Option::is_none")]
    data_box: Option<[u32; 4]>,
    #[serde(skip)]
    _p: core::marker::PhantomData<&'a ()>,
}

struct Variations<'a>(&'a [(String, f32)]);

impl Serialize for Variations<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(self.0.len()))?;
        for (k, v) in self.0 {
            m.serialize_entry(k, v)?;
        }
        m.end()
    }
}

#[derive(Serialize)]
struct FontJson<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    path: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    variations: Option<Variations<'a>>,
}

#[derive(Serialize)]
struct ResultJson<'a> {
    id: &'a str,
    status: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    rendering: Option<RenderingJson<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    metrics: Option<&'a Metrics>,
    #[serde(skip_serializing_if = "Option::is_none")]
    glyphs: Option<&'a [ShapedGlyph]>,
    #[serde(skip_serializing_if = "Option::is_none")]
    compare: Option<&'a Comparison>,
    #[serde(skip_serializing_if = "Option::is_none")]
    points: Option<Vec<PointJson<'a>>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error_kind: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    font: Option<FontJson<'a>>,
    #[serde(skip_serializing_if = "<[String]>::is_empty")]
    warnings: &'a [String],
}

/// Write the success JSON for `r` into `out`; `out.data` holds the payload already and is kept
/// only when it goes out of band.
pub(crate) fn write_success(r: &Rendered, opts: RunOptions, out: &mut Output) {
    let has_image = r.format.has_image();
    let inline = !(opts.data_out_of_band || opts.splice_data);
    let rendering = has_image.then(|| RenderingJson {
        format: r.format.as_str(),
        encoding: "base64",
        // A placeholder: the base64 text is spliced in below (or by the host) without a second
        // copy or an escape check (base64 never needs escaping).
        data: (inline || opts.splice_data).then(String::new),
        data_offset: None,
        data_length: None,
        width: r.width,
        height: r.height,
        actual_bbox: r.actual_bbox,
        data_box: r.data_box,
        _p: core::marker::PhantomData,
    });
    let json = ResultJson {
        id: &r.id,
        status: "success",
        rendering,
        metrics: r.metrics.as_ref(),
        glyphs: r.glyphs.as_deref(),
        compare: r.compare.as_ref(),
        points: None,
        error: None,
        error_kind: None,
        font: Some(FontJson {
            path: r.font_path.as_deref(),
            variations: Some(Variations(&r.variations)),
        }),
        warnings: &r.warnings,
    };
    out.json.clear();
    out.splice_at = None;
    serde_json::to_writer(&mut out.json, &json).expect("result JSON serialises");
    if has_image && (inline || opts.splice_data) {
        // Keys and string values are escaped, so the first `"data":""` is our placeholder.
        const MARK: &[u8] = b"\"data\":\"";
        let at = out
            .json
            .windows(MARK.len())
            .position(|w| w == MARK)
            .expect("placeholder present")
            + MARK.len();
        if opts.splice_data {
            out.splice_at = Some(at);
        } else {
            let tail = out.json.split_off(at);
            encode::base64_into(&out.data, &mut out.json);
            out.json.extend_from_slice(&tail);
        }
    }
    if !has_image || inline {
        out.data.clear();
    }
    out.status = Status::Success;
    out.message.clear();
    out.data_format = (has_image && !inline).then_some(r.format);
}

/// The answer to a job whose font file the host must read: the key in `data`, a readable JSON.
pub(crate) fn write_needs_font(kind: FontKeyKind, key: &str, out: &mut Output) {
    #[derive(Serialize)]
    struct Needs<'a> {
        needs: &'static str,
        #[serde(skip_serializing_if = "Option::is_none")]
        path: Option<&'a str>,
        #[serde(skip_serializing_if = "Option::is_none")]
        name: Option<&'a str>,
    }
    let needs = Needs {
        needs: "font",
        path: (kind == FontKeyKind::Path).then_some(key),
        name: (kind == FontKeyKind::Name).then_some(key),
    };
    out.json.clear();
    serde_json::to_writer(&mut out.json, &needs).expect("JSON serialises");
    out.data.clear();
    out.data.extend_from_slice(key.as_bytes());
    out.splice_at = None;
    out.status = Status::NeedsFont(kind);
    out.message.clear();
    out.data_format = None;
}

/// The SPEC §2 error result JSON: the message gets the ``job `id`: `` prefix here, once.
pub(crate) fn error_json(id: &str, font_path: Option<&str>, e: &Error) -> Vec<u8> {
    error_line(id, &message_of(id, &e.message), e.kind, font_path)
}

/// An error line: `{"id","status":"error","error","error_kind","font"?}`.
fn error_line(id: &str, message: &str, kind: ErrorKind, font_path: Option<&str>) -> Vec<u8> {
    let json = ResultJson {
        id,
        status: "error",
        rendering: None,
        metrics: None,
        glyphs: None,
        compare: None,
        points: None,
        error: Some(message),
        error_kind: Some(kind.as_str()),
        font: font_path.map(|p| FontJson {
            path: Some(p),
            variations: None,
        }),
        warnings: &[],
    };
    serde_json::to_vec(&json).expect("result JSON serialises")
}

/// The SPEC §2 error result for a failed job.
pub fn error_output(e: &JobError) -> Output {
    Output {
        json: error_json(&e.id, e.font_path.as_deref(), &e.error),
        data: Vec::new(),
        status: Status::Error(e.error.kind),
        message: e.error.message.clone(),
        ..Output::default()
    }
}

/// The error line of a host command that runs no job (`info FILE`, `compare A B`): the shape
/// of an error result with the command as its id, the message as ``SUBJECT: message`` (the
/// file it was about, not a job prefix) and, for a font file, `font.path`.
fn command_error_json(command: &str, subject: &str, font: bool, e: &Error) -> Vec<u8> {
    let message = if subject.is_empty() {
        e.message.clone()
    } else {
        format!("{subject}: {}", e.message)
    };
    let font_path = (font && !subject.is_empty()).then_some(subject);
    error_line(command, &message, e.kind, font_path)
}

/// The error result of something that is not a job with a font (an envelope, an image or
/// font-info call): `id` names it.
pub fn error_result(id: &str, error: Error) -> Output {
    error_output(&JobError {
        id: id.into(),
        font_path: None,
        error,
    })
}

#[derive(Serialize)]
struct VerdictJson<'a> {
    id: &'a str,
    valid: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error_kind: Option<&'static str>,
    #[serde(skip_serializing_if = "<[String]>::is_empty")]
    warnings: &'a [String],
}

/// A validate-only verdict: valid with the job's warnings, or the error (its message as an
/// error result would give it).
pub(crate) fn write_verdict(
    id: &str,
    verdict: Result<(), &JobError>,
    warnings: &[String],
    out: &mut Output,
) {
    let message = verdict.err().map(|e| message_of(&e.id, &e.error.message));
    let kind = verdict.err().map(|e| e.error.kind);
    let json = VerdictJson {
        id,
        valid: kind.is_none(),
        error: message.as_deref(),
        error_kind: kind.map(ErrorKind::as_str),
        warnings,
    };
    out.json.clear();
    serde_json::to_writer(&mut out.json, &json).expect("verdict JSON serialises");
    out.status = kind.map_or(Status::Success, Status::Error);
    out.message.clear();
    out.data_format = None;
    if let Err(e) = verdict {
        out.message.push_str(&e.error.message);
    }
}

/// A sweep's verdict: valid when every point is.
pub(crate) fn write_sweep_verdict(job: &Job, points: &[SweepPoint], out: &mut Output) {
    let mut warnings = job.warnings.clone();
    let mut failed = None;
    let skip = job.warnings.len();
    for (i, p) in points.iter().enumerate() {
        match p {
            SweepPoint::Done(r) => {
                let own = r.warnings.get(skip..).unwrap_or(&[]);
                warnings.extend(own.iter().map(|w| format!("sweep[{i}]: {w}")));
            }
            SweepPoint::Failed { error, .. } if failed.is_none() => {
                failed = Some(JobError {
                    id: job.id.clone(),
                    font_path: None,
                    error: Error::new(error.kind, point_message(i, &error.message)),
                });
            }
            SweepPoint::Failed { .. } => {}
        }
    }
    write_verdict(&job.id, failed.as_ref().map_or(Ok(()), Err), &warnings, out);
}

/// An error message as results carry it: ``job `id`: `` first.
fn message_of(id: &str, message: &str) -> String {
    format!("job `{id}`: {message}")
}

/// A sweep point's message: `sweep[i]: ` first unless it names its point already.
fn point_message(i: usize, message: &str) -> String {
    if message.starts_with("sweep[") {
        message.to_string()
    } else {
        format!("sweep[{i}]: {message}")
    }
}

/// One point of a sweep result.
#[derive(Serialize)]
struct PointJson<'a> {
    variations: Variations<'a>,
    status: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    rendering: Option<RenderingJson<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    metrics: Option<&'a Metrics>,
    #[serde(skip_serializing_if = "Option::is_none")]
    glyphs: Option<&'a [ShapedGlyph]>,
    #[serde(skip_serializing_if = "Option::is_none")]
    compare: Option<&'a Comparison>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error_kind: Option<&'static str>,
    #[serde(skip_serializing_if = "<[String]>::is_empty")]
    warnings: &'a [String],
}

/// Write a sweep's result (SPEC §4): one result with `points` in input order. Out of band,
/// the points' image bytes are concatenated in `out.data` and each point names its range.
pub(crate) fn write_sweep(
    job: &Job,
    points: &[SweepPoint],
    data_out_of_band: bool,
    out: &mut Output,
) {
    out.data.clear();
    let mut storage: Vec<(String, Vec<(String, f32)>)> = Vec::with_capacity(points.len());
    for (i, p) in points.iter().enumerate() {
        if let SweepPoint::Failed { requested, error } = p {
            let message = message_of(&job.id, &point_message(i, &error.message));
            storage.push((message, requested.clone()));
        }
    }
    let mut failed = storage.iter();
    let skip = job.warnings.len();
    let mut json_points = Vec::with_capacity(points.len());
    for (p, offset) in points.iter().zip(points.iter().scan(0usize, |at, p| {
        let start = *at;
        if let SweepPoint::Done(r) = p {
            *at += r.data.len();
        }
        Some(start)
    })) {
        json_points.push(match p {
            SweepPoint::Done(r) => {
                let has_image = r.format.has_image();
                PointJson {
                    variations: Variations(&r.variations),
                    status: "success",
                    rendering: has_image.then(|| RenderingJson {
                        format: r.format.as_str(),
                        encoding: "base64",
                        data: (!data_out_of_band).then(|| {
                            let mut b = Vec::with_capacity(r.data.len() / 3 * 4 + 4);
                            encode::base64_into(&r.data, &mut b);
                            String::from_utf8(b).expect("base64 is ASCII")
                        }),
                        data_offset: data_out_of_band.then_some(offset),
                        data_length: data_out_of_band.then_some(r.data.len()),
                        width: r.width,
                        height: r.height,
                        actual_bbox: r.actual_bbox,
                        data_box: None,
                        _p: core::marker::PhantomData,
                    }),
                    metrics: r.metrics.as_ref(),
                    glyphs: r.glyphs.as_deref(),
                    compare: r.compare.as_ref(),
                    error: None,
                    error_kind: None,
                    warnings: r.warnings.get(skip..).unwrap_or(&[]),
                }
            }
            SweepPoint::Failed { error, .. } => {
                let (message, requested) = failed.next().expect("one message per failed point");
                PointJson {
                    variations: Variations(requested),
                    status: "error",
                    rendering: None,
                    metrics: None,
                    glyphs: None,
                    compare: None,
                    error: Some(message.clone()),
                    error_kind: Some(error.kind.as_str()),
                    warnings: &[],
                }
            }
        });
    }
    if data_out_of_band {
        for p in points {
            if let SweepPoint::Done(r) = p {
                out.data.extend_from_slice(&r.data);
            }
        }
    }
    let json = ResultJson {
        id: &job.id,
        status: "success",
        rendering: None,
        metrics: None,
        glyphs: None,
        compare: None,
        points: Some(json_points),
        error: None,
        error_kind: None,
        font: Some(FontJson {
            path: job.font.path.as_deref(),
            variations: None,
        }),
        warnings: &job.warnings,
    };
    out.json.clear();
    out.splice_at = None;
    serde_json::to_writer(&mut out.json, &json).expect("result JSON serialises");
    out.status = Status::Success;
    out.message.clear();
    out.data_format = None;
}
