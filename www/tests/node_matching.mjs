// Node test of the matching API (SPEC §4) of the ES module (www/pkg/haforu_web.js):
//   font.sweep({...})  — every point equals the single render() at its coordinates, byte for byte;
//                        a failing point is isolated; job-level problems throw with `.kind`;
//   compare(a, b, m)   — against a plain JS implementation of the SPEC definitions written here;
//   resize(image, m)   — likewise;
//   parity             — the same sweep/compare jobs give the same numbers and bytes through the
//                        native CLI (`haforu batch`, run here via child_process) as in JS.
// Run from anywhere: `node --expose-gc www/tests/node_matching.mjs` (after `make web`). The CLI is
// $HAFORU_CLI, else target/release/haforu (built with `cargo build --release -p haforu-cli` when
// missing).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const PKG = process.env.HAFORU_WEB_PKG || path.join(ROOT, 'www/pkg');
const mod = await import(pathToFileURL(path.join(PKG, 'haforu_web.js')).href);
const { default: init, Font, render, compare, resize, version } = mod;
await init({ module_or_path: fs.readFileSync(path.join(PKG, 'haforu_web_bg.wasm')) });

const INTER = 'tests/fonts/Inter-VF-subset.ttf';
const DEJAVU = 'tests/fonts/DejaVuSans-subset.ttf';
const inter = Font.load(fs.readFileSync(path.join(ROOT, INTER)));
const dejavu = Font.load(fs.readFileSync(path.join(ROOT, DEJAVU)));

// ---- small helpers -------------------------------------------------------------------------

/** Deterministic PRNG (mulberry32). */
function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const int = (r, n) => Math.floor(r() * n);

/** A gray test image: blank, full, noise, or noisy blobs on white. */
function image(r, width, height, kind) {
  const px = new Uint8Array(width * height).fill(255);
  if (kind === 'full') px.fill(0);
  if (kind === 'noise') for (let i = 0; i < px.length; i++) px[i] = int(r, 256);
  if (kind === 'blobs') {
    for (let k = 0; k < 3; k++) {
      const [cx, cy, rad] = [int(r, width), int(r, height), 1 + int(r, 12)];
      for (let y = Math.max(0, cy - rad); y <= Math.min(height - 1, cy + rad); y++) {
        for (let x = Math.max(0, cx - rad); x <= Math.min(width - 1, cx + rad); x++) {
          px[y * width + x] = int(r, 256);
        }
      }
    }
  }
  return { width, height, pixels: px };
}

/** Round half up, exactly (no `floor(x + 0.5)` double rounding). */
function roundHalfUp(x) {
  const f = Math.floor(x);
  return x - f >= 0.5 ? f + 1 : f;
}

// ---- the SPEC §4 definitions, written plainly ----------------------------------------------

/** align_and_compare: a full pass over the aligned max(W)×max(H) white canvas. */
function refCompare(a, b, method = 'center') {
  // A render result's `pixels` is a getter that copies: read it once.
  [a, b] = [a, b].map((img) => ({ width: img.width, height: img.height, pixels: img.pixels }));
  const W = Math.max(a.width, b.width);
  const H = Math.max(a.height, b.height);
  const paste = (img) => {
    const [ox, oy] = method === 'corner' ? [0, 0]
      : [Math.floor((W - img.width) / 2), Math.floor((H - img.height) / 2)];
    const c = new Uint8Array(W * H).fill(255);
    for (let y = 0; y < img.height; y++) {
      for (let x = 0; x < img.width; x++) c[(y + oy) * W + x + ox] = img.pixels[y * img.width + x];
    }
    return c;
  };
  const pa = paste(a);
  const pb = paste(b);
  const sigma = Math.max(Math.min(W, H) / 4, 1);
  let sum = 0; let wsum = 0; let wtotal = 0; let differing = 0; let inter = 0; let union = 0;
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      const i = y * W + x;
      const d = Math.abs(pa[i] - pb[i]);
      const w = Math.exp(-((x - W / 2) ** 2 + (y - H / 2) ** 2) / (2 * sigma * sigma));
      sum += d;
      wsum += w * d;
      wtotal += w;
      if (d > 8) differing++;
      const [da, db] = [pa[i] < 128, pb[i] < 128];
      if (da && db) inter++;
      if (da || db) union++;
    }
  }
  const stats = (img) => {
    let n = 0; let [x0, y0, x1, y1] = [Infinity, Infinity, -1, -1];
    for (let y = 0; y < img.height; y++) {
      for (let x = 0; x < img.width; x++) {
        if (img.pixels[y * img.width + x] < 128) {
          n++;
          x0 = Math.min(x0, x); y0 = Math.min(y0, y); x1 = Math.max(x1, x + 1); y1 = Math.max(y1, y + 1);
        }
      }
    }
    return { density: n / (img.width * img.height), aspect: n === 0 ? 1.0 : (x1 - x0) / (y1 - y0) };
  };
  const [sa, sb] = [stats(a), stats(b)];
  return {
    width: W, height: H,
    pixel_delta: sum / (W * H),
    center_weighted_delta: wsum / wtotal,
    density_a: sa.density, density_b: sb.density,
    aspect_a: sa.aspect, aspect_b: sb.aspect,
    iou: union === 0 ? 1.0 : inter / union,
    differing_pixels: differing,
  };
}

/** resize_bilinear: sides max(1, round(side·m)); source s = (d + 0.5)·(src/dst) − 0.5 (the ratio
 *  first, as the engine evaluates it); two taps clamped to the edge; round half up of the mix. */
function refResize(img, m) {
  const dw = Math.max(1, roundHalfUp(img.width * m));
  const dh = Math.max(1, roundHalfUp(img.height * m));
  const taps = (src, dst) => Array.from({ length: dst }, (_, d) => {
    const s = (d + 0.5) * (src / dst) - 0.5;
    const s0 = Math.floor(s);
    const clamp = (i) => Math.min(Math.max(i, 0), src - 1);
    return [clamp(s0), clamp(s0 + 1), s - s0];
  });
  const [xs, ys] = [taps(img.width, dw), taps(img.height, dh)];
  const p = img.pixels; const w = img.width;
  const out = new Uint8Array(dw * dh);
  let i = 0;
  for (const [y0, y1, fy] of ys) {
    for (const [x0, x1, fx] of xs) {
      const top = p[y0 * w + x0] * (1 - fx) + p[y0 * w + x1] * fx;
      const bottom = p[y1 * w + x0] * (1 - fx) + p[y1 * w + x1] * fx;
      out[i++] = Math.min(255, Math.max(0, roundHalfUp(top * (1 - fy) + bottom * fy)));
    }
  }
  return { width: dw, height: dh, pixels: out };
}

function assertCompare(got, want, what) {
  const exact = ['width', 'height', 'pixel_delta', 'density_a', 'density_b', 'aspect_a', 'aspect_b',
    'iou', 'differing_pixels'];
  assert.deepEqual(Object.keys(got).sort(), Object.keys(want).sort(), `${what}: keys`);
  for (const k of exact) assert.equal(got[k], want[k], `${what}: ${k}`);
  const [g, w] = [got.center_weighted_delta, want.center_weighted_delta];
  assert.ok(Math.abs(g - w) <= 1e-9 * Math.abs(w), `${what}: center_weighted_delta ${g} vs ${w}`);
}

function assertThrowsKind(fn, kind, what) {
  assert.throws(fn, (e) => {
    assert.equal(e.kind, kind, `${what}: kind (message: ${e.message})`);
    assert.equal(e.name, 'HaforuError', `${what}: name`);
    assert.ok(e.message.length > 0, `${what}: message`);
    return true;
  }, what);
}

const bytes = (a) => Buffer.from(a.buffer, a.byteOffset, a.byteLength);

// ---- the tests -----------------------------------------------------------------------------

const tests = [];
const test = (name, fn) => tests.push([name, fn]);

const BASE = { text: 'Ag', size: 64, width: 150, height: 90 };
const COORDS = [{ wght: 100 }, { wght: 412.3 }, { wght: 900 }, { wght: 1200 }, {}, { wght: 650, wdth: 80 }];

test('sweep points equal single renders, every format', () => {
  for (const format of ['metrics', 'raw', 'pgm', 'png', 'glyphs']) {
    for (const base of [{}, { variations: { wght: 300 } }, { instance: 'Bold' }]) {
      const opts = { ...BASE, ...base, format };
      const points = inter.sweep({ ...opts, coords: COORDS });
      assert.equal(points.length, COORDS.length);
      COORDS.forEach((c, i) => {
        const what = `${format} ${JSON.stringify(base)} point ${i}`;
        const p = points[i];
        assert.equal(p.error, undefined, `${what}: ${p.error?.message}`);
        const r = render({ ...opts, font: inter, variations: { ...base.variations, ...c } });
        assert.deepEqual(p.variations, r.variations, `${what}: variations`);
        assert.deepEqual(p.bbox, r.bbox, `${what}: bbox`);
        if (format === 'metrics') assert.deepEqual(p.metrics, r.metrics, `${what}: metrics`);
        else assert.equal(p.metrics, undefined, `${what}: no metrics`);
        if (format === 'raw' || format === 'pgm') {
          assert.ok(p.pixels instanceof Uint8ClampedArray, `${what}: pixels type`);
          assert.ok(bytes(p.pixels).equals(bytes(r.pixels)), `${what}: pixels`);
        } else assert.equal(p.pixels, undefined, `${what}: no pixels`);
        if (format === 'pgm' || format === 'png') assert.ok(bytes(p.data).equals(bytes(r.data)), `${what}: data`);
        if (r.data) assert.deepEqual([p.width, p.height], [r.width, r.height], `${what}: size`);
        if (format === 'glyphs') assert.deepEqual(p.glyphs, r.glyphs, `${what}: glyphs`);
        assert.equal(p.compare, undefined);
        r.free();
      });
      // Clamped and missing axes are reported per point.
      assert.match(points[3].warnings.join('\n'), /clamped to 900/);
      assert.match(points[5].warnings.join('\n'), /axis `wdth` is not in the font/);
      assert.equal(points[0].warnings, undefined);
    }
  }
  assert.deepEqual(inter.sweep({ ...BASE, coords: [{ wght: 412.3 }] })[0].variations, { wght: 412.3 });
});

test('sweep defaults: metrics format, id, other fonts and faces', () => {
  const [p] = dejavu.sweep({ ...BASE, coords: [{}] });
  const r = render({ ...BASE, font: dejavu, format: 'metrics' });
  assert.deepEqual(p.metrics, r.metrics);
  assert.deepEqual(p.variations, {});
  const ttc = Font.load(fs.readFileSync(path.join(ROOT, 'tests/fonts/Collection-subset.ttc')), { faceIndex: 1 });
  const [q] = ttc.sweep({ ...BASE, format: 'raw', coords: [{}] });
  const rq = render({ ...BASE, font: ttc, format: 'raw' });
  assert.ok(bytes(q.pixels).equals(bytes(rq.pixels)), 'face 1 of a collection');
  ttc.free();
});

test('sweep compare equals compare() of the single render, for every target form', () => {
  const t = render({ ...BASE, font: dejavu, format: 'pgm' });
  const tpng = render({ ...BASE, font: dejavu, format: 'png' });
  const gray = { width: t.width, height: t.height, pixels: t.pixels };
  const forms = { gray, result: t, pgm: t.data, png: tpng.data, buffer: t.data.slice().buffer };
  for (const method of [undefined, 'center', 'corner']) {
    let first;
    for (const [name, target] of Object.entries(forms)) {
      const points = inter.sweep({ ...BASE, format: 'metrics', coords: COORDS, target, method });
      points.forEach((p, i) => {
        const r = render({ ...BASE, font: inter, format: 'raw', variations: COORDS[i] });
        assert.deepEqual(p.compare, compare(r, gray, method), `${name} ${method} point ${i}`);
        assertCompare(p.compare, refCompare(r, gray, method ?? 'center'), `${name} ${method} point ${i} vs reference`);
        r.free();
      });
      if (first) assert.deepEqual(points, first, `${name}: same points as the first form`);
      first = points;
    }
  }
  // A target of another size, and image formats with compare.
  const small = render({ text: 'A', size: 50, width: 61, height: 47, font: dejavu, format: 'raw' });
  for (const format of ['raw', 'pgm', 'png']) {
    const [p] = inter.sweep({ ...BASE, format, coords: [{ wght: 700 }], target: small, method: 'corner' });
    const r = render({ ...BASE, font: inter, format: 'raw', variations: { wght: 700 } });
    assert.deepEqual(p.compare, compare(r, small, 'corner'), format);
    assertCompare(p.compare, refCompare(r, small, 'corner'), `${format} vs reference`);
    // A sweep point with pixels is itself a valid image for compare().
    if (p.pixels) assert.deepEqual(compare(p, small, 'corner'), p.compare);
  }
  for (const x of [t, tpng, small]) x.free();
});

test('a failing point is isolated', () => {
  const coords = [{ wght: 400 }, { wght: NaN }, { wght: 'bold' }, { wghtx: 5 }, { wght: 700 }, 7];
  const target = render({ ...BASE, font: dejavu, format: 'raw' });
  const points = inter.sweep({ ...BASE, format: 'raw', coords, target });
  assert.equal(points.length, coords.length);
  for (const i of [1, 2, 3, 5]) {
    const e = points[i].error;
    assert.ok(e, `point ${i} fails`);
    assert.equal(e.kind, 'bad_job', `point ${i}: ${e.message}`);
    assert.match(e.message, new RegExp(`^sweep\\[${i}\\]`), `point ${i} is named: ${e.message}`);
    assert.equal(points[i].pixels, undefined);
    assert.equal(points[i].compare, undefined);
  }
  assert.deepEqual(points[2].variations, {});
  for (const i of [0, 4]) {
    const r = render({ ...BASE, font: inter, format: 'raw', variations: coords[i] });
    assert.equal(points[i].error, undefined);
    assert.ok(bytes(points[i].pixels).equals(bytes(r.pixels)), `point ${i} pixels`);
    assert.deepEqual(points[i].compare, compare(r, target));
    r.free();
  }
  // A limit broken by one point fails that point only: more axes than MAX_VARIATIONS (64).
  const many = Object.fromEntries(Array.from({ length: 65 }, (_, i) => [`a${String(i).padStart(3, '0')}`, 1]));
  const pts = inter.sweep({ ...BASE, coords: [{ wght: 500 }, many, { wght: 600 }] });
  assert.equal(pts[1].error?.kind, 'limit_exceeded', 'a point over MAX_VARIATIONS fails');
  for (const i of [0, 2]) {
    assert.equal(pts[i].error, undefined);
    assert.deepEqual(pts[i].metrics, render({ ...BASE, font: inter, format: 'metrics', variations: [{ wght: 500 }, 0, { wght: 600 }][i] }).metrics);
  }
  target.free();
});

test('job-level problems throw with a kind', () => {
  const target = { width: 3, height: 2, pixels: new Uint8Array(6).fill(255) };
  const sweep = (o) => () => inter.sweep({ ...BASE, coords: [{}], ...o });
  assertThrowsKind(sweep({ target, method: 'centre' }), 'bad_job', 'bad method');
  assertThrowsKind(sweep({ target, method: 3 }), 'bad_job', 'method not a string');
  assertThrowsKind(sweep({ method: 'center' }), 'bad_job', 'method without a target');
  assertThrowsKind(sweep({ target: { width: 3, height: 2, pixels: new Uint8Array(5) } }), 'bad_job', 'short target');
  assertThrowsKind(sweep({ target: { width: 3, height: 2, pixels: [1, 2, 3, 4, 5, 6] } }), 'bad_job', 'target pixels an Array');
  assertThrowsKind(sweep({ target: new Uint8Array([1, 2, 3]) }), 'bad_job', 'target bytes not PGM/PNG');
  assertThrowsKind(sweep({ target: 'abc' }), 'bad_job', 'target a string');
  assertThrowsKind(sweep({ target, format: 'glyphs' }), 'bad_job', 'compare on glyphs');
  assertThrowsKind(sweep({ format: 'gif' }), 'bad_job', 'bad format');
  assertThrowsKind(sweep({ coords: [] }), 'bad_job', 'empty coords');
  assertThrowsKind(sweep({ coords: { wght: 1 } }), 'bad_job', 'coords not an array');
  assertThrowsKind(sweep({ coords: undefined }), 'bad_job', 'no coords');
  assertThrowsKind(sweep({ coords: Array.from({ length: 4097 }, () => ({})) }), 'limit_exceeded', 'too many points');
  assertThrowsKind(sweep({ size: -1 }), 'bad_job', 'bad size');
  assertThrowsKind(() => inter.sweep(), 'bad_job', 'no options');
  const freed = Font.default();
  freed.free();
  assert.throws(() => freed.sweep({ ...BASE, coords: [{}] }), 'a freed font');
  assert.throws(() => compare(target, target, 'diagonal'), (e) => e.kind === 'bad_job' && /diagonal/.test(e.message));
  assertThrowsKind(() => compare(target, target, 1), 'bad_job', 'compare method not a string');
  assertThrowsKind(() => compare(target, { width: 3, height: 2, pixels: new Uint8Array(7) }), 'bad_job', 'compare length');
  assertThrowsKind(() => compare(target, { width: 0, height: 2, pixels: new Uint8Array(0) }), 'bad_job', 'compare zero width');
  assertThrowsKind(() => compare(target, { width: 1.5, height: 2, pixels: new Uint8Array(3) }), 'bad_job', 'compare fractional width');
  assertThrowsKind(() => compare(target, null), 'bad_job', 'compare null');
  const png = render({ ...BASE, format: 'png' });
  assertThrowsKind(() => compare(png, target), 'bad_job', 'compare a png result');
  png.free();
  assertThrowsKind(() => resize(target, 0), 'bad_job', 'resize 0');
  assertThrowsKind(() => resize(target, 100.5), 'bad_job', 'resize > 100');
  assertThrowsKind(() => resize(target, NaN), 'bad_job', 'resize NaN');
  assertThrowsKind(() => resize(target, '2'), 'bad_job', 'resize a string');
  assertThrowsKind(() => resize({ width: 200, height: 1, pixels: new Uint8Array(200) }, 100), 'limit_exceeded', 'resize over the canvas limit');
});

test('targets are registered once per call and dropped (also on errors)', () => {
  // The engine holds at most 1024 registered images: a leak would fail before the end.
  const target = { width: 8, height: 8, pixels: new Uint8Array(64).fill(0) };
  const tiny = { text: 'A', size: 8, width: 8, height: 8, coords: [{}] };
  for (let i = 0; i < 1100; i++) {
    const [p] = inter.sweep({ ...tiny, target });
    assert.equal(p.compare.density_b, 1);
    assert.throws(() => inter.sweep({ ...tiny, target, format: 'gif' }));
  }
});

test('compare() equals the SPEC definition (random, odd, blank, full images)', () => {
  const r = rng(10);
  const kinds = ['blank', 'full', 'noise', 'blobs', 'blobs', 'blobs'];
  for (let n = 0; n < 120; n++) {
    const a = image(r, 1 + int(r, 41), 1 + int(r, 31), kinds[int(r, kinds.length)]);
    const b = n % 4 === 0 ? image(r, a.width, a.height, kinds[int(r, kinds.length)])
      : image(r, 1 + int(r, 41), 1 + int(r, 31), kinds[int(r, kinds.length)]);
    if (n % 3 === 0) b.pixels = new Uint8ClampedArray(b.pixels);
    for (const method of ['center', 'corner']) {
      assertCompare(compare(a, b, method), refCompare(a, b, method), `case ${n} ${method}`);
    }
    assert.deepEqual(compare(a, b), compare(a, b, 'center'), 'center is the default');
  }
  // Identities.
  const a = image(r, 30, 20, 'blobs');
  const same = compare(a, a);
  assert.deepEqual([same.pixel_delta, same.center_weighted_delta, same.iou, same.differing_pixels], [0, 0, 1, 0]);
  const blank = compare(image(r, 5, 4, 'blank'), image(r, 7, 3, 'blank'));
  assert.deepEqual([blank.iou, blank.aspect_a, blank.aspect_b, blank.density_a], [1, 1, 1, 0]);
  // The use case's size: "A" at 1000 px on 3000×1200 against another font's.
  const big = { text: 'A', size: 1000, width: 3000, height: 1200, format: 'raw' };
  const ra = render({ ...big, font: inter, variations: { wght: 600 } });
  const rb = render({ ...big, font: dejavu });
  const ia = { width: ra.width, height: ra.height, pixels: ra.pixels };
  const ib = { width: rb.width, height: rb.height, pixels: rb.pixels };
  assertCompare(compare(ia, ib), refCompare(ia, ib), '3000×1200');
  const [p] = inter.sweep({ ...big, format: 'metrics', coords: [{ wght: 600 }], target: ib });
  assert.deepEqual(p.compare, compare(ia, ib), '3000×1200 in a sweep');
  ra.free(); rb.free();
});

test('resize() equals the SPEC definition', () => {
  const r = rng(11);
  for (let n = 0; n < 40; n++) {
    const img = image(r, 1 + int(r, 37), 1 + int(r, 23), ['noise', 'blobs', 'full'][n % 3]);
    for (const m of [0.01, 0.1, 0.37, 0.5, 1, 1.25, 1.7, 2, 3.3, 7.9]) {
      const got = resize(img, m);
      const want = refResize(img, m);
      assert.deepEqual([got.width, got.height], [want.width, want.height], `case ${n} m=${m}: size`);
      assert.ok(got.pixels instanceof Uint8ClampedArray);
      assert.ok(bytes(got.pixels).equals(bytes(want.pixels)), `case ${n} m=${m}: pixels`);
    }
  }
  // A constant image stays constant, and the corners keep the source's corners.
  for (const m of [0.01, 0.3, 1.7, 100]) {
    const c = resize({ width: 13, height: 7, pixels: new Uint8Array(91).fill(77) }, m);
    assert.ok(c.pixels.every((v) => v === 77), `constant, m=${m}`);
  }
  const g = { width: 4, height: 3, pixels: Uint8Array.from({ length: 12 }, (_, i) => (i % 4) * 60 + Math.floor(i / 4) * 5) };
  const up = resize(g, 2);
  assert.deepEqual([up.width, up.height], [8, 6]);
  assert.deepEqual([up.pixels[0], up.pixels[7], up.pixels[40], up.pixels[47]], [g.pixels[0], g.pixels[3], g.pixels[8], g.pixels[11]]);
  assert.deepEqual([resize({ width: 1, height: 1, pixels: new Uint8Array([9]) }, 0.01).width], [1]);
  // A render result resizes like its pixels.
  const rr = render({ ...BASE, font: inter, format: 'pgm' });
  assert.deepEqual(resize(rr, 0.5), resize({ width: rr.width, height: rr.height, pixels: rr.pixels }, 0.5));
  rr.free();
});

test('parity: the same sweep and compare jobs in JS and through the native CLI', () => {
  let cli = process.env.HAFORU_CLI || path.join(ROOT, 'target/release/haforu');
  if (!fs.existsSync(cli)) {
    console.log('building the CLI: cargo build --release -p haforu-cli');
    execFileSync('cargo', ['build', '--release', '-p', 'haforu-cli'], { cwd: ROOT, stdio: 'inherit' });
    cli = path.join(ROOT, 'target/release/haforu');
  }
  const tgt = render({ text: 'A', size: 200, width: 300, height: 240, font: dejavu, format: 'pgm' });
  const small = render({ text: 'A', size: 90, width: 131, height: 117, font: dejavu, format: 'png' });
  const b64 = (u8) => Buffer.from(u8).toString('base64');
  const targets = { tgt: tgt.data, small: small.data };
  const coords = [{ wght: 100 }, { wght: 412.3 }, { wght: 900 }, { wght: 1200 }, { wght: 'bold' }, {}];
  // [id, font path, font, JS sweep options (null: a single job), target name, method]
  const cases = [
    ['metrics-center', INTER, inter, { text: 'A', size: 200, width: 300, height: 240, format: 'metrics', coords }, 'tgt', 'center'],
    ['metrics-corner', INTER, inter, { text: 'A', size: 200, width: 300, height: 240, format: 'metrics', coords }, 'small', 'corner'],
    ['raw-center', INTER, inter, { text: 'Ag', size: 100, width: 220, height: 160, format: 'raw', coords, variations: { wght: 300 } }, 'small', undefined],
    ['pgm-instance', INTER, inter, { text: 'Hi', size: 60, width: 120, height: 80, format: 'pgm', coords: [{}, { wght: 250 }], instance: 'Bold' }, null, undefined],
    ['glyphs', INTER, inter, { text: 'office', size: 40, width: 200, height: 60, format: 'glyphs', coords: [{ wght: 100 }, { wght: 900 }], features: ['-liga'] }, null, undefined],
    ['dejavu', DEJAVU, dejavu, { text: 'AV', size: 80, width: 200, height: 100, format: 'metrics', coords: [{}, { wght: 700 }] }, 'tgt', 'corner'],
  ];
  const jobOf = ([id, fontPath, , o, target, method]) => {
    const job = {
      id,
      font: { path: fontPath, size: o.size, ...(o.variations && { variations: o.variations }), ...(o.instance && { instance: o.instance }) },
      text: { content: o.text, ...(o.features && { features: o.features }) },
      rendering: { format: o.format, width: o.width, height: o.height },
      sweep: o.coords,
    };
    if (target) job.compare = { target: b64(targets[target]), ...(method && { method }) };
    return job;
  };
  // Plus single (non-sweep) raw jobs with compare: the native in-job comparison must equal JS
  // compare(render, target).
  const singles = [['single-center', { wght: 550 }, 'tgt', 'center'], ['single-corner', { wght: 800 }, 'small', 'corner']];
  const lines = cases.map((c) => JSON.stringify(jobOf(c)));
  for (const [id, variations, target, method] of singles) {
    lines.push(JSON.stringify({
      id, font: { path: INTER, size: 200, variations }, text: { content: 'A' },
      rendering: { format: 'raw', width: 300, height: 240 },
      compare: { target: b64(targets[target]), method },
    }));
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'haforu-matching-'));
  const file = path.join(dir, 'jobs.jsonl');
  fs.writeFileSync(file, lines.join('\n') + '\n');
  let out;
  try {
    out = execFileSync(cli, ['batch', '--ordered', '--jobs', '1', file], { cwd: ROOT, maxBuffer: 1 << 28 }).toString();
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  const native = new Map(out.trim().split('\n').map((l) => JSON.parse(l)).map((r) => [r.id, r]));
  assert.equal(native.size, lines.length, 'one native result per job');
  const gray = (name) => {
    const r = name === 'tgt' ? tgt : render({ text: 'A', size: 90, width: 131, height: 117, font: dejavu, format: 'raw' });
    return { width: r.width, height: r.height, pixels: r.pixels };
  };
  for (const c of cases) {
    const [id, , font, o, target, method] = c;
    const want = native.get(id);
    assert.equal(want.status, 'success', `${id}: ${want.error}`);
    const got = font.sweep({ ...o, ...(target && { target: gray(target), method }) });
    assert.equal(got.length, want.points.length, `${id}: points`);
    got.forEach((p, i) => {
      const w = want.points[i];
      const what = `${id} point ${i}`;
      assert.deepEqual(p.variations, w.variations, `${what}: variations`);
      if (w.status === 'error') {
        assert.ok(p.error, `${what}: fails in JS too`);
        assert.equal(p.error.kind, w.error_kind, `${what}: kind`);
        assert.ok(w.error.endsWith(p.error.message), `${what}: message "${p.error.message}" vs "${w.error}"`);
        return;
      }
      assert.equal(p.error, undefined, `${what}: ${p.error?.message}`);
      assert.equal(!!w.compare, !!target, `${what}: a compare exactly when there is a target`);
      assert.ok(w.metrics || w.rendering || w.glyphs, `${what}: a payload`);
      assert.deepEqual(p.metrics, w.metrics, `${what}: metrics`);
      assert.deepEqual(p.compare, w.compare, `${what}: compare`);
      assert.deepEqual(p.glyphs, w.glyphs, `${what}: glyphs`);
      assert.deepEqual(p.warnings, w.warnings, `${what}: warnings`);
      if (w.rendering) {
        const data = Buffer.from(w.rendering.data, 'base64');
        const mine = o.format === 'raw' ? bytes(p.pixels) : bytes(p.data);
        assert.ok(mine.equals(data), `${what}: image bytes`);
        assert.deepEqual(p.bbox, w.rendering.actual_bbox, `${what}: bbox`);
      } else if (w.metrics) assert.deepEqual(p.bbox, w.metrics.bbox, `${what}: bbox`);
    });
  }
  for (const [id, variations, target, method] of singles) {
    const want = native.get(id);
    assert.equal(want.status, 'success', `${id}: ${want.error}`);
    const r = render({ text: 'A', size: 200, width: 300, height: 240, font: inter, format: 'raw', variations });
    assert.ok(bytes(r.pixels).equals(Buffer.from(want.rendering.data, 'base64')), `${id}: pixels`);
    assert.deepEqual(compare(r, gray(target), method), want.compare, `${id}: compare`);
    r.free();
  }
  tgt.free(); small.free();
});

let failed = 0;
const t0 = performance.now();
for (const [name, fn] of tests) {
  const t = performance.now();
  try {
    fn();
    console.log(`ok   ${name} (${(performance.now() - t).toFixed(0)} ms)`);
  } catch (e) {
    failed++;
    console.log(`FAIL ${name}: ${e.stack}`);
  }
}
inter.free();
dejavu.free();
console.log(`haforu-web ${version()} node matching: ${tests.length - failed} passed, ${failed} failed (${(performance.now() - t0).toFixed(0)} ms)`);
process.exit(failed ? 1 : 0);
