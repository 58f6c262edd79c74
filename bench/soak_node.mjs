// The hostile mix through the Node module (bench/soak.sh, `make soak`; after `make web`):
// `node --expose-gc bench/soak_node.mjs SECONDS`. Round after round, every job through
// renderJson: healthy results equal their first answer (timing removed), hostile ones are
// error results; nothing is thrown; RSS after rounds 1 and 5 and at the end. One JSON line.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const PKG = process.env.HAFORU_WEB_PKG || path.join(ROOT, 'www/pkg');
const mod = await import(pathToFileURL(path.join(PKG, 'haforu_web.js')).href);
const { default: init, Font, renderJson } = mod;
await init({ module_or_path: fs.readFileSync(path.join(PKG, 'haforu_web_bg.wasm')) });

const seconds = Number(process.argv[2] || 10);
const dejavuBytes = fs.readFileSync(path.join(ROOT, 'tests/fonts/DejaVuSans-subset.ttf'));
const dejavu = Font.load(dejavuBytes);
const job = (id, font, text, format, width, height) =>
  JSON.stringify({ id, font, text: { content: text }, rendering: { format, width, height } });
const healthy = [
  job('h-metrics', { size: 48 }, 'Hamburgefonstiv', 'metrics', 800, 100),
  job('h-pgm', { size: 48 }, 'Hamburgefonstiv', 'pgm', 800, 100),
  job('h-png', { size: 48 }, 'Hamburgefonstiv', 'png', 800, 100),
];
const cut = dejavuBytes.subarray(0, 5000).toString('base64');
const hostile = [
  ['x-malformed', '{"id": "x-malformed", "font": {"size": '],
  ['x-deep', '{"id":"x-deep","x":' + '{"a":'.repeat(50000) + '1' + '}'.repeat(50000) + '}'],
  ['x-broken-data', job('x-broken-data', { data: cut, size: 48 }, 'Hamburgefonstiv', 'metrics', 800, 100)],
  ['x-giant', job('x-giant', { size: 2000 }, 'W', 'pgm', 10000, 5000)],
  ['x-huge-size', job('x-huge-size', { size: 10000 }, 'W'.repeat(50), 'metrics', 3000, 1200)],
  ['x-path', job('x-path', { path: '/etc/passwd', size: 48 }, 'x', 'metrics', 100, 100)],
];
const mustFail = new Set(['x-malformed', 'x-deep', 'x-broken-data', 'x-path']);
const strip = (text) => { const r = JSON.parse(text); delete r.timing; return JSON.stringify(r); };
// Jobs with a font source of their own get no Font argument.
const fontFor = (id) => (id === 'x-broken-data' || id === 'x-path' ? undefined : dejavu);

const reference = new Map(healthy.map((j) => [JSON.parse(j).id, strip(renderJson(j, dejavu))]));
let rounds = 0, answers = 0, mismatches = 0, thrown = 0, hostileSuccesses = 0, firstRss = 0, warmRss = 0;
const kinds = {};
const t0 = performance.now();
while (performance.now() - t0 < seconds * 1000) {
  for (const j of healthy) {
    const r = renderJson(j, dejavu);
    answers++;
    if (strip(r) !== reference.get(JSON.parse(j).id)) mismatches++;
  }
  for (const [id, j] of hostile) {
    try {
      const r = JSON.parse(renderJson(j, fontFor(id)));
      answers++;
      (kinds[id] ??= new Set()).add(r.error_kind ?? 'success');
      if (mustFail.has(id) && r.status !== 'error') hostileSuccesses++;
    } catch (e) {
      thrown++;
    }
  }
  rounds++;
  if (rounds === 1) { globalThis.gc?.(); firstRss = process.memoryUsage().rss; }
  // The module's memory keeps its high-water mark (wasm memory does not shrink): growth is
  // counted from round 5 on.
  if (rounds === 5) { globalThis.gc?.(); warmRss = process.memoryUsage().rss; }
}
globalThis.gc?.();
const end = process.memoryUsage().rss;
const mb = (b) => Math.round(b / 1048576 * 10) / 10;
console.log(JSON.stringify({
  check: 'node module (renderJson), hostile mix', rounds, answers, expected_answers: rounds * (healthy.length + hostile.length),
  healthy_mismatches: mismatches, thrown, hostile_successes_that_must_fail: hostileSuccesses,
  hostile_answers: Object.fromEntries(Object.entries(kinds).map(([k, v]) => [k, [...v].sort()])),
  rss_mb_after_round_1: mb(firstRss), rss_mb_after_round_5: mb(warmRss), rss_mb_end: mb(end),
  rss_growth_mb_after_round_5: mb(end - warmRss),
}));
