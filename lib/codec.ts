/**
 * The structured-value codec of weft channels: a compact binary form for plain data
 * (primitives, strings, arrays, plain objects, Map, Set, Date, typed arrays, bigint) written
 * straight into the thread's scratch area, with weft objects carried by reference and
 * `node:v8`'s serializer as the fallback for the rest of the structured clone algorithm.
 * @internal
 * @module
 */
import { DefaultDeserializer, DefaultSerializer } from 'node:v8';
import { DataCloneError } from './errors.js';
import { scratch } from './native.js';
import { WeftObject, wrapHandle } from './object.js';
import type { Handle } from './native.js';

const T_UNDEF = 0, T_NULL = 1, T_TRUE = 2, T_FALSE = 3, T_I32 = 4, T_F64 = 5;
const T_ASCII = 6, T_UTF16 = 7, T_ARRAY = 8, T_OBJECT = 9, T_BIGINT = 10, T_REF = 11;
const T_V8 = 12, T_MAP = 13, T_SET = 14, T_DATE = 15, T_TYPED = 16, T_AB = 17, T_BUFREF = 18;

const MAX_DEPTH = 100;


class Bail extends Error {}

// Node's view types in the order its serializer numbers them (lib/v8.js; 10 is Buffer, which
// structured clone turns into a Uint8Array).
const hostViewTypes = [
  Int8Array, Uint8Array, Uint8ClampedArray, Int16Array, Uint16Array, Int32Array, Uint32Array,
  Float32Array, Float64Array, DataView, Uint8Array, BigInt64Array, BigUint64Array,
] as const;

/**
 * node:v8's default (de)serializer copies only the bytes a view covers and, when reading,
 * makes views *into its input* (here: the scratch area the next message overwrites). This
 * pair does what structured clone (postMessage) does instead: a view carries its whole
 * buffer, byte offset and length, and every received view owns a fresh buffer.
 */
class ViewSerializer extends DefaultSerializer {
  _writeHostObject(v: ArrayBufferView): void {
    const t = hostViewTypes.findIndex((C) => v instanceof C && !(C === Uint8Array && Buffer.isBuffer(v)));
    const whole = new Uint8Array(v.buffer as ArrayBuffer);
    this.writeUint32(t < 0 ? 1 : t);
    this.writeUint32(v.byteOffset);
    this.writeUint32(v.byteLength);
    this.writeUint32(whole.byteLength);
    this.writeRawBytes(whole);
  }
}

class OwningDeserializer extends DefaultDeserializer {
  _readHostObject(): unknown {
    const C = hostViewTypes[this.readUint32()];
    const byteOffset = this.readUint32();
    const byteLength = this.readUint32();
    const total = this.readUint32();
    const copy = new Uint8Array(this.readRawBytes(total));
    if (C === undefined) throw new Error('weft: corrupt message (host object)');
    return makeView(C, copy.buffer, byteOffset, byteLength);
  }
}

function makeView(C: (typeof hostViewTypes)[number], ab: ArrayBuffer, off: number, len: number): ArrayBufferView {
  if (C === DataView) return new DataView(ab, off, len);
  const T = C as typeof Uint8Array;
  return new T(ab, off, len / T.BYTES_PER_ELEMENT);
}

function serialize(v: unknown): Uint8Array {
  const ser = new ViewSerializer();
  ser.writeHeader();
  ser.writeValue(v);
  return ser.releaseBuffer();
}

let buf: Uint8Array = scratch();
let dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
let pos = 0;
let refs: Handle[] | undefined;
let depth = 0;
// ArrayBuffers already written in this message: views of one buffer stay views of one buffer.
let seenBufs: Map<ArrayBuffer, number> | undefined;

/** Writes buffer ab (whole), or a back-reference if this message already carries it. */
function writeBuffer(ab: ArrayBuffer): void {
  const seen = (seenBufs ??= new Map()).get(ab);
  if (seen !== undefined) {
    ensure(5);
    buf[pos] = T_BUFREF;
    dv.setUint32(pos + 1, seen, true);
    pos += 5;
    return;
  }
  seenBufs.set(ab, seenBufs.size);
  const whole = new Uint8Array(ab);
  ensure(5 + whole.length);
  buf[pos] = T_AB;
  dv.setUint32(pos + 1, whole.length, true);
  pos += 5;
  buf.set(whole, pos);
  pos += whole.length;
}

function grow(n: number): void {
  let size = buf.length * 2;
  while (size < pos + n) size *= 2;
  const nb = new Uint8Array(size);
  nb.set(buf.subarray(0, pos));
  buf = nb;
  dv = new DataView(nb.buffer);
}

function ensure(n: number): void {
  if (pos + n > buf.length) grow(n);
}

function writeU32(x: number): void {
  ensure(4);
  dv.setUint32(pos, x, true);
  pos += 4;
}

function writeString(s: string): void {
  const n = s.length;
  ensure(5 + n * 2);
  const start = pos;
  buf[pos] = T_ASCII;
  dv.setUint32(pos + 1, n, true);
  pos += 5;
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0x80) {
      // Not ASCII: store UTF-16 code units (exact, lone surrogates included).
      pos = start;
      buf[pos] = T_UTF16;
      dv.setUint32(pos + 1, n, true);
      pos += 5;
      for (let j = 0; j < n; j++) {
        dv.setUint16(pos, s.charCodeAt(j), true);
        pos += 2;
      }
      return;
    }
    buf[pos++] = c;
  }
}

function writeV8(v: unknown): void {
  let bytes: Uint8Array;
  try {
    bytes = serialize(v);
  } catch (e) {
    throw new DataCloneError(`value could not be cloned: ${(e as Error).message}`, { cause: e });
  }
  ensure(5 + bytes.length);
  buf[pos] = T_V8;
  dv.setUint32(pos + 1, bytes.length, true);
  pos += 5;
  buf.set(bytes, pos);
  pos += bytes.length;
}

function write(v: unknown): void {
  switch (typeof v) {
    case 'number':
      ensure(9);
      if ((v | 0) === v && !Object.is(v, -0)) {
        buf[pos] = T_I32;
        dv.setInt32(pos + 1, v, true);
        pos += 5;
      } else {
        buf[pos] = T_F64;
        dv.setFloat64(pos + 1, v, true);
        pos += 9;
      }
      return;
    case 'string':
      writeString(v);
      return;
    case 'boolean':
      ensure(1);
      buf[pos++] = v ? T_TRUE : T_FALSE;
      return;
    case 'undefined':
      ensure(1);
      buf[pos++] = T_UNDEF;
      return;
    case 'bigint': {
      const s = v.toString(16);
      ensure(1);
      buf[pos++] = T_BIGINT;
      writeString(s);
      return;
    }
    case 'function':
      throw new DataCloneError(`${String(v.name || 'function')} could not be cloned`);
    case 'symbol':
      throw new DataCloneError(`${String(v)} could not be cloned`);
    case 'object':
      break;
  }
  if (v === null) {
    ensure(1);
    buf[pos++] = T_NULL;
    return;
  }
  if (++depth > MAX_DEPTH) throw new Bail();
  try {
    writeObject(v as object);
  } finally {
    depth--;
  }
}

// Plain object: the keys first, then the values, so the reader can pick an object shape
// (and a monomorphic constructor for it) before it reads the values.
function writePlain(v: Record<string, unknown>): void {
  // for-in over a plain object reads through V8's enum cache (fast keyed loads), unlike
  // Object.keys + v[k]. Plain objects inherit nothing enumerable from Object.prototype.
  ensure(5);
  buf[pos] = T_OBJECT;
  const countAt = pos + 1;
  pos += 5;
  let n = 0;
  for (const k in v) {
    writeString(k);
    n++;
  }
  dv.setUint32(countAt, n, true);
  for (const k in v) write(v[k]);
}

function writeObject(v: object): void {
  if (v instanceof WeftObject) {
    (refs ??= []).push(v._h);
    ensure(1);
    buf[pos++] = T_REF;
    // index * 4 + tag: a channel view keeps its direction in the receiving thread (_tag < 4).
    writeU32((refs.length - 1) * 4 + v._tag());
    return;
  }
  // Plain objects first, and without Object.getPrototypeOf (a runtime call on megamorphic
  // sites): an object whose constructor is Object is treated as plain.
  if ((v as { constructor?: unknown }).constructor === Object) {
    writePlain(v as Record<string, unknown>);
    return;
  }
  const proto = Object.getPrototypeOf(v);
  if (Array.isArray(v) && proto === Array.prototype) {
    const n = v.length;
    ensure(1);
    buf[pos++] = T_ARRAY;
    writeU32(n);
    for (let i = 0; i < n; i++) write(v[i]);
    return;
  }
  if (proto === Object.prototype || proto === null) {
    writePlain(v as Record<string, unknown>);
    return;
  }
  if (v instanceof Map && proto === Map.prototype) {
    ensure(1);
    buf[pos++] = T_MAP;
    writeU32(v.size);
    for (const [k, x] of v) {
      write(k);
      write(x);
    }
    return;
  }
  if (v instanceof Set && proto === Set.prototype) {
    ensure(1);
    buf[pos++] = T_SET;
    writeU32(v.size);
    for (const x of v) write(x);
    return;
  }
  if (v instanceof Date && proto === Date.prototype) {
    ensure(9);
    buf[pos] = T_DATE;
    dv.setFloat64(pos + 1, v.getTime(), true);
    pos += 9;
    return;
  }
  if (ArrayBuffer.isView(v) && v.buffer instanceof ArrayBuffer) {
    // As structured clone does: the whole buffer travels, with the view's offset and length.
    const t = hostViewTypes.findIndex((C) => proto === C.prototype);
    if (t >= 0) {
      ensure(10);
      buf[pos] = T_TYPED;
      buf[pos + 1] = t;
      dv.setUint32(pos + 2, v.byteOffset, true);
      dv.setUint32(pos + 6, v.byteLength, true);
      pos += 10;
      writeBuffer(v.buffer);
      return;
    }
  }
  if (v instanceof ArrayBuffer) {
    writeBuffer(v);
    return;
  }
  // Everything else (RegExp, Error, boxed primitives, class instances, SharedArrayBuffer,
  // ...) takes the full structured clone algorithm.
  writeV8(v);
}

/** Encoded form of a value: `payload` is a byte length in the scratch area or a copy. */
export interface Encoded {
  payload: number | Uint8Array;
  refs: Handle[] | undefined;
}

/**
 * Encodes v for a structured channel. Returns the byte length when the encoding sits in the
 * thread's scratch area (valid until the next encode/decode), else an owned Uint8Array.
 * Throws DataCloneError (nothing is sent) for values structured clone refuses.
 */
let encScratch: Uint8Array | undefined;
let encDv = dv;

export function encode(v: unknown): Encoded {
  const s = scratch();
  if (s !== encScratch) {
    encScratch = s;
    encDv = new DataView(s.buffer);
  }
  buf = s;
  dv = encDv;
  pos = 0;
  refs = undefined;
  depth = 0;
  seenBufs = undefined;
  try {
    write(v);
  } catch (e) {
    if (!(e instanceof Bail)) throw e;
    // Too deep, or cyclic: the full algorithm handles shared and cyclic references.
    buf = s;
    dv = encDv;
    pos = 0;
    refs = undefined;
    writeV8(v);
  }
  const r: Encoded = { payload: buf === s ? pos : buf.subarray(0, pos), refs };
  refs = undefined;
  return r;
}

/** Encodes into an owned copy (for values that must outlive the next encode). */
export function encodeOwned(v: unknown): { payload: Uint8Array; refs: Handle[] | undefined } {
  const e = encode(v);
  const payload = typeof e.payload === 'number' ? scratch().slice(0, e.payload) : e.payload;
  return { payload, refs: e.refs };
}

// ---- decoding ---------------------------------------------------------------------------

let rb: Uint8Array = buf;
let rdv = dv;
let rpos = 0;
let rrefs: Handle[] | undefined;
let rbufs: ArrayBuffer[] = [];

const td = new TextDecoder();

function readU32(): number {
  const x = rdv.getUint32(rpos, true);
  rpos += 4;
  return x;
}

// Short ASCII strings (object keys above all) come from a small cache: a hit costs a hash
// and a compare, and reuses a string V8 has already internalized as a property key.
const KEY_CACHE_SIZE = 4096;
const keyCache: (string | undefined)[] = new Array(KEY_CACHE_SIZE).fill(undefined);
const charBuf: number[] = [];

function shortAscii(start: number, n: number): string {
  let h = n;
  for (let i = start; i < start + n; i++) h = (Math.imul(h, 31) + rb[i]!) | 0;
  const slot = (h ^ (h >>> 12)) & (KEY_CACHE_SIZE - 1);
  const c = keyCache[slot];
  if (c !== undefined && c.length === n) {
    let same = true;
    for (let i = 0; i < n; i++) {
      if (c.charCodeAt(i) !== rb[start + i]) {
        same = false;
        break;
      }
    }
    if (same) return c;
  }
  charBuf.length = n;
  for (let i = 0; i < n; i++) charBuf[i] = rb[start + i]!;
  const s = String.fromCharCode.apply(null, charBuf);
  keyCache[slot] = s;
  return s;
}

function readStringBody(tag: number): string {
  const n = readU32();
  if (tag === T_ASCII) {
    const start = rpos;
    rpos += n;
    if (n <= 24) return shortAscii(start, n);
    if (n > 64) return td.decode(rb.subarray(start, rpos));
    charBuf.length = n;
    for (let i = 0; i < n; i++) charBuf[i] = rb[start + i]!;
    return String.fromCharCode.apply(null, charBuf);
  }
  let s = '';
  for (let i = 0; i < n; i += 4096) {
    const m = Math.min(4096, n - i);
    const codes = new Array<number>(m);
    for (let j = 0; j < m; j++) codes[j] = rdv.getUint16(rpos + (i + j) * 2, true);
    s += String.fromCharCode.apply(null, codes);
  }
  rpos += n * 2;
  return s;
}

function read(): unknown {
  const tag = rb[rpos++]!;
  switch (tag) {
    case T_UNDEF: return undefined;
    case T_NULL: return null;
    case T_TRUE: return true;
    case T_FALSE: return false;
    case T_I32: {
      const x = rdv.getInt32(rpos, true);
      rpos += 4;
      return x;
    }
    case T_F64: {
      const x = rdv.getFloat64(rpos, true);
      rpos += 8;
      return x;
    }
    case T_ASCII:
    case T_UTF16:
      return readStringBody(tag);
    case T_ARRAY: {
      const n = readU32();
      const a = new Array(n);
      for (let i = 0; i < n; i++) a[i] = read();
      return a;
    }
    case T_OBJECT:
      return readPlain();
    case T_BIGINT: {
      const s = readStringBody(rb[rpos++]!);
      return s.startsWith('-') ? -BigInt('0x' + s.slice(1)) : BigInt('0x' + s);
    }
    case T_REF: {
      const i = readU32();
      return wrapHandle(rrefs![i >>> 2]!, i & 3);
    }
    case T_MAP: {
      const n = readU32();
      const m = new Map();
      for (let i = 0; i < n; i++) {
        const k = read();
        m.set(k, read());
      }
      return m;
    }
    case T_SET: {
      const n = readU32();
      const s = new Set();
      for (let i = 0; i < n; i++) s.add(read());
      return s;
    }
    case T_DATE: {
      const t = rdv.getFloat64(rpos, true);
      rpos += 8;
      return new Date(t);
    }
    case T_TYPED: {
      const C = hostViewTypes[rb[rpos]!]!;
      rpos++;
      const off = readU32();
      const len = readU32();
      return makeView(C, read() as ArrayBuffer, off, len);
    }
    case T_AB: {
      const n = readU32();
      const copy = rb.slice(rpos, rpos + n);
      rpos += n;
      rbufs.push(copy.buffer);
      return copy.buffer;
    }
    case T_BUFREF:
      return rbufs[readU32()];
    case T_V8: {
      const n = readU32();
      const d = new OwningDeserializer(rb.subarray(rpos, rpos + n));
      d.readHeader();
      const v = d.readValue();
      rpos += n;
      return v;
    }
    default:
      throw new Error(`weft: corrupt message (tag ${tag})`);
  }
}

/** Decodes `len` bytes of bytes (scratch or a received copy) with the given weft objects. */
// ---- plain objects: shapes ----------------------------------------------------------------

// For each distinct key list (up to MAX_SHAPES of them) a constructor built once from an
// object literal, so every decoded object of that shape gets the same hidden class with one
// monomorphic allocation instead of a run of megamorphic keyed stores.
type Make = (vals: unknown[], base: number) => Record<string, unknown>;
interface Shape {
  keys: string[];
  make: Make | null;
}
const MAX_SHAPES = 512;
const MAX_SHAPE_KEYS = 32;
const shapes = new Map<string, Shape[]>();
let shapeCount = 0;
const keyStack: string[] = [];
const valStack: unknown[] = [];
let sp = 0;

function shapeFor(keys: string[], base: number, n: number): Shape | undefined {
  const first = keys[base]!;
  let list = shapes.get(first);
  if (list !== undefined) {
    outer: for (const sh of list) {
      if (sh.keys.length !== n) continue;
      for (let i = 1; i < n; i++) if (sh.keys[i] !== keys[base + i]) continue outer;
      return sh;
    }
  }
  if (shapeCount >= MAX_SHAPES) return undefined;
  const own = keys.slice(base, base + n);
  let make: Make | null = null;
  if (!own.includes('__proto__') && new Set(own).size === n) {
    try {
      const body = own.map((k, i) => `${JSON.stringify(k)}: v[b + ${i}]`).join(', ');
      make = new Function('v', 'b', `return { ${body} };`) as Make;
    } catch {
      make = null; // code generation disallowed: generic path
    }
  }
  const sh: Shape = { keys: own, make };
  if (list === undefined) shapes.set(first, (list = []));
  list.push(sh);
  shapeCount++;
  return sh;
}

function readPlain(): Record<string, unknown> {
  const n = readU32();
  const base = sp;
  sp += n;
  try {
    for (let i = 0; i < n; i++) keyStack[base + i] = readStringBody(rb[rpos++]!);
    const sh = n > 0 && n <= MAX_SHAPE_KEYS ? shapeFor(keyStack, base, n) : undefined;
    for (let i = 0; i < n; i++) valStack[base + i] = read();
    let o: Record<string, unknown>;
    if (sh?.make) {
      o = sh.make(valStack, base);
    } else {
      o = {};
      for (let i = 0; i < n; i++) {
        const k = keyStack[base + i]!;
        // An own "__proto__" key stays a property, as structured clone keeps it.
        if (k === '__proto__') Object.defineProperty(o, k, { value: valStack[base + i], enumerable: true, writable: true, configurable: true });
        else o[k] = valStack[base + i];
      }
    }
    for (let i = 0; i < n; i++) valStack[base + i] = undefined; // do not retain values
    return o;
  } finally {
    sp = base;
  }
}

let decBytes: Uint8Array | undefined;
let decDv = dv;

export function decode(bytes: Uint8Array, len: number, handles: Handle[] | undefined): unknown {
  if (bytes !== decBytes) {
    decBytes = bytes;
    decDv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }
  rb = bytes;
  rdv = decDv;
  rpos = 0;
  rrefs = handles;
  rbufs = [];
  try {
    const v = read();
    if (rpos !== len) throw new Error('weft: corrupt message (length)');
    return v;
  } finally {
    rrefs = undefined;
  }
}
