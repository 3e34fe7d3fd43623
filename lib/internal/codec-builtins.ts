/**
 * The codec's writer for the built-in object families other than plain objects, arrays and
 * Errors (those, with the writer's state and identity table, are in codec.ts): typed arrays
 * and DataViews, Date, Map, Set, ArrayBuffer (resizable too), SharedArrayBuffer, RegExp,
 * boxed primitives, WebAssembly modules and shared memories, and Node's host objects
 * (described by codec-host.ts). Each writes the same bytes the format in codec-wire.ts defines.
 * @internal
 * @module
 */
import { types } from 'node:util';
import { DataCloneError } from '../errors.js';
import { native } from './native.js';
import { hostEncode, isLengthTracking, wasm, wasmMemoryEncode } from './codec-host.js';
import { addRef, write, writeBytes, writeError, writeF64, writeString, writeTagU32, writeU32, writeU8 } from './codec.js';
import {
  T_MAP, T_SET, T_DATE, T_VIEW, T_AB, T_REGEXP, T_BOXED, T_RAB, T_SAB, T_HOST, T_WASM_MEM, T_WASM_MOD, viewTypes,
} from './codec-wire.js';

const { isDate, isRegExp, isMap, isSet, isArrayBuffer, isSharedArrayBuffer, isArrayBufferView,
  isNativeError, isNumberObject, isStringObject, isBooleanObject, isBigIntObject, isDataView } = types;

// The built-ins' own getters, taken once: a value cannot change what the codec reads by
// shadowing them on its prototype chain.
const viewNames = viewTypes.map((C) => C.name);
const taTag = Object.getOwnPropertyDescriptor(Object.getPrototypeOf(Uint8Array.prototype), Symbol.toStringTag)!.get!;
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

/**
 * @internal Writes `v` if it is one of the built-in families above (or an Error) and returns
 * true; false for an ordinary object (the caller writes its own enumerable properties).
 * Throws DataCloneError for what structured clone refuses.
 */
export function writeBuiltin(v: object): boolean {
  if (isArrayBufferView(v)) {
    writeView(v);
    return true;
  }
  if (isDate(v)) {
    writeU8(T_DATE);
    writeF64(dateTime.call(v));
    return true;
  }
  if (isMap(v)) {
    // Entries are copied first: getters met while writing them cannot change the count.
    const entries = [...Map.prototype.entries.call(v)];
    writeTagU32(T_MAP, entries.length);
    for (const [k, x] of entries) {
      write(k);
      write(x);
    }
    return true;
  }
  if (isSet(v)) {
    const values = [...Set.prototype.values.call(v)];
    writeTagU32(T_SET, values.length);
    for (const x of values) write(x);
    return true;
  }
  if (isArrayBuffer(v)) {
    writeArrayBuffer(v);
    return true;
  }
  if (isSharedArrayBuffer(v)) {
    writeShared(T_SAB, v);
    return true;
  }
  if (isRegExp(v)) {
    let flags = '';
    for (const [g, f] of reFlags) if (g.call(v)) flags += f;
    writeU8(T_REGEXP);
    writeString(reSource.call(v) as string);
    writeString(flags);
    return true;
  }
  if (isNativeError(v)) {
    writeError(v as Error);
    return true;
  }
  if (isNumberObject(v) || isStringObject(v) || isBooleanObject(v) || isBigIntObject(v)) {
    writeU8(T_BOXED);
    if (isNumberObject(v)) {
      writeU8(0);
      writeF64(numValue.call(v));
    } else {
      writeU8(isStringObject(v) ? 1 : isBooleanObject(v) ? 2 : 3);
      write(isStringObject(v) ? strValue.call(v) : isBooleanObject(v) ? boolValue.call(v) : bigValue.call(v));
    }
    return true;
  }
  if (wasm !== undefined) {
    if (v instanceof wasm.Module) {
      writeShared(T_WASM_MOD, v);
      return true;
    }
    if (v instanceof wasm.Memory && isSharedArrayBuffer(v.buffer)) {
      const [bytes, sab] = wasmMemoryEncode(v);
      writeShared(T_WASM_MEM, sab);
      writeU32(bytes.length);
      writeBytes(bytes);
      return true;
    }
  }
  const host = hostEncode(v);
  if (host !== undefined) {
    writeU8(T_HOST);
    writeU8(host[0]);
    write(host[1]);
    return true;
  }
  return false;
}

/** SharedArrayBuffer / WebAssembly.Module: its memory or code travels beside the bytes. */
function writeShared(tag: number, v: SharedArrayBuffer | object): void {
  writeTagU32(tag, addRef(native.payloadWrap(v)));
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
  // u8 type, u8 length-tracking, u32 offset, u32 length, then the buffer.
  writeU8(T_VIEW);
  writeU8(t);
  writeU8(tracking ? 1 : 0);
  writeU32(v.byteOffset);
  writeU32(v.byteLength);
  write(b);
}
