// The headline rows of a bench run as one picture: bench/results/latest.svg, weft beside Go, a
// plain SharedArrayBuffer ring, postMessage, piscina and tinypool, time per operation on a log
// scale (shorter is faster). bench/run.js draws it after every run; `npm run bench:chart`
// redraws it from bench/results/latest.json. Plain SVG text, no dependencies.
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** Series: their label and colour, in the order they are drawn within a group. */
const SERIES = {
  weft: { label: 'weft', color: '#2b6cb0' },
  go: { label: 'Go', color: '#00a0c6' },
  sab: { label: 'plain SAB ring', color: '#718096' },
  pm: { label: 'postMessage', color: '#dd6b20' },
  piscina: { label: 'piscina', color: '#805ad5' },
  tinypool: { label: 'tinypool', color: '#d53f8c' },
};

/** Groups: what each compares, and the measurement (case id, or go:Benchmark) of each series. */
const GROUPS = [
  { title: 'f64 value, worker → worker', ids: { weft: 'weft.f64', go: 'go:BufferedSPSC', sab: 'sab.f64', pm: 'pm.f64' } },
  { title: 'f64 in batches of 256, per value', ids: { weft: 'weft.batch', sab: 'sab.batch', pm: 'pm.batch' } },
  { title: '{row,height,weight,name}, worker → worker', ids: { weft: 'weft.row', sab: 'sab.row', pm: 'pm.row' } },
  { title: 'unbuffered ping-pong round trip', ids: { weft: 'weft.pp', go: 'go:UnbufferedPingPong', sab: 'sab.rtt', pm: 'pm.rtt' } },
  { title: 'MPMC 4 × 4 threads, per value', ids: { weft: 'weft.mpmc', go: 'go:MPMC4x4' } },
  { title: 'select over 2 channels, per value', ids: { weft: 'weft.select', go: 'go:Select2' } },
  { title: 'Mutex, 2 threads contending', ids: { weft: 'weft.lock2', go: 'go:MutexContended', sab: 'sab.lock2' } },
  { title: 'go(): 100,000 tiny tasks, per task', ids: { weft: 'pool.weft', piscina: 'pool.piscina', tinypool: 'pool.tinypool' } },
  { title: 'go(): one tiny task, round trip', ids: { weft: 'pool.weftRtt', piscina: 'pool.piscinaRtt' } },
];

const NS_PER = { ns: 1, 'µs': 1e3, us: 1e3, ms: 1e6 };

/** Median ns per operation of measurement `id` in a latest.json object, or undefined. */
function nsOf(json, id) {
  if (id.startsWith('go:')) {
    const r = json.go?.available ? json.go.results?.[id.slice(3)] : undefined;
    return typeof r?.median === 'number' ? r.median : undefined;
  }
  const c = json.cases?.[id];
  if (c?.status !== 'ok' || typeof c.median !== 'number') return undefined;
  const k = NS_PER[c.unit ?? 'ns'];
  return k === undefined ? undefined : c.median * k;
}

const esc = (s) => String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

function fmt(ns) {
  if (ns >= 1e6) return `${(ns / 1e6).toPrecision(3)} ms`;
  if (ns >= 1e3) return `${(ns / 1e3).toPrecision(3)} µs`;
  return `${ns.toPrecision(3)} ns`;
}

/** The SVG text for a latest.json object. Groups with no weft value are left out. */
export function chartSvg(json) {
  const groups = GROUPS.map((g) => ({
    title: g.title,
    bars: Object.entries(g.ids)
      .map(([s, id]) => ({ s, ns: nsOf(json, id) }))
      .filter((b) => b.ns !== undefined && b.ns > 0),
  })).filter((g) => g.bars.some((b) => b.s === 'weft'));
  const all = groups.flatMap((g) => g.bars.map((b) => b.ns));
  const lo = 10 ** Math.floor(Math.log10(Math.min(1, ...all)));
  const hi = 10 ** Math.ceil(Math.log10(Math.max(10, ...all)));
  const W = 900, left = 270, right = 90, top = 70, barH = 13, gap = 3, groupGap = 16, titleH = 16;
  const plotW = W - left - right;
  const x = (ns) => left + (plotW * Math.log10(ns / lo)) / Math.log10(hi / lo);
  let y = top;
  const parts = [];
  for (const g of groups) {
    parts.push(`<text x="16" y="${y + titleH - 4}" class="g">${esc(g.title)}</text>`);
    y += titleH;
    for (const b of g.bars) {
      const s = SERIES[b.s];
      const w = Math.max(1, x(b.ns) - left);
      parts.push(`<text x="${left - 10}" y="${y + barH - 3}" text-anchor="end" class="s">${esc(s.label)}</text>`);
      parts.push(`<rect x="${left}" y="${y}" width="${w.toFixed(1)}" height="${barH}" fill="${s.color}"><title>${esc(`${s.label}: ${fmt(b.ns)}`)}</title></rect>`);
      parts.push(`<text x="${(left + w + 5).toFixed(1)}" y="${y + barH - 3}" class="v">${esc(fmt(b.ns))}</text>`);
      y += barH + gap;
    }
    y += groupGap;
  }
  const bottom = y;
  const grid = [];
  for (let v = lo; v <= hi * 1.0001; v *= 10) {
    const gx = x(v).toFixed(1);
    grid.push(`<line x1="${gx}" y1="${top - 6}" x2="${gx}" y2="${bottom - groupGap}" class="grid"/>`);
    grid.push(`<text x="${gx}" y="${top - 10}" text-anchor="middle" class="a">${esc(fmt(v).replace(/\.00? /, ' ').replace('1.00 ', '1 '))}</text>`);
  }
  const legend = Object.values(SERIES).map((s, i) =>
    `<rect x="${left + i * 100}" y="${bottom + 4}" width="10" height="10" fill="${s.color}"/><text x="${left + i * 100 + 14}" y="${bottom + 13}" class="s">${esc(s.label)}</text>`);
  const H = bottom + 40;
  const goNote = json.go?.available ? json.go.version.replace(/^go version /, '') : 'Go not measured';
  const sub = `${json.date?.slice(0, 10) ?? ''} · node ${json.node ?? '?'} · ${json.nproc ?? '?'} CPUs · ${goNote} · medians of ${json.runs ?? '?'} runs · time per operation, log scale: shorter is faster`;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="-apple-system, Segoe UI, Helvetica, Arial, sans-serif">`,
    '<style>.g{font-size:12px;font-weight:600;fill:#1a202c}.s{font-size:11px;fill:#4a5568}.v{font-size:10px;fill:#2d3748}.a{font-size:10px;fill:#718096}.grid{stroke:#e2e8f0;stroke-width:1}.t{font-size:15px;font-weight:700;fill:#1a202c}.st{font-size:11px;fill:#718096}</style>',
    `<rect width="${W}" height="${H}" fill="#ffffff"/>`,
    `<text x="16" y="22" class="t">weft vs Go, a plain SharedArrayBuffer ring, postMessage, piscina and tinypool</text>`,
    `<text x="16" y="40" class="st">${esc(sub)}</text>`,
    ...grid,
    ...parts,
    ...legend,
    '</svg>',
    '',
  ].join('\n');
}

/** Draws `jsonPath` (a latest.json) into `svgPath`. */
export function writeChart(jsonPath, svgPath) {
  writeFileSync(svgPath, chartSvg(JSON.parse(readFileSync(jsonPath, 'utf8'))));
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const dir = new URL('./results/', import.meta.url);
  writeChart(fileURLToPath(new URL('latest.json', dir)), fileURLToPath(new URL('latest.svg', dir)));
  console.log('written: bench/results/latest.svg');
}
