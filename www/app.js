// The preview page: UI on the main thread, the haforu engine in a module Web Worker.
// Canvases are drawn 1:1 in device pixels from the engine's gray pixels (no browser text).

const $ = (id) => document.getElementById(id);
const WATERFALL = [10, 12, 14, 16, 20, 24, 32, 48, 64, 96];
const GLYPH_CELL = 48, GLYPH_SIZE = 30, GLYPH_FIRST = 512, GLYPH_MAX = 4096;
// Features HarfBuzz applies by default (horizontal text); toggling them means turning them off.
const DEFAULT_ON = new Set(('abvf abvm abvs akhn blwf blwm blws calt ccmp cfar cjct clig curs dist fin2 fin3 ' +
  'fina half haln init isol kern liga ljmo locl ltra ltrm mark med2 medi mkmk nukt pref pres pstf psts rclt ' +
  'rkrf rlig rphf rtla rtlm rvrn stch tjmo vatu vjmo').split(' '));

// Figures for people and for the browser test (`window.haforuStats`).
const stats = window.haforuStats = {
  ready: false, renders: 0, errors: 0, firstRenderMs: null,
  waterfall: [], // {engineMs, roundTripMs} per render that included the waterfall
  glyphGrid: null, fontInfo: null, lastError: null,
};

// ---- worker RPC -------------------------------------------------------------------------------
const worker = new Worker(new URL('./worker.js', import.meta.url), { type: 'module' });
const pending = new Map();
let nextId = 1;
worker.onmessage = (e) => {
  const { id, ok, error, ...rest } = e.data;
  const p = pending.get(id);
  pending.delete(id);
  if (ok) p.resolve(rest);
  else p.reject(Object.assign(new Error(error.message), { kind: error.kind }));
};
worker.onerror = (e) => showError({ kind: 'internal', message: `worker failed: ${e.message}` });
function call(op, args = {}, transfer = []) {
  const id = nextId++;
  return new Promise((resolve, reject) => {
    pending.set(id, { resolve, reject });
    worker.postMessage({ id, op, ...args }, transfer);
  });
}

// ---- state ------------------------------------------------------------------------------------
const state = { font: null, fontName: '', variations: {}, instance: '', features: new Map() };

function showError(err, context) {
  stats.errors++;
  stats.lastError = { kind: err.kind, message: err.message };
  const box = $('error');
  box.textContent = `${context ? context + ': ' : ''}${err.message} [${err.kind || 'error'}]`;
  box.hidden = false;
}
function clearError() { $('error').hidden = true; }

function featureList() {
  const out = [];
  for (const [tag, on] of state.features) {
    if (on !== DEFAULT_ON.has(tag)) out.push(on ? tag : `-${tag}`);
  }
  return out;
}

function baseJob() {
  const v = (id) => $(id).value.trim() || undefined;
  return {
    text: $('sample').value || ' ',
    variations: { ...state.variations },
    features: featureList(),
    script: v('script'), language: v('language'), direction: v('direction'),
  };
}

const dpr = () => window.devicePixelRatio || 1;
const lineHeight = (size) => Math.ceil(size * 1.3);

function paint(canvas, img) {
  canvas.width = img.width;
  canvas.height = img.height;
  canvas.style.width = `${img.width / dpr()}px`;
  canvas.style.height = `${img.height / dpr()}px`;
  canvas.getContext('2d').putImageData(new ImageData(img.rgba, img.width, img.height), 0, 0);
}

// ---- rendering: one request in flight, the latest one waiting ---------------------------------
let busy = false, queued = null;
function requestRender(withWaterfall = true) {
  queued = { withWaterfall: withWaterfall || (queued && queued.withWaterfall) };
  if (!busy) pump();
}
async function pump() {
  if (!queued || !state.font) return;
  const { withWaterfall } = queued;
  queued = null;
  busy = true;
  const size = Number($('size').value);
  const width = Math.max(16, Math.round($('preview-box').clientWidth * dpr()));
  const vertical = /^(ttb|btt)$/.test($('direction').value);
  const preview = vertical
    ? { size: size * dpr(), width: lineHeight(size * dpr()), height: Math.min(10000, width) }
    : { size: size * dpr(), width, height: lineHeight(size * dpr()) };
  const wfWidth = Math.max(16, Math.round(($('waterfall').clientWidth - 52) * dpr()));
  const waterfall = withWaterfall
    ? WATERFALL.map((s) => ({ size: s * dpr(), width: wfWidth, height: lineHeight(s * dpr()) }))
    : [];
  const t0 = performance.now();
  try {
    const r = await call('render', { base: baseJob(), preview, waterfall });
    paint($('preview'), r.main);
    r.steps.forEach((img, i) => paint(document.querySelector(`#waterfall canvas[data-size="${WATERFALL[i]}"]`), img));
    const roundTripMs = performance.now() - t0;
    stats.renders++;
    if (stats.firstRenderMs === null) stats.firstRenderMs = performance.now();
    if (withWaterfall) stats.waterfall.push({ engineMs: r.waterfallMs, roundTripMs });
    $('timing').textContent = `preview ${r.previewMs.toFixed(1)} ms` +
      (withWaterfall ? ` · waterfall (10 sizes) ${r.waterfallMs.toFixed(1)} ms engine, ${roundTripMs.toFixed(1)} ms round trip` : '');
    $('preview').dataset.renders = String(stats.renders);
    clearError();
  } catch (err) {
    showError(err, 'render');
  } finally {
    busy = false;
    if (queued) pump();
  }
}

// ---- glyph grid --------------------------------------------------------------------------------
let glyphLimit = GLYPH_FIRST, glyphTimer = 0, gridColumns = 1;
function scheduleGlyphs(delay = 250) {
  clearTimeout(glyphTimer);
  glyphTimer = setTimeout(renderGlyphs, delay);
}
async function renderGlyphs() {
  if (!state.font) return;
  const all = state.font.codepoints;
  const codepoints = all.slice(0, glyphLimit);
  const cell = Math.round(GLYPH_CELL * dpr());
  gridColumns = Math.max(1, Math.floor(($('glyph-grid').parentElement.clientWidth - 24) * dpr() / cell));
  try {
    const r = await call('glyphs', {
      codepoints, cell, size: GLYPH_SIZE * dpr(), columns: gridColumns, variations: { ...state.variations },
    });
    paint($('glyph-grid'), r);
    const grid = $('glyph-grid');
    grid.dataset.count = String(codepoints.length);
    stats.glyphGrid = { count: codepoints.length, ms: r.ms };
    $('glyph-count').textContent = `${codepoints.length} of ${state.font.codepointCount} mapped characters` +
      ` · ${r.ms.toFixed(0)} ms`;
    $('more-glyphs').hidden = codepoints.length >= Math.min(all.length, GLYPH_MAX);
    $('more-glyphs').textContent = `Show ${Math.min(all.length, GLYPH_MAX)}`;
  } catch (err) {
    showError(err, 'glyph grid');
  }
}
function glyphAt(ev) {
  const grid = $('glyph-grid');
  const rect = grid.getBoundingClientRect();
  const col = Math.floor((ev.clientX - rect.left) / GLYPH_CELL);
  const row = Math.floor((ev.clientY - rect.top) / GLYPH_CELL);
  if (col >= gridColumns) return null;
  const cp = state.font.codepoints[row * gridColumns + col];
  return cp === undefined || row * gridColumns + col >= Number(grid.dataset.count) ? null : cp;
}
$('glyph-grid').addEventListener('mousemove', (ev) => {
  const cp = glyphAt(ev);
  ev.target.title = cp === null ? '' : `U+${cp.toString(16).toUpperCase().padStart(4, '0')}  ${String.fromCodePoint(cp)}`;
});
$('glyph-grid').addEventListener('click', (ev) => {
  const cp = glyphAt(ev);
  if (cp === null) return;
  $('sample').value += String.fromCodePoint(cp);
  requestRender();
});
$('more-glyphs').addEventListener('click', () => { glyphLimit = GLYPH_MAX; renderGlyphs(); });

// ---- font UI -----------------------------------------------------------------------------------
const esc = (s) => String(s ?? '—').replace(/[&<>"]/g, (c) => `&#${c.charCodeAt(0)};`);

function showFont(info, name) {
  state.font = info;
  state.fontName = name;
  stats.fontInfo = info;
  state.variations = {};
  state.instance = '';
  state.features = new Map(info.features.map((f) => [f.tag, DEFAULT_ON.has(f.tag)]));
  $('font-name').textContent = `${info.familyName ?? name} ${info.styleName ?? ''}`.trim();
  $('font-name').title = name;

  // Axes and instances.
  const axes = info.axes.filter((a) => !a.hidden);
  $('no-axes').hidden = info.axes.length > 0;
  $('animate').parentElement.hidden = axes.length === 0;
  $('instance').parentElement.hidden = info.instances.length === 0;
  $('instance').innerHTML = '<option value="">(default)</option>' +
    info.instances.map((i, n) => `<option value="${n}">${esc(i.name)}</option>`).join('');
  $('axes').innerHTML = axes.map((a) => `
    <div class="axis"><div class="row"><label for="axis-${a.tag}">${esc(a.name)} <code>${esc(a.tag)}</code></label>
      <output id="axis-${a.tag}-out">${a.default}</output></div>
      <input type="range" id="axis-${a.tag}" data-tag="${esc(a.tag)}" min="${a.min}" max="${a.max}"
        step="${a.max - a.min > 20 ? 1 : 0.01}" value="${a.default}"></div>`).join('');
  for (const input of $('axes').querySelectorAll('input')) {
    input.addEventListener('input', () => {
      setAxis(input.dataset.tag, Number(input.value));
      $('instance').value = '';
      requestRender();
      scheduleGlyphs();
    });
  }

  // Features.
  $('features').innerHTML = info.features.map((f) => `
    <label title="${esc(f.tooltip ?? f.uiName ?? f.tag)} (${f.tables.join(', ')})"><input type="checkbox"
      data-tag="${esc(f.tag)}" ${DEFAULT_ON.has(f.tag) ? 'checked' : ''}> <code>${esc(f.tag)}</code>
      ${f.uiName ? esc(f.uiName) : ''}</label>`).join('') || '<p class="muted">No GSUB/GPOS features.</p>';
  for (const box of $('features').querySelectorAll('input')) {
    box.addEventListener('change', () => {
      state.features.set(box.dataset.tag, box.checked);
      requestRender();
    });
  }

  // Info panel.
  const row = (k, v) => `<tr><th>${k}</th><td>${esc(v)}</td></tr>`;
  $('info').innerHTML = `<table>
      ${row('Family', info.familyName)}${row('Style', info.styleName)}${row('Full name', info.fullName)}
      ${row('PostScript name', info.postscriptName)}${row('Version', info.version)}${row('File', name)}
      ${row('Face', `${info.faceIndex + 1} of ${info.faceCount}`)}
      ${row('Units per em', info.unitsPerEm)}${row('Glyphs', info.glyphCount)}
      ${row('Mapped characters', info.codepointCount)}
      ${row('Ascender / descender / line gap', `${info.ascender} / ${info.descender} / ${info.lineGap}`)}
      ${row('Cap height / x-height', `${info.capHeight ?? '—'} / ${info.xHeight ?? '—'}`)}</table>` +
    (info.axes.length ? `<h2>Axes</h2><table><tr><th>tag</th><th>name</th><th>min</th><th>default</th><th>max</th></tr>
      ${info.axes.map((a) => `<tr><td><code>${esc(a.tag)}</code></td><td>${esc(a.name)}${a.hidden ? ' (hidden)' : ''}</td>
        <td>${a.min}</td><td>${a.default}</td><td>${a.max}</td></tr>`).join('')}</table>` : '') +
    (info.instances.length ? `<h2>Named instances</h2><table>${info.instances.map((i) =>
      `<tr><td>${esc(i.name)}</td><td>${esc(Object.entries(i.coords).map(([t, v]) => `${t} ${v}`).join(', '))}</td></tr>`).join('')}</table>` : '') +
    `<h2>Features</h2><table>${info.features.map((f) =>
      `<tr><td><code>${esc(f.tag)}</code></td><td>${esc(f.tables.join(' + '))}</td><td>${f.uiName ? esc(f.uiName) : ''}</td></tr>`).join('')}</table>`;

  glyphLimit = GLYPH_FIRST;
  requestRender();
  scheduleGlyphs(0);
}

function setAxis(tag, value) {
  state.variations[tag] = value;
  const input = $(`axis-${tag}`);
  if (input) {
    input.value = String(value);
    $(`axis-${tag}-out`).textContent = String(Math.round(value * 100) / 100);
  }
}

$('instance').addEventListener('change', () => {
  const inst = state.font.instances[Number($('instance').value)];
  if (!inst) return;
  for (const [tag, v] of Object.entries(inst.coords)) setAxis(tag, v);
  requestRender();
  scheduleGlyphs();
});

// Animate: each visible axis sweeps its range, out of phase; frames drop while the engine is busy.
let animating = false;
$('animate').addEventListener('change', () => {
  animating = $('animate').checked;
  if (animating) requestAnimationFrame(animate);
  else scheduleGlyphs();
});
function animate(t) {
  if (!animating || !state.font) return;
  state.font.axes.filter((a) => !a.hidden).forEach((a, i) => {
    const phase = (t / 4000 + i * 0.25) * 2 * Math.PI;
    setAxis(a.tag, Math.round((a.min + (a.max - a.min) * (0.5 - 0.5 * Math.cos(phase))) * 100) / 100);
  });
  if (!busy) requestRender();
  requestAnimationFrame(animate);
}

// ---- loading fonts -----------------------------------------------------------------------------
async function loadFile(file) {
  try {
    const bytes = await file.arrayBuffer();
    const r = await call('load', { bytes }, [bytes]);
    clearError();
    showFont(r.font, file.name);
  } catch (err) {
    showError(err, `could not use “${file.name}”`);
  }
}
$('font-file').addEventListener('change', (e) => {
  const file = e.target.files[0];
  if (file) loadFile(file);
  e.target.value = '';
});
let dragDepth = 0;
document.addEventListener('dragenter', (e) => { e.preventDefault(); dragDepth++; $('drop-overlay').hidden = false; });
document.addEventListener('dragleave', () => { if (--dragDepth <= 0) { dragDepth = 0; $('drop-overlay').hidden = true; } });
document.addEventListener('dragover', (e) => e.preventDefault());
document.addEventListener('drop', (e) => {
  e.preventDefault();
  dragDepth = 0;
  $('drop-overlay').hidden = true;
  const file = e.dataTransfer.files[0];
  if (file) loadFile(file);
});

// ---- other controls ----------------------------------------------------------------------------
$('sample').addEventListener('input', () => requestRender());
$('size').addEventListener('input', () => { $('size-out').textContent = $('size').value; requestRender(false); });
for (const id of ['script', 'language', 'direction']) $(id).addEventListener('change', () => requestRender());
let resizeTimer = 0;
window.addEventListener('resize', () => {
  clearTimeout(resizeTimer);
  resizeTimer = setTimeout(() => { requestRender(); scheduleGlyphs(); }, 150);
});

$('download').addEventListener('click', async () => {
  const size = Number($('size').value);
  const width = Math.max(16, Math.round($('preview-box').clientWidth * dpr()));
  try {
    const r = await call('png', { base: baseJob(), preview: { size: size * dpr(), width, height: lineHeight(size * dpr()) } });
    const a = document.createElement('a');
    a.href = URL.createObjectURL(new Blob([r.png], { type: 'image/png' }));
    a.download = `${(state.font.familyName || 'font').replace(/\W+/g, '-')}-${size}px.png`;
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(a.href), 10000);
  } catch (err) {
    showError(err, 'PNG');
  }
});

// ---- start -------------------------------------------------------------------------------------
$('waterfall').innerHTML = WATERFALL.map((s) =>
  `<div class="step"><span>${s} px</span><canvas data-size="${s}"></canvas></div>`).join('');
if ('serviceWorker' in navigator && location.protocol !== 'file:') {
  navigator.serviceWorker.register('./sw.js').catch(() => { /* offline use is optional */ });
}
const tStart = performance.now();
call('init').then((r) => {
  document.title = `haforu ${r.version} — font preview`;
  stats.ready = true;
  stats.version = r.version;
  stats.startup = { workerStartMs: tStart, wasmInitMs: r.wasmInitMs, fontMs: r.fontMs, readyMs: performance.now() };
  showFont(r.font, r.name);
}, (err) => showError(err, 'engine start'));
