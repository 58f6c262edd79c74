//! The TypeScript declarations of the JavaScript API, and the JS types the exports take.

use wasm_bindgen::prelude::*;

#[wasm_bindgen(typescript_custom_section)]
const TS_TYPES: &'static str = r#"
/** Options of `Font.load`. */
export interface LoadOptions { faceIndex?: number }

/** Everything a UI shows about one face (core `haforu::font_info::FontInfo`). */
export interface FontInfo {
  faceIndex: number; faceCount: number;
  familyName: string | null; styleName: string | null; fullName: string | null;
  postscriptName: string | null; version: string | null;
  unitsPerEm: number; glyphCount: number;
  ascender: number; descender: number; lineGap: number;
  capHeight: number | null; xHeight: number | null;
  /** Mapped code points, ascending (at most 65536). */
  codepoints: number[]; codepointCount: number;
  axes: AxisInfo[]; instances: NamedInstanceInfo[]; features: FeatureInfo[];
}
export interface AxisInfo { tag: string; name: string; min: number; default: number; max: number; hidden: boolean }
export interface NamedInstanceInfo { name: string; postscriptName: string | null; coords: Record<string, number> }
export interface FeatureInfo { tag: string; tables: ("GSUB" | "GPOS")[]; uiName: string | null; tooltip: string | null }

/** A render request: SPEC §1 job fields under JavaScript names. */
export interface RenderOptions {
  /** The font; the bundled default font (Inter) when omitted. */
  font?: Font;
  text: string;
  /** Pixels per em, 0 < size ≤ 10000. */
  size: number;
  width: number;
  height: number;
  variations?: Record<string, number>;
  /** Named instance (fvar subfamily name), applied before `variations`. */
  instance?: string;
  /** HarfBuzz feature syntax: "liga", "-kern", "ss01", "aalt=2", "kern[3:5]". */
  features?: string[];
  script?: string;
  language?: string;
  direction?: "ltr" | "rtl" | "ttb" | "btt";
  /** Default "raw" (pixels only). */
  format?: "raw" | "pgm" | "png" | "metrics" | "glyphs";
  /** Echoed in error messages; default "render". */
  id?: string;
}
export interface Metrics { density: number; beam: number; bbox: [number, number, number, number] }
export interface Glyph { gid: number; cluster: number; x_advance: number; y_advance: number; x_offset: number; y_offset: number }

/** The outcome of `render()`: a plain object whose image bytes live in JS memory (copied out of
 *  the module once), so it holds no engine memory and `free()` is optional (a no-op). */
export interface RenderResult {
  /** Canvas width in pixels. */
  readonly width: number;
  /** Canvas height in pixels. */
  readonly height: number;
  /** The format rendered. */
  readonly format: "raw" | "pgm" | "png" | "metrics" | "glyphs";
  /** Gray pixels, row-major, top row first, 0 = ink, 255 = paper (formats `raw` and `pgm`); a
   *  new array on every read. */
  readonly pixels: Uint8ClampedArray | undefined;
  /** The encoded file for formats `pgm` and `png` (the bare pixels for `raw`); a new array on
   *  every read. */
  readonly data: Uint8Array | undefined;
  /** Tight ink box `[x, y, w, h]` (`[0,0,0,0]` when blank); undefined for `glyphs`. */
  readonly bbox: [number, number, number, number] | undefined;
  /** SPEC §3 ink metrics (formats `metrics`, `raw`, `pgm`; computed on first read for images). */
  readonly metrics: Metrics | undefined;
  /** The shaped glyph run in font units (format `glyphs`). */
  readonly glyphs: Glyph[] | undefined;
  /** The applied (clamped) axis coordinates, `{tag: value}`. */
  readonly variations: Record<string, number>;
  /** The pixels as opaque RGBA for `new ImageData(result.rgba(), width, height)`. */
  rgba(): Uint8ClampedArray | undefined;
  /** Nothing to release (kept for callers written against earlier versions). */
  free(): void;
  [Symbol.dispose](): void;
}
/** Options of `font.sweep()`: the render options of `render()` (without `font`, `id` optional)
 *  plus the coordinate sets and an optional comparison target. */
export interface SweepOptions {
  text: string; size: number; width: number; height: number;
  /** One render per entry, `{tag: value}`, applied over `instance` and `variations` (at most 4096). */
  coords: Record<string, number>[];
  /** Default "metrics" (no pixels cross back). */
  format?: "metrics" | "raw" | "pgm" | "png" | "glyphs";
  /** Compare every point with this image: gray pixels (0 = ink), a raw/pgm render result or
   *  sweep point, or the bytes of a PGM (P5) / grayscale PNG file. */
  target?: GrayImage | RenderResult | SweepPoint | Uint8Array | ArrayBuffer;
  /** Alignment for `target`: "center" (default) or "corner". */
  method?: "center" | "corner";
  variations?: Record<string, number>;
  instance?: string;
  features?: string[];
  script?: string;
  language?: string;
  direction?: "ltr" | "rtl" | "ttb" | "btt";
  /** Echoed in error messages; default "sweep". */
  id?: string;
}
/** One point of a sweep, in input order. */
export interface SweepPoint {
  /** The applied (clamped) coordinates; for a failed point, the requested ones. */
  variations: Record<string, number>;
  /** Format "metrics". */
  metrics?: Metrics;
  /** With `target`: the comparison of this render (a) with the target (b). */
  compare?: Comparison;
  /** Formats "raw" and "pgm": gray pixels, 0 = ink. */
  pixels?: Uint8ClampedArray;
  /** Formats "pgm" and "png": the encoded file. */
  data?: Uint8Array;
  /** Image formats. */
  width?: number; height?: number;
  /** Tight ink box `[x, y, w, h]` (every format but "glyphs"). */
  bbox?: [number, number, number, number];
  /** Format "glyphs". */
  glyphs?: Glyph[];
  /** Clamped values, axes the font lacks. */
  warnings?: string[];
  /** Set when this point failed; the other points are unaffected. */
  error?: { kind: HaforuError["kind"]; message: string };
}
/** A gray image: row-major, top row first, 0 = ink, 255 = paper. */
export interface GrayImage { width: number; height: number; pixels: Uint8Array | Uint8ClampedArray }
/** `compare()` / `SweepPoint.compare` (SPEC §4); `a` is the first image (the render), `b` the second (the target). */
export interface Comparison {
  width: number; height: number;
  pixel_delta: number; center_weighted_delta: number;
  density_a: number; density_b: number; aspect_a: number; aspect_b: number;
  iou: number; differing_pixels: number;
}
/** Errors thrown by this module: `kind` is the stable SPEC §2 `error_kind`. */
export interface HaforuError extends Error { kind: "bad_json" | "bad_job" | "font_not_found" | "font_parse" | "limit_exceeded" | "resource_limit" | "internal" }
"#;

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(typescript_type = "RenderOptions")]
    pub type RenderOptions;
    #[wasm_bindgen(typescript_type = "LoadOptions")]
    pub type LoadOptions;
    #[wasm_bindgen(typescript_type = "Uint8Array | ArrayBuffer")]
    pub type FontBytes;
    #[wasm_bindgen(typescript_type = "Font")]
    pub type FontArg;
    #[wasm_bindgen(typescript_type = "SweepOptions")]
    pub type SweepOptions;
    #[wasm_bindgen(typescript_type = "GrayImage | RenderResult | SweepPoint")]
    pub type ImageArg;
    #[wasm_bindgen(typescript_type = "\"center\" | \"corner\"")]
    pub type MethodArg;
    #[wasm_bindgen(typescript_type = "number")]
    pub type NumberArg;
}
