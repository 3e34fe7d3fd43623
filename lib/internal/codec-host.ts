/**
 * The parts of the structured clone algorithm that are not plain data: Node's host objects
 * that `postMessage` clones (Blob, KeyObject, CryptoKey, SocketAddress, BlockList, X509Certificate),
 * the ones it refuses, shared WebAssembly.Memory, and the length-tracking flag of views on
 * resizable buffers. Everything here is off the fast path: the codec calls it only for
 * objects that are not plain objects, arrays or common built-ins.
 * @internal
 * @module
 */
import { createRequire } from 'node:module';
import { Serializer } from 'node:v8';
import { types } from 'node:util';
import { DataCloneError } from '../errors.js';
import { native } from './native.js';

const require = createRequire(import.meta.url);

/** The WebAssembly classes the codec meets (no DOM typings in this build). */
interface WasmMemory {
  readonly buffer: ArrayBuffer | SharedArrayBuffer;
}
interface Wasm {
  Module: abstract new (...a: never[]) => object;
  Memory: abstract new (...a: never[]) => WasmMemory;
}
/** globalThis.WebAssembly, when the runtime has it. */
export const wasm = (globalThis as { WebAssembly?: Wasm }).WebAssembly;

/** Host object kinds on the wire (T_HOST): Blob, KeyObject secret/public/private, SocketAddress, BlockList, X509Certificate, CryptoKey. */
export const H_BLOB = 0, H_SECRET = 1, H_PUBLIC = 2, H_PRIVATE = 3, H_SOCKADDR = 4, H_BLOCKLIST = 5, H_X509 = 6,
  H_CRYPTOKEY = 7;

interface NodeClasses {
  net: typeof import('node:net');
  crypto: typeof import('node:crypto');
  wt: typeof import('node:worker_threads');
  Histogram: Function | undefined;
}
let classes: NodeClasses | undefined;

// Loaded on the first class instance the codec meets: a value cannot hold one of these
// objects before its module was loaded, and plain data never gets here.
function nodeClasses(): NodeClasses {
  if (classes === undefined) {
    const ph = require('node:perf_hooks') as typeof import('node:perf_hooks');
    let Histogram: Function | undefined;
    try {
      Histogram = Object.getPrototypeOf(Object.getPrototypeOf(ph.createHistogram())).constructor as Function;
    } catch {
      Histogram = undefined;
    }
    classes = {
      net: require('node:net'),
      crypto: require('node:crypto'),
      wt: require('node:worker_threads'),
      Histogram,
    };
  }
  return classes;
}

const refuse = (what: string, why = 'could not be cloned'): never => {
  throw new DataCloneError(`${what} ${why}`);
};

// Built-ins whose objects structured clone refuses (V8 throws for every object type it does
// not know). util.types tests the object's real type, not its prototype.
const notCloneable: ((v: object) => boolean)[] = [
  types.isPromise, types.isWeakMap, types.isWeakSet, types.isGeneratorObject, types.isMapIterator,
  types.isSetIterator, types.isModuleNamespaceObject, types.isArgumentsObject, types.isExternal,
  types.isSymbolObject,
];
const refusedTags = /^(Intl\.|.* Iterator$|WeakRef$|FinalizationRegistry$|AsyncGenerator$|Generator$)/;

/**
 * For an object that is not a plain object, array or one of the common built-ins: the host
 * kind and its description (plain data to encode) when `postMessage` clones it as a Node
 * object; undefined for an ordinary object (cloned as a plain object of its own enumerable
 * properties). Throws DataCloneError for what `postMessage` refuses.
 */
export function hostEncode(v: object): [number, unknown] | undefined {
  for (const f of notCloneable) if (f(v)) refuse(`#<${ctorName(v)}>`);
  if (v === globalThis || v instanceof WeakRef || v instanceof FinalizationRegistry) refuse(`#<${ctorName(v)}>`);
  if (wasm !== undefined && v instanceof wasm.Memory) refuse('#<Memory>', 'could not be cloned (not shared)');
  if (types.isKeyObject(v)) return keyObject(v as import('node:crypto').KeyObject);
  if (types.isCryptoKey(v)) return [H_CRYPTOKEY, cryptoKeyEncode(v as WebCryptoKey)];
  if (typeof Blob === 'function' && v instanceof Blob) return [H_BLOB, [v.type, blobBytes(v)]];
  const { net, crypto, wt, Histogram } = nodeClasses();
  if (v instanceof net.SocketAddress) return [H_SOCKADDR, [v.address, v.port, v.family, v.flowlabel]];
  if (v instanceof net.BlockList) return [H_BLOCKLIST, v.rules.slice()];
  if (v instanceof crypto.X509Certificate) return [H_X509, new Uint8Array(v.raw)];
  if (v instanceof wt.MessagePort) refuse('MessagePort', 'must be transferred, which a weft channel cannot do');
  if (v instanceof wt.BroadcastChannel) return undefined;
  if (Histogram !== undefined && v instanceof Histogram) refuse('Histogram', 'cannot be shared through a weft channel');
  for (const S of ['ReadableStream', 'WritableStream', 'TransformStream']) {
    const C = (globalThis as Record<string, unknown>)[S];
    if (typeof C === 'function' && v instanceof C) refuse(S, 'must be transferred, which a weft channel cannot do');
  }
  let tag = '';
  try {
    tag = Object.prototype.toString.call(v).slice(8, -1);
  } catch {
    // a throwing Symbol.toStringTag getter: an ordinary object for all we know
  }
  if (refusedTags.test(tag)) refuse(`#<${tag}>`);
  return undefined;
}

function ctorName(v: object): string {
  try {
    const n = (Object.getPrototypeOf(v) as { constructor?: { name?: unknown } } | null)?.constructor?.name;
    return typeof n === 'string' && n ? n : 'Object';
  } catch {
    return 'Object';
  }
}

function keyObject(k: import('node:crypto').KeyObject): [number, unknown] {
  try {
    if (k.type === 'secret') return [H_SECRET, new Uint8Array(k.export())];
    if (k.type === 'public') return [H_PUBLIC, new Uint8Array(k.export({ format: 'der', type: 'spki' }))];
    return [H_PRIVATE, new Uint8Array(k.export({ format: 'der', type: 'pkcs8' }))];
  } catch (e) {
    throw new DataCloneError(`KeyObject could not be cloned: ${(e as Error).message}`, { cause: e });
  }
}

/**
 * Rebuilds a host object from its kind and decoded description. SocketAddress, BlockList and
 * X509Certificate come out of postMessage as instances of Node's internal subclasses; a local
 * structuredClone of the rebuilt object gives exactly that class.
 */
export function hostDecode(kind: number, d: unknown): object {
  const a = d as unknown[];
  switch (kind) {
    case H_BLOB:
      return new Blob([a[1] as Uint8Array], { type: a[0] as string });
    case H_SECRET:
      return nodeClasses().crypto.createSecretKey(d as Uint8Array);
    case H_PUBLIC:
      return nodeClasses().crypto.createPublicKey({ key: Buffer.from(d as Uint8Array), format: 'der', type: 'spki' });
    case H_PRIVATE:
      return nodeClasses().crypto.createPrivateKey({ key: Buffer.from(d as Uint8Array), format: 'der', type: 'pkcs8' });
    case H_SOCKADDR:
      return structuredClone(new (nodeClasses().net.SocketAddress)({
        address: a[0] as string, port: a[1] as number, family: a[2] as 'ipv4', flowlabel: a[3] as number,
      }));
    case H_BLOCKLIST: {
      const bl = new (nodeClasses().net.BlockList)();
      // `rules` lists the newest rule first: add them oldest first.
      for (let i = a.length - 1; i >= 0; i--) addRule(bl, a[i] as string);
      return structuredClone(bl);
    }
    case H_X509:
      return structuredClone(new (nodeClasses().crypto.X509Certificate)(Buffer.from(d as Uint8Array)));
    case H_CRYPTOKEY:
      return cryptoKeyDecode(a);
    default:
      throw new Error(`weft: corrupt message (host kind ${kind})`);
  }
}

function addRule(bl: import('node:net').BlockList, rule: string): void {
  const m = /^(Address|Range|Subnet): IPv(4|6) (.*)$/.exec(rule);
  if (m === null) throw new Error(`weft: unknown BlockList rule ${rule}`);
  const fam = m[2] === '4' ? 'ipv4' : 'ipv6';
  const arg = m[3]!;
  if (m[1] === 'Address') bl.addAddress(arg, fam);
  else if (m[1] === 'Range') {
    const [a, b] = arg.split('-');
    bl.addRange(a!, b!, fam);
  } else {
    const slash = arg.lastIndexOf('/');
    bl.addSubnet(arg.slice(0, slash), Number(arg.slice(slash + 1)), fam);
  }
}

// ---- Blob bytes, synchronously -----------------------------------------------------------

// Node 20 reads a Blob only asynchronously, and its blob store is per thread. A helper worker
// (one per thread, started on the first Blob and unref'd) reads the bytes; this thread waits
// on a shared flag, then takes the reply from the port synchronously.
// Also used for CryptoKey: Node 20 has no synchronous way to make one, so the helper runs
// subtle.importKey and posts the CryptoKey back (postMessage clones it natively).
const HELPER = `
const { workerData } = require('node:worker_threads');
workerData.port.on('message', async ({ blob, key, flag }) => {
  let r;
  try {
    if (key !== undefined) {
      const [format, data, algorithm, extractable, usages] = key;
      r = { key: await globalThis.crypto.subtle.importKey(format, data, algorithm, extractable, usages) };
    } else {
      r = { bytes: new Uint8Array(await blob.arrayBuffer()) };
    }
  } catch (e) { r = { error: String(e && e.message || e) }; }
  workerData.port.postMessage(r);
  // release: the reply is queued on the port before the waiting thread wakes (pairs with
  // the Atomics.wait in helperCall).
  Atomics.store(flag, 0, 1);
  Atomics.notify(flag, 0);
});`;
let helperPort: import('node:worker_threads').MessagePort | undefined;
const HELPER_TIMEOUT_MS = 60_000;

interface HelperReply {
  bytes?: Uint8Array;
  key?: object;
  error?: string;
}

/** Sends `req` to this thread's helper worker and blocks until its reply; `what` names the object in errors. */
function helperCall(req: object, what: string, doing: string): HelperReply {
  const { wt } = nodeClasses();
  if (helperPort === undefined) {
    const { port1, port2 } = new wt.MessageChannel();
    // execArgv: [] — no loader hooks: they could need this thread, which will be waiting.
    const w = new wt.Worker(HELPER, { eval: true, execArgv: [], workerData: { port: port2 }, transferList: [port2] });
    w.unref();
    w.on('error', () => {
      helperPort = undefined;
    });
    helperPort = port1;
  }
  const port = helperPort;
  const flag = new Int32Array(new SharedArrayBuffer(4));
  port.postMessage({ ...req, flag });
  // acquire: pairs with the helper's Atomics.store/notify after its postMessage.
  if (Atomics.wait(flag, 0, 0, HELPER_TIMEOUT_MS) === 'timed-out') {
    // A late reply would be taken by the next call: drop this port and start a new helper next time.
    port.close();
    helperPort = undefined;
    refuse(what, `could not be ${doing} (helper worker timed out)`);
  }
  const r = wt.receiveMessageOnPort(port)?.message as HelperReply | undefined;
  if (r === undefined) refuse(what, `could not be ${doing}: no reply`);
  return r!;
}

function blobBytes(b: Blob): Uint8Array {
  if (b.size === 0) return new Uint8Array(0);
  const r = helperCall({ blob: b }, 'Blob', 'read');
  if (r.bytes === undefined) refuse('Blob', `could not be read: ${r.error ?? 'no reply'}`);
  return r.bytes!;
}

// ---- CryptoKey ----------------------------------------------------------------------------

/** The parts of a Web Crypto CryptoKey the codec reads (no DOM typings in this build). */
interface WebCryptoKey {
  readonly type: 'secret' | 'public' | 'private';
  readonly extractable: boolean;
  readonly algorithm: object;
  readonly usages: string[];
}

/**
 * A CryptoKey as [import format, key material, algorithm, extractable, usages]. KeyObject.from
 * reads the material synchronously, non-extractable keys included.
 */
function cryptoKeyEncode(k: WebCryptoKey): unknown[] {
  try {
    const ko = nodeClasses().crypto.KeyObject.from(k as never);
    const [format, data] = ko.type === 'secret' ? ['raw', ko.export()]
      : ko.type === 'public' ? ['spki', ko.export({ format: 'der', type: 'spki' })]
      : ['pkcs8', ko.export({ format: 'der', type: 'pkcs8' })];
    return [format, new Uint8Array(data), k.algorithm, k.extractable, k.usages.slice()];
  } catch (e) {
    throw new DataCloneError(`CryptoKey could not be cloned: ${(e as Error).message}`, { cause: e });
  }
}

/** The CryptoKey described by cryptoKeyEncode's output, made by the helper worker's importKey. */
function cryptoKeyDecode(d: unknown[]): object {
  const r = helperCall({ key: d }, 'CryptoKey', 'rebuilt');
  if (r.key === undefined) refuse('CryptoKey', `could not be rebuilt: ${r.error ?? 'no reply'}`);
  return r.key!;
}

// ---- views on resizable buffers, shared WebAssembly.Memory --------------------------------

class SabIdSerializer extends Serializer {
  sabs: SharedArrayBuffer[] = [];
  _getSharedArrayBufferId(sab: SharedArrayBuffer): number {
    this.sabs.push(sab);
    return this.sabs.length - 1;
  }
}

/**
 * Whether a view on a resizable ArrayBuffer / growable SharedArrayBuffer tracks its buffer's
 * length (created without a length). JavaScript cannot ask; V8's serializer writes it as the
 * view's last flags varint (bit 0), so serialize the view alone and read that.
 */
export function isLengthTracking(v: ArrayBufferView): boolean {
  const s = new SabIdSerializer();
  s.writeHeader();
  s.writeValue(v);
  const b = s.releaseBuffer();
  return (b[b.length - 1]! & 1) === 1;
}

/** A shared WebAssembly.Memory as V8 bytes plus its SharedArrayBuffer. */
export function wasmMemoryEncode(m: WasmMemory): [Uint8Array, SharedArrayBuffer] {
  const s = new SabIdSerializer();
  s.writeHeader();
  s.writeValue(m);
  return [new Uint8Array(s.releaseBuffer()), s.sabs[0]!];
}

/** The WebAssembly.Memory over `sab` described by `bytes` (from wasmMemoryEncode). */
export function wasmMemoryDecode(bytes: Uint8Array, sab: SharedArrayBuffer): WasmMemory {
  return native.wasmMemory(bytes, sab) as WasmMemory;
}
