// The CSV work of `npm start` (examples/demo.js), as plain functions with no weft in them:
// every variant of the demo (weft pipeline, single thread, postMessage workers) calls these same
// functions, so they do the same work and must produce the same checksum.
//
// A row is `id,height_cm,weight_kg,name`; the pipeline is the book's (ch. 5):
//   generate (stands in for reading a file) → parse → convert (BMI, category) → encode (CSV out).
//
// The data stays in bytes and columns, as a fast pipeline in Node keeps it: the "file" is a
// Uint8Array of CSV text (what fs gives), parse fills typed-array columns (names as one byte
// column) laid out in one buffer, encode writes output CSV bytes. Where that buffer lives is
// the caller's choice (see columns()): a batch crosses threads as a slot number of a shared
// arena (weft) or as a transferred ArrayBuffer (postMessage), never row by row.

const te = new TextEncoder();
const NAMES = ['Ada', 'Alan', 'Barbara', 'Brian', 'Dennis', 'Edsger', 'Frances', 'Grace',
  'John', 'Ken', 'Leslie', 'Margaret', 'Niklaus', 'Radia', 'Rob', 'Tony'].map((n) => te.encode(n));
const CATEGORIES = ['underweight', 'normal', 'overweight', 'obese'].map((c) => te.encode(c));
const COMMA = 44;
const NL = 10;
const DOT = 46;
const ZERO = 48;

/** A deterministic 32-bit hash of an integer (so row `id` is the same in every run). */
function mix(x) {
  x = Math.imul(x ^ (x >>> 16), 0x7feb352d);
  x = Math.imul(x ^ (x >>> 15), 0x846ca68b);
  return (x ^ (x >>> 16)) >>> 0;
}

/** Writes the decimal digits of the integer `n >= 0` at `pos`; returns the position after. */
function writeInt(buf, pos, n) {
  if (n >= 10) pos = writeInt(buf, pos, Math.floor(n / 10));
  buf[pos] = ZERO + (n % 10);
  return pos + 1;
}

function writeBytes(buf, pos, bytes) {
  for (let i = 0; i < bytes.length; i++) buf[pos + i] = bytes[i];
  return pos + bytes.length;
}

/**
 * The CSV bytes of rows [from, from + count): what reading the file would hand the parser.
 * Written into `buf` (at least count * 40 bytes, reusable); returns the part written.
 */
export function generate(from, count, buf = new Uint8Array(count * 40)) {
  let pos = 0;
  for (let id = from; id < from + count; id++) {
    const r = mix(id + 1);
    const height = 1450 + (r % 550);          // tenths of a cm: 145.0 .. 199.9
    const weight = 400 + ((r >>> 10) % 900);  // tenths of a kg: 40.0 .. 129.9
    pos = writeInt(buf, pos, id);
    buf[pos++] = COMMA;
    pos = writeInt(buf, pos, Math.floor(height / 10));
    buf[pos++] = DOT;
    buf[pos++] = ZERO + (height % 10);
    buf[pos++] = COMMA;
    pos = writeInt(buf, pos, Math.floor(weight / 10));
    buf[pos++] = DOT;
    buf[pos++] = ZERO + (weight % 10);
    buf[pos++] = COMMA;
    pos = writeBytes(buf, pos, NAMES[r >>> 28]);
    buf[pos++] = NL;
  }
  return buf.subarray(0, pos);
}

/** Reads a decimal number (digits with an optional fraction) at `pos`, up to a comma. */
function readNumber(bytes, pos, out, i) {
  let n = 0;
  let scale = 0;
  for (let c = bytes[pos]; c !== COMMA; c = bytes[++pos]) {
    if (c === DOT) scale = 1;
    else {
      n = n * 10 + (c - ZERO);
      if (scale !== 0) scale *= 10;
    }
  }
  out[i] = scale === 0 ? n : n / scale;
  return pos + 1;
}

/** The most bytes of a name (the generated names are at most 8). */
export const NAME_MAX = 16;

/** Bytes of one column set for `size` rows (see {@link columns}). */
export const columnBytes = (size) => size * (4 + 8 + 8 + 8 + 1 + 1 + NAME_MAX);

/**
 * A column set for up to `size` rows, laid out in one buffer (`buffer`, from byte `offset`;
 * default a new ArrayBuffer): what parse fills and convert / encode read. The caller decides
 * where it lives: a fresh ArrayBuffer (transferred by postMessage), one reused buffer (one
 * thread), or a slot of a SharedArrayBuffer (weft's pipeline: threads hand over slot numbers).
 */
export function columns(size, buffer = new ArrayBuffer(columnBytes(size)), offset = 0) {
  let at = offset;
  const take = (Type, n) => {
    const a = new Type(buffer, at, n);
    at += n * Type.BYTES_PER_ELEMENT;
    return a;
  };
  // 8-byte columns first, so every view is aligned whatever `size` is.
  return {
    buffer,
    height: take(Float64Array, size),
    weight: take(Float64Array, size),
    bmi: take(Float64Array, size),
    id: take(Int32Array, size),
    nameLen: take(Uint8Array, size),
    category: take(Uint8Array, size),
    names: take(Uint8Array, size * NAME_MAX),
  };
}

/**
 * Parses CSV bytes into the column set `cols` (names copied into one byte column, each
 * `nameLen[i]` bytes long, one after the other, so the input bytes need not travel on);
 * returns the number of rows.
 */
export function parse(bytes, cols) {
  const { id, height, weight, nameLen, names } = cols;
  let pos = 0;
  let at = 0;
  let i = 0;
  for (; pos < bytes.length; i++) {
    pos = readNumber(bytes, pos, id, i);
    pos = readNumber(bytes, pos, height, i);
    pos = readNumber(bytes, pos, weight, i);
    const start = at;
    for (let c = bytes[pos]; c !== NL; c = bytes[++pos]) names[at++] = c;
    nameLen[i] = at - start;
    pos++;
  }
  return i;
}

/** Adds the body-mass index and its category to the first `n` parsed rows of `cols`. */
export function convert(cols, n) {
  const { height, weight, bmi, category } = cols;
  for (let i = 0; i < n; i++) {
    const m = height[i] / 100;
    const b = weight[i] / (m * m);
    bmi[i] = b;
    category[i] = b < 18.5 ? 0 : b < 25 ? 1 : b < 30 ? 2 : 3;
  }
}

/**
 * Encodes the first `n` converted rows of `cols` as output CSV lines `id,name,bmi,category`
 * (BMI with two decimals) into `out` (a reusable buffer of at least n * 48 bytes) and returns
 * how many rows and a checksum of the text: the sum of each line's 32-bit FNV-1a hash, which
 * does not depend on the order batches arrive in (exact: 1 M rows sum below 2^53).
 */
export function encode(cols, n, out) {
  const { id, nameLen, names, bmi, category } = cols;
  let pos = 0;
  let sum = 0;
  let name = 0;
  for (let i = 0; i < n; i++) {
    const start = pos;
    pos = writeInt(out, pos, id[i]);
    out[pos++] = COMMA;
    for (const end = name + nameLen[i]; name < end; name++) out[pos++] = names[name];
    out[pos++] = COMMA;
    const cents = Math.round(bmi[i] * 100);
    pos = writeInt(out, pos, Math.floor(cents / 100));
    out[pos++] = DOT;
    out[pos++] = ZERO + (Math.floor(cents / 10) % 10);
    out[pos++] = ZERO + (cents % 10);
    out[pos++] = COMMA;
    pos = writeBytes(out, pos, CATEGORIES[category[i]]);
    out[pos++] = NL;
    let h = 0x811c9dc5;
    for (let j = start; j < pos; j++) h = Math.imul(h ^ out[j], 0x01000193);
    sum += h >>> 0;
  }
  return { rows: n, sum, bytes: pos };
}

/** A buffer for {@link encode}'s output of up to `size` rows. */
export const outputBuffer = (size) => new Uint8Array(size * 48);

/** Rows in batch `b` of a run of `total` rows in batches of `size`. */
export function batchRange(b, size, total) {
  const from = b * size;
  return [from, Math.min(size, total - from)];
}
