//! Image comparison and resizing for matching (SPEC §4): `align_and_compare` of two gray images
//! and `resize_bilinear`. Pure integer/f64 arithmetic, so every host gets the same numbers.
//!
//! Images are held as *ink* (0 = paper, 255 = full ink, i.e. `255 − pixel`) over a box of their
//! canvas; outside the box they are paper. A render's ink box and a target's tight box are both
//! much smaller than a 3000×1200 canvas, and pixels that are paper in both images contribute
//! nothing to any sum, so a comparison visits only the rows and columns of the two boxes. The
//! sums run in a fixed order over the aligned canvas (rows top to bottom; within a row four
//! lanes by column mod 4, each left to right), in which paper adds exactly nothing, so the
//! numbers equal a full-canvas pass in that order bit for bit, whatever the boxes.

use crate::error::Error;
use crate::limits;

/// How two images of different sizes are aligned before comparing (SPEC §4).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Align {
    /// Both centred on the common canvas at `floor((T − w) / 2)`.
    Center,
    /// Both at the top-left corner.
    Corner,
}

impl Align {
    /// Parse `center` / `corner`; anything else is `bad_job`.
    pub fn parse(s: &str) -> Result<Align, Error> {
        match s {
            "center" => Ok(Align::Center),
            "corner" => Ok(Align::Corner),
            _ => Err(Error::bad_job(format!(
                "compare method `{s}` is unknown; use center or corner"
            ))),
        }
    }
}

/// The numbers of one comparison (SPEC §4). `a` is the first image (a render), `b` the second
/// (the target).
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct Comparison {
    /// Width of the aligned canvas, `max(Wa, Wb)`.
    pub width: u32,
    /// Height of the aligned canvas, `max(Ha, Hb)`.
    pub height: u32,
    /// Mean `|a − b|` over the aligned canvas, 0..255.
    pub pixel_delta: f64,
    /// Gaussian-weighted mean `|a − b|`: centre `(W/2, H/2)`, σ = max(min(W, H)/4, 1).
    pub center_weighted_delta: f64,
    /// Fraction of `a`'s own pixels below 128.
    pub density_a: f64,
    /// Fraction of `b`'s own pixels below 128.
    pub density_b: f64,
    /// Width / height of the box of `a`'s pixels below 128 (1.0 if there are none).
    pub aspect_a: f64,
    /// The same for `b`.
    pub aspect_b: f64,
    /// Intersection over union of the pixels below 128 on the aligned canvas (1.0 when both
    /// images have none).
    pub iou: f64,
    /// Pixels with `|a − b| > 8` on the aligned canvas.
    pub differing_pixels: u64,
}

/// An image as ink over a box of its canvas (paper outside the box).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InkImage {
    /// Canvas width.
    pub width: u32,
    /// Canvas height.
    pub height: u32,
    /// The box `[x, y, w, h]` outside which the image is paper.
    pub bbox: [u32; 4],
    /// `w × h` ink values (`255 − pixel`), row-major.
    pub ink: Vec<u8>,
    /// Pixels below 128 (ink ≥ 128) and the box of them, computed once.
    dark: Dark,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
struct Dark {
    count: u64,
    /// `[x0, y0, x1, y1]` exclusive, or `None` when there are none.
    bounds: Option<[u32; 4]>,
}

impl Dark {
    fn of(bbox: [u32; 4], ink: &[u8]) -> Dark {
        let [bx, by, bw, _] = bbox;
        let mut d = Dark::default();
        if bw == 0 {
            return d;
        }
        for (r, row) in ink.chunks_exact(bw as usize).enumerate() {
            let n = row.iter().map(|&v| (v >= 128) as u64).sum::<u64>();
            if n == 0 {
                continue;
            }
            let f = row.iter().position(|&v| v >= 128).unwrap_or(0);
            let last = row.iter().rposition(|&v| v >= 128).unwrap_or(f);
            d.count += n;
            let (x0, x1) = (bx + f as u32, bx + last as u32 + 1);
            let y = by + r as u32;
            d.bounds = Some(match d.bounds {
                None => [x0, y, x1, y + 1],
                Some([a, b, c, _]) => [a.min(x0), b, c.max(x1), y + 1],
            });
        }
        d
    }

    fn aspect(&self) -> f64 {
        match self.bounds {
            Some([x0, y0, x1, y1]) => (x1 - x0) as f64 / (y1 - y0) as f64,
            None => 1.0,
        }
    }
}

impl InkImage {
    /// An image from ink over a box (a render's ink box).
    pub fn from_ink(width: u32, height: u32, bbox: [u32; 4], ink: Vec<u8>) -> InkImage {
        debug_assert_eq!(ink.len(), bbox[2] as usize * bbox[3] as usize);
        let dark = Dark::of(bbox, &ink);
        InkImage {
            width,
            height,
            bbox,
            ink,
            dark,
        }
    }

    /// An image from gray pixels (0 = ink, 255 = paper), row-major `width × height`; only the
    /// tight box of non-paper pixels is kept.
    pub fn from_gray(width: u32, height: u32, pixels: &[u8]) -> Result<InkImage, Error> {
        check_size(width, height)?;
        let n = width as usize * height as usize;
        if pixels.len() != n {
            return Err(Error::bad_job(format!(
                "image of {width}×{height} needs {n} pixel bytes, got {}",
                pixels.len()
            )));
        }
        let (w, h) = (width as usize, height as usize);
        let (mut x0, mut y0, mut x1, mut y1) = (w, h, 0, 0);
        for (y, row) in pixels.chunks_exact(w.max(1)).enumerate().take(h) {
            if let Some(f) = row.iter().position(|&p| p != 255) {
                let l = row.iter().rposition(|&p| p != 255).unwrap_or(f);
                x0 = x0.min(f);
                x1 = x1.max(l + 1);
                y0 = y0.min(y);
                y1 = y + 1;
            }
        }
        let (bbox, ink) = if x1 == 0 {
            ([0; 4], Vec::new())
        } else {
            let bw = x1 - x0;
            let mut ink = Vec::with_capacity(bw * (y1 - y0));
            for y in y0..y1 {
                ink.extend(pixels[y * w + x0..y * w + x1].iter().map(|&p| 255 - p));
            }
            ([x0 as u32, y0 as u32, bw as u32, (y1 - y0) as u32], ink)
        };
        Ok(InkImage::from_ink(width, height, bbox, ink))
    }

    /// Decode a PGM (P5, maxval 255) or 8-bit grayscale PNG.
    pub fn decode(bytes: &[u8]) -> Result<InkImage, Error> {
        let (w, h, px) = decode_gray(bytes)?;
        InkImage::from_gray(w, h, &px)
    }

    /// The gray pixels of the whole canvas (0 = ink).
    pub fn to_gray(&self) -> Vec<u8> {
        let mut out = vec![255u8; self.width as usize * self.height as usize];
        self.view().paste_gray(&mut out, self.width, 0, 0);
        out
    }

    /// A borrowed view for [`align_and_compare`].
    pub fn view(&self) -> ImageView<'_> {
        ImageView {
            width: self.width,
            height: self.height,
            bbox: self.bbox,
            ink: &self.ink,
            dark: self.dark,
        }
    }
}

/// An image to compare: ink over a box of a canvas, borrowed (a registered target or a
/// render's ink box in the engine's buffer).
#[derive(Debug, Clone, Copy)]
pub struct ImageView<'a> {
    width: u32,
    height: u32,
    bbox: [u32; 4],
    ink: &'a [u8],
    dark: Dark,
}

impl<'a> ImageView<'a> {
    /// An ink box on a `canvas_width × canvas_height` canvas: `bbox` is `[x, y, w, h]` and
    /// `ink` its `w × h` values (paper outside); a render's box gives one with `InkBox::view`.
    pub fn of_ink_box(
        canvas_width: u32,
        canvas_height: u32,
        bbox: [u32; 4],
        ink: &'a [u8],
    ) -> ImageView<'a> {
        let bbox = if bbox[2] == 0 || bbox[3] == 0 {
            [0; 4]
        } else {
            bbox
        };
        ImageView {
            width: canvas_width,
            height: canvas_height,
            bbox,
            ink,
            dark: Dark::of(bbox, ink),
        }
    }

    fn ink_at_row(&self, y: u32) -> Option<&'a [u8]> {
        let [_, by, bw, bh] = self.bbox;
        (bw > 0 && y >= by && y < by + bh).then(|| {
            let r = (y - by) as usize * bw as usize;
            &self.ink[r..r + bw as usize]
        })
    }

    /// Paste this image's box into a gray canvas of width `cw` at offset `(ox, oy)`.
    fn paste_gray(&self, out: &mut [u8], cw: u32, ox: u32, oy: u32) {
        let [bx, by, bw, _] = self.bbox;
        if bw == 0 {
            return;
        }
        for (r, row) in self.ink.chunks_exact(bw as usize).enumerate() {
            let at = (oy + by + r as u32) as usize * cw as usize + (ox + bx) as usize;
            for (d, &v) in out[at..at + bw as usize].iter_mut().zip(row) {
                *d = 255 - v;
            }
        }
    }
}

fn check_size(width: u32, height: u32) -> Result<(), Error> {
    if width == 0 || height == 0 {
        return Err(Error::bad_job(format!(
            "image size {width}×{height}: both sides must be at least 1"
        )));
    }
    if width > limits::MAX_CANVAS_SIDE
        || height > limits::MAX_CANVAS_SIDE
        || width as u64 * height as u64 > limits::MAX_CANVAS_PIXELS
    {
        return Err(Error::limit(format!(
            "image {width}×{height} is over the canvas limits ({} per side, {} pixels)",
            limits::MAX_CANVAS_SIDE,
            limits::MAX_CANVAS_PIXELS
        )));
    }
    Ok(())
}

/// Decode PGM (binary P5, maxval 255) or PNG (8-bit grayscale; other PNG colour types are
/// converted to gray only if they are gray+alpha, by dropping alpha onto white).
pub fn decode_gray(bytes: &[u8]) -> Result<(u32, u32, Vec<u8>), Error> {
    if bytes.starts_with(b"P5") {
        return decode_pgm(bytes);
    }
    if bytes.starts_with(b"\x89PNG") {
        return decode_png(bytes);
    }
    Err(Error::bad_job(
        "image is neither a binary PGM (P5) nor a PNG",
    ))
}

fn decode_pgm(bytes: &[u8]) -> Result<(u32, u32, Vec<u8>), Error> {
    let bad = |m: &str| Error::bad_job(format!("PGM image: {m}"));
    let mut pos = 2;
    let mut fields = [0u64; 3];
    for f in fields.iter_mut() {
        // Whitespace and comments, then digits.
        loop {
            match bytes.get(pos) {
                Some(b' ' | b'\t' | b'\n' | b'\r') => pos += 1,
                Some(b'#') => {
                    while !matches!(bytes.get(pos), Some(b'\n') | None) {
                        pos += 1;
                    }
                }
                _ => break,
            }
        }
        let start = pos;
        while let Some(c) = bytes.get(pos).filter(|c| c.is_ascii_digit()) {
            *f = f.saturating_mul(10).saturating_add((c - b'0') as u64);
            pos += 1;
        }
        if pos == start {
            return Err(bad("truncated header"));
        }
    }
    if !matches!(bytes.get(pos), Some(b' ' | b'\t' | b'\n' | b'\r')) {
        return Err(bad("truncated header"));
    }
    pos += 1;
    let [w, h, maxval] = fields;
    if maxval != 255 {
        return Err(bad(&format!("maxval is {maxval}; only 255 is supported")));
    }
    let (w, h) = (
        u32::try_from(w).map_err(|_| bad("width too large"))?,
        u32::try_from(h).map_err(|_| bad("height too large"))?,
    );
    check_size(w, h)?;
    let n = w as usize * h as usize;
    let px = bytes
        .get(pos..pos + n)
        .ok_or_else(|| bad(&format!("{w}×{h} needs {n} pixel bytes; the file is short")))?;
    Ok((w, h, px.to_vec()))
}

fn decode_png(bytes: &[u8]) -> Result<(u32, u32, Vec<u8>), Error> {
    let bad = |m: String| Error::bad_job(format!("PNG image: {m}"));
    let mut decoder = png::Decoder::new(std::io::Cursor::new(bytes));
    decoder.set_transformations(png::Transformations::EXPAND | png::Transformations::STRIP_16);
    let mut reader = decoder.read_info().map_err(|e| bad(e.to_string()))?;
    let (w, h) = {
        let info = reader.info();
        (info.width, info.height)
    };
    check_size(w, h)?;
    let size = reader
        .output_buffer_size()
        .ok_or_else(|| bad("image too large".into()))?;
    let mut buf = vec![0u8; size];
    let frame = reader
        .next_frame(&mut buf)
        .map_err(|e| bad(e.to_string()))?;
    let n = w as usize * h as usize;
    let px = match frame.color_type {
        png::ColorType::Grayscale => buf[..n].to_vec(),
        png::ColorType::GrayscaleAlpha => buf[..2 * n]
            .chunks_exact(2)
            .map(|p| {
                // Gray over white paper.
                let (g, a) = (p[0] as u32, p[1] as u32);
                ((g * a + 255 * (255 - a) + 127) / 255) as u8
            })
            .collect(),
        other => {
            return Err(bad(format!(
                "colour type {other:?}; only grayscale images can be compared"
            )))
        }
    };
    Ok((w, h, px))
}

/// Gaussian weights along one axis of the aligned canvas: `exp(−(i − c)² / (2σ²))`.
fn weights(n: u32, centre: f64, sigma: f64) -> Vec<f64> {
    let k = 2.0 * sigma * sigma;
    (0..n)
        .map(|i| {
            let d = i as f64 - centre;
            libm::exp(-(d * d) / k)
        })
        .collect()
}

/// The Gaussian weights of an aligned canvas (SPEC §4), kept between comparisons of the same
/// size (a sweep compares every point on the same canvas).
#[derive(Debug, Clone, PartialEq)]
pub struct Weights {
    width: u32,
    height: u32,
    wx: Vec<f64>,
    wy: Vec<f64>,
    total: f64,
}

impl Weights {
    /// The weights of a `width × height` aligned canvas.
    pub fn new(width: u32, height: u32) -> Weights {
        let sigma = (width.min(height) as f64 / 4.0).max(1.0);
        let wx = weights(width, width as f64 / 2.0, sigma);
        let wy = weights(height, height as f64 / 2.0, sigma);
        let total = {
            let sx: f64 = wx.iter().sum();
            let sy: f64 = wy.iter().sum();
            sx * sy
        };
        Weights {
            width,
            height,
            wx,
            wy,
            total,
        }
    }
}

/// Compare `a` (e.g. a render) with `b` (e.g. a target) after aligning both on white
/// `max(W) × max(H)` (SPEC §4).
pub fn align_and_compare(a: &ImageView<'_>, b: &ImageView<'_>, method: Align) -> Comparison {
    let mut cache = None;
    align_and_compare_cached(a, b, method, &mut cache)
}

/// [`align_and_compare`] with the weights kept in `cache` (rebuilt when the canvas changes).
pub fn align_and_compare_cached(
    a: &ImageView<'_>,
    b: &ImageView<'_>,
    method: Align,
    cache: &mut Option<Weights>,
) -> Comparison {
    let (tw, th) = (a.width.max(b.width), a.height.max(b.height));
    let (oa, ob) = offsets(a, b, method);
    if cache
        .as_ref()
        .is_none_or(|w| (w.width, w.height) != (tw, th))
    {
        *cache = Some(Weights::new(tw, th));
    }
    let w = cache.as_ref().expect("set above");
    let (wx, wy, weight_total) = (&w.wx, &w.wy, w.total);
    // Each image's box on the aligned canvas: [x0, y0, x1, y1).
    let abox = placed_box(a, oa);
    let bbox = placed_box(b, ob);
    let mut acc = Sums::default();
    let mut weighted = 0.0f64;
    let (y_lo, y_hi) = (abox[1].min(bbox[1]), abox[3].max(bbox[3]));
    let (ax0, ax1) = (abox[0] as usize, abox[2] as usize);
    let (bx0, bx1) = (bbox[0] as usize, bbox[2] as usize);
    for y in y_lo..y_hi {
        let ra = a.ink_at_row(y.wrapping_sub(oa.1)).filter(|_| y >= oa.1);
        let rb = b.ink_at_row(y.wrapping_sub(ob.1)).filter(|_| y >= ob.1);
        // Visit the row's inked columns left to right: a alone, both, b alone. Paper in both
        // images adds nothing; adding +0.0 to the (non-negative) weighted sum changes no bit,
        // so the sums equal a full pass over the aligned canvas.
        acc.lanes = [0.0; 4];
        match (ra, rb) {
            (None, None) => continue,
            (Some(pa), None) => acc.one(ax0, pa, wx),
            (None, Some(pb)) => acc.one(bx0, pb, wx),
            (Some(pa), Some(pb)) => {
                let (s0, s1) = (ax0.max(bx0), ax1.min(bx1));
                if s0 >= s1 {
                    if ax0 < bx0 {
                        acc.one(ax0, pa, wx);
                        acc.one(bx0, pb, wx);
                    } else {
                        acc.one(bx0, pb, wx);
                        acc.one(ax0, pa, wx);
                    }
                } else {
                    if ax0 < s0 {
                        acc.one(ax0, &pa[..s0 - ax0], wx);
                    } else if bx0 < s0 {
                        acc.one(bx0, &pb[..s0 - bx0], wx);
                    }
                    acc.two(s0, &pa[s0 - ax0..s1 - ax0], &pb[s0 - bx0..s1 - bx0], wx);
                    if ax1 > s1 {
                        acc.one(s1, &pa[s1 - ax0..], wx);
                    } else if bx1 > s1 {
                        acc.one(s1, &pb[s1 - bx0..], wx);
                    }
                }
            }
        }
        let row = acc.row_total();
        if row != 0.0 {
            weighted += wy[y as usize] * row;
        }
    }
    let (delta_sum, differing, both_dark) = (acc.delta, acc.differing, acc.both_dark);
    let n = tw as f64 * th as f64;
    let union = a.dark.count + b.dark.count - both_dark;
    Comparison {
        width: tw,
        height: th,
        pixel_delta: delta_sum as f64 / n,
        center_weighted_delta: weighted / weight_total,
        density_a: a.dark.count as f64 / (a.width as f64 * a.height as f64),
        density_b: b.dark.count as f64 / (b.width as f64 * b.height as f64),
        aspect_a: a.dark.aspect(),
        aspect_b: b.dark.aspect(),
        iou: if union == 0 {
            1.0
        } else {
            both_dark as f64 / union as f64
        },
        differing_pixels: differing,
    }
}

/// Running sums of one comparison. The weighted sum of a row runs in four lanes by absolute
/// column (`x mod 4`), each left to right, then `(l0 + l1) + (l2 + l3)`: a fixed order that
/// does not depend on where the boxes start, so skipping paper (adding +0.0) changes no bit.
#[derive(Default)]
struct Sums {
    delta: u64,
    differing: u64,
    both_dark: u64,
    lanes: [f64; 4],
}

impl Sums {
    fn row_total(&self) -> f64 {
        (self.lanes[0] + self.lanes[1]) + (self.lanes[2] + self.lanes[3])
    }

    /// Columns `x0..` where only one image has ink (the other is paper: `d` is the ink).
    #[inline]
    fn one(&mut self, x0: usize, ink: &[u8], wx: &[f64]) {
        let wx = &wx[x0..x0 + ink.len()];
        let head = ((4 - (x0 & 3)) & 3).min(ink.len());
        let (mut delta, mut differing, mut lanes) = (0u64, 0u64, self.lanes);
        for i in 0..head {
            let d = ink[i];
            delta += d as u64;
            differing += (d > 8) as u64;
            lanes[(x0 + i) & 3] += wx[i] * d as f64;
        }
        let mut ci = ink[head..].chunks_exact(4);
        let mut cw = wx[head..].chunks_exact(4);
        for (c, k) in (&mut ci).zip(&mut cw) {
            for j in 0..4 {
                let d = c[j];
                delta += d as u64;
                differing += (d > 8) as u64;
                lanes[j] += k[j] * d as f64;
            }
        }
        for (j, (&d, &k)) in ci.remainder().iter().zip(cw.remainder()).enumerate() {
            delta += d as u64;
            differing += (d > 8) as u64;
            lanes[j] += k * d as f64;
        }
        self.delta += delta;
        self.differing += differing;
        self.lanes = lanes;
    }

    /// Columns `x0..` where both images may have ink.
    #[inline]
    fn two(&mut self, x0: usize, a: &[u8], b: &[u8], wx: &[f64]) {
        let n = a.len().min(b.len());
        let (a, b, wx) = (&a[..n], &b[..n], &wx[x0..x0 + n]);
        let head = ((4 - (x0 & 3)) & 3).min(n);
        let (mut delta, mut differing, mut dark, mut lanes) = (0u64, 0u64, 0u64, self.lanes);
        let mut step = |lane: usize, ia: u8, ib: u8, k: f64, lanes: &mut [f64; 4]| {
            let d = ia.abs_diff(ib);
            delta += d as u64;
            differing += (d > 8) as u64;
            dark += ((ia & ib) >> 7) as u64;
            lanes[lane] += k * d as f64;
        };
        for i in 0..head {
            step((x0 + i) & 3, a[i], b[i], wx[i], &mut lanes);
        }
        let mut ca = a[head..].chunks_exact(4);
        let mut cb = b[head..].chunks_exact(4);
        let mut cw = wx[head..].chunks_exact(4);
        for ((pa, pb), k) in (&mut ca).zip(&mut cb).zip(&mut cw) {
            for j in 0..4 {
                step(j, pa[j], pb[j], k[j], &mut lanes);
            }
        }
        for (j, ((&ia, &ib), &k)) in ca
            .remainder()
            .iter()
            .zip(cb.remainder())
            .zip(cw.remainder())
            .enumerate()
        {
            step(j, ia, ib, k, &mut lanes);
        }
        self.delta += delta;
        self.differing += differing;
        self.both_dark += dark;
        self.lanes = lanes;
    }
}

fn offsets(a: &ImageView<'_>, b: &ImageView<'_>, method: Align) -> ((u32, u32), (u32, u32)) {
    let (tw, th) = (a.width.max(b.width), a.height.max(b.height));
    match method {
        Align::Corner => ((0, 0), (0, 0)),
        Align::Center => (
            ((tw - a.width) / 2, (th - a.height) / 2),
            ((tw - b.width) / 2, (th - b.height) / 2),
        ),
    }
}

fn placed_box(img: &ImageView<'_>, (ox, oy): (u32, u32)) -> [u32; 4] {
    let [x, y, w, h] = img.bbox;
    if w == 0 {
        return [0; 4];
    }
    [ox + x, oy + y, ox + x + w, oy + y + h]
}

/// Both images pasted on the aligned white canvas (gray pixels), `a` then `b`.
pub fn aligned_pair(
    a: &ImageView<'_>,
    b: &ImageView<'_>,
    method: Align,
) -> (u32, u32, Vec<u8>, Vec<u8>) {
    let (tw, th) = (a.width.max(b.width), a.height.max(b.height));
    let (oa, ob) = offsets(a, b, method);
    let n = tw as usize * th as usize;
    let mut pa = vec![255u8; n];
    let mut pb = vec![255u8; n];
    a.paste_gray(&mut pa, tw, oa.0, oa.1);
    b.paste_gray(&mut pb, tw, ob.0, ob.1);
    (tw, th, pa, pb)
}

/// The size `resize_bilinear` gives a side: `max(1, round(side · m))`, half away from zero.
pub fn resized_side(side: u32, multiplier: f64) -> u64 {
    ((side as f64 * multiplier).round() as u64).max(1)
}

/// Resize gray pixels by `multiplier` (0.01..=100) with bilinear interpolation (OpenCV
/// `INTER_LINEAR` geometry: pixel-centre mapping `s = (d + 0.5) · src/dst − 0.5`, clamped to
/// the edge), rounding to the nearest level. A constant image stays constant.
pub fn resize_bilinear(
    width: u32,
    height: u32,
    pixels: &[u8],
    multiplier: f64,
) -> Result<(u32, u32, Vec<u8>), Error> {
    check_size(width, height)?;
    if pixels.len() != width as usize * height as usize {
        return Err(Error::bad_job(format!(
            "image of {width}×{height} needs {} pixel bytes, got {}",
            width as usize * height as usize,
            pixels.len()
        )));
    }
    if !(multiplier.is_finite() && (0.01..=100.0).contains(&multiplier)) {
        return Err(Error::bad_job(format!(
            "resize multiplier {multiplier} must be between 0.01 and 100"
        )));
    }
    let (dw, dh) = (
        resized_side(width, multiplier),
        resized_side(height, multiplier),
    );
    if dw > limits::MAX_CANVAS_SIDE as u64
        || dh > limits::MAX_CANVAS_SIDE as u64
        || dw * dh > limits::MAX_CANVAS_PIXELS
    {
        return Err(Error::limit(format!(
            "resizing {width}×{height} by {multiplier} gives {dw}×{dh}, over the canvas limits ({} per side, {} pixels)",
            limits::MAX_CANVAS_SIDE,
            limits::MAX_CANVAS_PIXELS
        )));
    }
    let (dw, dh) = (dw as u32, dh as u32);
    // Per destination column/row: the two source indices and the weight of the second.
    let taps = |src: u32, dst: u32| -> Vec<(usize, usize, f64)> {
        let scale = src as f64 / dst as f64;
        (0..dst)
            .map(|d| {
                let s = (d as f64 + 0.5) * scale - 0.5;
                let s0 = s.floor();
                let f = s - s0;
                let last = src as i64 - 1;
                let i0 = (s0 as i64).clamp(0, last) as usize;
                let i1 = (s0 as i64 + 1).clamp(0, last) as usize;
                (i0, i1, f)
            })
            .collect()
    };
    let xs = taps(width, dw);
    let ys = taps(height, dh);
    let w = width as usize;
    let mut out = Vec::with_capacity(dw as usize * dh as usize);
    for &(y0, y1, fy) in &ys {
        let (r0, r1) = (&pixels[y0 * w..y0 * w + w], &pixels[y1 * w..y1 * w + w]);
        for &(x0, x1, fx) in &xs {
            let top = r0[x0] as f64 * (1.0 - fx) + r0[x1] as f64 * fx;
            let bottom = r1[x0] as f64 * (1.0 - fx) + r1[x1] as f64 * fx;
            let v = top * (1.0 - fy) + bottom * fy;
            out.push((v + 0.5).floor().clamp(0.0, 255.0) as u8);
        }
    }
    Ok((dw, dh, out))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gray(w: u32, h: u32, mut f: impl FnMut(u32, u32) -> u8) -> Vec<u8> {
        let mut out = Vec::with_capacity((w * h) as usize);
        for y in 0..h {
            for x in 0..w {
                out.push(f(x, y));
            }
        }
        out
    }

    /// The full-canvas definition, pixel by pixel.
    fn reference(a: (u32, u32, &[u8]), b: (u32, u32, &[u8]), m: Align) -> Comparison {
        let (tw, th) = (a.0.max(b.0), a.1.max(b.1));
        let off = |w: u32, h: u32| match m {
            Align::Corner => (0, 0),
            Align::Center => ((tw - w) / 2, (th - h) / 2),
        };
        let paste = |img: (u32, u32, &[u8])| {
            let (ox, oy) = off(img.0, img.1);
            let mut c = vec![255u8; (tw * th) as usize];
            for y in 0..img.1 {
                for x in 0..img.0 {
                    c[((y + oy) * tw + x + ox) as usize] = img.2[(y * img.0 + x) as usize];
                }
            }
            c
        };
        let (pa, pb) = (paste(a), paste(b));
        let sigma = (tw.min(th) as f64 / 4.0).max(1.0);
        let wx = weights(tw, tw as f64 / 2.0, sigma);
        let wy = weights(th, th as f64 / 2.0, sigma);
        let (mut sum, mut wsum, mut diff, mut inter, mut uni) = (0u64, 0.0, 0u64, 0u64, 0u64);
        for y in 0..th {
            // The weighted sum's documented order: four lanes by x mod 4, then pairs.
            let mut lanes = [0.0f64; 4];
            for x in 0..tw {
                let i = (y * tw + x) as usize;
                let d = pa[i].abs_diff(pb[i]);
                if d != 0 {
                    sum += d as u64;
                    lanes[(x & 3) as usize] += wx[x as usize] * d as f64;
                }
                diff += (d > 8) as u64;
                inter += (pa[i] < 128 && pb[i] < 128) as u64;
                uni += (pa[i] < 128 || pb[i] < 128) as u64;
            }
            let row = (lanes[0] + lanes[1]) + (lanes[2] + lanes[3]);
            if row != 0.0 {
                wsum += wy[y as usize] * row;
            }
        }
        let stats = |img: (u32, u32, &[u8])| {
            let mut n = 0u64;
            let (mut x0, mut y0, mut x1, mut y1) = (u32::MAX, u32::MAX, 0, 0);
            for y in 0..img.1 {
                for x in 0..img.0 {
                    if img.2[(y * img.0 + x) as usize] < 128 {
                        n += 1;
                        x0 = x0.min(x);
                        y0 = y0.min(y);
                        x1 = x1.max(x + 1);
                        y1 = y1.max(y + 1);
                    }
                }
            }
            let aspect = if n == 0 {
                1.0
            } else {
                (x1 - x0) as f64 / (y1 - y0) as f64
            };
            (n as f64 / (img.0 as f64 * img.1 as f64), aspect)
        };
        let (da, aa) = stats(a);
        let (db, ab) = stats(b);
        let total: f64 = wx.iter().sum::<f64>() * wy.iter().sum::<f64>();
        Comparison {
            width: tw,
            height: th,
            pixel_delta: sum as f64 / (tw as f64 * th as f64),
            center_weighted_delta: wsum / total,
            density_a: da,
            density_b: db,
            aspect_a: aa,
            aspect_b: ab,
            iou: if uni == 0 {
                1.0
            } else {
                inter as f64 / uni as f64
            },
            differing_pixels: diff,
        }
    }

    fn lcg(seed: &mut u64) -> u32 {
        *seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (*seed >> 33) as u32
    }

    #[test]
    fn box_walk_equals_full_canvas_definition() {
        let mut seed = 7u64;
        for case in 0..60 {
            let dims = |s: &mut u64| (1 + lcg(s) % 40, 1 + lcg(s) % 30);
            let (aw, ah) = dims(&mut seed);
            let (bw, bh) = if case % 3 == 0 {
                (aw, ah)
            } else {
                dims(&mut seed)
            };
            // Sparse ink blobs on white, sometimes blank, sometimes full.
            let mk = |w: u32, h: u32, s: &mut u64| -> Vec<u8> {
                let kind = lcg(s) % 6;
                let (cx, cy, r) = (lcg(s) % w, lcg(s) % h, 1 + lcg(s) % 12);
                let mut seed2 = lcg(s) as u64;
                gray(w, h, |x, y| match kind {
                    0 => 255,
                    1 => 0,
                    _ => {
                        if x.abs_diff(cx) <= r && y.abs_diff(cy) <= r {
                            (lcg(&mut seed2) % 256) as u8
                        } else {
                            255
                        }
                    }
                })
            };
            let pa = mk(aw, ah, &mut seed);
            let pb = mk(bw, bh, &mut seed);
            for m in [Align::Center, Align::Corner] {
                let a = InkImage::from_gray(aw, ah, &pa).unwrap();
                let b = InkImage::from_gray(bw, bh, &pb).unwrap();
                let got = align_and_compare(&a.view(), &b.view(), m);
                let want = reference((aw, ah, &pa), (bw, bh, &pb), m);
                assert_eq!(got, want, "case {case} {m:?}");
            }
        }
    }

    #[test]
    fn identical_images_compare_equal() {
        let p = gray(30, 20, |x, y| {
            if (5..15).contains(&x) && y > 4 {
                10
            } else {
                255
            }
        });
        let a = InkImage::from_gray(30, 20, &p).unwrap();
        let c = align_and_compare(&a.view(), &a.view(), Align::Center);
        assert_eq!(c.pixel_delta, 0.0);
        assert_eq!(c.center_weighted_delta, 0.0);
        assert_eq!(c.iou, 1.0);
        assert_eq!(c.differing_pixels, 0);
        assert_eq!(c.aspect_a, 10.0 / 15.0);
        assert_eq!(c.density_a, 150.0 / 600.0);
    }

    #[test]
    fn methods_parse() {
        assert_eq!(Align::parse("center").unwrap(), Align::Center);
        assert_eq!(Align::parse("corner").unwrap(), Align::Corner);
        assert_eq!(
            Align::parse("centre").unwrap_err().kind,
            crate::ErrorKind::BadJob
        );
    }

    #[test]
    fn resize_keeps_constant_images_and_corners() {
        let p = vec![77u8; 13 * 7];
        for m in [0.01, 0.3, 0.5, 1.0, 1.7, 3.0, 100.0] {
            let (w, h, out) = resize_bilinear(13, 7, &p, m).unwrap();
            assert_eq!(w as u64, resized_side(13, m));
            assert_eq!(h as u64, resized_side(7, m));
            assert!(out.iter().all(|&v| v == 77), "m={m}");
        }
        // Upscaling by 2: the corner pixels keep the source corners (edge clamp).
        let p = gray(4, 3, |x, y| (x * 60 + y * 5) as u8);
        let (w, h, out) = resize_bilinear(4, 3, &p, 2.0).unwrap();
        assert_eq!((w, h), (8, 6));
        assert_eq!(out[0], p[0]);
        assert_eq!(out[7], p[3]);
        assert_eq!(out[40], p[8]);
        assert_eq!(out[47], p[11]);
        assert_eq!(
            resize_bilinear(4, 3, &p, 0.0).unwrap_err().kind,
            crate::ErrorKind::BadJob
        );
        assert_eq!(
            resize_bilinear(4, 3, &p, f64::NAN).unwrap_err().kind,
            crate::ErrorKind::BadJob
        );
    }

    #[test]
    fn pgm_and_png_decode() {
        let p = gray(5, 3, |x, y| (x * 40 + y) as u8);
        let mut pgm = Vec::new();
        crate::encode::pgm_header(5, 3, &mut pgm);
        pgm.extend_from_slice(&p);
        assert_eq!(decode_gray(&pgm).unwrap(), (5, 3, p.clone()));
        let png = crate::encode::png(5, 3, &p).unwrap();
        assert_eq!(decode_gray(&png).unwrap(), (5, 3, p.clone()));
        assert_eq!(
            decode_gray(&pgm[..pgm.len() - 1]).unwrap_err().kind,
            crate::ErrorKind::BadJob
        );
        assert_eq!(
            decode_gray(b"GIF89a").unwrap_err().kind,
            crate::ErrorKind::BadJob
        );
        let img = InkImage::decode(&png).unwrap();
        assert_eq!(img.to_gray(), p);
    }
}
