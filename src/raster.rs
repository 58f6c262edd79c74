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
    /// The cells bucketed by row (a counting sort, so stable): `x << 32 | index into cells`,
    /// then sorted by that key within each row, which orders a row by column and keeps the
    /// lines' order among the contributions to one cell.
    keys: Vec<u64>,
    /// `row_start[r]..row_start[r + 1]` is row `r`'s part of `keys`.
    row_start: Vec<u32>,
    /// Per row, the columns `[first, end)` of its non-zero pixels (`first == end`: none).
    extent: Vec<(u32, u32)>,
}

impl Scratch {
    /// Scratch beyond this many cells (a hostile or gigantic glyph) is given back after use.
    const KEEP_CELLS: usize = 1 << 20;

    fn trim(&mut self) {
        if self.cells.capacity() > Self::KEEP_CELLS {
            self.cells = Vec::new();
            self.keys = Vec::new();
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
        extent,
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
            return Err(Error::over_limit(
                format!("glyph {gid}"),
                format!("more than {} raster cells", limits::MAX_CELLS_PER_GLYPH),
                format!("{} (MAX_CELLS_PER_GLYPH)", limits::MAX_CELLS_PER_GLYPH),
                "",
            ));
        }
    }
    let cells = &*sink.cells;
    if cells.is_empty() {
        return Ok(empty);
    }
    // 2. Bucket by row (counting sort), then order each row by column.
    let h = height as usize;
    row_start.clear();
    row_start.resize(h + 1, 0);
    for c in cells {
        row_start[c.row as usize + 1] += 1;
    }
    for r in 0..h {
        row_start[r + 1] += row_start[r];
    }
    keys.clear();
    keys.resize(cells.len(), 0);
    {
        // `extent` doubles as the per-row write cursor here.
        extent.clear();
        extent.extend(row_start[..h].iter().map(|&s| (s, 0)));
        for (i, c) in cells.iter().enumerate() {
            let slot = &mut extent[c.row as usize].0;
            keys[*slot as usize] = (c.x as u64) << 32 | i as u64;
            *slot += 1;
        }
    }
    // 3. Per row, the extent of its non-zero pixels; their union is the tight box.
    let (mut t0, mut t1, mut l0, mut l1) = (u32::MAX, 0u32, u32::MAX, 0u32);
    for r in 0..h {
        let row = &mut keys[row_start[r] as usize..row_start[r + 1] as usize];
        row.sort_unstable();
        let (mut first, mut end) = (u32::MAX, 0u32);
        sweep_row(row, cells, width, |a, b, _| {
            if first == u32::MAX {
                first = a;
            }
            end = b;
        });
        if first == u32::MAX {
            extent[r] = (0, 0);
            continue;
        }
        extent[r] = (first, end);
        t0 = t0.min(r as u32);
        t1 = r as u32 + 1;
        l0 = l0.min(first);
        l1 = l1.max(end);
    }
    if t0 == u32::MAX {
        return Ok(empty);
    }
    // 4. Write the tight box: only the non-zero runs are touched.
    let (tw, th) = ((l1 - l0) as usize, (t1 - t0) as usize);
    let mut data = vec![0u8; tw * th];
    for r in t0..t1 {
        let (first, end) = extent[r as usize];
        if first == end {
            continue;
        }
        let row = &keys[row_start[r as usize] as usize..row_start[r as usize + 1] as usize];
        let out = &mut data[(r - t0) as usize * tw..(r - t0 + 1) as usize * tw];
        sweep_row(row, cells, width, |a, b, v| {
            let (a, b) = ((a - l0) as usize, (b - l0) as usize);
            if b == a + 1 {
                out[a] = v;
            } else {
                out[a..b].fill(v);
            }
        });
    }
    Ok(Coverage {
        left: left + l0 as i32,
        top: top + t0 as i32,
        width: tw as u32,
        height: th as u32,
        data,
    })
}

/// Walk one row's cells (keys sorted by column) with the running sum of their areas, calling
/// `emit(a, b, v)` for every run `[a, b)` of pixels whose coverage `v` is not 0, left to right.
/// Pixels between cells keep the running sum; the cells of one column are added up in the
/// order the lines made them, then added to the running sum, as a dense accumulator would.
#[inline(always)]
fn sweep_row(row: &[u64], cells: &[Cell], width: u32, mut emit: impl FnMut(u32, u32, u8)) {
    let mut sum = 0.0f32;
    let mut next = 0u32;
    let mut i = 0;
    while i < row.len() {
        let x = (row[i] >> 32) as u32;
        let mut c = 0.0f32;
        while i < row.len() && (row[i] >> 32) as u32 == x {
            c += cells[row[i] as u32 as usize].v;
            i += 1;
        }
        if x > next {
            let v = coverage_byte(sum);
            if v != 0 {
                emit(next, x, v);
            }
        }
        sum += c;
        let v = coverage_byte(sum);
        if v != 0 {
            emit(x, x + 1, v);
        }
        next = x + 1;
    }
    if next < width {
        let v = coverage_byte(sum);
        if v != 0 {
            emit(next, width, v);
        }
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
    let r0 = ya.floor() as usize;
    let r1 = yb.ceil() as usize;
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
        let xl_floor = xl.floor();
        let xl_i = xl_floor as usize;
        let xr_ceil = xr.ceil();
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

    #[test]
    fn non_finite_points_are_an_error() {
        let mut s = OutlineSink::new(0.0, 0.0);
        s.move_to(0.0, 0.0);
        s.line_to(f32::NAN, 1.0);
        assert!(s.finish(3).is_err());
    }
}
