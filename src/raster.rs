//! Anti-aliased coverage rasterisation of glyph outlines.
//!
//! Outlines are flattened into line segments (`OutlineSink`, a skrifa `PathSink`) and drawn
//! with the exact-area method, sparsely: each line adds its signed area to the cells (pixels)
//! it crosses, the cells are bucketed by row and sorted by column, and a sweep along each row
//! adds them up and fills the spans between them with the running coverage (non-zero winding,
//! clamped). Cost and scratch memory follow the edges and the filled spans, not the glyph box
//! or the canvas, and a glyph has at most
//! [`MAX_CELLS_PER_GLYPH`](crate::limits::MAX_CELLS_PER_GLYPH) cells. Only `+ − × ÷`,
//! `floor`/`ceil`/`sqrt` are used, which are exact in IEEE arithmetic, so native and wasm
//! builds give identical bytes.

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
            let max = limits::MAX_SEGMENTS_PER_GLYPH;
            return Err(Error::over_budget(
                format!("glyph {gid}"),
                format!("more than {max} outline segments"),
                max,
                "MAX_SEGMENTS_PER_GLYPH",
            ));
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

/// One cell contribution: the signed area a line adds to column `x` of row `row` of the region.
#[derive(Debug, Clone, Copy)]
struct Cell {
    x: u32,
    row: u32,
    v: f32,
}

/// Reusable scratch memory for [`rasterize`]: it grows to the largest glyph seen (at most
/// [`MAX_CELLS_PER_GLYPH`](limits::MAX_CELLS_PER_GLYPH) cells) and is reused for every glyph.
#[derive(Default)]
pub(crate) struct Scratch {
    /// Cell contributions in the order the lines produce them.
    cells: Vec<Cell>,
    /// The cells bucketed by row, as `(x, area)`: a counting sort, so within a row they keep
    /// the order the lines made them.
    keys: Vec<(u32, f32)>,
    /// `row_start[r]..row_start[r + 1]` is row `r`'s part of `keys`.
    row_start: Vec<u32>,
    /// Per row, where its next key goes while bucketing.
    cursor: Vec<u32>,
    /// One row's cell sums (`width` entries, all 0 between rows).
    acc: Vec<f32>,
    /// One bit per column of the row being swept: the columns with cells (all 0 between rows).
    touched: Vec<u64>,
}

impl Scratch {
    /// Scratch beyond this many cells (a hostile or gigantic glyph) is given back after use.
    const KEEP_CELLS: usize = 1 << 20;

    fn trim(&mut self) {
        if self.cells.capacity() > Self::KEEP_CELLS {
            self.cells = Vec::new();
            self.keys = Vec::new();
        }
        if self.acc.capacity() > Self::KEEP_CELLS {
            self.acc = Vec::new();
        }
    }
}

/// Rasterise `lines` over the region `(left, top, width, height)` of the glyph's raster space.
/// Lines outside the region are clipped exactly: what lies left of it still counts towards the
/// winding of the pixels inside.
///
/// Sparse: every line adds its signed area to the cells (pixels) it crosses, as contributions
/// collected in one list; the list is bucketed by row and sorted by column within each row; a
/// sweep along each row then adds them up and fills the runs between cells with the running
/// coverage. Cost follows the edges plus the filled spans, never the box area. The
/// arithmetic per cell is the dense accumulation's, in the same order, so the bytes are those
/// of a running sum over every pixel.
///
/// The result is trimmed to the tight box of its non-zero pixels (width 0 when none): its
/// `left`/`top` are then inside the region asked for, and all its border rows and columns
/// hold ink. `gid` only names the glyph in errors.
pub(crate) fn rasterize(
    lines: &[Line],
    left: i32,
    top: i32,
    width: u32,
    height: u32,
    scratch: &mut Scratch,
    gid: u32,
) -> Result<Coverage, Error> {
    let c = rasterize_in(lines, left, top, width, height, scratch, gid);
    scratch.trim();
    c
}

fn rasterize_in(
    lines: &[Line],
    left: i32,
    top: i32,
    width: u32,
    height: u32,
    scratch: &mut Scratch,
    gid: u32,
) -> Result<Coverage, Error> {
    let empty = Coverage {
        left,
        top,
        width: 0,
        height: 0,
        data: Vec::new(),
    };
    if width == 0 || height == 0 {
        return Ok(empty);
    }
    let Scratch {
        cells,
        keys,
        row_start,
        cursor,
        acc,
        touched,
    } = scratch;
    cells.clear();
    // 1. Cells. Each line is clipped to the rows of the region and split at its left and
    // right edges; what lies left counts on column 0, what lies right is dropped.
    let (ox, oy) = (left as f32, top as f32);
    let (wf, hf) = (width as f32, height as f32);
    let mut sink = CellSink {
        cells,
        width,
        full: false,
    };
    for l in lines {
        let (x0, y0, x1, y1) = (l.x0 - ox, l.y0 - oy, l.x1 - ox, l.y1 - oy);
        if (y0 <= 0.0 && y1 <= 0.0) || (y0 >= hf && y1 >= hf) || y0 == y1 {
            continue;
        }
        clip_x_and_draw(&mut sink, hf, wf, x0, y0, x1, y1);
        if sink.full {
            let max = limits::MAX_CELLS_PER_GLYPH;
            return Err(Error::over_budget(
                format!("glyph {gid}"),
                format!("more than {max} raster cells"),
                max,
                "MAX_CELLS_PER_GLYPH",
            ));
        }
    }
    let cells = &*sink.cells;
    if cells.is_empty() {
        return Ok(empty);
    }
    let h = height as usize;
    bucket(cells, h, row_start, keys, cursor);
    let Some((data, [l0, t0, tw, th])) = sweep(h, width, row_start, keys, acc, touched) else {
        return Ok(empty);
    };
    Ok(Coverage {
        left: left + l0 as i32,
        top: top + t0 as i32,
        width: tw,
        height: th,
        data,
    })
}

/// Bucket the cells by row (a counting sort, so stable).
#[inline(never)]
fn bucket(
    cells: &[Cell],
    h: usize,
    row_start: &mut Vec<u32>,
    keys: &mut Vec<(u32, f32)>,
    cursor: &mut Vec<u32>,
) {
    row_start.clear();
    row_start.resize(h + 1, 0);
    for c in cells {
        row_start[c.row as usize + 1] += 1;
    }
    for r in 0..h {
        row_start[r + 1] += row_start[r];
    }
    keys.clear();
    keys.resize(cells.len(), (0, 0.0));
    cursor.clear();
    cursor.extend_from_slice(&row_start[..h]);
    for c in cells {
        let slot = &mut cursor[c.row as usize];
        keys[*slot as usize] = (c.x, c.v);
        *slot += 1;
    }
}

/// Sweep every row into a `width × h` bitmap, then trim that to the tight box of its non-zero
/// pixels in place (rows move up and left; rarely needed, as the region is the outline's
/// whole-pixel bounds). `None` when no pixel is inked.
///
/// Per row, the cells' areas are added up per column in a row buffer (in the lines' order, as
/// a dense accumulator adds them) while a bitmap marks the columns hit; the bitmap's set bits,
/// lowest first, then give the cells in column order with no sort. Between cells the running
/// sum stays, so a span of pixels is one fill. Cost per row: its cells, its filled spans and
/// one word per 64 columns of the bitmap between its first and last cell.
#[inline(never)]
fn sweep(
    h: usize,
    width: u32,
    row_start: &[u32],
    keys: &[(u32, f32)],
    acc: &mut Vec<f32>,
    touched: &mut Vec<u64>,
) -> Option<(Vec<u8>, [u32; 4])> {
    let w = width as usize;
    acc.clear();
    acc.resize(w, 0.0);
    touched.clear();
    touched.resize(w.div_ceil(64), 0);
    let mut data = vec![0u8; w * h];
    let (mut t0, mut t1, mut l0, mut l1) = (usize::MAX, 0usize, usize::MAX, 0usize);
    for (r, out) in data.chunks_exact_mut(w).enumerate() {
        let row = &keys[row_start[r] as usize..row_start[r + 1] as usize];
        if row.is_empty() {
            continue;
        }
        let (mut wlo, mut whi) = (usize::MAX, 0usize);
        for &(x, v) in row {
            let x = x as usize;
            acc[x] += v;
            touched[x >> 6] |= 1u64 << (x & 63);
            wlo = wlo.min(x >> 6);
            whi = whi.max(x >> 6);
        }
        let (mut first, mut end) = (usize::MAX, 0usize);
        let mut emit = |a: usize, b: usize, v: u8| {
            if first == usize::MAX {
                first = a;
            }
            end = b;
            if b == a + 1 {
                out[a] = v;
            } else {
                out[a..b].fill(v);
            }
        };
        let mut sum = 0.0f32;
        let mut next = 0usize;
        for (k, word) in touched[wlo..=whi].iter_mut().enumerate() {
            let mut m = *word;
            *word = 0;
            while m != 0 {
                let x = ((wlo + k) << 6) + m.trailing_zeros() as usize;
                m &= m - 1;
                if x > next {
                    let v = coverage_byte(sum);
                    if v != 0 {
                        emit(next, x, v);
                    }
                }
                sum += acc[x];
                acc[x] = 0.0;
                let v = coverage_byte(sum);
                if v != 0 {
                    emit(x, x + 1, v);
                }
                next = x + 1;
            }
        }
        if next < w {
            let v = coverage_byte(sum);
            if v != 0 {
                emit(next, w, v);
            }
        }
        if first != usize::MAX {
            t0 = t0.min(r);
            t1 = r + 1;
            l0 = l0.min(first);
            l1 = l1.max(end);
        }
    }
    if t0 == usize::MAX {
        return None;
    }
    let (tw, th) = (l1 - l0, t1 - t0);
    if tw != w || th != h {
        for r in 0..th {
            let src = (t0 + r) * w + l0;
            data.copy_within(src..src + tw, r * tw);
        }
        data.truncate(tw * th);
        data.shrink_to_fit();
    }
    Some((data, [l0 as u32, t0 as u32, tw as u32, th as u32]))
}

/// The coverage byte of an accumulated signed area: |sum| clamped to 1, scaled to 0..=255.
#[inline(always)]
fn coverage_byte(sum: f32) -> u8 {
    let v = if sum < 0.0 { -sum } else { sum };
    let v = if v > 1.0 { 1.0 } else { v };
    // v is in [0, 1]: the conversion is in range and exact after +0.5 truncation.
    (v * 255.0 + 0.5) as u8
}

/// Where lines put their cells, under the glyph's cell budget.
struct CellSink<'a> {
    cells: &'a mut Vec<Cell>,
    width: u32,
    /// The budget ran out: the glyph fails.
    full: bool,
}

impl CellSink<'_> {
    /// Room for `n` more cells, or the budget is spent.
    #[inline(always)]
    fn room(&mut self, n: usize) -> bool {
        if self.cells.len() + n > limits::MAX_CELLS_PER_GLYPH {
            self.full = true;
        }
        !self.full
    }

    /// Add `v` to column `x` of `row`: zero areas and columns right of the region are dropped
    /// (neither changes a pixel inside).
    #[inline(always)]
    fn add(&mut self, row: u32, x: usize, v: f32) {
        if v != 0.0 && x < self.width as usize {
            self.cells.push(Cell {
                x: x as u32,
                row,
                v,
            });
        }
    }
}

/// Split a line at x = 0 and x = w so that every piece lies inside [0, w] (pieces outside are
/// moved onto the border, which keeps their winding contribution for the pixels inside).
#[allow(clippy::too_many_arguments)]
fn clip_x_and_draw(sink: &mut CellSink, h: f32, w: f32, x0: f32, y0: f32, x1: f32, y1: f32) {
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
        draw_line(sink, h, w, clamp(ax), ay, clamp(bx), by);
        if sink.full {
            return;
        }
    }
}

/// `x.floor()` for `x` in `[0, 2³¹)`, the only values the line code floors (coordinates
/// clamped to the region): truncation, exact, and inline where `floor` is a libm call (x86-64
/// without SSE 4.1). NaN gives 0.
#[inline(always)]
fn floor_nn(x: f32) -> f32 {
    (x as i32) as f32
}

/// `x.ceil()` for `x` in `[0, 2³¹)` (see [`floor_nn`]).
#[inline(always)]
fn ceil_nn(x: f32) -> f32 {
    let t = (x as i32) as f32;
    if t < x {
        t + 1.0
    } else {
        t
    }
}

/// Add the signed area of one line (inside [0, w] horizontally) to the cells it crosses in
/// rows `0..h`.
fn draw_line(sink: &mut CellSink, h: f32, w: f32, x0: f32, y0: f32, x1: f32, y1: f32) {
    if y0 == y1 {
        return;
    }
    let (dir, x0, y0, x1, y1) = if y0 < y1 {
        (1.0f32, x0, y0, x1, y1)
    } else {
        (-1.0f32, x1, y1, x0, y0)
    };
    let ya = if y0 > 0.0 { y0 } else { 0.0 };
    let yb = if y1 < h { y1 } else { h };
    if ya >= yb {
        return;
    }
    let dxdy = (x1 - x0) / (y1 - y0);
    let r0 = floor_nn(ya) as usize;
    let r1 = ceil_nn(yb) as usize;
    let clampx = |x: f32| {
        if x < 0.0 {
            0.0
        } else if x > w {
            w
        } else {
            x
        }
    };
    for y in r0..r1 {
        let yf = y as f32;
        let ytop = if yf > ya { yf } else { ya };
        let ybot = if yf + 1.0 < yb { yf + 1.0 } else { yb };
        let dy = ybot - ytop;
        if dy <= 0.0 {
            continue;
        }
        let xa = clampx(x0 + (ytop - y0) * dxdy);
        let xb = clampx(x0 + (ybot - y0) * dxdy);
        let d = dy * dir;
        let row = y as u32;
        let (xl, xr) = if xa < xb { (xa, xb) } else { (xb, xa) };
        let xl_floor = floor_nn(xl);
        let xl_i = xl_floor as usize;
        let xr_ceil = ceil_nn(xr);
        let xr_i = xr_ceil as usize;
        // A NaN from absurd (finite) coordinates casts to 0: bounded, if meaningless.
        if !sink.room(xr_i.saturating_sub(xl_i) + 2) {
            return;
        }
        if xr_i <= xl_i + 1 {
            // The line stays within one column: split its area between this pixel and the next.
            let xm = 0.5 * (xa + xb) - xl_floor;
            sink.add(row, xl_i, d - d * xm);
            sink.add(row, xl_i + 1, d * xm);
        } else {
            let s = 1.0 / (xr - xl);
            let xl_f = xl - xl_floor;
            let a0 = 0.5 * s * (1.0 - xl_f) * (1.0 - xl_f);
            let xr_f = xr - xr_ceil + 1.0;
            let am = 0.5 * s * xr_f * xr_f;
            sink.add(row, xl_i, d * a0);
            if xr_i == xl_i + 2 {
                sink.add(row, xl_i + 1, d * (1.0 - a0 - am));
            } else {
                let a1 = s * (1.5 - xl_f);
                sink.add(row, xl_i + 1, d * (a1 - a0));
                let ds = d * s;
                for x in xl_i + 2..xr_i - 1 {
                    sink.add(row, x, ds);
                }
                let a2 = a1 + (xr_i - xl_i - 3) as f32 * s;
                sink.add(row, xr_i - 1, d * (1.0 - a2 - am));
            }
            sink.add(row, xr_i, d * am);
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
            0,
        )
        .unwrap()
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
        let c = rasterize(&s.lines, 3, -4, 3, 4, &mut Scratch::default(), 0).unwrap();
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

    /// A plain reference: every line is cut at each integer x and y it crosses, each piece
    /// (inside one pixel) adds its exact signed area to a dense f64 grid, and a running sum
    /// along each row gives the coverage. No sparse structure, no shared code.
    fn reference(lines: &[Line], left: i32, top: i32, w: usize, h: usize) -> Vec<u8> {
        let mut acc = vec![0f64; (w + 2) * h];
        for l in lines {
            let (x0, y0) = ((l.x0 - left as f32) as f64, (l.y0 - top as f32) as f64);
            let (x1, y1) = ((l.x1 - left as f32) as f64, (l.y1 - top as f32) as f64);
            if y0 == y1 {
                continue;
            }
            let mut ts = vec![0.0, 1.0];
            let (lo, hi) = (x0.min(x1).max(0.0), x0.max(x1).min(w as f64));
            for k in lo.ceil() as i64..=hi.floor() as i64 {
                if x1 != x0 {
                    ts.push((k as f64 - x0) / (x1 - x0));
                }
            }
            let (lo, hi) = (y0.min(y1).max(0.0), y0.max(y1).min(h as f64));
            for k in lo.ceil() as i64..=hi.floor() as i64 {
                ts.push((k as f64 - y0) / (y1 - y0));
            }
            ts.retain(|t| (0.0..=1.0).contains(t));
            ts.sort_by(|a, b| a.partial_cmp(b).unwrap());
            for p in ts.windows(2) {
                let (xa, ya) = (x0 + p[0] * (x1 - x0), y0 + p[0] * (y1 - y0));
                let (xb, yb) = (x0 + p[1] * (x1 - x0), y0 + p[1] * (y1 - y0));
                let ym = 0.5 * (ya + yb);
                if ym < 0.0 || ym >= h as f64 {
                    continue;
                }
                let row = ym.floor() as usize;
                let xm = 0.5 * (xa.clamp(0.0, w as f64) + xb.clamp(0.0, w as f64));
                let col = xm.floor() as usize;
                let f = xm - col as f64;
                acc[row * (w + 2) + col] += (yb - ya) * (1.0 - f);
                acc[row * (w + 2) + col + 1] += (yb - ya) * f;
            }
        }
        let mut out = vec![0u8; w * h];
        for r in 0..h {
            let mut sum = 0.0;
            for c in 0..w {
                sum += acc[r * (w + 2) + c];
                out[r * w + c] = (sum.abs().min(1.0) * 255.0 + 0.5).floor() as u8;
            }
        }
        out
    }

    /// `c` placed on the region `(left, top, w, h)`, zero elsewhere; checks that `c` is the
    /// tight box of its ink.
    fn expand(c: &Coverage, left: i32, top: i32, w: usize, h: usize) -> Vec<u8> {
        let mut full = vec![0u8; w * h];
        let (cw, ch) = (c.width as usize, c.height as usize);
        assert_eq!(c.data.len(), cw * ch);
        if cw == 0 {
            return full;
        }
        let row = |r: usize| c.data[r * cw..(r + 1) * cw].iter().any(|&v| v > 0);
        let col = |k: usize| (0..ch).any(|r| c.data[r * cw + k] > 0);
        assert!(row(0) && row(ch - 1) && col(0) && col(cw - 1), "not tight");
        let (ox, oy) = ((c.left - left) as usize, (c.top - top) as usize);
        assert!(ox + cw <= w && oy + ch <= h, "outside the region");
        for r in 0..ch {
            full[(oy + r) * w + ox..(oy + r) * w + ox + cw]
                .copy_from_slice(&c.data[r * cw..(r + 1) * cw]);
        }
        full
    }

    struct Rng(u64);
    impl Rng {
        fn next(&mut self) -> f32 {
            self.0 = self
                .0
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1);
            (self.0 >> 40) as f32 / (1u64 << 24) as f32
        }
    }

    fn random_polygons(rng: &mut Rng, w: f32, h: f32) -> Vec<Line> {
        let mut lines = Vec::new();
        for _ in 0..1 + (rng.next() * 3.0) as usize {
            let n = 3 + (rng.next() * 10.0) as usize;
            // Points reach up to a quarter of the region outside it on every side.
            let pts: Vec<(f32, f32)> = (0..n)
                .map(|_| ((rng.next() * 1.5 - 0.25) * w, (rng.next() * 1.5 - 0.25) * h))
                .collect();
            for i in 0..n {
                let (a, b) = (pts[i], pts[(i + 1) % n]);
                lines.push(Line {
                    x0: a.0,
                    y0: a.1,
                    x1: b.0,
                    y1: b.1,
                });
            }
        }
        lines
    }

    #[test]
    fn sparse_matches_a_dense_reference_on_random_polygons() {
        let mut rng = Rng(12345);
        let mut shared = Scratch::default();
        let mut worst = 0i32;
        for case in 0..400 {
            let w = 1 + (rng.next() * 60.0) as u32;
            let h = 1 + (rng.next() * 60.0) as u32;
            let (left, top) = (
                (rng.next() * 20.0) as i32 - 10,
                (rng.next() * 20.0) as i32 - 10,
            );
            let mut lines = random_polygons(&mut rng, w as f32, h as f32);
            for l in &mut lines {
                l.x0 += left as f32;
                l.x1 += left as f32;
                l.y0 += top as f32;
                l.y1 += top as f32;
            }
            let (wu, hu) = (w as usize, h as usize);
            let want = reference(&lines, left, top, wu, hu);
            // One scratch for every case: what a glyph leaves behind must not leak.
            let c = rasterize(&lines, left, top, w, h, &mut shared, 0).unwrap();
            let fresh = rasterize(&lines, left, top, w, h, &mut Scratch::default(), 0).unwrap();
            assert_eq!(c, fresh, "case {case}: scratch reuse changed the result");
            let got = expand(&c, left, top, wu, hu);
            for (i, (&g, &r)) in got.iter().zip(&want).enumerate() {
                let d = (g as i32 - r as i32).abs();
                worst = worst.max(d);
                assert!(d <= 1, "case {case} pixel {i}: {g} vs reference {r}");
            }
        }
        assert!(worst <= 1);
    }

    #[test]
    fn clipped_region_matches_the_whole_glyph() {
        // Regions cut out of a bigger render give the same pixels (±1): what lies left of the
        // region still winds, what lies right or above/below is dropped.
        let mut rng = Rng(99);
        for _ in 0..100 {
            let lines = random_polygons(&mut rng, 40.0, 30.0);
            let (fl, ft, fw, fh) = (-20, -20, 100usize, 90usize);
            let full = reference(&lines, fl, ft, fw, fh);
            let x = (rng.next() * 60.0) as i32 - 10;
            let y = (rng.next() * 50.0) as i32 - 10;
            let (w, h) = (
                1 + (rng.next() * 20.0) as u32,
                1 + (rng.next() * 20.0) as u32,
            );
            let c = rasterize(&lines, x, y, w, h, &mut Scratch::default(), 0).unwrap();
            let got = expand(&c, x, y, w as usize, h as usize);
            for r in 0..h as usize {
                for k in 0..w as usize {
                    let want = full[(y - ft) as usize * fw + r * fw + (x - fl) as usize + k];
                    let g = got[r * w as usize + k];
                    assert!((g as i32 - want as i32).abs() <= 1, "{g} vs {want}");
                }
            }
        }
    }

    #[test]
    fn non_zero_winding() {
        let mut s = OutlineSink::new(0.0, 0.0);
        // Outer 0..10 counter-clockwise (font space), inner 3..7 the same way: winding 2,
        // still full; an inner 3..7 the other way: a hole.
        square(&mut s, 0.0, 0.0, 10.0, 10.0);
        square(&mut s, 3.0, 3.0, 7.0, 7.0);
        s.finish(0).unwrap();
        let c = render(&s);
        assert!(c.data.iter().all(|&v| v == 255));
        let mut s = OutlineSink::new(0.0, 0.0);
        square(&mut s, 0.0, 0.0, 10.0, 10.0);
        s.move_to(3.0, 3.0);
        s.line_to(3.0, 7.0);
        s.line_to(7.0, 7.0);
        s.line_to(7.0, 3.0);
        s.close();
        s.finish(0).unwrap();
        let c = render(&s);
        assert_eq!((c.width, c.height), (10, 10));
        for r in 0..10 {
            for k in 0..10 {
                let hole = (3..7).contains(&r) && (3..7).contains(&k);
                assert_eq!(c.data[r * 10 + k], if hole { 0 } else { 255 });
            }
        }
        // A pentagram drawn in one stroke winds twice around its centre: filled.
        let mut s = OutlineSink::new(0.0, 0.0);
        let pt = |i: usize| {
            let a = std::f32::consts::PI * (0.5 + 0.8 * i as f32);
            (20.0 + 15.0 * a.cos(), 20.0 + 15.0 * a.sin())
        };
        s.move_to(pt(0).0, pt(0).1);
        for i in 1..5 {
            s.line_to(pt(i).0, pt(i).1);
        }
        s.close();
        s.finish(0).unwrap();
        let c = render(&s);
        let (cx, cy) = ((20 - c.left) as usize, (-20 - c.top) as usize);
        assert_eq!(c.data[cy * c.width as usize + cx], 255);
    }

    #[test]
    fn coverage_is_trimmed_to_the_ink() {
        // A region much bigger than the square: the result is the square's 4×3 box.
        let mut s = OutlineSink::new(0.0, 0.0);
        square(&mut s, 2.0, 1.0, 6.0, 4.0);
        s.finish(0).unwrap();
        let c = rasterize(&s.lines, -10, -10, 30, 30, &mut Scratch::default(), 0).unwrap();
        assert_eq!((c.left, c.top, c.width, c.height), (2, -4, 4, 3));
        // A sliver too thin to give a level: no ink, an empty coverage.
        let mut s = OutlineSink::new(0.0, 0.0);
        square(&mut s, 0.0, 0.0, 0.001, 1.0);
        s.finish(0).unwrap();
        let c = render(&s);
        assert_eq!((c.width, c.height, c.data.len()), (0, 0, 0));
    }

    #[test]
    fn millions_of_tiny_edges_hit_the_cell_budget() {
        // 1.2 M short diagonal edges (each crossing two rows and a few columns): about 6 cells
        // each, over the budget. The rasteriser stops there with limit_exceeded.
        let mut lines = Vec::with_capacity(1_200_000);
        for i in 0..1_200_000u32 {
            let x = 10.0 + (i % 150) as f32 * 6.0 + 0.3;
            let y = ((i / 150) % 950) as f32 + 0.3;
            let (dx, dy) = if i % 2 == 0 { (3.0, 1.4) } else { (-3.0, -1.4) };
            lines.push(Line {
                x0: x,
                y0: y,
                x1: x + dx,
                y1: y + dy,
            });
        }
        let mut scratch = Scratch::default();
        let e = rasterize(&lines, 0, 0, 1000, 1000, &mut scratch, 7).unwrap_err();
        assert_eq!(e.kind, crate::error::ErrorKind::LimitExceeded);
        assert!(e.message.contains("glyph 7"), "{}", e.message);
        assert!(e.message.contains("MAX_CELLS_PER_GLYPH"), "{}", e.message);
        // The scratch is given back and still works.
        assert!(scratch.cells.capacity() <= Scratch::KEEP_CELLS);
        let mut s = OutlineSink::new(0.0, 0.0);
        square(&mut s, 0.0, 0.0, 4.0, 3.0);
        s.finish(0).unwrap();
        let c = rasterize(&s.lines, 0, -3, 4, 3, &mut scratch, 0).unwrap();
        assert!(c.data.iter().all(|&v| v == 255));
    }

    #[test]
    fn huge_finite_coordinates_stay_bounded() {
        // Coordinates near f32::MAX make NaNs inside the line arithmetic: the result is
        // meaningless but bounded, with no panic.
        let big = f32::MAX / 2.0;
        let lines = [
            Line {
                x0: -big,
                y0: -big,
                x1: big,
                y1: big,
            },
            Line {
                x0: big,
                y0: big,
                x1: -big,
                y1: 5.0,
            },
            Line {
                x0: -big,
                y0: 5.0,
                x1: -big,
                y1: -big,
            },
            Line {
                x0: 3.0,
                y0: -1e30,
                x1: 4.0,
                y1: 1e30,
            },
        ];
        let c = rasterize(&lines, 0, 0, 50, 50, &mut Scratch::default(), 0).unwrap();
        assert!(c.width <= 50 && c.height <= 50);
    }

    #[test]
    fn non_finite_points_are_an_error() {
        let mut s = OutlineSink::new(0.0, 0.0);
        s.move_to(0.0, 0.0);
        s.line_to(f32::NAN, 1.0);
        assert!(s.finish(3).is_err());
    }
}
