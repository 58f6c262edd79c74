// Node test: every golden raster job (tests/golden/raster/cases.jsonl) rendered through the ES
// module (www/pkg/haforu_web.js, the same file the page loads) must give the core's bytes and
// metrics exactly, as recorded in tests/golden/parity.json:
//   {"<id>": {"pgm_sha256": "<hex sha256 of the PGM file bytes>", "metrics": {density, beam, bbox}}}
// Each case goes through both interfaces: render({...}) and renderJson(jobJson, font).
// Run from anywhere: `node --expose-gc www/tests/node_parity.mjs` (after `make web`).
import fs from 'node:fs';
import path from 'node:path';
import crypto from 'node:crypto';
import assert from 'node:assert/strict';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const PKG = process.env.HAFORU_WEB_PKG || path.join(ROOT, 'www/pkg');
const mod = await import(pathToFileURL(path.join(PKG, 'haforu_web.js')).href);
const { default: init, Font, render, renderJson, version, cacheStats } = mod;
const wasm = await init({ module_or_path: fs.readFileSync(path.join(PKG, 'haforu_web_bg.wasm')) });

const sha256 = (bytes) => crypto.createHash('sha256').update(bytes).digest('hex');
const cases = fs.readFileSync(path.join(ROOT, 'tests/golden/raster/cases.jsonl'), 'utf8')
  .split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l));
const parityPath = path.join(ROOT, 'tests/golden/parity.json');
if (!fs.existsSync(parityPath)) {
  console.error(`missing ${parityPath}: the core's parity references (made by the core tests)`);
  process.exit(1);
}
const parity = JSON.parse(fs.readFileSync(parityPath, 'utf8'));

const fonts = new Map(); // "path#face" -> Font
function fontFor(job) {
  const key = `${job.font.path}#${job.font.face_index ?? 0}`;
  if (!fonts.has(key)) {
    const bytes = fs.readFileSync(path.join(ROOT, job.font.path));
    fonts.set(key, Font.load(bytes, { faceIndex: job.font.face_index ?? 0 }));
  }
  return fonts.get(key);
}

function options(job, format) {
  return {
    id: job.id, font: fontFor(job), text: job.text.content, size: job.font.size,
    width: job.rendering.width, height: job.rendering.height,
    variations: job.font.variations, instance: job.font.instance,
    features: job.text.features, script: job.text.script,
    language: job.text.language, direction: job.text.direction, format,
  };
}

// Distance in units in the last place between two doubles (for a clearer failure message).
function ulps(a, b) {
  const v = new Float64Array([a, b]);
  const i = new BigInt64Array(v.buffer);
  return i[0] > i[1] ? i[0] - i[1] : i[1] - i[0];
}
function metricsEqual(got, want, what) {
  try {
    assert.deepEqual(got, want, what);
  } catch (e) {
    const near = ['density', 'beam'].every((k) => ulps(got[k], want[k]) <= 1n)
      && JSON.stringify(got.bbox) === JSON.stringify(want.bbox);
    if (near) {
      e.message = `${what}: ${JSON.stringify(got)} vs parity ${JSON.stringify(want)} differ by 1 ulp `
        + '(parity.json stores a float re-parsed by serde_json without its `float_roundtrip` feature?)';
    }
    throw e;
  }
}

let passed = 0;
const failures = [];
const t0 = performance.now();
for (const job of cases) {
  try {
    const want = parity[job.id];
    assert.ok(want, `no parity entry for ${job.id}`);

    // 1. render() → PGM file bytes.
    const pgm = render(options(job, 'pgm'));
    assert.equal(sha256(pgm.data), want.pgm_sha256, 'render() PGM sha256');
    // 2. render() → metrics, exactly.
    const m = render(options(job, 'metrics'));
    metricsEqual(m.metrics, want.metrics, 'render() metrics');
    // 3. raw pixels are the PGM's body, and their lazily computed metrics are the same.
    const raw = render(options(job, 'raw'));
    const header = Buffer.from(`P5\n${job.rendering.width} ${job.rendering.height}\n255\n`);
    assert.equal(sha256(Buffer.concat([header, Buffer.from(raw.pixels)])), want.pgm_sha256, 'raw pixels');
    metricsEqual(raw.metrics, want.metrics, 'raw metrics');
    assert.deepEqual(raw.bbox, want.metrics.bbox, 'raw bbox');
    // 4. renderJson() with the job's own JSON (font.path kept for the echo, font passed in).
    const res = JSON.parse(renderJson(JSON.stringify(job), fontFor(job)));
    assert.equal(res.status, 'success', res.error);
    assert.equal(sha256(Buffer.from(res.rendering.data, 'base64')), want.pgm_sha256, 'renderJson PGM');
    assert.equal(res.font.path, job.font.path);
    assert.ok(res.timing.total_ms >= 0);
    const jm = JSON.parse(renderJson(JSON.stringify({ ...job, rendering: { ...job.rendering, format: 'metrics' } }), fontFor(job)));
    metricsEqual(jm.metrics, want.metrics, 'renderJson metrics');
    for (const r of [pgm, m, raw]) r.free();
    passed++;
  } catch (e) {
    failures.push(`${job.id}: ${e.message}`);
  }
}
for (const f of fonts.values()) f.free();
const ms = performance.now() - t0;

// Memory: free() drops a font from the engine, and so does the FinalizationRegistry once a Font
// is garbage (checked when run with --expose-gc, as `make test-web` does).
try {
  const before = cacheStats().fonts;
  const f = Font.default();
  assert.equal(cacheStats().fonts, before + 1);
  f.free();
  assert.equal(cacheStats().fonts, before, 'free() drops the font');
  if (globalThis.gc) {
    (() => { for (let i = 0; i < 5; i++) Font.default(); })();
    let now = cacheStats().fonts;
    for (let i = 0; i < 50 && now > before; i++) {
      globalThis.gc();
      await new Promise((r) => setTimeout(r, 10));
      now = cacheStats().fonts;
    }
    assert.equal(now, before, 'unreachable Fonts are dropped by the FinalizationRegistry');
  } else {
    console.log('note: run with --expose-gc to check the FinalizationRegistry');
  }
  passed++;
} catch (e) {
  failures.push(`memory: ${e.message}`);
}
// Results without free(): a render result is a plain JS object holding its pixels in JS memory,
// so forgetting free() costs neither time nor memory, even inside one synchronous loop (issue 14). Blocks of freed and unfreed renders are
// interleaved (a ratio in one run, not an absolute time); RSS is read after a warm-up and at the
// end, after a garbage collection.
try {
  const f = Font.default();
  const opts = { font: f, text: 'Hamburgefonstiv', size: 48, width: 800, height: 100, format: 'raw' };
  const block = (n, free) => {
    const t = performance.now();
    for (let i = 0; i < n; i++) {
      const r = render(opts);
      if (r.width !== 800) throw new Error('bad result');
      if (free) r.free();
    }
    return performance.now() - t;
  };
  block(500, false);
  if (globalThis.gc) globalThis.gc();
  const rss0 = process.memoryUsage().rss;
  const mem0 = wasm.memory.buffer.byteLength;
  let freed = 0, kept = 0;
  for (let i = 0; i < 20; i++) { freed += block(250, true); kept += block(500, false); }
  const memGrew = (wasm.memory.buffer.byteLength - mem0) / 1048576;
  // The unfreed results' pixels are JS memory: collected once their wrappers' finalizers have
  // run, which needs the event loop to turn.
  for (let i = 0; i < 5 && globalThis.gc; i++) { globalThis.gc(); await new Promise((r) => setTimeout(r, 20)); }
  const grew = (process.memoryUsage().rss - rss0) / 1048576;
  const jsLeft = process.memoryUsage().arrayBuffers / 1048576;
  const ratio = (kept / 10000) / (freed / 5000);
  f.free();
  console.log(`results without free(): 10,000 renders, ${(kept / 10).toFixed(1)} µs each vs ${(freed / 5).toFixed(1)} µs freed (${ratio.toFixed(2)}x), engine memory +${memGrew.toFixed(1)} MB, JS buffers left after collection ${jsLeft.toFixed(1)} MB, RSS ${grew >= 0 ? '+' : ''}${grew.toFixed(1)} MB`);
  assert.ok(memGrew < 8, `the engine's memory grew ${memGrew.toFixed(1)} MB over 10,000 unfreed renders`);
  assert.ok(ratio <= 1.5, `unfreed renders are ${ratio.toFixed(2)}x the time of freed ones`);
  assert.ok(jsLeft < 50, `${jsLeft.toFixed(1)} MB of result pixels survive a collection`);
  assert.ok(grew < 50, `RSS grew ${grew.toFixed(1)} MB over 10,000 unfreed renders`);
  passed++;
} catch (e) {
  failures.push(`results without free(): ${e.message}`);
}
// A small ink box on a big canvas (the matching workload) comes out of the engine alone and is
// pasted on paper in JS when read: the same pixels, file bytes and metrics as the PGM/metrics path.
try {
  const f = Font.default();
  const o = { font: f, text: 'A', size: 1000, width: 3000, height: 1200, variations: { wght: 640 } };
  const raw = render({ ...o, format: 'raw' });
  const pgm = render({ ...o, format: 'pgm' });
  const m = render({ ...o, format: 'metrics' });
  assert.ok(Array.isArray(raw._box) && raw._box[2] * raw._box[3] * 4 <= 3000 * 1200, 'the engine sent the ink box alone');
  const body = pgm.data.subarray(pgm.data.length - 3000 * 1200);
  assert.ok(Buffer.from(raw.pixels).equals(Buffer.from(body)), 'pasted box = PGM body');
  assert.ok(Buffer.from(raw.data).equals(Buffer.from(body)), 'raw data = PGM body');
  assert.deepEqual(raw.metrics, m.metrics, 'metrics from the box = metrics format');
  assert.deepEqual(raw.bbox, m.metrics.bbox);
  const rgba = raw.rgba();
  assert.equal(rgba.length, 4 * 3000 * 1200);
  const blank = render({ ...o, text: ' ', format: 'raw' });
  assert.ok(blank.pixels.every((v) => v === 255), 'a blank render is paper');
  assert.equal(blank.metrics.density, 0);
  f.free();
  passed++;
} catch (e) {
  failures.push(`ink box: ${e.message}`);
}
// renderJson with a font path and no font passed: the engine's needs-font answer becomes a
// font_not_found result (the browser reads no files), and timing has three decimals.
try {
  const res = JSON.parse(renderJson(JSON.stringify({ id: 'nofont', font: { path: 'x.ttf', size: 20 },
    text: { content: 'a' }, rendering: { format: 'metrics', width: 20, height: 20 } })));
  assert.equal(res.status, 'error');
  assert.equal(res.error_kind, 'font_not_found');
  assert.match(res.error, /^job `nofont`: font `x.ttf` cannot be read here/);
  assert.equal(res.font.path, 'x.ttf');
  const f = Font.default();
  const ok = renderJson(JSON.stringify({ id: 'ok', font: { size: 20 }, text: { content: 'a' },
    rendering: { format: 'metrics', width: 20, height: 20 } }), f);
  f.free();
  assert.match(ok, /,"timing":\{"total_ms":\d+\.\d{3}\}\}$/);
  passed++;
} catch (e) {
  failures.push(`renderJson font rules: ${e.message}`);
}
for (const f of failures) console.log(`FAIL ${f}`);
console.log(`haforu-web ${version()} node parity: ${passed} passed, ${failures.length} failed (${cases.length} golden cases + memory, ${ms.toFixed(0)} ms)`);
const missing = Object.keys(parity).filter((id) => !cases.some((c) => c.id === id));
if (missing.length) console.log(`note: parity.json ids without a case: ${missing.join(', ')}`);
process.exit(failures.length || passed === 0 ? 1 : 0);
