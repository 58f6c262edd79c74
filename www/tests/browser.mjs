// Browser test: the www/ page in real headless Chromium (Debian `chromium`, driven by npm
// `playwright-core`). Checks what issue 5 lists, prints the performance figures and saves a
// screenshot to target/www-preview.png. Run `make test-web` (or, after `make web`,
// `node www/tests/browser.mjs`). CHROMIUM=/path/to/chromium overrides the browser.
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const WWW = path.join(ROOT, 'www');
const OUT = path.join(ROOT, 'target');
const FONTS = path.join(ROOT, 'tests/fonts');

// ---- a static server on 127.0.0.1 that the test can stop (to check offline use) ---------------
const TYPES = { '.html': 'text/html', '.js': 'text/javascript', '.mjs': 'text/javascript', '.css': 'text/css',
  '.wasm': 'application/wasm', '.json': 'application/json', '.ts': 'text/plain', '.png': 'image/png' };
function serve() {
  const server = http.createServer((req, res) => {
    const url = new URL(req.url, 'http://x');
    let file = path.normalize(path.join(WWW, decodeURIComponent(url.pathname)));
    if (!file.startsWith(WWW) || file.includes('node_modules')) { res.writeHead(403).end(); return; }
    if (fs.existsSync(file) && fs.statSync(file).isDirectory()) file = path.join(file, 'index.html');
    fs.readFile(file, (err, body) => {
      if (err) { res.writeHead(404).end(); return; }
      res.writeHead(200, { 'content-type': TYPES[path.extname(file)] || 'application/octet-stream', 'cache-control': 'no-cache' });
      res.end(body);
    });
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

const median = (xs) => { const s = [...xs].sort((a, b) => a - b); return s.length ? s[Math.floor((s.length - 1) / 2)] : NaN; };
const results = [];
async function step(name, fn) {
  const t = performance.now();
  try {
    await fn();
    results.push([name, true]);
    console.log(`ok   ${name} (${(performance.now() - t).toFixed(0)} ms)`);
  } catch (e) {
    results.push([name, false]);
    console.log(`FAIL ${name}: ${e.message}`);
  }
}

for (const f of ['haforu_web.js', 'haforu_web_bg.wasm']) {
  if (!fs.existsSync(path.join(WWW, 'pkg', f))) {
    console.error(`www/pkg/${f} is missing: build it with \`make web\``);
    process.exit(1);
  }
}
fs.mkdirSync(OUT, { recursive: true });
let server = await serve();
const base = `http://127.0.0.1:${server.address().port}/`;
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
    '--disable-sync', '--no-first-run', '--disable-quic'],
});
const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, acceptDownloads: true });
const page = await context.newPage();
const pageErrors = [];
page.on('pageerror', (e) => pageErrors.push(e.message));
page.on('console', (m) => { if (m.type() === 'error') pageErrors.push(m.text()); });
page.setDefaultTimeout(15000);

// Page helpers.
const stats = () => page.evaluate(() => JSON.parse(JSON.stringify(window.haforuStats)));
const renders = async () => (await stats()).renders;
async function afterRender(action, { waterfall = false } = {}) {
  const before = await stats();
  await action();
  await page.waitForFunction(([n, w]) => window.haforuStats.renders > n && (!w || window.haforuStats.waterfall.length > w),
    [before.renders, waterfall ? before.waterfall.length : 0]);
}
// Ink of a canvas from its pixels: {density, hash, inked}.
const ink = (selector) => page.evaluate((sel) => {
  const c = document.querySelector(sel);
  const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
  let sum = 0, inked = 0, h = 2166136261;
  for (let i = 0; i < d.length; i += 4) {
    const v = 255 - d[i];
    sum += v;
    if (v) inked++;
    h = Math.imul(h ^ d[i], 16777619);
  }
  return { density: sum / (255 * (d.length / 4 || 1)), inked, hash: h >>> 0, width: c.width, height: c.height };
}, selector);
const setSlider = (selector, value) => page.evaluate(([sel, v]) => {
  const el = document.querySelector(sel);
  el.value = String(v);
  el.dispatchEvent(new Event('input', { bubbles: true }));
}, [selector, value]);
const loadFont = (file) => page.setInputFiles('#font-file', path.join(FONTS, file));

const perf = {};
await step('page loads and the default render is not blank', async () => {
  await page.goto(base);
  await page.waitForFunction(() => window.haforuStats && window.haforuStats.firstRenderMs !== null);
  const s = await stats();
  perf.firstRenderMs = s.firstRenderMs;
  perf.startup = s.startup;
  assert.match(await page.textContent('#font-name'), /Inter/);
  const p = await ink('#preview');
  assert.ok(p.inked > 100, `preview has ${p.inked} inked pixels`);
  for (const size of [10, 96]) assert.ok((await ink(`#waterfall canvas[data-size="${size}"]`)).inked > 0, `waterfall ${size} px`);
});

await step('font info panel shows names, metrics, axes and features', async () => {
  const info = await page.textContent('#info');
  for (const want of ['Inter', 'Units per em', 'wght', 'Weight', 'ss01', 'Open digits']) assert.ok(info.includes(want), want);
});

await step('Inter variable via the file input: moving wght up increases ink density', async () => {
  await afterRender(() => loadFont('Inter-VF-subset.ttf'));
  assert.equal((await stats()).fontInfo.axes[0].tag, 'wght');
  assert.ok(await page.isVisible('#axis-wght'));
  await afterRender(() => setSlider('#axis-wght', 100));
  const thin = await ink('#preview');
  await afterRender(() => setSlider('#axis-wght', 900));
  const black = await ink('#preview');
  assert.ok(black.density > thin.density * 1.5, `density wght 100 → 900: ${thin.density} → ${black.density}`);
  perf.density = [thin.density, black.density];
});

await step('waterfall re-render after an axis change (timing)', async () => {
  const n = (await stats()).waterfall.length;
  for (let i = 0; i < 21; i++) {
    await afterRender(() => setSlider('#axis-wght', 150 + i * 35), { waterfall: true });
  }
  const runs = (await stats()).waterfall.slice(n + 1); // the first one may include a warm-up
  perf.waterfallEngineMs = median(runs.map((r) => r.engineMs));
  perf.waterfallRoundTripMs = median(runs.map((r) => r.roundTripMs));
  perf.waterfallRuns = runs.length;
  assert.ok(runs.length >= 20);
});

await step('named instance picker sets the axes', async () => {
  const boldIndex = await page.evaluate(() => window.haforuStats.fontInfo.instances.findIndex((i) => i.name === 'Bold'));
  assert.ok(boldIndex >= 0);
  await afterRender(() => page.selectOption('#instance', String(boldIndex)));
  assert.equal(await page.inputValue('#axis-wght'), '700');
});

await step('toggling a feature changes the render', async () => {
  await afterRender(() => page.fill('#sample', 'AVATAR Toyota 0123'));
  const on = await ink('#preview');
  await afterRender(() => page.uncheck('#features input[data-tag="kern"]'));
  const off = await ink('#preview');
  assert.notEqual(on.hash, off.hash, '-kern gave the same pixels');
  await afterRender(() => page.check('#features input[data-tag="ss01"]'));
  const ss01 = await ink('#preview');
  assert.notEqual(off.hash, ss01.hash, 'ss01 gave the same pixels');
});

await step('a glyph grid appears', async () => {
  await page.waitForFunction(() => Number(document.querySelector('#glyph-grid').dataset.count) > 50);
  const g = await ink('#glyph-grid');
  assert.ok(g.inked > 1000, `glyph grid has ${g.inked} inked pixels`);
  perf.glyphGrid = (await stats()).glyphGrid;
});

await step('animate toggle keeps rendering', async () => {
  const n = await renders();
  await page.check('#animate');
  await page.waitForFunction((k) => window.haforuStats.renders >= k + 10, n);
  await page.uncheck('#animate');
});

await step('a corrupt font shows an error and the next good font still renders', async () => {
  const errorsBefore = (await stats()).errors;
  await loadFont('broken/truncated.ttf');
  await page.waitForFunction((n) => window.haforuStats.errors > n, errorsBefore);
  assert.ok(await page.isVisible('#error'));
  const text = await page.textContent('#error');
  assert.match(text, /truncated\.ttf/);
  assert.match(text, /font_parse/);
  await loadFont('broken/random.bin');
  await page.waitForFunction((n) => window.haforuStats.errors > n + 1, errorsBefore);
  assert.match(await page.textContent('#font-name'), /Inter/, 'the previous font stays');
  await afterRender(() => loadFont('DejaVuSans-subset.ttf'));
  assert.ok(await page.isHidden('#error'));
  assert.match(await page.textContent('#font-name'), /DejaVu/);
  assert.ok((await ink('#preview')).inked > 100);
  assert.ok(await page.isVisible('#no-axes'));
});

await step('script, language and direction pickers re-render', async () => {
  await afterRender(() => page.fill('#sample', 'ΑΒΓ абв'));
  await afterRender(() => page.selectOption('#script', 'Grek'));
  await afterRender(() => page.fill('#language', 'el').then(() => page.dispatchEvent('#language', 'change')));
  await afterRender(() => page.selectOption('#direction', 'rtl'));
  assert.ok((await ink('#preview')).inked > 100);
  await afterRender(() => page.selectOption('#direction', ''));
  await afterRender(() => page.selectOption('#script', ''));
  await afterRender(() => page.fill('#language', '').then(() => page.dispatchEvent('#language', 'change')));
  await afterRender(() => page.fill('#sample', 'Hamburgefonstiv 0123 AVATAR office'));
});

await step('drop a font file onto the page', async () => {
  const bytes = fs.readFileSync(path.join(FONTS, 'Inter-VF-subset.ttf')).toString('base64');
  await afterRender(() => page.evaluate((b64) => {
    const bin = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
    const dt = new DataTransfer();
    dt.items.add(new File([bin], 'Inter-dropped.ttf', { type: 'font/ttf' }));
    document.dispatchEvent(new DragEvent('drop', { dataTransfer: dt, bubbles: true, cancelable: true }));
  }, bytes));
  assert.match(await page.textContent('#font-name'), /Inter/);
});

await step('download of the current render as PNG', async () => {
  const [download] = await Promise.all([page.waitForEvent('download'), page.click('#download')]);
  const file = path.join(OUT, 'www-download.png');
  await download.saveAs(file);
  const png = fs.readFileSync(file);
  assert.deepEqual([...png.subarray(1, 4)], [0x50, 0x4e, 0x47], 'PNG signature');
  assert.match(download.suggestedFilename(), /\.png$/);
});

await step('screenshot', async () => {
  await setSlider('#axis-wght', 600);
  await page.waitForTimeout(500);
  await page.screenshot({ path: path.join(OUT, 'www-preview.png'), fullPage: true });
});

await step('works offline once loaded (server stopped, page reloaded)', async () => {
  await page.evaluate(() => navigator.serviceWorker.ready);
  await page.reload(); // be controlled by the service worker, which caches what it serves
  await page.waitForFunction(() => window.haforuStats && window.haforuStats.firstRenderMs !== null);
  assert.ok(await page.evaluate(() => !!navigator.serviceWorker.controller), 'page is controlled');
  await new Promise((r) => { server.closeAllConnections(); server.close(r); });
  await page.reload();
  await page.waitForFunction(() => window.haforuStats && window.haforuStats.firstRenderMs !== null);
  assert.ok((await ink('#preview')).inked > 100);
});

await step('no page errors', async () => {
  assert.deepEqual(pageErrors.filter((e) => !/Failed to load resource/.test(e)), []);
});

await browser.close();
server.close();

console.log('\nperformance (not gated):');
console.log(`  navigation → first render: ${perf.firstRenderMs?.toFixed(0)} ms` + (perf.startup
  ? ` (page script runs at ${perf.startup.workerStartMs.toFixed(0)} ms; in the worker: fetch+compile+instantiate ` +
    `${perf.startup.wasmInitMs.toFixed(0)} ms, Font.default ${perf.startup.fontMs.toFixed(0)} ms; ready at ` +
    `${perf.startup.readyMs.toFixed(0)} ms)` : ''));
console.log(`  waterfall (10 sizes, 10–96 px) re-render after a wght change, median of ${perf.waterfallRuns}: ` +
  `${perf.waterfallEngineMs?.toFixed(1)} ms in the engine (worker), ${perf.waterfallRoundTripMs?.toFixed(1)} ms ` +
  'round trip incl. preview, transfer and paint (target ≤ 16 ms)');
if (perf.glyphGrid) console.log(`  glyph grid: ${perf.glyphGrid.count} glyphs in ${perf.glyphGrid.ms.toFixed(0)} ms`);
console.log(`  screenshot: ${path.relative(ROOT, path.join(OUT, 'www-preview.png'))}`);
const failed = results.filter(([, ok]) => !ok).length;
console.log(`\nbrowser: ${results.length - failed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
