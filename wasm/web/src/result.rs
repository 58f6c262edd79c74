//! `RenderResult`: the outcome of `render()`, read through getters.

use crate::convert::to_js;
use crate::font::variations_js;
use haforu::{InkBox, Rendered};
use js_sys::{Uint8Array, Uint8ClampedArray};
use wasm_bindgen::prelude::*;

/// The outcome of `render()`. The image bytes live in JS memory (copied out of the module once,
/// when the result is made), so a result that is never `free()`d holds no engine memory beyond
/// its few metadata bytes, and the JS garbage collector sees the pixels' real size.
#[wasm_bindgen]
pub struct RenderResult {
    /// The render without its image bytes (`data` is empty).
    pub(crate) inner: Rendered,
    /// The image bytes (`raw` pixels, the PGM or PNG file), for image formats.
    data: Option<Uint8Array>,
}

/// Byte length of the P5 header the core writes (`P5\n{w} {h}\n255\n`).
pub(crate) fn pgm_header_len(w: u32, h: u32) -> usize {
    format!("P5\n{w} {h}\n255\n").len()
}

impl RenderResult {
    /// Moves `inner`'s image bytes into JS memory.
    pub(crate) fn new(mut inner: Rendered) -> RenderResult {
        let data = inner
            .format
            .has_image()
            .then(|| Uint8Array::from(&inner.data[..]));
        inner.data = Vec::new();
        RenderResult { inner, data }
    }

    /// Bare gray pixels (0 = ink, 255 = paper), when the format carries them: a view of the
    /// JS-side bytes.
    fn gray_view(&self) -> Option<Uint8Array> {
        let r = &self.inner;
        let data = self.data.as_ref()?;
        match r.format {
            haforu::Format::Raw => Some(data.subarray(0, data.length())),
            haforu::Format::Pgm => {
                Some(data.subarray(pgm_header_len(r.width, r.height) as u32, data.length()))
            }
            _ => None,
        }
    }

    /// The gray pixels copied into the module (for what is computed here).
    fn gray(&self) -> Option<Vec<u8>> {
        self.gray_view().map(|v| v.to_vec())
    }
}

#[wasm_bindgen]
impl RenderResult {
    /// Canvas width in pixels.
    #[wasm_bindgen(getter)]
    pub fn width(&self) -> u32 {
        self.inner.width
    }

    /// Canvas height in pixels.
    #[wasm_bindgen(getter)]
    pub fn height(&self) -> u32 {
        self.inner.height
    }

    /// The format rendered.
    #[wasm_bindgen(getter)]
    pub fn format(&self) -> String {
        self.inner.format.as_str().to_string()
    }

    /// Gray pixels, row-major, top row first, 0 = ink, 255 = paper (formats `raw` and `pgm`).
    #[wasm_bindgen(getter)]
    pub fn pixels(&self) -> Option<Uint8ClampedArray> {
        // A typed array made from another copies it: each call gives the caller its own array.
        self.gray_view().map(|v| Uint8ClampedArray::new(&v))
    }

    /// The pixels as opaque RGBA for `new ImageData(result.rgba(), width, height)`.
    pub fn rgba(&self) -> Option<Uint8ClampedArray> {
        let gray = self.gray()?;
        let mut out = vec![255u8; gray.len() * 4];
        for (px, &g) in out.chunks_exact_mut(4).zip(&gray) {
            px[..3].fill(g);
        }
        Some(Uint8ClampedArray::from(&out[..]))
    }

    /// The encoded file for formats `pgm` and `png` (the bare pixels for `raw`).
    #[wasm_bindgen(getter)]
    pub fn data(&self) -> Option<Uint8Array> {
        self.data.as_ref().map(|d| d.slice(0, d.length()))
    }

    /// Tight ink box `[x, y, w, h]` (`[0,0,0,0]` when blank); undefined for `png`/`glyphs`.
    #[wasm_bindgen(
        getter,
        unchecked_return_type = "[number, number, number, number] | undefined"
    )]
    pub fn bbox(&self) -> JsValue {
        match (&self.inner.metrics, self.inner.format) {
            (Some(m), _) => to_js(&m.bbox),
            (None, haforu::Format::Glyphs) => JsValue::UNDEFINED,
            (None, _) => to_js(&self.inner.actual_bbox),
        }
    }

    /// SPEC §3 ink metrics `{density, beam, bbox}` (formats `metrics`, `raw`, `pgm`).
    #[wasm_bindgen(getter, unchecked_return_type = "Metrics | undefined")]
    pub fn metrics(&self) -> JsValue {
        if let Some(m) = &self.inner.metrics {
            return to_js(m);
        }
        let Some(gray) = self.gray() else {
            return JsValue::UNDEFINED;
        };
        let ink = InkBox {
            canvas_width: self.inner.width,
            canvas_height: self.inner.height,
            x: 0,
            y: 0,
            w: self.inner.width,
            h: self.inner.height,
            ink: gray.iter().map(|&p| 255 - p).collect(),
        };
        to_js(&ink.metrics())
    }

    /// The shaped glyph run in font units (format `glyphs`).
    #[wasm_bindgen(getter, unchecked_return_type = "Glyph[] | undefined")]
    pub fn glyphs(&self) -> JsValue {
        match &self.inner.glyphs {
            Some(g) => to_js(g),
            None => JsValue::UNDEFINED,
        }
    }

    /// The applied (clamped) axis coordinates, `{tag: value}`.
    #[wasm_bindgen(getter, unchecked_return_type = "Record<string, number>")]
    pub fn variations(&self) -> JsValue {
        variations_js(&self.inner.variations)
    }
}
