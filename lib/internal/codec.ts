/**
 * The structured-value codec of weft channels: the structured clone algorithm (what
 * `postMessage` gives, in every detail) written as a compact binary straight into the
 * thread's scratch area, with weft objects, SharedArrayBuffers and WebAssembly modules
 * carried by reference beside the bytes. This file holds the writer's state, primitives, plain
 * objects, arrays, Errors and identity; the other built-in families (Date, Map, Set, RegExp,
 * buffers and views, boxed primitives, WebAssembly, Node's host objects) are written by
 * codec-builtins.ts, Node's host objects described by codec-host.ts.
 *
 * Identity: every object gets an id in the order it is first met (as V8's serializer does);
 * meeting it again writes a back-reference, so shared references and cycles survive, across
 * Map/Set entries, views of one buffer and weft objects alike. The table is a short linear
 * list for small values and a Map beyond; primitives never touch it.
 * @internal
 * @module
 */
import { types } from 'node:util';
import { DataCloneError } from '../errors.js';
import { native, refreshScratch, scratch, status } from './native.js';
import { StatusSlot } from './abi.js';
import { WeftObject } from './object.js';
import type { Handle } from './native.js';
import { writeBuiltin } from './codec-builtins.js';
import {
  T_UNDEF, T_NULL, T_TRUE, T_FALSE, T_I32, T_F64, T_ASCII, T_UTF16, T_ARRAY, T_OBJECT, T_BIGINT, T_REF,
  T_OBJECT_EAGER, T_BACK, T_HOLE, T_ARRAY_X, T_SPARSE, T_ERROR, T_LATIN1, errorCtors,
} from './codec-wire.js';

const { isProxy } = types;
const getProto = Object.getPrototypeOf;
const ObjectProto = Object.prototype;
const ArrayProto = Array.prototype;
const isArray = Array.isArray;

const errorNames = errorCtors.map((C) => C.name);
const hasOwn = Object.hasOwn;
const getOwnDesc = Object.getOwnPropertyDescriptor;

// ---- writer state --------------------------------------------------------------------------

let buf: Uint8Array = scratch();
let dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
let pos = 0;
let refs: Handle[] | undefined;
// Objects met so far: ids 0..nObj-1. objList holds the first LINEAR of them (searched
// linearly: cheaper than a Map for small values); objMap takes over past that.
const LINEAR = 8;
const objList: object[] = [];
let objMap: Map<object, number> | undefined;
let nObj = 0;
// Position of each object's tag (to turn a plain object's tag into T_OBJECT_EAGER when it is
// referenced again), or -1 while an Error is being written (a reference back to it cannot be
// read: the Error is only built after its cause, as in V8).
let objPos = new Int32Array(64);
// Whether Object.prototype has enumerable properties (for-in would see them).
let protoPolluted = false;

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

/** @internal Writes one byte. */
export function writeU8(x: number): void {
  ensure(1);
  buf[pos++] = x;
}

/** @internal Writes a little-endian u32. */
export function writeU32(x: number): void {
  ensure(4);
  dv.setUint32(pos, x, true);
  pos += 4;
}

/** @internal Writes a little-endian f64. */
export function writeF64(x: number): void {
  ensure(8);
  dv.setFloat64(pos, x, true);
  pos += 8;
}

/** @internal Writes a tag byte and a u32. */
export function writeTagU32(tag: number, x: number): void {
  ensure(5);
  buf[pos] = tag;
  dv.setUint32(pos + 1, x, true);
  pos += 5;
}

// Strings longer than this are copied by Node's Buffer writers (one memcpy-class copy of the
// characters as V8 holds them) instead of a character loop.
const LONG_STRING = 64;
let nodeBufOf: Uint8Array | undefined;
let nodeBuf: Buffer | undefined;
/** A Buffer over the bytes of `buf` (made again when `buf` changes). */
function bufAsNode(): Buffer {
  if (nodeBufOf !== buf) {
    nodeBufOf = buf;
    nodeBuf = Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
  }
  return nodeBuf!;
}

/** @internal Writes a string value (T_ASCII, T_LATIN1 or T_UTF16). */
export function writeString(s: string): void {
  const n = s.length;
  if (n > LONG_STRING) {
    // V8 says in O(1) whether it holds the string one byte per character (Latin-1); if not
    // (or it cannot tell), the UTF-16 code units go as they are, lone surrogates included.
    const oneByte = native.strOneByte(s);
    ensure(5 + (oneByte ? n : n * 2));
    buf[pos] = oneByte ? T_LATIN1 : T_UTF16;
    dv.setUint32(pos + 1, n, true);
    pos += 5;
    pos += bufAsNode().write(s, pos, oneByte ? n : n * 2, oneByte ? 'latin1' : 'utf16le');
    return;
  }
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

/** @internal Writes raw bytes. */
export function writeBytes(b: Uint8Array): void {
  ensure(b.length);
  buf.set(b, pos);
  pos += b.length;
}

/** @internal Writes any value. */
export function write(v: unknown): void {
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
    case 'bigint':
      ensure(1);
      buf[pos++] = T_BIGINT;
      writeString(v.toString(16));
      return;
    case 'function':
      throw new DataCloneError(`${String(v.name || 'function')} could not be cloned`);
    case 'symbol':
      throw new DataCloneError(`${String(v)} could not be cloned`);
    default:
      break;
  }
  if (v === null) {
    ensure(1);
    buf[pos++] = T_NULL;
    return;
  }
  writeObject(v as object);
}

/** The id of o if this message already holds it, else -1 after giving it the next id. */
function seen(o: object): number {
  if (objMap === undefined) {
    for (let i = 0; i < nObj; i++) if (objList[i] === o) return i;
    if (nObj < LINEAR) {
      objList[nObj] = o;
      objPos[nObj++] = pos;
      return -1;
    }
    objMap = new Map();
    for (let i = 0; i < nObj; i++) objMap.set(objList[i]!, i);
  }
  const id = objMap.get(o);
  if (id !== undefined) return id;
  objMap.set(o, nObj);
  if (nObj === objPos.length) {
    const np = new Int32Array(nObj * 2);
    np.set(objPos);
    objPos = np;
  }
  objPos[nObj++] = pos;
  return -1;
}

/** @internal Carries handle `h` beside the bytes; its index in the message's refs. */
export function addRef(h: Handle): number {
  (refs ??= []).push(h);
  return refs.length - 1;
}

function writeBack(id: number): void {
  const at = objPos[id]!;
  if (at < 0) throw new DataCloneError('an Error that refers back to itself (through its cause) could not be cloned');
  if (buf[at] === T_OBJECT) buf[at] = T_OBJECT_EAGER; // the reader must create it before its values
  writeTagU32(T_BACK, id);
}

function writeObject(v: object): void {
  const id = seen(v);
  if (id >= 0) {
    writeBack(id);
    return;
  }
  if (isProxy(v)) throw new DataCloneError('#<Object> could not be cloned (a Proxy)');
  const proto = getProto(v);
  if (proto === ObjectProto) {
    if (protoPolluted) writeKeyed(v, Object.keys(v));
    else writePlain(v as Record<string, unknown>);
  } else if (proto === ArrayProto && isArray(v)) {
    writeArray(v);
  } else {
    writeOther(v, proto);
  }
}

// Plain object: key/value pairs; the reader picks a shape (and a monomorphic constructor)
// from the keys. for-in reads through V8's enum cache; with no enumerable properties on
// Object.prototype it visits exactly the own enumerable string keys, in order.
function writePlain(v: Record<string, unknown>): void {
  ensure(5);
  buf[pos] = T_OBJECT;
  const countAt = pos + 1;
  pos += 5;
  let n = 0;
  for (const k in v) {
    writeString(k);
    write(v[k]);
    n++;
  }
  dv.setUint32(countAt, n, true);
}

// Any other ordinary object (class instance, null prototype, ...): own enumerable string keys,
// read with [[Get]] (getters run), as structured clone does.
function writeKeyed(v: object, keys: string[]): void {
  ensure(5);
  buf[pos] = T_OBJECT;
  const countAt = pos + 1;
  pos += 5;
  let n = 0;
  for (const k of keys) {
    // A getter may have deleted a later key; V8 skips those.
    if (!hasOwn(v, k)) continue;
    writeString(k);
    write((v as Record<string, unknown>)[k]);
    n++;
  }
  dv.setUint32(countAt, n, true);
}

const SPARSE_MIN = 1 << 16;

function writeArray(v: unknown[]): void {
  const n = v.length;
  if (n >= SPARSE_MIN) {
    const keys = Object.keys(v);
    if (keys.length < n / 2) {
      // Mostly holes: only the properties travel.
      writeTagU32(T_SPARSE, n);
      writeKeyed(v, keys);
      return;
    }
  }
  const at = pos;
  writeTagU32(T_ARRAY, n);
  let holes = 0;
  for (let i = 0; i < n; i++) {
    const x = v[i];
    if (x === undefined && !(i in v)) {
      ensure(1);
      buf[pos++] = T_HOLE;
      holes++;
    } else {
      write(x);
    }
  }
  // Named (non-index) properties: rare, but they travel too.
  let extra: string[] | undefined;
  if (n <= 16) {
    const keys = Object.keys(v);
    if (keys.length !== n - holes) extra = keys.slice(n - holes);
  } else {
    extra = native.arrayExtraKeys(v);
    if (extra.length === 0) extra = undefined;
  }
  if (extra !== undefined) {
    buf[at] = T_ARRAY_X;
    writeKeyed(v, extra);
  }
}

function writeOther(v: object, proto: object | null): void {
  if (proto === null) {
    if (isArray(v)) writeArray(v);
    else writePlain(v as Record<string, unknown>);
    return;
  }
  if (v instanceof WeftObject) {
    // index * 4 + tag: a channel view keeps its direction in the receiving thread (_tag < 4).
    writeTagU32(T_REF, addRef(v._h) * 4 + v._tag());
    return;
  }
  if (isArray(v)) {
    writeArray(v);
    return;
  }
  if (writeBuiltin(v)) return;
  // An ordinary object of some class: its own enumerable properties, as a plain object.
  writeKeyed(v, Object.keys(v));
}

/** @internal Writes an Error (the object `seen()` registered last). */
export function writeError(e: Error): void {
  const id = nObj - 1; // seen() just registered it
  objPos[id] = -1; // open: see writeBack
  const msg = getOwnDesc(e, 'message');
  const cause = getOwnDesc(e, 'cause');
  const name = String(e.name);
  const proto = Math.max(0, errorNames.indexOf(name));
  const hasMsg = msg !== undefined && 'value' in msg;
  const message = hasMsg ? String(msg.value) : '';
  const stack: unknown = e.stack;
  const hasCause = cause !== undefined && 'value' in cause;
  ensure(3);
  const at = pos;
  buf[pos] = T_ERROR;
  buf[pos + 1] = proto;
  buf[pos + 2] = (hasMsg ? 1 : 0) | (typeof stack === 'string' ? 2 : 0) | (hasCause ? 4 : 0);
  pos += 3;
  if (hasMsg) writeString(message);
  if (typeof stack === 'string') writeString(stack);
  if (hasCause) write(cause.value);
  objPos[id] = at;
}

// ---- encode entry points ---------------------------------------------------------------------

/** Encoded form of a value: `payload` is a byte length in the scratch area or a copy. */
export interface Encoded {
  payload: number | Uint8Array;
  refs: Handle[] | undefined;
}

let encScratch: Uint8Array | undefined;
let encDv = dv;
let encoding = false;

/**
 * Encodes v for a structured channel. Returns the byte length when the encoding sits in the
 * thread's scratch area (valid until the next encode/decode), else an owned Uint8Array.
 * Throws DataCloneError (nothing is sent) for values structured clone refuses.
 */
export function encode(v: unknown): Encoded {
  if (encoding) return encodeNested(v);
  const s = scratch();
  if (s !== encScratch) {
    encScratch = s;
    encDv = new DataView(s.buffer);
  }
  buf = s;
  dv = encDv;
  pos = 0;
  refs = undefined;
  protoPolluted = false;
  for (const _ in ObjectProto) {
    protoPolluted = true;
    break;
  }
  encoding = true;
  try {
    write(v);
  } catch (e) {
    if (e instanceof RangeError && !(e instanceof DataCloneError)) {
      throw new DataCloneError(`value could not be cloned: ${e.message}`, { cause: e });
    }
    throw e;
  } finally {
    encoding = false;
    resetObjects();
  }
  const r: Encoded = { payload: buf === s ? pos : buf.subarray(0, pos), refs };
  refs = undefined;
  return r;
}

function resetObjects(): void {
  for (let i = 0; i < nObj && i < LINEAR; i++) objList[i] = undefined as unknown as object;
  nObj = 0;
  if (objMap !== undefined) objMap = undefined;
}

// A getter that sends on a channel while a value is being encoded: encode that value into a
// buffer of its own and put the outer encoder's state back afterwards.
function encodeNested(v: unknown): Encoded {
  const saved = { buf, dv, pos, refs, nObj, objMap, list: objList.slice(0, LINEAR), objPos, protoPolluted };
  objPos = new Int32Array(64);
  buf = new Uint8Array(256);
  dv = new DataView(buf.buffer);
  pos = 0;
  refs = undefined;
  nObj = 0;
  objMap = undefined;
  try {
    write(v);
    return { payload: buf.subarray(0, pos), refs };
  } finally {
    resetObjects();
    ({ buf, dv, pos, refs, nObj, objMap, objPos, protoPolluted } = saved);
    for (let i = 0; i < saved.list.length; i++) objList[i] = saved.list[i]!;
  }
}

import { decode } from './codec-read.js';
export { decode };

/**
 * @internal The one decoder of a structured value leaving native code (a received channel
 * value, sync or async; a context's cause or value; an AtomicValue; a Once's result): its
 * `len` bytes are in the scratch area, its weft objects wait for `native.takeRefs()`
 * (status Refs = their number).
 */
export function decodeScratch(len: number): unknown {
  let u8 = scratch();
  if (len > u8.length) u8 = refreshScratch();
  const refs = status[StatusSlot.Refs]! > 0 ? native.takeRefs() : undefined;
  return decode(u8, len, refs);
}
