//! Anti-aliased coverage rasterisation of glyph outlines.
//!
//! Outlines are flattened into line segments (`OutlineSink`, a skrifa `PathSink`) and drawn
//! with the exact-area accumulation method: each line adds its signed area to the cells it
//! crosses, and a running sum along each row gives the coverage (non-zero winding, clamped).
//! Only the glyph's own box (or its part inside the canvas) is touched, in bands of
//! [`RASTER_BAND_ROWS`](crate::limits::RASTER_BAND_ROWS) rows, so cost and scratch memory follow
//! the glyph, never the canvas. Only `+ − × ÷`, `floor`/`ceil`/`sqrt` are used, which are exact
//! in IEEE arithmetic, so native and wasm builds give identical bytes.

use crate::error::Error;
use crate::limits;

/// A line segment in raster space (x right, y down), in pixels.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Line {
    pub x0: f32,
    pub y0: f32,
    pub x1: f32,
    pub y1: f32,
}

/// An 8-bit coverage bitmap (255 = fully inside the glyph) placed relative to an origin.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Coverage {
    /// Column of the bitmap's left edge relative to the glyph origin's integer pixel.
    pub left: i32,
    /// Row of the bitmap's top edge relative to the glyph origin's integer pixel.
    pub top: i32,
    pub width: u32,
    pub height: u32,
    /// `width × height` coverage values, row-major.
    pub data: Vec<u8>,
}

impl Coverage {
    pub fn empty() -> Self {
        Coverage {
            left: 0,
            top: 0,
            width: 0,
            height: 0,
            data: Vec::new(),
        }
    }

    pub fn bytes(&self) -> usize {
        self.data.len() + core::mem::size_of::<Self>()
    }
}

/// Collects a glyph outline as flattened lines, shifted by the sub-pixel phase and flipped to
/// y-down raster space.
pub(crate) struct OutlineSink {
    pub lines: Vec<Line>,
    dx: f32,
    dy: f32,
    start: (f32, f32),
    cur: (f32, f32),
    open: bool,
    bad: bool,
    overflow: bool,
}

impl Default for OutlineSink {
    fn default() -> Self {
        OutlineSink::new(0.0, 0.0)
    }
}

impl OutlineSink {
    /// `dx`, `dy`: the fractional part of the glyph origin in pixels (x right, y down).
    pub fn new(dx: f32, dy: f32) -> Self {
        OutlineSink {
            lines: Vec::new(),
            dx,
            dy,
            start: (0.0, 0.0),
            cur: (0.0, 0.0),
            open: false,
            bad: false,
            overflow: false,
        }
    }

    pub fn reset(&mut self, dx: f32, dy: f32) {
        self.lines.clear();
        *self = OutlineSink {
            lines: core::mem::take(&mut self.lines),
            ..OutlineSink::new(dx, dy)
        };
    }

    fn map(&mut self, x: f32, y: f32) -> (f32, f32) {
        if !x.is_finite() || !y.is_finite() {
            self.bad = true;
        }
        (x + self.dx, self.dy - y)
    }

    fn push(&mut self, to: (f32, f32)) {
        if self.lines.len() >= limits::MAX_SEGMENTS_PER_GLYPH {
            self.overflow = true;
            return;
        }
        if to != self.cur {
            self.lines.push(Line {
                x0: self.cur.0,
                y0: self.cur.1,
                x1: to.0,
                y1: to.1,
            });
        }
        self.cur = to;
    }

    fn close_contour(&mut self) {
        if self.open {
            let s = self.start;
            self.push(s);
            self.open = false;
        }
    }

    /// Finish the outline: close the last contour and report problems.
    pub fn finish(&mut self, gid: u32) -> Result<(), Error> {
        self.close_contour();
        if self.overflow {
            return Err(Error::limit(format!(
                "glyph {gid} flattens into more than {} segments",
                limits::MAX_SEGMENTS_PER_GLYPH
            )));
        }
        if self.bad {
            return Err(Error::font_parse(format!(
                "glyph {gid} has non-finite outline coordinates"
            )));
        }
        Ok(())
    }

    /// The bounding box of the flattened outline, `(left, top, right, bottom)` in whole pixels.
    pub fn bounds(&self) -> Option<(i32, i32, i32, i32)> {
        let first = self.lines.first()?;
        let (mut x0, mut y0, mut x1, mut y1) = (first.x0, first.y0, first.x0, first.y0);
        for l in &self.lines {
            for (x, y) in [(l.x0, l.y0), (l.x1, l.y1)] {
                x0 = if x < x0 { x } else { x0 };
                x1 = if x > x1 { x } else { x1 };
                y0 = if y < y0 { y } else { y0 };
                y1 = if y > y1 { y } else { y1 };
            }
        }
        // Clamp to a range that fits i32 comfortably; the canvas clip does the rest.
        let c = |v: f32| v.clamp(-1.0e8, 1.0e8);
        let (l, t, r, b) = (
            c(x0).floor() as i32,
            c(y0).floor() as i32,
            c(x1).ceil() as i32,
            c(y1).ceil() as i32,
        );
        (r > l && b > t).then_some((l, t, r, b))
    }
}

fn segments_for(dev: f32) -> u32 {
    let n = (dev / limits::FLATTEN_TOLERANCE_PX).sqrt().ceil();
    if n >= 1.0 {
        (n as u32).min(limits::MAX_SEGMENTS_PER_CURVE)
    } else {
        1
    }
}

fn hypot(x: f32, y: f32) -> f32 {
    (x * x + y * y).sqrt()
}

impl skrifa::PathSink for OutlineSink {
    fn move_to(&mut self, x: f32, y: f32) {
        self.close_contour();
        let p = self.map(x, y);
        self.start = p;
        self.cur = p;
        self.open = true;
    }

    fn line_to(&mut self, x: f32, y: f32) {
        let p = self.map(x, y);
        self.push(p);
    }

    fn quad_to(&mut self, cx0: f32, cy0: f32, x: f32, y: f32) {
        let p0 = self.cur;
        let p1 = self.map(cx0, cy0);
        let p2 = self.map(x, y);
        let dev = hypot(p0.0 - 2.0 * p1.0 + p2.0, p0.1 - 2.0 * p1.1 + p2.1) * 0.25;
        let n = segments_for(dev);
        for i in 1..n {
            let t = i as f32 / n as f32;
            let mt = 1.0 - t;
            let a = mt * mt;
            let b = 2.0 * t * mt;
            let c = t * t;
            self.push((
                a * p0.0 + b * p1.0 + c * p2.0,
                a * p0.1 + b * p1.1 + c * p2.1,
            ));
        }
        self.push(p2);
    }

    fn curve_to(&mut self, cx0: f32, cy0: f32, cx1: f32, cy1: f32, x: f32, y: f32) {
        let p0 = self.cur;
        let p1 = self.map(cx0, cy0);
        let p2 = self.map(cx1, cy1);
        let p3 = self.map(x, y);
        let d1 = hypot(p0.0 - 2.0 * p1.0 + p2.0, p0.1 - 2.0 * p1.1 + p2.1);
        let d2 = hypot(p1.0 - 2.0 * p2.0 + p3.0, p1.1 - 2.0 * p2.1 + p3.1);
        let dev = if d1 > d2 { d1 } else { d2 } * 0.75;
        let n = segments_for(dev);
        for i in 1..n {
            let t = i as f32 / n as f32;
            let mt = 1.0 - t;
            let a = mt * mt * mt;
            let b = 3.0 * t * mt * mt;
            let c = 3.0 * t * t * mt;
            let d = t * t * t;
            self.push((
                a * p0.0 + b * p1.0 + c * p2.0 + d * p3.0,
                a * p0.1 + b * p1.1 + c * p2.1 + d * p3.1,
            ));
        }
        self.push(p3);
    }

    fn close(&mut self) {
        self.close_contour();
    }
}

/// Reusable scratch memory for [`rasterize`].
#[derive(Default)]
pub(crate) struct Scratch {
    acc: Vec<f32>,
}

/// Rasterise `lines` over the region `(left, top, width, height)` of the glyph's raster space.
/// Lines outside the region are clipped exactly: what lies left of it still counts towards the
/// winding of the pixels inside.
pub(crate) fn rasterize(
    lines: &[Line],
    left: i32,
    top: i32,
    width: u32,
    height: u32,
    scratch: &mut Scratch,
) -> Coverage {
    let (w, h) = (width as usize, height as usize);
    let mut data = vec![0u8; w * h];
    if w == 0 || h == 0 {
        return Coverage {
            left,
            top,
            width,
            height,
            data,
        };
    }
    let stride = w + 2;
    let (ox, oy) = (left as f32, top as f32);
    let wf = w as f32;
    let band_rows = limits::RASTER_BAND_ROWS;
    let mut band_top = 0usize;
    while band_top < h {
        let rows = band_rows.min(h - band_top);
        let acc = &mut scratch.acc;
        acc.clear();
        acc.resize(stride * rows, 0.0);
        let (bt, bb) = (band_top as f32, (band_top + rows) as f32);
        for l in lines {
            let (x0, y0, x1, y1) = (l.x0 - ox, l.y0 - oy, l.x1 - ox, l.y1 - oy);
            if (y0 <= bt && y1 <= bt) || (y0 >= bb && y1 >= bb) || y0 == y1 {
                continue;
            }
            clip_x_and_draw(acc, stride, band_top, rows, wf, x0, y0, x1, y1);
        }
        // Accumulate each row into coverage. Runs of cells no edge touched leave the running
        // sum unchanged (adding ±0.0 never changes a coverage value), so an all-zero chunk of
        // 8 cells is one fill with the current value: inside and outside the outline alike,
        // the cost follows the edges, not the box area. Output is bit-identical.
        for r in 0..rows {
            let row = &acc[r * stride..r * stride + w];
            let out = &mut data[(band_top + r) * w..(band_top + r + 1) * w];
            let mut sum = 0.0f32;
            let mut cells = row.chunks_exact(8);
            let mut outs = out.chunks_exact_mut(8);
            for (o, a) in (&mut outs).zip(&mut cells) {
                let bits = a.iter().fold(0u32, |m, v| m | (v.to_bits() & 0x7fff_ffff));
                if bits == 0 {
                    let v = coverage_byte(sum);
                    if v != 0 {
                        o.fill(v);
                    }
                    continue;
                }
                for (o, a) in o.iter_mut().zip(a) {
                    sum += *a;
                    *o = coverage_byte(sum);
                }
            }
            for (o, a) in outs.into_remainder().iter_mut().zip(cells.remainder()) {
                sum += *a;
                *o = coverage_byte(sum);
            }
        }
        band_top += rows;
    }
    Coverage {
        left,
        top,
        width,
        height,
        data,
    }
}

/// The coverage byte of an accumulated signed area: |sum| clamped to 1, scaled to 0..=255.
#[inline(always)]
fn coverage_byte(sum: f32) -> u8 {
    let v = if sum < 0.0 { -sum } else { sum };
    let v = if v > 1.0 { 1.0 } else { v };
    // v is in [0, 1]: the conversion is in range and exact after +0.5 truncation.
    (v * 255.0 + 0.5) as u8
}

/// Split a line at x = 0 and x = w so that every piece lies inside [0, w] (pieces outside are
/// moved onto the border, which keeps their winding contribution for the pixels inside).
#[allow(clippy::too_many_arguments)]
fn clip_x_and_draw(
    acc: &mut [f32],
    stride: usize,
    band_top: usize,
    rows: usize,
    w: f32,
    x0: f32,
    y0: f32,
    x1: f32,
    y1: f32,
) {
    let mut pts = [(x0, y0), (0.0, 0.0), (0.0, 0.0), (x1, y1)];
    let mut n = 1;
    // Crossing points with the two borders, in order along the line.
    let mut cuts = [f32::NAN; 2];
    let mut k = 0;
    for b in [0.0f32, w] {
        if (x0 < b && x1 > b) || (x0 > b && x1 < b) {
            cuts[k] = (b - x0) / (x1 - x0);
            k += 1;
        }
    }
    if k == 2 && cuts[0] > cuts[1] {
        cuts.swap(0, 1);
    }
    for &t in &cuts[..k] {
        pts[n] = (x0 + t * (x1 - x0), y0 + t * (y1 - y0));
        n += 1;
    }
    pts[n] = (x1, y1);
    for i in 0..n {
        let (ax, ay) = pts[i];
        let (bx, by) = pts[i + 1];
        let clamp = |x: f32| {
            if x < 0.0 {
                0.0
            } else if x > w {
                w
            } else {
                x
            }
        };
        draw_line(acc, stride, band_top, rows, clamp(ax), ay, clamp(bx), by);
    }
}

/// Add the signed area of one line (inside [0, w] horizontally) to the band's accumulation
/// buffer.
#[allow(clippy::too_many_arguments)]
fn draw_line(
    acc: &mut [f32],
    stride: usize,
    band_top: usize,
    rows: usize,
    x0: f32,
    y0: f32,
    x1: f32,
    y1: f32,
) {
    if y0 == y1 {
        return;
    }
    let (dir, x0, y0, x1, y1) = if y0 < y1 {
        (1.0f32, x0, y0, x1, y1)
    } else {
        (-1.0f32, x1, y1, x0, y0)
    };
    let bt = band_top as f32;
    let bb = (band_top + rows) as f32;
    let ya = if y0 > bt { y0 } else { bt };
    let yb = if y1 < bb { y1 } else { bb };
    if ya >= yb {
        return;
    }
    let dxdy = (x1 - x0) / (y1 - y0);
    let r0 = ya.floor() as usize;
    let r1 = yb.ceil() as usize;
    let xmax = (stride - 2) as f32;
    for y in r0..r1 {
        let yf = y as f32;
        let ytop = if yf > ya { yf } else { ya };
        let ybot = if yf + 1.0 < yb { yf + 1.0 } else { yb };
        let dy = ybot - ytop;
        if dy <= 0.0 {
            continue;
        }
        let clampx = |x: f32| {
            if x < 0.0 {
                0.0
            } else if x > xmax {
                xmax
            } else {
                x
            }
        };
        let xa = clampx(x0 + (ytop - y0) * dxdy);
        let xb = clampx(x0 + (ybot - y0) * dxdy);
        let d = dy * dir;
        let row = &mut acc[(y - band_top) * stride..(y - band_top + 1) * stride];
        let (xl, xr) = if xa < xb { (xa, xb) } else { (xb, xa) };
        let xl_floor = xl.floor();
        let xl_i = xl_floor as usize;
        let xr_ceil = xr.ceil();
        let xr_i = xr_ceil as usize;
        if xr_i <= xl_i + 1 {
            // The line stays within one column: split its area between this pixel and the next.
            let xm = 0.5 * (xa + xb) - xl_floor;
            row[xl_i] += d - d * xm;
            row[xl_i + 1] += d * xm;
        } else {
            let s = 1.0 / (xr - xl);
            let xl_f = xl - xl_floor;
            let a0 = 0.5 * s * (1.0 - xl_f) * (1.0 - xl_f);
            let xr_f = xr - xr_ceil + 1.0;
            let am = 0.5 * s * xr_f * xr_f;
            row[xl_i] += d * a0;
            if xr_i == xl_i + 2 {
                row[xl_i + 1] += d * (1.0 - a0 - am);
            } else {
                let a1 = s * (1.5 - xl_f);
                row[xl_i + 1] += d * (a1 - a0);
                for cell in &mut row[xl_i + 2..xr_i - 1] {
                    *cell += d * s;
                }
                let a2 = a1 + (xr_i - xl_i - 3) as f32 * s;
                row[xr_i - 1] += d * (1.0 - a2 - am);
            }
            row[xr_i] += d * am;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use skrifa::PathSink;

    fn square(sink: &mut OutlineSink, x0: f32, y0: f32, x1: f32, y1: f32) {
        // Font space: y up.
        sink.move_to(x0, y0);
        sink.line_to(x1, y0);
        sink.line_to(x1, y1);
        sink.line_to(x0, y1);
        sink.close();
    }

    fn render(sink: &OutlineSink) -> Coverage {
        let (l, t, r, b) = sink.bounds().unwrap();
        rasterize(
            &sink.lines,
            l,
            t,
            (r - l) as u32,
            (b - t) as u32,
            &mut Scratch::default(),
        )
    }

    #[test]
    fn pixel_aligned_square_is_solid() {
        let mut s = OutlineSink::new(0.0, 0.0);
        square(&mut s, 0.0, 0.0, 4.0, 3.0);
        s.finish(0).unwrap();
        let c = render(&s);
        assert_eq!((c.left, c.top, c.width, c.height), (0, -3, 4, 3));
        assert!(c.data.iter().all(|&v| v == 255), "{:?}", c.data);
    }

    #[test]
    fn half_pixel_offset_gives_half_coverage_edges() {
        let mut s = OutlineSink::new(0.5, 0.0);
        square(&mut s, 0.0, 0.0, 2.0, 1.0);
        s.finish(0).unwrap();
        let c = render(&s);
        assert_eq!(c.width, 3);
        assert_eq!(c.data, vec![128, 255, 128]);
    }

    #[test]
    fn winding_direction_does_not_matter_and_overlap_clamps() {
        let mut s = OutlineSink::new(0.0, 0.0);
        square(&mut s, 0.0, 0.0, 2.0, 2.0);
        // Same square, opposite direction, overlapping: non-zero winding → still covered? No:
        // +1 and −1 cancel, so the overlap is empty.
        s.move_to(0.0, 0.0);
        s.line_to(0.0, 2.0);
        s.line_to(2.0, 2.0);
        s.line_to(2.0, 0.0);
        s.close();
        s.finish(0).unwrap();
        assert!(render(&s).data.iter().all(|&v| v == 0));
        let mut s = OutlineSink::new(0.0, 0.0);
        square(&mut s, 0.0, 0.0, 2.0, 2.0);
        square(&mut s, 0.0, 0.0, 2.0, 2.0);
        s.finish(0).unwrap();
        assert!(render(&s).data.iter().all(|&v| v == 255));
    }

    #[test]
    fn clipping_keeps_interior_coverage() {
        // A 10×4 rectangle rasterised only over columns 3..6: still solid.
        let mut s = OutlineSink::new(0.0, 0.0);
        square(&mut s, 0.0, 0.0, 10.0, 4.0);
        s.finish(0).unwrap();
        let c = rasterize(&s.lines, 3, -4, 3, 4, &mut Scratch::default());
        assert!(c.data.iter().all(|&v| v == 255), "{:?}", c.data);
    }

    #[test]
    fn circle_area_close_to_pi_r2() {
        let mut s = OutlineSink::new(0.0, 0.0);
        let r = 20.0f32;
        let k = 0.552_284_8 * r;
        s.move_to(r, 0.0);
        s.curve_to(r, k, k, r, 0.0, r);
        s.curve_to(-k, r, -r, k, -r, 0.0);
        s.curve_to(-r, -k, -k, -r, 0.0, -r);
        s.curve_to(k, -r, r, -k, r, 0.0);
        s.close();
        s.finish(0).unwrap();
        let c = render(&s);
        let area: f64 = c.data.iter().map(|&v| v as f64 / 255.0).sum();
        let want = std::f64::consts::PI * 400.0;
        assert!((area - want).abs() / want < 0.005, "{area} vs {want}");
    }

    #[test]
    fn banding_is_invisible() {
        // A tall triangle spanning several bands equals its area.
        let mut s = OutlineSink::new(0.0, 0.0);
        s.move_to(0.0, 0.0);
        s.line_to(50.0, 0.0);
        s.line_to(0.0, 300.0);
        s.close();
        s.finish(0).unwrap();
        let c = render(&s);
        let area: f64 = c.data.iter().map(|&v| v as f64 / 255.0).sum();
        assert!((area - 7500.0).abs() < 8.0, "{area}");
    }

    #[test]
    fn non_finite_points_are_an_error() {
        let mut s = OutlineSink::new(0.0, 0.0);
        s.move_to(0.0, 0.0);
        s.line_to(f32::NAN, 1.0);
        assert!(s.finish(3).is_err());
    }
}
