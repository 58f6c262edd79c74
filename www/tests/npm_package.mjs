// The npm package (`make web` writes it to www/pkg/): `npm pack` makes a tarball with the module,
// its types, the wasm and the README; installed into a fresh project, `import 'haforu-web'`
// resolves through package.json `exports` and renders. Then the README's Node example
// (examples/node/render.mjs) runs and writes a PGM. Run after `make web`:
//   node www/tests/npm_package.mjs
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const PKG = path.join(ROOT, 'www/pkg');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'haforu-npm-'));
const npm = (args, cwd) => execFileSync('npm', [...args, '--no-audit', '--no-fund', '--loglevel=error'], { cwd, encoding: 'utf8' });
let passed = 0;
try {
  const [packed] = JSON.parse(npm(['pack', PKG, '--pack-destination', tmp, '--json'], tmp));
  const files = packed.files.map((f) => f.path).sort();
  for (const f of ['README.md', 'haforu_web.d.ts', 'haforu_web.js', 'haforu_web_bg.wasm', 'package.json']) {
    assert.ok(files.includes(f), `${f} is in the package (${files.join(', ')})`);
  }
  assert.ok(files.some((f) => f.startsWith('snippets/')), 'the module\'s JS snippets are in the package');
  passed++;

  const app = path.join(tmp, 'app');
  fs.mkdirSync(app);
  fs.writeFileSync(path.join(app, 'package.json'), JSON.stringify({ name: 'app', private: true, type: 'module' }));
  npm(['install', '--offline', path.join(tmp, packed.filename)], app);
  fs.writeFileSync(path.join(app, 'main.mjs'), `
import { readFile } from 'node:fs/promises';
import init, { Font, render } from 'haforu-web';
await init({ module_or_path: await readFile(new URL(import.meta.resolve('haforu-web/haforu_web_bg.wasm'))) });
const font = Font.default();
const r = render({ font, text: 'Hamburgefonstiv', size: 48, width: 600, height: 80 });
console.log(JSON.stringify({ w: r.width, h: r.height, n: r.pixels.length, density: r.metrics.density }));
font.free();
`);
  const got = JSON.parse(execFileSync('node', ['main.mjs'], { cwd: app, encoding: 'utf8' }));
  assert.equal(got.w, 600);
  assert.equal(got.n, 600 * 80);
  assert.ok(got.density > 0.01 && got.density < 0.5, `density ${got.density}`);
  const types = fs.readFileSync(path.join(app, 'node_modules/haforu-web/haforu_web.d.ts'), 'utf8');
  assert.match(types, /export function render\(options: RenderOptions\): RenderResult;/);
  passed++;

  const out = path.join(tmp, 'hello.pgm');
  const said = execFileSync('node', [path.join(ROOT, 'examples/node/render.mjs'), out], { encoding: 'utf8' });
  assert.match(said, /^haforu-web \S+: Inter .*600x80 -> .*hello\.pgm, density 0\.\d{4}, ink box \[\d+, \d+, \d+, \d+\]\n$/);
  const pgm = fs.readFileSync(out);
  assert.equal(pgm.subarray(0, 14).toString('latin1'), 'P5\n600 80\n255\n');
  assert.equal(pgm.length, 14 + 600 * 80);
  assert.ok(pgm.subarray(14).some((v) => v < 128), 'the PGM has ink');
  passed++;
} finally {
  fs.rmSync(tmp, { recursive: true, force: true });
}
console.log(`haforu-web npm package: ${passed} passed, 0 failed`);
