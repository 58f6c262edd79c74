//! `RenderResult`: the outcome of `render()`, a plain JavaScript object.
//!
//! A result owns nothing in the module: its image bytes are copied into JS memory once, when it
//! is made, and its other fields are JS values. Forgetting `free()` (a no-op kept for older
//! callers) therefore costs nothing, even inside a long synchronous loop where no
//! FinalizationRegistry callback can run. What is computed from the pixels on demand (`metrics`
//! of a `raw`/`pgm` render, `rgba()`) is computed here, in Rust, through two functions the
//! result holds.

use crate::convert::to_js;
use crate::font::variations_js;
use haforu::{Format, InkBox, Rendered};
use js_sys::{Object, Reflect, Uint8Array, Uint8ClampedArray};
use wasm_bindgen::prelude::*;

#[wasm_bindgen(inline_js = r#"
export class RenderResult {
  constructor(width, height, format, data, grayAt, box, bbox, metrics, glyphs, variations, ops) {
    this.width = width;
    this.height = height;
    this.format = format;
    this.bbox = bbox;
    this.glyphs = glyphs;
    this.variations = variations;
    Object.defineProperties(this, {
      _data: { value: data }, _grayAt: { value: grayAt }, _box: { value: box }, _ops: { value: ops },
      _metrics: { value: metrics, writable: true },
    });
  }
  // The gray canvas: the bytes after the PGM header, or a raw image's ink box pasted on paper.
  _gray(Type) {
    if (this._grayAt < 0) return undefined;
    const b = this._box;
    if (!b) return new Type(this._data.subarray(this._grayAt));
    const [x, y, w, h] = b, out = new Type(this.width * this.height).fill(255);
    for (let r = 0; r < h; r++) out.set(this._data.subarray(r * w, (r + 1) * w), (y + r) * this.width + x);
    return out;
  }
  get pixels() { return this._gray(Uint8ClampedArray); }
  get data() {
    if (this._data === undefined) return undefined;
    return this._box ? this._gray(Uint8Array) : this._data.slice();
  }
  get metrics() {
    if (this._metrics === undefined && this._grayAt >= 0) {
      const b = this._box || [0, 0, this.width, this.height];
      this._metrics = this._ops.metrics(this._data.subarray(this._grayAt), this.width, this.height, ...b);
    }
    return this._metrics;
  }
  rgba() { const g = this._gray(Uint8Array); return g && this._ops.rgba(g); }
  free() {}
  [Symbol.dispose]() {}
}
"#)]
extern "C" {
    /// The outcome of `render()` (declared for TypeScript in `types.rs`).
    #[wasm_bindgen(typescript_type = "RenderResult")]
    pub type RenderResult;

    #[wasm_bindgen(constructor)]
    #[allow(clippy::too_many_arguments)]
    fn new(
        width: u32,
        height: u32,
        format: &str,
        data: JsValue,
        gray_at: i32,
        data_box: JsValue,
        bbox: JsValue,
        metrics: JsValue,
        glyphs: JsValue,
        variations: JsValue,
        ops: &JsValue,
    ) -> RenderResult;
}

/// Byte length of the P5 header the core writes (`P5\n{w} {h}\n255\n`).
pub(crate) fn pgm_header_len(w: u32, h: u32) -> usize {
    format!("P5\n{w} {h}\n255\n").len()
}

thread_local! {
    /// `{metrics(gray, w, h), rgba(gray)}`, made once and shared by every result.
    static OPS: JsValue = ops();
}

fn ops() -> JsValue {
    // SPEC §3 metrics of gray pixels covering the box (x, y, w, h) of a cw × ch canvas.
    let metrics = Closure::<dyn Fn(Uint8Array, u32, u32, u32, u32, u32, u32) -> JsValue>::new(
        |gray: Uint8Array, cw: u32, ch: u32, x: u32, y: u32, w: u32, h: u32| {
            let mut ink = gray.to_vec();
            for v in &mut ink {
                *v = 255 - *v;
            }
            let ink = InkBox {
                canvas_width: cw,
                canvas_height: ch,
                x,
                y,
                w,
                h,
                ink,
            };
            to_js(&ink.metrics())
        },
    );
    let rgba = Closure::<dyn Fn(Uint8Array) -> Uint8ClampedArray>::new(|gray: Uint8Array| {
        let gray = gray.to_vec();
        let mut out = vec![255u8; gray.len() * 4];
        for (px, &g) in out.chunks_exact_mut(4).zip(&gray) {
            px[..3].fill(g);
        }
        Uint8ClampedArray::from(&out[..])
    });
    let o = Object::new();
    let _ = Reflect::set(&o, &"metrics".into(), metrics.as_ref());
    let _ = Reflect::set(&o, &"rgba".into(), rgba.as_ref());
    // Both live as long as the module: every result may call them.
    metrics.forget();
    rgba.forget();
    o.into()
}

/// The JS result of a render (made with [`haforu::Engine::render_ink_box`]: a `raw` image may
/// be its ink box alone, which the result pastes on paper when read): the image bytes move into
/// JS memory here.
pub(crate) fn render_result(r: Rendered) -> RenderResult {
    let data = if r.format.has_image() {
        Uint8Array::from(&r.data[..]).into()
    } else {
        JsValue::UNDEFINED
    };
    let gray_at = match r.format {
        Format::Raw => 0,
        Format::Pgm => pgm_header_len(r.width, r.height) as i32,
        _ => -1,
    };
    // Tight ink box `[x, y, w, h]` (`[0,0,0,0]` when blank); undefined for `glyphs`.
    let bbox = match (&r.metrics, r.format) {
        (Some(m), _) => to_js(&m.bbox),
        (None, Format::Glyphs) => JsValue::UNDEFINED,
        (None, _) => to_js(&r.actual_bbox),
    };
    let data_box = match r.data_box {
        Some([0, 0, w, h]) if (w, h) == (r.width, r.height) => JsValue::UNDEFINED,
        Some(b) => to_js(&b),
        None => JsValue::UNDEFINED,
    };
    let metrics = r.metrics.as_ref().map_or(JsValue::UNDEFINED, to_js);
    let glyphs = r.glyphs.as_ref().map_or(JsValue::UNDEFINED, to_js);
    OPS.with(|ops| {
        RenderResult::new(
            r.width,
            r.height,
            r.format.as_str(),
            data,
            gray_at,
            data_box,
            bbox,
            metrics,
            glyphs,
            variations_js(&r.variations),
            ops,
        )
    })
}
