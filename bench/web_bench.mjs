// Benchmark of the web module (www/pkg/haforu_web.js, wasm-bindgen) in Node on the workloads of
// bench/workloads.jsonl: µs per render() call (raw pixels and the job's own format) and per
// renderJson() call, median of several timed batches. After `make web`:
//     node bench/web_bench.mjs [--quick]
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const PKG = process.env.HAFORU_WEB_PKG || path.join(ROOT, 'www/pkg');
const { default: init, Font, render, renderJson } = await import(pathToFileURL(path.join(PKG, 'haforu_web.js')).href);
await init({ module_or_path: fs.readFileSync(path.join(PKG, 'haforu_web_bg.wasm')) });
const quick = process.argv.includes('--quick');

const jobs = fs.readFileSync(path.join(ROOT, 'bench/workloads.jsonl'), 'utf8')
  .split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l));
const fonts = new Map();
const fontFor = (p) => fonts.get(p) || fonts.set(p, Font.load(fs.readFileSync(path.join(ROOT, p)))).get(p);

// Median µs per call over `batches` batches, each long enough to be measured (≥ ~20 ms).
function time(fn, batches = quick ? 5 : 15) {
  fn();
  let n = 1;
  for (let t = 0; t < 20; n *= 2) {
    const t0 = performance.now();
    for (let i = 0; i < n; i++) fn();
    t = performance.now() - t0;
  }
  const per = [];
  for (let b = 0; b < batches; b++) {
    const t0 = performance.now();
    for (let i = 0; i < n; i++) fn();
    per.push(((performance.now() - t0) * 1000) / n);
  }
  per.sort((a, b) => a - b);
  return per[Math.floor(per.length / 2)];
}

console.log('workload            render() raw   render() job format   renderJson()   (µs per call, median)');
for (const job of jobs) {
  const font = fontFor(job.font.path);
  const opts = {
    font, text: job.text.content, size: job.font.size, width: job.rendering.width, height: job.rendering.height,
    variations: job.font.variations, features: job.text.features, direction: job.text.direction,
  };
  const raw = time(() => render({ ...opts, format: 'raw' }).free());
  const own = time(() => render({ ...opts, format: job.rendering.format }).free());
  const text = JSON.stringify(job);
  const json = time(() => renderJson(text, font));
  const label = `${job.id} (${job.rendering.format})`.padEnd(20);
  console.log(`${label}${raw.toFixed(1).padStart(12)}${own.toFixed(1).padStart(22)}${json.toFixed(1).padStart(15)}`);
}
