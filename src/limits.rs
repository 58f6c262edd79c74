//! Every hard limit of the engine, in one place. Each bound exists so that no job, however
//! hostile, can make a host spend unbounded memory or time.

/// Largest `font.size` in pixels per em (SPEC §1). Larger sizes only produce glyphs far bigger
/// than any allowed canvas.
pub const MAX_SIZE_PX: f64 = 10_000.0;

/// Largest canvas side in pixels (SPEC §1).
pub const MAX_CANVAS_SIDE: u32 = 10_000;

/// Largest canvas area (SPEC §1): 50 MB of 8-bit pixels, the most one result may carry.
pub const MAX_CANVAS_PIXELS: u64 = 50_000_000;

/// Longest `text.content` in UTF-8 bytes (SPEC §1). Bounds shaping time and glyph count.
pub const MAX_TEXT_BYTES: usize = 10_000;

/// Most entries in `text.features` (SPEC §1).
pub const MAX_FEATURES: usize = 64;

/// Longest `text.language` tag (SPEC §1).
pub const MAX_LANGUAGE_LEN: usize = 32;

/// Most entries in `font.variations`: more axes than any real font has (fvar allows 65535,
/// but each one costs work on every instance lookup).
pub const MAX_VARIATIONS: usize = 64;

/// Longest job `id` in bytes: ids are echoed in every result and every error message.
pub const MAX_ID_BYTES: usize = 1_024;

/// Largest font file accepted, in bytes. The biggest CJK fonts are ~30 MB.
pub const MAX_FONT_BYTES: usize = 128 * 1024 * 1024;

/// Largest job JSON text, in bytes: room for an inline base64 font of `MAX_FONT_BYTES`.
pub const MAX_JOB_JSON_BYTES: usize = MAX_FONT_BYTES / 3 * 4 + 1024 * 1024;

/// Most line segments one glyph outline may flatten into. A pathological outline (millions of
/// points or absurd curves) fails with `limit_exceeded` instead of running for minutes.
pub const MAX_SEGMENTS_PER_GLYPH: usize = 2_000_000;

/// Most line segments one curve is flattened into (its subdivisions). Keeps flattening cost
/// bounded for curves with wild control points; 256 segments already follow a quarter circle
/// of 4,000 px radius to 0.02 px. A cap, never an error: a curve that would want more is drawn
/// with 256 (only control points tens of thousands of pixels off the canvas get there), and
/// the whole glyph stays under [`MAX_SEGMENTS_PER_GLYPH`].
pub const MAX_SEGMENTS_PER_CURVE: u32 = 256;

/// Flattening tolerance in pixels: how far a flattened curve may stray from the true curve.
/// FreeType uses a comparable bound; at 1/20 px the difference is invisible in 8-bit coverage.
pub const FLATTEN_TOLERANCE_PX: f32 = 0.05;

/// Most raster cells one glyph may produce: a cell is one pixel a line crosses in one row (a
/// steep edge makes about two per row, a shallow one one per column). A 10,000 px glyph with
/// long, busy outlines needs well under a million; a hostile outline (millions of tiny or
/// zig-zagging edges) fails with `limit_exceeded` here instead of filling memory (16 bytes of
/// scratch per cell, so at most ~64 MB) or time.
pub const MAX_CELLS_PER_GLYPH: usize = 4_000_000;

// --- Composite glyphs: skrifa's own budgets (read-fonts `limits`), enforced by skrifa while it
// loads an outline. They are not settable; they are named here so that errors and
// `haforu_info` name them. A glyph over one fails with `limit_exceeded` naming it.

/// Deepest nesting of composite glyphs (a component of a component of …), HarfBuzz's
/// `HB_MAX_NESTING_LEVEL`. A composite that refers back to itself hits it too.
pub const MAX_COMPOSITE_DEPTH: usize = read_fonts::limits::MAX_RECURSION_DEPTH;

/// Most component references followed while assembling one composite glyph (all levels
/// together): bounds a tree that fans out at every level, which the depth alone does not.
pub const MAX_COMPOSITE_COMPONENTS: usize = read_fonts::limits::MAX_COMPOSITE_EDGES;

/// Most points in one assembled outline (a composite adds up its components' points).
pub const MAX_OUTLINE_POINTS: usize = read_fonts::limits::MAX_OUTLINE_POINTS;

// --- Shaping: HarfRust's own budgets (HarfBuzz's `HB_BUFFER_MAX_OPS_FACTOR` and friends in
// `hb-limits.hh`). HarfRust 0.15 sets them itself for every shaping call from the number of
// characters and offers no way to change them; these mirror its values. When one runs out,
// HarfRust stops applying lookups and marks the buffer unsuccessful, and the job fails with
// `limit_exceeded` naming them (never a half-shaped success).

/// GSUB/GPOS (and morx/kerx) operations per character of the text.
pub const SHAPING_OPS_PER_CHAR: u64 = 4_096;

/// The operation budget of a short text: `max(chars × SHAPING_OPS_PER_CHAR, MIN_SHAPING_OPS)`.
pub const MIN_SHAPING_OPS: u64 = 65_536;

/// Glyphs the shaped buffer may hold per character of the text (multiple substitutions).
pub const SHAPED_GLYPHS_PER_CHAR: u64 = 256;

/// The glyph budget of a short text: `max(chars × SHAPED_GLYPHS_PER_CHAR, MIN_SHAPED_GLYPHS)`.
pub const MIN_SHAPED_GLYPHS: u64 = 65_536;

/// Deepest nesting of contextual lookups (a lookup applying a lookup applying …).
pub const MAX_LOOKUP_NESTING: u64 = 64;

/// Byte budget of the glyph coverage cache. When full, the least recently used glyphs go.
pub const GLYPH_CACHE_BYTES: usize = 32 * 1024 * 1024;

/// Largest single glyph bitmap kept in the cache; bigger ones are rendered each time so one
/// huge glyph cannot evict everything else.
pub const MAX_CACHED_GLYPH_BYTES: usize = 4 * 1024 * 1024;

/// Font instances (font × face × location) kept with their shaping plans and scalers.
pub const MAX_CACHED_INSTANCES: usize = 64;

/// Shaping plans kept per instance (direction × script × language × features).
pub const MAX_PLANS_PER_INSTANCE: usize = 32;

/// Outline scalers (sizes) kept per instance.
pub const MAX_SCALERS_PER_INSTANCE: usize = 16;

/// Most fonts registered at once in one engine; hosts evict (drop) fonts themselves.
pub const MAX_REGISTERED_FONTS: usize = 4_096;

/// Most glyph pixels one job may rasterise and composite. Without it, thousands of zero-advance
/// glyphs each covering a 50-megapixel canvas would run for hours; 2·10⁹ pixel operations take
/// a few seconds.
pub const MAX_RASTER_PIXELS_PER_JOB: u64 = 2_000_000_000;

/// Most points in one `sweep` (SPEC §4). A sweep answers one result holding every point, so
/// this bounds the result's size and the job's run time (each point is a full render).
pub const MAX_SWEEP_POINTS: usize = 4_096;

/// Most images registered at once (comparison targets); hosts drop the ones they are done with.
pub const MAX_REGISTERED_IMAGES: usize = 1_024;

/// Most image bytes one sweep result may carry (all points together). Image sweeps of a big
/// canvas fill memory fast; `metrics` with `compare` returns only numbers.
pub const MAX_SWEEP_PAYLOAD_BYTES: usize = 256 * 1024 * 1024;
