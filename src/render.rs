//! Placing shaped glyphs on the canvas (SPEC §3 geometry), compositing their coverage, and the
//! ink metrics. Work and memory follow the ink: glyph coverage is composited into a buffer
//! that spans only the union of the glyphs' boxes, and a full canvas is built only for image
//! output.

use crate::cache::{GlyphCache, GlyphKey};
use crate::compare::ImageView;
use crate::error::{Error, ErrorKind};
use crate::font::Instance;
use crate::limits;
use crate::raster::{self, Coverage, OutlineSink};
use crate::shape::{ShapedGlyph, Shaper};
use read_fonts::tables::glyf::Glyph;
use read_fonts::TableProvider;
use skrifa::font::Font;
use skrifa::{DrawMemory, GlyphId};
use std::sync::Arc;

/// Ink (0 = paper, 255 = full ink) over a box of the canvas.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InkBox {
    /// Canvas width (needed for row-major runs).
    pub canvas_width: u32,
    /// Canvas height.
    pub canvas_height: u32,
    /// The box: left column, top row, width, height (all 0 when there is no ink).
    pub x: u32,
    /// Top row of the box.
    pub y: u32,
    /// Box width.
    pub w: u32,
    /// Box height.
    pub h: u32,
    /// `w × h` ink values.
    pub ink: Vec<u8>,
}

/// SPEC §3 metrics.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct Metrics {
    /// Mean coverage over the canvas, 0..1.
    pub density: f64,
    /// Longest run of inked pixels in the row-major buffer, over the pixel count.
    pub beam: f64,
    /// Tight box of inked pixels `[x, y, w, h]`, `[0, 0, 0, 0]` when blank.
    pub bbox: [u32; 4],
}

struct Placed {
    x: i64,
    y: i64,
    coverage: Arc<Coverage>,
}

/// The engine's working memory for renders, owned by the engine and lent whole (`&mut`) to
/// each render: what shaping, outline flattening, rasterising and compositing reuse from job
/// to job instead of allocating.
#[derive(Default)]
pub(crate) struct Scratch {
    /// The shaper and its HarfRust buffer.
    pub shaper: Shaper,
    /// The job's glyph run, written by shaping, read by [`compose`].
    pub glyphs: Vec<ShapedGlyph>,
    /// Flattened outline of the glyph being rasterised.
    sink: OutlineSink,
    /// skrifa's outline drawing memory.
    draw_memory: Vec<u8>,
    /// The rasteriser's accumulation rows.
    raster: raster::Scratch,
    /// The ink box's buffer: [`compose`] moves it into the box it returns,
    /// [`recycle`](Self::recycle) takes it back.
    ink: Vec<u8>,
}

impl Scratch {
    /// Keep a finished ink box's buffer for the next render.
    pub fn recycle(&mut self, ink: InkBox) {
        self.ink = ink.ink;
    }
}

/// Round half away from zero, into 1/64 px units.
fn to_26_6(px: f64) -> i64 {
    let v = px * 64.0;
    let r = if v < 0.0 {
        -((-v + 0.5).floor())
    } else {
        (v + 0.5).floor()
    };
    // Far-off glyphs are culled later; keep the arithmetic in range.
    r.clamp(-(1i64 << 50) as f64, (1i64 << 50) as f64) as i64
}

/// Composite the glyph run `scratch.glyphs` of `inst` at `size_px` on a `width × height`
/// canvas.
pub(crate) fn compose(
    cache: &mut GlyphCache,
    scratch: &mut Scratch,
    inst: &mut Instance,
    size_px: f64,
    width: u32,
    height: u32,
) -> Result<InkBox, Error> {
    let Scratch {
        glyphs,
        sink,
        draw_memory,
        raster: acc,
        ink: ink_buffer,
        ..
    } = scratch;
    let scale = size_px / inst.units_per_em as f64;
    let baseline = 0.75 * height as f64;
    let (cw, ch) = (width as i64, height as i64);
    let size_bits = size_px.to_bits();
    let instance_id = inst.id;
    // For error messages about an outline that fails to load (cheap: shared font data).
    let font = inst.font.clone();
    let scaler = inst.scaler(size_px);
    let mut placed: Vec<Placed> = Vec::new();
    let mut work: u64 = 0;
    let (mut pen_x, mut pen_y) = (0i64, 0i64);
    for g in glyphs.iter() {
        let ux = pen_x + g.x_offset as i64;
        let uy = pen_y + g.y_offset as i64;
        pen_x += g.x_advance as i64;
        pen_y += g.y_advance as i64;
        let x64 = to_26_6(ux as f64 * scale);
        let y64 = to_26_6(baseline - uy as f64 * scale);
        let (ix, iy) = (x64.div_euclid(64), y64.div_euclid(64));
        let phase = (x64.rem_euclid(64) as u8, y64.rem_euclid(64) as u8);
        let key = GlyphKey {
            instance: instance_id,
            gid: g.gid,
            size_bits,
            phase,
        };
        let inside = |c: &Coverage| {
            let (l, t) = (ix + c.left as i64, iy + c.top as i64);
            l >= 0 && t >= 0 && l + c.width as i64 <= cw && t + c.height as i64 <= ch
        };
        if let Some(c) = cache.get(&key) {
            if c.width == 0 {
                continue;
            }
            if inside(&c) {
                placed.push(Placed {
                    x: ix,
                    y: iy,
                    coverage: c,
                });
                continue;
            }
        }
        // Flatten the outline at this phase.
        sink.reset(phase.0 as f32 / 64.0, phase.1 as f32 / 64.0);
        // A glyph the text needs whose outline cannot be found is a broken font, never a
        // blank glyph (an empty glyph, such as a space, has an outline with no contours).
        let outline = scaler
            .outline(GlyphId::new(g.gid))
            .ok_or_else(|| unreadable_outline(&font, g.gid))?;
        let need = outline.required_memory_size();
        if draw_memory.len() < need {
            draw_memory.resize(need, 0);
        }
        outline
            .draw(DrawMemory::Buffer(&mut draw_memory[..]), &mut *sink)
            .map_err(|e| match e.kind() {
                read_fonts::model::Error::LimitExceeded => unreadable_outline(&font, g.gid),
                _ => Error::font_parse(format!("glyph {}: {e}", g.gid)),
            })?;
        sink.finish(g.gid)?;
        let Some((l, t, r, b)) = sink.bounds() else {
            cache.insert(key, Arc::new(Coverage::empty()));
            continue;
        };
        let full = Coverage {
            left: l,
            top: t,
            width: (r - l) as u32,
            height: (b - t) as u32,
            data: Vec::new(),
        };
        if inside(&full) {
            work += full.width as u64 * full.height as u64;
            check_work(work)?;
            let c = Arc::new(raster::rasterize(
                &sink.lines,
                l,
                t,
                full.width,
                full.height,
                acc,
                g.gid,
            )?);
            cache.insert(key, c.clone());
            if c.width == 0 {
                continue;
            }
            placed.push(Placed {
                x: ix,
                y: iy,
                coverage: c,
            });
        } else {
            // Clip to the canvas; never cached (the result depends on the canvas).
            let x0 = (ix + l as i64).max(0);
            let y0 = (iy + t as i64).max(0);
            let x1 = (ix + r as i64).min(cw);
            let y1 = (iy + b as i64).min(ch);
            if x1 <= x0 || y1 <= y0 {
                continue;
            }
            let (w, h) = ((x1 - x0) as u32, (y1 - y0) as u32);
            work += w as u64 * h as u64;
            check_work(work)?;
            let (cl, ct) = ((x0 - ix) as i32, (y0 - iy) as i32);
            let c = raster::rasterize(&sink.lines, cl, ct, w, h, acc, g.gid)?;
            if c.width == 0 {
                continue;
            }
            placed.push(Placed {
                x: ix,
                y: iy,
                coverage: Arc::new(c),
            });
        }
    }
    // The union of the placed boxes (all inside the canvas). Each is the tight box of its
    // glyph's non-zero coverage, and compositing keeps every inked pixel inked, so the union
    // is the tight box of the ink: `tight_bbox` needs no rescan.
    let mut bx0 = i64::MAX;
    let mut by0 = i64::MAX;
    let mut bx1 = i64::MIN;
    let mut by1 = i64::MIN;
    for p in &placed {
        let c = &p.coverage;
        bx0 = bx0.min(p.x + c.left as i64);
        by0 = by0.min(p.y + c.top as i64);
        bx1 = bx1.max(p.x + c.left as i64 + c.width as i64);
        by1 = by1.max(p.y + c.top as i64 + c.height as i64);
    }
    if placed.is_empty() {
        return Ok(InkBox {
            canvas_width: width,
            canvas_height: height,
            x: 0,
            y: 0,
            w: 0,
            h: 0,
            ink: Vec::new(),
        });
    }
    let (bw, bh) = ((bx1 - bx0) as usize, (by1 - by0) as usize);
    let mut ink = std::mem::take(ink_buffer);
    ink.clear();
    reserve(&mut ink, bw * bh, "the ink box")?;
    if let [p] = &placed[..] {
        // One glyph: its coverage is the ink box.
        work += (bw * bh) as u64;
        check_work(work)?;
        ink.extend_from_slice(&p.coverage.data);
    } else {
        ink.resize(bw * bh, 0);
        for p in &placed {
            let c = &p.coverage;
            let (cw_, chh) = (c.width as usize, c.height as usize);
            work += (cw_ * chh) as u64;
            check_work(work)?;
            let ox = (p.x + c.left as i64 - bx0) as usize;
            let oy = (p.y + c.top as i64 - by0) as usize;
            for r in 0..chh {
                let src = &c.data[r * cw_..(r + 1) * cw_];
                let dst = &mut ink[(oy + r) * bw + ox..(oy + r) * bw + ox + cw_];
                composite_row(dst, src);
            }
        }
    }
    Ok(InkBox {
        canvas_width: width,
        canvas_height: height,
        x: bx0 as u32,
        y: by0 as u32,
        w: bw as u32,
        h: bh as u32,
        ink,
    })
}

/// `ink = ink + a·(1 − ink)` in 8-bit fixed point: `i + a − round(a·i/255)`, which equals
/// `i + round(a·(255 − i)/255)` exactly (a·i/255 is never a half). Branch-free so it vectorises.
/// Eight pixels at a time when a word of coverage is empty (nothing to do) or lands on paper
/// (the result is the coverage itself) — most of a glyph box in practice.
#[inline]
fn composite_row(dst: &mut [u8], src: &[u8]) {
    let mut d8 = dst.chunks_exact_mut(8);
    let mut s8 = src.chunks_exact(8);
    for (d, s) in (&mut d8).zip(&mut s8) {
        let sv = u64::from_ne_bytes(s.try_into().expect("8 bytes"));
        if sv == 0 {
            continue;
        }
        if u64::from_ne_bytes((&*d).try_into().expect("8 bytes")) == 0 {
            d.copy_from_slice(s);
            continue;
        }
        composite_bytes(d, s);
    }
    composite_bytes(d8.into_remainder(), s8.remainder());
}

#[inline]
fn composite_bytes(dst: &mut [u8], src: &[u8]) {
    for (d, &a) in dst.iter_mut().zip(src) {
        let (i, a) = (*d as u32, a as u32);
        let t = a * i + 128;
        let ai = (t + (t >> 8)) >> 8;
        *d = (i + a - ai) as u8;
    }
}

/// Reserve `extra` bytes, turning an allocation failure (a sandbox's memory cap) into a
/// `resource_limit` error result instead of an abort.
fn reserve(v: &mut Vec<u8>, extra: usize, what: &str) -> Result<(), Error> {
    v.try_reserve(extra).map_err(|_| {
        Error::new(
            ErrorKind::ResourceLimit,
            format!("out of memory: {extra} bytes for {what} could not be allocated"),
        )
    })
}

/// Why skrifa could not load glyph `gid`'s outline: a composite over one of skrifa's budgets
/// (`limit_exceeded` naming it: [`limits::MAX_COMPOSITE_DEPTH`], a composite that is its own
/// component, [`limits::MAX_COMPOSITE_COMPONENTS`], [`limits::MAX_OUTLINE_POINTS`]) or else a
/// broken glyph (`font_parse`). Walks the glyf component tree the way skrifa does; runs only
/// on this error path, and the budgets bound the walk.
fn unreadable_outline(font: &Font, gid: u32) -> Error {
    let broken = || Error::font_parse(format!("glyph {gid}: its outline cannot be read"));
    let tables = font.tables();
    let (Ok(glyf), Ok(loca)) = (tables.glyf(), tables.loca(None)) else {
        return broken();
    };
    let Some(root) = loca.get(GlyphId::new(gid), &glyf) else {
        return broken();
    };
    let Some(root) = root.glyph() else {
        return broken();
    };
    let mut walk = CompositeWalk {
        glyf,
        loca,
        path: vec![gid],
        components: 0,
        points: 0,
    };
    match walk.visit(root) {
        Err(Over::Depth) => Error::over_budget(
            format!("glyph {gid}"),
            format!(
                "composite components nested more than {} deep",
                limits::MAX_COMPOSITE_DEPTH
            ),
            limits::MAX_COMPOSITE_DEPTH,
            "MAX_COMPOSITE_DEPTH",
        ),
        Err(Over::Cycle(c)) => Error::over_budget(
            format!("glyph {gid}"),
            format!("composite components nested without end (glyph {c} is a component of itself)"),
            limits::MAX_COMPOSITE_DEPTH,
            "MAX_COMPOSITE_DEPTH",
        ),
        Err(Over::Components) => Error::over_budget(
            format!("glyph {gid}"),
            format!(
                "more than {} composite components",
                limits::MAX_COMPOSITE_COMPONENTS
            ),
            limits::MAX_COMPOSITE_COMPONENTS,
            "MAX_COMPOSITE_COMPONENTS",
        ),
        Err(Over::Points) => Error::over_budget(
            format!("glyph {gid}"),
            format!("more than {} outline points", limits::MAX_OUTLINE_POINTS),
            limits::MAX_OUTLINE_POINTS,
            "MAX_OUTLINE_POINTS",
        ),
        Err(Over::Broken) | Ok(()) => broken(),
    }
}

/// Which budget a composite glyph broke, or that it is broken.
enum Over {
    Depth,
    Cycle(u32),
    Components,
    Points,
    Broken,
}

/// skrifa's walk of a glyf component tree (`outline_rec`), counting what its budgets count.
struct CompositeWalk<'a> {
    glyf: read_fonts::tables::glyf::Glyf<'a>,
    loca: read_fonts::tables::loca::Loca<'a>,
    /// The glyph ids from the root to the glyph being visited.
    path: Vec<u32>,
    components: usize,
    points: usize,
}

impl CompositeWalk<'_> {
    fn visit(&mut self, glyph: &Glyph) -> Result<(), Over> {
        if self.path.len() > limits::MAX_COMPOSITE_DEPTH + 1 {
            return Err(Over::Depth);
        }
        match glyph {
            Glyph::Simple(simple) => {
                self.points += simple.num_points();
                if self.points > limits::MAX_OUTLINE_POINTS {
                    return Err(Over::Points);
                }
            }
            Glyph::Composite(composite) => {
                for (component, _) in composite.component_glyphs_and_flags() {
                    let c = component.to_u32();
                    if self.path.contains(&c) {
                        return Err(Over::Cycle(c));
                    }
                    let loaded = self.loca.get(component, &self.glyf).ok_or(Over::Broken)?;
                    let Some(child) = loaded.glyph() else {
                        continue;
                    };
                    self.components += 1;
                    if self.components > limits::MAX_COMPOSITE_COMPONENTS {
                        return Err(Over::Components);
                    }
                    self.path.push(c);
                    self.visit(child)?;
                    self.path.pop();
                }
            }
        }
        Ok(())
    }
}

fn check_work(pixels: u64) -> Result<(), Error> {
    if pixels > limits::MAX_RASTER_PIXELS_PER_JOB {
        return Err(Error::over_budget(
            "the job's glyphs",
            format!("at least {pixels} pixels to rasterise and composite"),
            limits::MAX_RASTER_PIXELS_PER_JOB,
            "MAX_RASTER_PIXELS_PER_JOB",
        ));
    }
    Ok(())
}

impl InkBox {
    /// The box as a comparison image.
    pub fn view(&self) -> ImageView<'_> {
        ImageView::of_ink_box(
            self.canvas_width,
            self.canvas_height,
            [self.x, self.y, self.w, self.h],
            &self.ink,
        )
    }

    /// SPEC §3 metrics, from the ink box alone, in one pass that takes eight pixels at a time
    /// where they are all paper or all inked (most of a glyph box).
    pub fn metrics(&self) -> Metrics {
        let n = self.canvas_width as f64 * self.canvas_height as f64;
        // A run crosses a row boundary only when the box spans the canvas width: pixels
        // outside the box are paper.
        let spans_width = self.x == 0 && self.w == self.canvas_width;
        let w = self.w as usize;
        let (mut sum, mut best, mut run) = (0u64, 0u64, 0u64);
        const LO: u64 = 0x00ff_00ff_00ff_00ff;
        if w > 0 {
            for row in self.ink.chunks_exact(w) {
                if !spans_width {
                    run = 0;
                }
                let mut chunks = row.chunks_exact(8);
                for c in &mut chunks {
                    let v = u64::from_le_bytes(c.try_into().expect("8 bytes"));
                    if v == 0 {
                        run = 0;
                        continue;
                    }
                    // Byte sum: pairs into 16-bit lanes, then a multiply adds the lanes.
                    let pairs = (v & LO) + ((v >> 8) & LO);
                    sum += pairs.wrapping_mul(0x0001_0001_0001_0001) >> 48;
                    let has_zero =
                        v.wrapping_sub(0x0101_0101_0101_0101) & !v & 0x8080_8080_8080_8080;
                    if has_zero == 0 {
                        run += 8;
                        best = best.max(run);
                    } else {
                        for &p in c {
                            run = if p > 0 { run + 1 } else { 0 };
                            best = best.max(run);
                        }
                    }
                }
                for &p in chunks.remainder() {
                    sum += p as u64;
                    run = if p > 0 { run + 1 } else { 0 };
                    best = best.max(run);
                }
            }
        }
        Metrics {
            density: sum as f64 / (255.0 * n),
            beam: best as f64 / n,
            bbox: self.tight_bbox(),
        }
    }

    /// The tight box of inked pixels, `[x, y, w, h]`. A box whose four borders each hold ink
    /// (every box [`compose`] makes) is its own tight box: only its borders are read.
    pub fn tight_bbox(&self) -> [u32; 4] {
        let (w, h) = (self.w as usize, self.h as usize);
        if w > 0 && h > 0 && self.ink.len() == w * h {
            let row = |r: usize| self.ink[r * w..(r + 1) * w].iter().any(|&v| v > 0);
            let col = |c: usize| self.ink[c..].iter().step_by(w).any(|&v| v > 0);
            if row(0) && row(h - 1) && col(0) && col(w - 1) {
                return [self.x, self.y, self.w, self.h];
            }
        }
        let (mut x0, mut y0, mut x1, mut y1) = (usize::MAX, usize::MAX, 0usize, 0usize);
        for r in 0..h {
            let row = &self.ink[r * w..(r + 1) * w];
            if let Some(first) = row.iter().position(|&v| v > 0) {
                let last = row.iter().rposition(|&v| v > 0).unwrap_or(first);
                x0 = x0.min(first);
                x1 = x1.max(last + 1);
                y0 = y0.min(r);
                y1 = y1.max(r + 1);
            }
        }
        if x0 == usize::MAX {
            return [0, 0, 0, 0];
        }
        [
            self.x + x0 as u32,
            self.y + y0 as u32,
            (x1 - x0) as u32,
            (y1 - y0) as u32,
        ]
    }

    /// The full canvas, 0 = ink, 255 = paper.
    pub fn to_pixels(&self) -> Vec<u8> {
        let mut px = Vec::new();
        self.write_pixels(&mut px).expect("memory for the canvas");
        px
    }

    /// Append the box's rows alone (0 = ink, 255 = paper) when the box is at most a quarter of
    /// the canvas, else the full canvas; returns the part written, `[x, y, w, h]`.
    pub fn write_box_or_canvas(&self, out: &mut Vec<u8>) -> Result<[u32; 4], Error> {
        let canvas = u64::from(self.canvas_width) * u64::from(self.canvas_height);
        if u64::from(self.w) * u64::from(self.h) * 4 > canvas {
            self.write_pixels(out)?;
            return Ok([0, 0, self.canvas_width, self.canvas_height]);
        }
        reserve(out, self.ink.len(), "the ink box")?;
        out.extend(self.ink.iter().map(|&v| 255 - v));
        Ok([self.x, self.y, self.w, self.h])
    }

    /// Append the full canvas (0 = ink, 255 = paper) to `out`; a `resource_limit` error if
    /// the memory cannot be had (a host's memory cap).
    pub fn write_pixels(&self, out: &mut Vec<u8>) -> Result<(), Error> {
        let cw = self.canvas_width as usize;
        let start = out.len();
        reserve(out, cw * self.canvas_height as usize, "the canvas")?;
        out.resize(start + cw * self.canvas_height as usize, 255);
        let px = &mut out[start..];
        let w = self.w as usize;
        for r in 0..self.h as usize {
            let dst = (self.y as usize + r) * cw + self.x as usize;
            for (d, &v) in px[dst..dst + w]
                .iter_mut()
                .zip(&self.ink[r * w..(r + 1) * w])
            {
                *d = 255 - v;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn boxed(cw: u32, ch: u32, x: u32, y: u32, w: u32, h: u32, ink: Vec<u8>) -> InkBox {
        InkBox {
            canvas_width: cw,
            canvas_height: ch,
            x,
            y,
            w,
            h,
            ink,
        }
    }

    #[test]
    fn blank_metrics() {
        let m = boxed(4, 4, 0, 0, 0, 0, vec![]).metrics();
        assert_eq!(
            m,
            Metrics {
                density: 0.0,
                beam: 0.0,
                bbox: [0, 0, 0, 0]
            }
        );
    }

    #[test]
    fn metrics_match_spec_definitions() {
        // 4×3 canvas; box at (1,1) 2×2 with ink [255, 0; 255, 255].
        let b = boxed(4, 3, 1, 1, 2, 2, vec![255, 0, 255, 255]);
        let m = b.metrics();
        assert_eq!(m.density, 3.0 / 12.0);
        assert_eq!(m.beam, 2.0 / 12.0);
        assert_eq!(m.bbox, [1, 1, 2, 2]);
        let px = b.to_pixels();
        assert_eq!(
            px,
            vec![255, 255, 255, 255, 255, 0, 255, 255, 255, 0, 0, 255]
        );
    }

    #[test]
    fn longest_run_in_chunks_matches_pixel_by_pixel() {
        let mut seed = 7u32;
        for len in [1usize, 7, 8, 9, 31, 64, 100] {
            for _ in 0..50 {
                let ink: Vec<u8> = (0..len * 3)
                    .map(|_| {
                        seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12345);
                        if (seed >> 16).is_multiple_of(4) {
                            0
                        } else {
                            (seed >> 8) as u8 | 1
                        }
                    })
                    .collect();
                let b = boxed(len as u32, 3, 0, 0, len as u32, 3, ink.clone());
                let (mut best, mut run, mut sum) = (0u64, 0u64, 0u64);
                for &p in &ink {
                    run = if p > 0 { run + 1 } else { 0 };
                    best = best.max(run);
                    sum += p as u64;
                }
                let m = b.metrics();
                let n = (len * 3) as f64;
                assert_eq!(m.beam, best as f64 / n);
                assert_eq!(m.density, sum as f64 / (255.0 * n));
            }
        }
    }

    #[test]
    fn tight_bbox_with_and_without_inked_borders() {
        // Borders all inked: the box itself (the fast path).
        let b = boxed(9, 9, 2, 3, 3, 3, vec![0, 7, 0, 7, 0, 0, 0, 0, 7]);
        assert_eq!(b.tight_bbox(), [2, 3, 3, 3]);
        // Paper on the border (boxes built by hosts): the rescan finds the ink.
        let b = boxed(9, 9, 2, 3, 3, 3, vec![0, 0, 0, 0, 7, 0, 0, 7, 0]);
        assert_eq!(b.tight_bbox(), [3, 4, 1, 2]);
        let b = boxed(9, 9, 2, 3, 3, 3, vec![0; 9]);
        assert_eq!(b.tight_bbox(), [0, 0, 0, 0]);
        // Random boxes: the answer equals a plain scan.
        let mut seed = 11u32;
        for _ in 0..300 {
            let mut r = || {
                seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12345);
                seed >> 16
            };
            let (w, h) = (1 + r() % 6, 1 + r() % 6);
            let ink: Vec<u8> = (0..w * h).map(|_| (r() % 5 == 0) as u8 * 200).collect();
            let b = boxed(20, 20, 4, 5, w, h, ink.clone());
            let inked: Vec<(u32, u32)> = (0..w * h)
                .filter(|&i| ink[i as usize] > 0)
                .map(|i| (i % w, i / w))
                .collect();
            let want = if inked.is_empty() {
                [0, 0, 0, 0]
            } else {
                let x0 = inked.iter().map(|p| p.0).min().unwrap();
                let x1 = inked.iter().map(|p| p.0).max().unwrap() + 1;
                let y0 = inked.iter().map(|p| p.1).min().unwrap();
                let y1 = inked.iter().map(|p| p.1).max().unwrap() + 1;
                [4 + x0, 5 + y0, x1 - x0, y1 - y0]
            };
            assert_eq!(b.tight_bbox(), want);
        }
    }

    #[test]
    fn beam_wraps_rows_when_box_spans_width() {
        // 2×2 canvas fully inked except the first pixel: run of 3 across the row break.
        let m = boxed(2, 2, 0, 0, 2, 2, vec![0, 9, 9, 9]).metrics();
        assert_eq!(m.beam, 3.0 / 4.0);
    }

    #[test]
    fn composite_words_match_bytes() {
        let mut seed = 3u32;
        let mut r = || {
            seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12345);
            let v = (seed >> 16) as u8;
            if v.is_multiple_of(3) {
                0
            } else {
                v
            }
        };
        for len in [0usize, 5, 8, 13, 64] {
            let src: Vec<u8> = (0..len).map(|_| r()).collect();
            let mut dst: Vec<u8> = (0..len).map(|_| r()).collect();
            let mut want = dst.clone();
            composite_bytes(&mut want, &src);
            composite_row(&mut dst, &src);
            assert_eq!(dst, want);
        }
    }

    #[test]
    fn composite_matches_the_rounded_formula() {
        for i in 0..=255u32 {
            for a in 0..=255u32 {
                let mut d = [i as u8];
                composite_row(&mut d, &[a as u8]);
                let want = i + (a * (255 - i) + 127) / 255;
                assert_eq!(d[0] as u32, want, "i={i} a={a}");
            }
        }
    }

    #[test]
    fn rounding_to_26_6() {
        assert_eq!(to_26_6(0.0), 0);
        assert_eq!(to_26_6(1.0 / 128.0), 1);
        assert_eq!(to_26_6(-1.0 / 128.0), -1);
        assert_eq!(to_26_6(10.0), 640);
    }
}
