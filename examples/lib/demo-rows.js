// The CSV work of `npm start` (examples/demo.js), as plain functions with no weft in them:
// every variant of the demo (weft pipeline, single thread, postMessage workers) calls these same
// functions, so they do the same work and must produce the same checksum.
//
// A row is `id,height_cm,weight_kg,name`; the pipeline is the book's (ch. 5):
//   generate (stands in for reading a file) → parse → convert (BMI, category) → encode (CSV out).

const NAMES = ['Ada', 'Alan', 'Barbara', 'Brian', 'Dennis', 'Edsger', 'Frances', 'Grace',
  'John', 'Ken', 'Leslie', 'Margaret', 'Niklaus', 'Radia', 'Rob', 'Tony'];
export const CATEGORIES = ['underweight', 'normal', 'overweight', 'obese'];

/** A deterministic 32-bit hash of an integer (so row `id` is the same in every run). */
function mix(x) {
  x = Math.imul(x ^ (x >>> 16), 0x7feb352d);
  x = Math.imul(x ^ (x >>> 15), 0x846ca68b);
  return (x ^ (x >>> 16)) >>> 0;
}

/** The CSV text of rows [from, from + count): what a reader would hand the parser. */
export function generate(from, count) {
  let text = '';
  for (let id = from; id < from + count; id++) {
    const r = mix(id + 1);
    const height = (1450 + (r % 550)) / 10;            // 145.0 .. 199.9 cm
    const weight = (400 + ((r >>> 10) % 900)) / 10;    // 40.0 .. 129.9 kg
    text += `${id},${height.toFixed(1)},${weight.toFixed(1)},${NAMES[r >>> 28]}\n`;
  }
  return text;
}

/** Parses CSV text into columns (typed arrays travel cheaply between threads). */
export function parse(text) {
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  const n = lines.length;
  const id = new Int32Array(n);
  const height = new Float64Array(n);
  const weight = new Float64Array(n);
  const name = new Array(n);
  for (let i = 0; i < n; i++) {
    const f = lines[i].split(',');
    id[i] = Number(f[0]);
    height[i] = Number(f[1]);
    weight[i] = Number(f[2]);
    name[i] = f[3];
  }
  return { id, height, weight, name };
}

/** Adds the body-mass index and its category to parsed columns. */
export function convert(rows) {
  const n = rows.id.length;
  const bmi = new Float64Array(n);
  const category = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const m = rows.height[i] / 100;
    const b = rows.weight[i] / (m * m);
    bmi[i] = b;
    category[i] = b < 18.5 ? 0 : b < 25 ? 1 : b < 30 ? 2 : 3;
  }
  return { id: rows.id, name: rows.name, bmi, category };
}

/**
 * Encodes converted rows as output CSV lines `id,name,bmi,category` and returns how many rows
 * and a checksum of the text: the sum of each line's 32-bit FNV-1a hash, which does not depend on
 * the order batches arrive in (exact: 1 M rows sum below 2^53).
 */
export function encode(rows) {
  const n = rows.id.length;
  let sum = 0;
  for (let i = 0; i < n; i++) {
    const line = `${rows.id[i]},${rows.name[i]},${rows.bmi[i].toFixed(2)},${CATEGORIES[rows.category[i]]}\n`;
    let h = 0x811c9dc5;
    for (let j = 0; j < line.length; j++) h = Math.imul(h ^ line.charCodeAt(j), 0x01000193);
    sum += h >>> 0;
  }
  return { rows: n, sum };
}

/** Rows in batch `b` of a run of `total` rows in batches of `size`. */
export function batchRange(b, size, total) {
  const from = b * size;
  return [from, Math.min(size, total - from)];
}
