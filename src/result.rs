//! Result JSON (SPEC §2), written without `timing` (hosts add it; the core has no clock).

use crate::compare::Comparison;
use crate::error::Error;
use crate::render::Metrics;
use crate::shape::ShapedGlyph;
use crate::{encode, Job, Output, Rendered, SweepPoint};
use serde::ser::{SerializeMap, Serializer};
use serde::Serialize;

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
pub(crate) fn write_success(r: &Rendered, data_out_of_band: bool, out: &mut Output) {
    let has_image = r.format.has_image();
    let rendering = has_image.then(|| RenderingJson {
        format: r.format.as_str(),
        encoding: "base64",
        // A placeholder: the base64 text is spliced in below without a second copy or an
        // escape check (base64 never needs escaping).
        data: (!data_out_of_band).then(String::new),
        data_offset: None,
        data_length: None,
        width: r.width,
        height: r.height,
        actual_bbox: r.actual_bbox,
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
    serde_json::to_writer(&mut out.json, &json).expect("result JSON serialises");
    if has_image && !data_out_of_band {
        // Keys and string values are escaped, so the first `"data":""` is our placeholder.
        const MARK: &[u8] = b"\"data\":\"";
        let at = out
            .json
            .windows(MARK.len())
            .position(|w| w == MARK)
            .expect("placeholder present")
            + MARK.len();
        let tail = out.json.split_off(at);
        encode::base64_into(&out.data, &mut out.json);
        out.json.extend_from_slice(&tail);
    }
    if !(has_image && data_out_of_band) {
        out.data.clear();
    }
    out.ok = true;
}

pub(crate) fn error_json(id: &str, font_path: Option<&str>, e: &Error) -> Vec<u8> {
    let message = format!("job `{id}`: {}", e.message);
    let json = ResultJson {
        id,
        status: "error",
        rendering: None,
        metrics: None,
        glyphs: None,
        compare: None,
        points: None,
        error: Some(&message),
        error_kind: Some(e.kind.as_str()),
        font: font_path.map(|p| FontJson {
            path: Some(p),
            variations: None,
        }),
        warnings: &[],
    };
    serde_json::to_vec(&json).expect("result JSON serialises")
}

/// The result of a validate-only run: id, success and the job's warnings.
pub(crate) fn validated_json(job: &crate::Job) -> Vec<u8> {
    let json = ResultJson {
        id: &job.id,
        status: "success",
        rendering: None,
        metrics: None,
        glyphs: None,
        compare: None,
        points: None,
        error: None,
        error_kind: None,
        font: None,
        warnings: &job.warnings,
    };
    serde_json::to_vec(&json).expect("result JSON serialises")
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
            let message = if error.message.starts_with("sweep[") {
                format!("job `{}`: {}", job.id, error.message)
            } else {
                format!("job `{}`: sweep[{i}]: {}", job.id, error.message)
            };
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
    serde_json::to_writer(&mut out.json, &json).expect("result JSON serialises");
    out.ok = true;
}
