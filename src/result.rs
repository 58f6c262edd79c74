//! Result JSON (SPEC §2), written without `timing` (hosts add it; the core has no clock).

use crate::error::Error;
use crate::render::Metrics;
use crate::shape::ShapedGlyph;
use crate::{encode, Output, Rendered};
use serde::ser::{SerializeMap, Serializer};
use serde::Serialize;

#[derive(Serialize)]
struct RenderingJson<'a> {
    format: &'static str,
    encoding: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    data: Option<String>,
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
    error: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error_kind: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    font: Option<FontJson<'a>>,
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
        error: None,
        error_kind: None,
        font: Some(FontJson {
            path: r.font_path.as_deref(),
            variations: Some(Variations(&r.variations)),
        }),
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
        error: Some(&message),
        error_kind: Some(e.kind.as_str()),
        font: font_path.map(|p| FontJson {
            path: Some(p),
            variations: None,
        }),
    };
    serde_json::to_vec(&json).expect("result JSON serialises")
}
