/**
 * The reader of the structured-value codec (see codec.ts for the writer, codec-wire.ts for
 * the format): rebuilds a value from its bytes and the handles that travelled beside them.
 * @internal
 * @module
 */
import { native } from './native.js';
import { wrapHandle } from './object.js';
import type { Handle } from './native.js';
import { hostDecode, wasmMemoryDecode } from './codec-host.js';
import {
  T_UNDEF, T_NULL, T_TRUE, T_FALSE, T_I32, T_F64, T_ASCII, T_UTF16, T_ARRAY, T_OBJECT, T_BIGINT, T_REF,
  T_OBJECT_EAGER, T_MAP, T_SET, T_DATE, T_VIEW, T_AB, T_BACK, T_HOLE, T_ARRAY_X, T_SPARSE, T_REGEXP,
  T_BOXED, T_ERROR, T_RAB, T_SAB, T_HOST, T_WASM_MEM, T_WASM_MOD, T_LATIN1, errorCtors, viewTypes,
} from './codec-wire.js';

let rb: Uint8Array = new Uint8Array(0);
let rdv: DataView = new DataView(rb.buffer);
let rpos = 0;
let rrefs: Handle[] | undefined;
// Objects read so far, by id (a slot is reserved when an object starts, filled when built).
let robjs: unknown[] = [];

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
  if (tag === T_LATIN1) {
    // One copy of the bytes into a one-byte V8 string (Node's Latin-1 decoder).
    const s = Buffer.from(rb.buffer, rb.byteOffset + rpos, n).toString('latin1');
    rpos += n;
    return s;
  }
  if (tag === T_UTF16 && n > 64) {
    // One copy of the code units into a two-byte V8 string, lone surrogates included.
    const s = Buffer.from(rb.buffer, rb.byteOffset + rpos, n * 2).toString('utf16le');
    rpos += n * 2;
    return s;
  }
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

function readString(): string {
  return readStringBody(rb[rpos++]!);
}

/** Reserves the next object id; the caller stores the object there once built. */
function reserve(): number {
  robjs.push(undefined);
  return robjs.length - 1;
}

function setProp(o: Record<string, unknown>, k: string, x: unknown): void {
  // An own "__proto__" key stays a property, as structured clone keeps it.
  if (k === '__proto__') Object.defineProperty(o, k, { value: x, enumerable: true, writable: true, configurable: true });
  else o[k] = x;
}

function readProps(o: Record<string, unknown>): void {
  const n = readU32();
  for (let i = 0; i < n; i++) {
    const k = readString();
    setProp(o, k, read());
  }
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
    case T_LATIN1:
      return readStringBody(tag);
    case T_ARRAY:
    case T_ARRAY_X: {
      const n = readU32();
      const a = new Array(n);
      robjs.push(a);
      for (let i = 0; i < n; i++) {
        if (rb[rpos] === T_HOLE) rpos++;
        else a[i] = read();
      }
      if (tag === T_ARRAY_X) {
        rpos++; // T_OBJECT
        readProps(a as unknown as Record<string, unknown>);
      }
      return a;
    }
    case T_SPARSE: {
      const a = new Array(readU32());
      robjs.push(a);
      rpos++; // T_OBJECT
      readProps(a as unknown as Record<string, unknown>);
      return a;
    }
    case T_OBJECT:
      return readPlain();
    case T_OBJECT_EAGER: {
      const o: Record<string, unknown> = {};
      robjs.push(o);
      readProps(o);
      return o;
    }
    case T_BACK:
      return robjs[readU32()];
    case T_BIGINT: {
      const s = readString();
      return s.startsWith('-') ? -BigInt('0x' + s.slice(1)) : BigInt('0x' + s);
    }
    case T_REF: {
      const x = readU32(); // index * 4 + a channel view's direction tag (see codec.ts)
      const o = wrapHandle(rrefs![x >>> 2]!, x & 3);
      robjs.push(o);
      return o;
    }
    case T_MAP: {
      const n = readU32();
      const m = new Map();
      robjs.push(m);
      for (let i = 0; i < n; i++) {
        const k = read();
        m.set(k, read());
      }
      return m;
    }
    case T_SET: {
      const n = readU32();
      const s = new Set();
      robjs.push(s);
      for (let i = 0; i < n; i++) s.add(read());
      return s;
    }
    case T_DATE: {
      const d = new Date(rdv.getFloat64(rpos, true));
      rpos += 8;
      robjs.push(d);
      return d;
    }
    case T_VIEW: {
      const id = reserve();
      const C = viewTypes[rb[rpos]!]!;
      const tracking = rb[rpos + 1] === 1;
      rpos += 2;
      const off = readU32();
      const len = readU32();
      const b = read() as ArrayBuffer;
      let view: ArrayBufferView;
      if (C === DataView) view = tracking ? new DataView(b, off) : new DataView(b, off, len);
      else {
        const T = C as typeof Uint8Array;
        view = tracking ? new T(b, off) : new T(b, off, len / T.BYTES_PER_ELEMENT);
      }
      robjs[id] = view;
      return view;
    }
    case T_AB:
    case T_RAB: {
      const n = readU32();
      let ab: ArrayBuffer;
      if (tag === T_AB) ab = rb.slice(rpos, rpos + n).buffer;
      else {
        const max = readU32();
        ab = new (ArrayBuffer as unknown as new (n: number, o: { maxByteLength: number }) => ArrayBuffer)(n, { maxByteLength: max });
        new Uint8Array(ab).set(rb.subarray(rpos, rpos + n));
      }
      rpos += n;
      robjs.push(ab);
      return ab;
    }
    case T_SAB:
    case T_WASM_MOD: {
      const x = native.payloadUnwrap(rrefs![readU32()]!);
      robjs.push(x);
      return x;
    }
    case T_WASM_MEM: {
      const sab = native.payloadUnwrap(rrefs![readU32()]!) as SharedArrayBuffer;
      const n = readU32();
      const m = wasmMemoryDecode(rb.slice(rpos, rpos + n), sab);
      rpos += n;
      robjs.push(m);
      return m;
    }
    case T_REGEXP: {
      const src = readString();
      const re = new RegExp(src, readString());
      robjs.push(re);
      return re;
    }
    case T_BOXED: {
      const kind = rb[rpos++]!;
      let x: unknown;
      if (kind === 0) {
        x = new Number(rdv.getFloat64(rpos, true));
        rpos += 8;
      } else {
        x = Object(read());
      }
      robjs.push(x);
      return x;
    }
    case T_ERROR:
      return readError();
    case T_HOST: {
      const id = reserve();
      const kind = rb[rpos++]!;
      const o = hostDecode(kind, read());
      robjs[id] = o;
      return o;
    }
    default:
      throw new Error(`weft: corrupt message (tag ${tag})`);
  }
}

function readError(): Error {
  const id = reserve();
  const C = errorCtors[rb[rpos]!] ?? Error;
  const flags = rb[rpos + 1]!;
  rpos += 2;
  const message = flags & 1 ? readString() : undefined;
  const stack = flags & 2 ? readString() : undefined;
  const cause = flags & 4 ? read() : undefined;
  // No stack trace is captured here: the sender's stack (if any) replaces it.
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  let e: Error;
  try {
    e = flags & 4 ? new C(message, { cause }) : new C(message);
  } finally {
    Error.stackTraceLimit = limit;
  }
  // As V8's deserializer: an own `stack`, undefined when the sender had no string stack.
  Object.defineProperty(e, 'stack', { value: stack, writable: true, enumerable: false, configurable: true });
  robjs[id] = e;
  return e;
}

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

// A plain object nothing inside refers back to: built after its values, in one allocation.
function readPlain(): Record<string, unknown> {
  const id = reserve();
  const n = readU32();
  const base = sp;
  sp += n;
  try {
    for (let i = 0; i < n; i++) {
      keyStack[base + i] = readString();
      valStack[base + i] = read();
    }
    const sh = n > 0 && n <= MAX_SHAPE_KEYS ? shapeFor(keyStack, base, n) : undefined;
    let o: Record<string, unknown>;
    if (sh?.make) {
      o = sh.make(valStack, base);
    } else {
      o = {};
      for (let i = 0; i < n; i++) setProp(o, keyStack[base + i]!, valStack[base + i]);
    }
    for (let i = 0; i < n; i++) valStack[base + i] = undefined; // do not retain values
    robjs[id] = o;
    return o;
  } finally {
    sp = base;
  }
}

let decBytes: Uint8Array | undefined;
let decDv = rdv;
let decoding = false;

function decodeNested(bytes: Uint8Array, len: number, handles: Handle[] | undefined): unknown {
  const saved = [rb, rdv, rpos, rrefs, robjs] as const;
  rb = bytes;
  rdv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  rpos = 0;
  rrefs = handles;
  robjs = [];
  try {
    const v = read();
    if (rpos !== len) throw new Error('weft: corrupt message (length)');
    return v;
  } finally {
    [rb, rdv, rpos, rrefs, robjs] = saved;
  }
}

/** Decodes `len` bytes (scratch or a received copy) with the given weft objects. */
export function decode(bytes: Uint8Array, len: number, handles: Handle[] | undefined): unknown {
  if (bytes !== decBytes) {
    decBytes = bytes;
    decDv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }
  // Decoding can nest (a weft object's wrapper may decode something): keep the outer state.
  if (decoding) return decodeNested(bytes, len, handles);
  rb = bytes;
  rdv = decDv;
  rpos = 0;
  rrefs = handles;
  decoding = true;
  try {
    const v = read();
    if (rpos !== len) throw new Error('weft: corrupt message (length)');
    return v;
  } finally {
    decoding = false;
    rrefs = undefined;
    if (robjs.length !== 0) robjs = []; // do not retain the objects
  }
}
