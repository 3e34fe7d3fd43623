/**
 * The structured-value codec of weft channels: the structured clone algorithm (what
 * `postMessage` gives, in every detail) written as a compact binary straight into the
 * thread's scratch area, with weft objects, SharedArrayBuffers and WebAssembly modules
 * carried by reference beside the bytes. Node's host objects live in codec-host.ts.
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
import { native, scratch } from './native.js';
import { WeftObject } from './object.js';
import type { Handle } from './native.js';
import { hostEncode, isLengthTracking, wasm, wasmMemoryEncode } from './codec-host.js';
import {
  T_UNDEF, T_NULL, T_TRUE, T_FALSE, T_I32, T_F64, T_ASCII, T_UTF16, T_ARRAY, T_OBJECT, T_BIGINT, T_REF,
  T_OBJECT_EAGER, T_MAP, T_SET, T_DATE, T_VIEW, T_AB, T_BACK, T_HOLE, T_ARRAY_X, T_SPARSE, T_REGEXP,
  T_BOXED, T_ERROR, T_RAB, T_SAB, T_HOST, T_WASM_MEM, T_WASM_MOD, errorCtors, viewTypes,
} from './codec-wire.js';

const { isProxy, isDate, isRegExp, isMap, isSet, isArrayBuffer, isSharedArrayBuffer, isArrayBufferView,
  isNativeError, isNumberObject, isStringObject, isBooleanObject, isBigIntObject, isDataView } = types;
const getProto = Object.getPrototypeOf;
const ObjectProto = Object.prototype;
const ArrayProto = Array.prototype;
const isArray = Array.isArray;

const viewNames = viewTypes.map((C) => C.name);
const taTag = Object.getOwnPropertyDescriptor(getProto(Uint8Array.prototype), Symbol.toStringTag)!.get!;
const getter = (C: { prototype: object }, k: string) => Object.getOwnPropertyDescriptor(C.prototype, k)!.get!;
const reSource = getter(RegExp, 'source');
const reFlags = ['hasIndices', 'global', 'ignoreCase', 'multiline', 'dotAll', 'unicode', 'unicodeSets', 'sticky']
  .filter((k) => Object.getOwnPropertyDescriptor(RegExp.prototype, k) !== undefined)
  .map((k) => [getter(RegExp, k), ({ hasIndices: 'd', global: 'g', ignoreCase: 'i', multiline: 'm', dotAll: 's', unicode: 'u', unicodeSets: 'v', sticky: 'y' } as Record<string, string>)[k]!] as const);
const abResizable = Object.getOwnPropertyDescriptor(ArrayBuffer.prototype, 'resizable')?.get;
const abMax = Object.getOwnPropertyDescriptor(ArrayBuffer.prototype, 'maxByteLength')?.get;
const sabGrowable = Object.getOwnPropertyDescriptor(SharedArrayBuffer.prototype, 'growable')?.get;
const abByteLength = getter(ArrayBuffer, 'byteLength');
const dateTime = Date.prototype.getTime;
const numValue = Number.prototype.valueOf, strValue = String.prototype.valueOf;
const boolValue = Boolean.prototype.valueOf, bigValue = BigInt.prototype.valueOf;
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

function writeU32(x: number): void {
  ensure(4);
  dv.setUint32(pos, x, true);
  pos += 4;
}

function writeTagU32(tag: number, x: number): void {
  ensure(5);
  buf[pos] = tag;
  dv.setUint32(pos + 1, x, true);
  pos += 5;
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

function writeBytes(b: Uint8Array): void {
  ensure(b.length);
  buf.set(b, pos);
  pos += b.length;
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
    (refs ??= []).push(v._h);
    // index * 4 + tag: a channel view keeps its direction in the receiving thread (_tag < 4).
    writeTagU32(T_REF, (refs.length - 1) * 4 + v._tag());
    return;
  }
  if (isArray(v)) {
    writeArray(v);
    return;
  }
  if (isArrayBufferView(v)) {
    writeView(v);
    return;
  }
  if (isDate(v)) {
    ensure(9);
    buf[pos] = T_DATE;
    dv.setFloat64(pos + 1, dateTime.call(v), true);
    pos += 9;
    return;
  }
  if (isMap(v)) {
    // Entries are copied first: getters met while writing them cannot change the count.
    const entries = [...Map.prototype.entries.call(v)];
    writeTagU32(T_MAP, entries.length);
    for (const [k, x] of entries) {
      write(k);
      write(x);
    }
    return;
  }
  if (isSet(v)) {
    const values = [...Set.prototype.values.call(v)];
    writeTagU32(T_SET, values.length);
    for (const x of values) write(x);
    return;
  }
  if (isArrayBuffer(v)) {
    writeArrayBuffer(v);
    return;
  }
  if (isSharedArrayBuffer(v)) {
    writeShared(T_SAB, v);
    return;
  }
  if (isRegExp(v)) {
    let flags = '';
    for (const [g, f] of reFlags) if (g.call(v)) flags += f;
    ensure(1);
    buf[pos++] = T_REGEXP;
    writeString(reSource.call(v) as string);
    writeString(flags);
    return;
  }
  if (isNativeError(v)) {
    writeError(v as Error);
    return;
  }
  if (isNumberObject(v) || isStringObject(v) || isBooleanObject(v) || isBigIntObject(v)) {
    ensure(2);
    buf[pos] = T_BOXED;
    if (isNumberObject(v)) {
      buf[pos + 1] = 0;
      pos += 2;
      ensure(8);
      dv.setFloat64(pos, numValue.call(v), true);
      pos += 8;
    } else {
      buf[pos + 1] = isStringObject(v) ? 1 : isBooleanObject(v) ? 2 : 3;
      pos += 2;
      write(isStringObject(v) ? strValue.call(v) : isBooleanObject(v) ? boolValue.call(v) : bigValue.call(v));
    }
    return;
  }
  if (wasm !== undefined) {
    if (v instanceof wasm.Module) {
      writeShared(T_WASM_MOD, v);
      return;
    }
    if (v instanceof wasm.Memory && isSharedArrayBuffer(v.buffer)) {
      const [bytes, sab] = wasmMemoryEncode(v);
      writeShared(T_WASM_MEM, sab);
      writeU32(bytes.length);
      writeBytes(bytes);
      return;
    }
  }
  const host = hostEncode(v);
  if (host !== undefined) {
    ensure(2);
    buf[pos] = T_HOST;
    buf[pos + 1] = host[0];
    pos += 2;
    write(host[1]);
    return;
  }
  // An ordinary object of some class: its own enumerable properties, as a plain object.
  writeKeyed(v, Object.keys(v));
}

/** SharedArrayBuffer / WebAssembly.Module: its memory or code travels beside the bytes. */
function writeShared(tag: number, v: SharedArrayBuffer | object): void {
  (refs ??= []).push(native.payloadWrap(v));
  writeTagU32(tag, refs.length - 1);
}

function writeArrayBuffer(ab: ArrayBuffer): void {
  const n = abByteLength.call(ab) as number;
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(ab, 0, n);
  } catch {
    throw new DataCloneError('a detached ArrayBuffer could not be cloned');
  }
  if (abResizable?.call(ab)) {
    writeTagU32(T_RAB, n);
    writeU32(abMax!.call(ab) as number);
  } else {
    writeTagU32(T_AB, n);
  }
  writeBytes(bytes);
}

function writeView(v: ArrayBufferView): void {
  const t = isDataView(v) ? 9 : viewNames.indexOf(taTag.call(v) as string);
  if (t < 0) throw new DataCloneError(`${String(taTag.call(v))} could not be cloned`);
  const b = v.buffer;
  let tracking = false;
  if (isSharedArrayBuffer(b) ? sabGrowable?.call(b) : abResizable?.call(b)) tracking = isLengthTracking(v);
  else if (!isSharedArrayBuffer(b) && v.byteLength === 0 && v.byteOffset === 0) {
    try {
      new Uint8Array(b); // throws if the buffer was detached
    } catch {
      throw new DataCloneError('a view of a detached ArrayBuffer could not be cloned');
    }
  }
  ensure(11);
  buf[pos] = T_VIEW;
  buf[pos + 1] = t;
  buf[pos + 2] = tracking ? 1 : 0;
  dv.setUint32(pos + 3, v.byteOffset, true);
  dv.setUint32(pos + 7, v.byteLength, true);
  pos += 11;
  write(b);
}

function writeError(e: Error): void {
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

/** Encodes into an owned copy (for values that must outlive the next encode). */
export function encodeOwned(v: unknown): { payload: Uint8Array; refs: Handle[] | undefined } {
  const e = encode(v);
  const payload = typeof e.payload === 'number' ? scratch().slice(0, e.payload) : e.payload;
  return { payload, refs: e.refs };
}

export { decode } from './codec-read.js';
