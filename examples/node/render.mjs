// Render a word with the bundled default font through the ES module and write it as a PGM file.
// Run from the repository root after `make web`:   node examples/node/render.mjs [out.pgm]
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const PKG = process.env.HAFORU_WEB_PKG || path.join(ROOT, 'www/pkg');
const { default: init, Font, render, version } = await import(pathToFileURL(path.join(PKG, 'haforu_web.js')).href);
await init({ module_or_path: fs.readFileSync(path.join(PKG, 'haforu_web_bg.wasm')) });

const font = Font.default();
const r = render({ font, text: 'Hamburgefonstiv', size: 48, width: 600, height: 80, format: 'pgm',
                   variations: { wght: 700 } });
const out = process.argv[2] || 'hello.pgm';
fs.writeFileSync(out, r.data);
const { density, bbox } = r.metrics;
console.log(`haforu-web ${version()}: ${font.familyName} ${r.width}x${r.height} -> ${out}, density ${density.toFixed(4)}, ink box [${bbox.join(', ')}]`);
font.free();
