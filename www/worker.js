// The engine lives here, off the main thread: one haforu module instance, one current font.
// Messages: {id, op, ...} in; {id, ok: true, ...} or {id, ok: false, error: {kind, message}} out.
import init, { Font, render, version } from './pkg/haforu_web.js';

let font = null; // the current Font (the page shows one at a time)

function fontSummary(f) {
  return { ...f.info, handle: f.handle };
}

// Render one job and hand back RGBA pixels (transferable) plus the ink box.
function rgbaJob(opts) {
  const r = render({ ...opts, font, format: 'raw' });
  try {
    return { width: r.width, height: r.height, bbox: r.bbox, rgba: r.rgba() };
  } finally {
    r.free();
  }
}

const ops = {
  async init() {
    const t0 = performance.now();
    await init();
    const t1 = performance.now();
    font = Font.default();
    return { version: version(), font: fontSummary(font), name: 'Inter (built in)',
      wasmInitMs: t1 - t0, fontMs: performance.now() - t1 };
  },

  load({ bytes, faceIndex }) {
    const next = Font.load(new Uint8Array(bytes), { faceIndex: faceIndex || 0 });
    if (font) font.free();
    font = next;
    return { font: fontSummary(font) };
  },

  // The preview plus the waterfall: one message, one timing for the whole set.
  render({ base, preview, waterfall }) {
    const t0 = performance.now();
    const main = preview ? rgbaJob({ ...base, ...preview }) : null;
    const t1 = performance.now();
    const steps = (waterfall || []).map((w) => rgbaJob({ ...base, ...w }));
    const t2 = performance.now();
    const transfer = [main, ...steps].filter(Boolean).map((s) => s.rgba.buffer);
    return { main, steps, previewMs: t1 - t0, waterfallMs: t2 - t1, transfer };
  },

  // Glyph grid: every code point centred by its ink in a cell of an RGBA atlas.
  glyphs({ codepoints, cell, size, columns, variations }) {
    const t0 = performance.now();
    const rows = Math.max(1, Math.ceil(codepoints.length / columns));
    const W = columns * cell, H = rows * cell;
    const atlas = new Uint8ClampedArray(W * H * 4).fill(255);
    const jobW = cell * 2;
    codepoints.forEach((cp, i) => {
      let r;
      try {
        r = render({ font, text: String.fromCodePoint(cp), size, width: jobW, height: cell, variations, format: 'raw' });
      } catch {
        return; // controls and the like: an empty cell
      }
      const [bx, by, bw, bh] = r.bbox;
      if (bw > 0) {
        const px = r.pixels;
        const ox = (i % columns) * cell + Math.round((cell - bw) / 2);
        const oy = Math.floor(i / columns) * cell;
        for (let y = 0; y < bh; y++) {
          for (let x = 0; x < Math.min(bw, cell); x++) {
            const g = px[(by + y) * jobW + bx + x];
            const ax = ox + x;
            if (ax < 0) continue;
            const o = ((oy + by + y) * W + ax) * 4;
            atlas[o] = atlas[o + 1] = atlas[o + 2] = g;
          }
        }
      }
      r.free();
    });
    return { width: W, height: H, rgba: atlas, ms: performance.now() - t0, transfer: [atlas.buffer] };
  },

  png({ base, preview }) {
    const r = render({ ...base, ...preview, font, format: 'png' });
    try {
      const data = r.data;
      return { png: data, transfer: [data.buffer] };
    } finally {
      r.free();
    }
  },
};

self.onmessage = async (e) => {
  const { id, op, ...args } = e.data;
  try {
    const { transfer = [], ...result } = await ops[op](args);
    self.postMessage({ id, ok: true, ...result }, transfer);
  } catch (err) {
    self.postMessage({ id, ok: false, error: { kind: err.kind || 'internal', message: err.message || String(err) } });
  }
};
