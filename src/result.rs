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

pub(crate) fn success_output(r: &Rendered, data_out_of_band: bool) -> Output {
    let has_image = r.format.has_image();
    let rendering = has_image.then(|| RenderingJson {
        format: r.format.as_str(),
        encoding: "base64",
        data: (!data_out_of_band).then(|| encode::base64(&r.data)),
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
    Output {
        json: serde_json::to_vec(&json).expect("result JSON serialises"),
        data: if has_image && data_out_of_band {
            r.data.clone()
        } else {
            Vec::new()
        },
        ok: true,
    }
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
