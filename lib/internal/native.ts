/**
 * Loads the native addon (a prebuild from `prebuilds/`, else `build/Release`) and sets up
 * this thread's shared scratch and status areas.
 * @internal
 * @module
 */
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { isMainThread } from 'node:worker_threads';
import * as abi from './abi.js';

export { Code, Kind, StatusSlot } from './abi.js';

const require = createRequire(import.meta.url);
const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** Opaque native handle of a shared object (owns one reference; GC drops it). */
export type Handle = { readonly __weftHandle: unique symbol };

/** @internal */
export interface Native {
  /** The layout the addon was built with (see {@link checkAbi}). */
  abi(): Record<string, number>;
  /** `isMain`: this is the process's main thread (where a *Sync wait nobody else can end throws DeadlockError). */
  init(probe: () => number, settle: (id: number, value: unknown, ...error: unknown[]) => void, isMain: boolean): [ArrayBuffer, ArrayBuffer];
  getScratch(): ArrayBuffer;
  share(h: Handle): number;
  attach(id: number): Handle | null;
  kindOf(h: unknown): number;
  liveObjects(): number;
  takeRefs(): Handle[];
  chanNew(capacity: number, elem: number): Handle;
  chanInfo(h: Handle): [number, number, number, number, string];
  chanLen(h: Handle): number;
  chanClosed(h: Handle): boolean;
  chanClose(h: Handle): boolean;
  chanTrySend(h: Handle, v: unknown, refs: Handle[] | undefined): number;
  chanSendSync(h: Handle, v: unknown, refs: Handle[] | undefined, timeout: number): number;
  chanSend(h: Handle, v: unknown, refs: Handle[] | undefined): void;
  chanTryRecv(h: Handle): unknown;
  chanRecvSync(h: Handle, timeout: number): unknown;
  chanRecv(h: Handle): unknown;
  chanSendMany(h: Handle, values: ArrayBufferView, timeout: number, block: boolean): number;
  /** A new typed array of what was received (up to max). */
  chanRecvMany(h: Handle, max: number, timeout: number, block: boolean): ArrayBufferView;
  /** With `dst`: how many values were written into dst's first elements (`max` unused). */
  chanRecvMany(h: Handle, max: number, timeout: number, block: boolean, dst: ArrayBufferView): number;
  /** [header, slots, owner words, inline blocks?] over a buffered channel's ring (lib/chan/ring.ts), else null. */
  chanRing(h: Handle): [ArrayBuffer, ArrayBuffer, ArrayBuffer, ArrayBuffer?] | null;
  /** Wakes one waiting receiver (toSenders false) or sender (true) after a JavaScript push/pop. */
  chanNotify(h: Handle, toSenders: boolean): void;
  /** This thread's send record (abi.h kSendRecord*; lib/chan/ring.ts), its send id filled in. */
  sendRecord(): ArrayBuffer;
  select(
    handles: (Handle | null)[],
    sendMask: number | boolean[],
    values: unknown[] | undefined,
    refs: (Handle[] | undefined)[] | undefined,
    mode: number,
    timeout: number,
  ): unknown;
  cancel(id: number, code: number, withdraw?: boolean): boolean;
  weaken(id: number): void;
  /** Marks what else can end pending op `id`: a context's done channel, or null for an ordinary AbortSignal. */
  opDepends(id: number, done: Handle | null): void;
  timerNew(ticker: boolean): Handle;
  timerChan(h: Handle): Handle;
  timerReset(h: Handle, delayMs: number, periodMs: number): boolean;
  timerStop(h: Handle): boolean;
  timerState(h: Handle): [boolean, number, boolean];
  timerStats(): [number, boolean];
  ctxNew(parent: Handle | null, deadline: number, key: string | undefined, value: number | Uint8Array | undefined, refs: Handle[] | undefined): Handle;
  ctxDone(h: Handle): Handle;
  ctxErr(h: Handle): number;
  ctxDeadline(h: Handle): number;
  ctxCancel(h: Handle, err: number, cause: number | Uint8Array | undefined, refs: Handle[] | undefined): boolean;
  /** The cause's byte length (bytes in scratch, refs via takeRefs: see `decodeScratch`), or -1. */
  ctxCause(h: Handle): number;
  ctxChain(h: Handle): [number, string][];
  /** That ancestor's value as a byte length (see `decodeScratch`), or -1. */
  ctxValue(h: Handle, nodeId: number): number;
  mutexNew(name: string | undefined): Handle;
  mutexWords(h: Handle): ArrayBuffer;
  mutexLockSync(h: Handle, timeout: number, done?: Handle): number;
  mutexLock(h: Handle): number;
  mutexUnlock(h: Handle): boolean;
  mutexWake(h: Handle): void;
  rwNew(name: string | undefined): Handle;
  rwTry(h: Handle, writer: boolean): boolean;
  rwLockSync(h: Handle, writer: boolean, timeout: number, done?: Handle): number;
  rwLock(h: Handle, writer: boolean): number;
  rwUnlock(h: Handle, writer: boolean): boolean;
  rwState(h: Handle): [readers: number, writer: number, writerThread: number, queued: number];
  wgNew(name: string | undefined): Handle;
  wgWords(h: Handle): ArrayBuffer;
  wgWake(h: Handle): void;
  wgWaitSync(h: Handle, timeout: number, done?: Handle): number;
  wgWait(h: Handle): number;
  semNew(size: number, name: string | undefined): Handle;
  semSize(h: Handle): number;
  semState(h: Handle): [available: number, queued: number];
  semTry(h: Handle, n: number): boolean;
  semAcquireSync(h: Handle, n: number, timeout: number, done?: Handle): number;
  semAcquire(h: Handle, n: number): number;
  semRelease(h: Handle, n: number): boolean;
  rateNew(ratePerSec: number, burst: number, name: string | undefined): Handle;
  /** RateRes; `now`: the injected test clock in ms (undefined: the limiter's own clock). */
  rateAllow(h: Handle, n: number, now?: number): number;
  /** maxWaitMs -1: no limit. Times in ns on the limiter's timeline. */
  rateReserve(h: Handle, n: number, maxWaitMs: number, now?: number): [res: number, tokens: number, timeToActNs: number, atNs: number, limit: number];
  rateCancel(h: Handle, tokens: number, timeToActNs: number, limit: number, now?: number): void;
  rateTokens(h: Handle, now?: number): number;
  rateInfo(h: Handle): [ratePerSec: number, burst: number];
  rateSet(h: Handle, isBurst: boolean, value: number, now?: number): void;
  rateSleepSync(h: Handle, delayMs: number, done?: Handle): number;
  condNew(mu: Handle, name: string | undefined): Handle;
  condWaiters(h: Handle): number;
  condMutex(h: Handle): Handle;
  condWaitSync(h: Handle, timeout: number, done?: Handle): number;
  condWait(h: Handle): number;
  condSignal(h: Handle, all: boolean): void;
  onceNew(name: string | undefined): Handle;
  onceEnter(h: Handle): number;
  onceWaitSync(h: Handle, timeout: number, done?: Handle): number;
  onceWait(h: Handle): number;
  onceFinish(h: Handle, bytes: Uint8Array | number, refs: Handle[] | undefined, outcome: number): void;
  /** The result's byte length (see `decodeScratch`), its outcome in {@link aux}; -1 while not done. */
  onceResult(h: Handle): number;
  onceState(h: Handle): number;
  atomNew(v: bigint, isBool: boolean): Handle;
  atomWords(h: Handle): ArrayBuffer;
  atomOp(h: Handle, op: number, x: number, y: number): number;
  atomLoadBig(h: Handle): bigint;
  atomAdd(h: Handle, d: number): number;
  atomLoad(h: Handle): number;
  /** Values entering native code: a byte length of the scratch area (or a Uint8Array) + refs, as `encode` gives them. */
  valueNew(bytes: Uint8Array | number, refs: Handle[] | undefined): Handle;
  /** The value's byte length (see `decodeScratch`), its version in {@link aux}. */
  valueLoad(h: Handle): number;
  valueStore(h: Handle, bytes: Uint8Array | number, refs: Handle[] | undefined): void;
  valueCas(h: Handle, version: number, bytes: Uint8Array | number, refs: Handle[] | undefined): boolean;
  progNew(): Handle;
  progAdd(h: Handle, n: number): boolean;
  progGet(h: Handle): [number, number];
  dump(): { thread: number; op: string; object: string; sinceMs: number; holder?: number; holderExited?: boolean }[];
  lastError(): string;
  threadId(): number;
  setName(h: Handle, name: string): void;
  objName(h: Handle): string;
  /** Test hook: the id of this thread's next async op (tests cross 2^31 / 2^32 with it). */
  __setNextOpId(n: number): void;
  payloadWrap(v: SharedArrayBuffer | object): Handle;
  payloadUnwrap(h: Handle): SharedArrayBuffer | object;
  arrayExtraKeys(a: unknown[]): string[];
  /** Whether V8 holds string s one byte per character (Latin-1); O(1), false when unsure. */
  strOneByte(s: string): boolean;
  wasmMemory(bytes: Uint8Array, sab: SharedArrayBuffer): object;
}


/**
 * @internal The addon's exports for this thread. Its init leaves them empty when it could not set this
 * thread up (a worker terminated while loading weft, or out of memory): that surfaces as a
 * plain Error at import, never as a crash.
 */
export const native: Native = require('node-gyp-build')(root);

/**
 * @internal Compares the layout the addon reports (`native.abi()`: `{ name: value }`, names as
 * in lib/internal/abi.ts, e.g. `kAbiVersion`, `StatusSlot.Refs`) with lib/internal/abi.ts, and throws an Error
 * naming both ABI versions and every differing entry if they disagree (a stale build/ or
 * prebuild next to newer JavaScript, or the reverse) — before any shared memory is touched.
 */
export function checkAbi(reported: Record<string, number> | undefined): void {
  const expected = abi as unknown as Record<string, number | Record<string, number>>;
  const lookup = (name: string): number | undefined => {
    const [head, member] = name.split('.', 2) as [string, string | undefined];
    const v = expected[head];
    return member === undefined ? (typeof v === 'number' ? v : undefined) : typeof v === 'object' ? v[member] : undefined;
  };
  const got = reported?.['kAbiVersion'];
  const diffs: string[] = [];
  if (reported === undefined || got === undefined) {
    diffs.push('the addon reports no layout');
  } else {
    for (const [name, value] of Object.entries(reported)) {
      const want = lookup(name);
      if (want !== value) diffs.push(`${name}: addon ${value}, lib/internal/abi.ts ${want ?? 'missing'}`);
    }
  }
  if (diffs.length > 0) {
    throw new Error(
      `weft: the native addon's ABI version ${got ?? 'unknown'} does not match lib/internal/abi.ts ABI version ` +
        `${abi.kAbiVersion} (${diffs.join('; ')}); rebuild the addon (npx node-gyp rebuild) and the ` +
        'JavaScript (npm run gen:abi && tsc) from the same sources',
    );
  }
}

if (typeof native.init === 'function') checkAbi(typeof native.abi === 'function' ? native.abi() : undefined);

/**
 * @internal What a settled async op reports, read from the status area when it completed:
 * `[code, case index, value]` (the value decoded by the decoder given to {@link pending}).
 */
export type Settled = [code: number, index: number, value: unknown];

/** Decodes a value an async op received (as a sync call's return value), given its case index. */
type Decoder = (v: unknown, index: number) => unknown;
type Waiting = { resolve: (r: Settled) => void; reject: (e: unknown) => void; decode: Decoder | undefined };
const waiting = new Map<number, Waiting>();

/**
 * The addon calls this (ThreadCtx::settle) when pending op `id` completes, right after writing
 * its outcome into the status area exactly as a sync call would and returning its value as
 * `v`; `error` (a third argument) when the value could not be allocated. The status area is
 * read here at once, before any other JavaScript runs. Never throws (the caller is libuv or
 * native.cancel).
 */
function settle(id: number, v: unknown, ...error: unknown[]): void {
  const w = waiting.get(id);
  if (w === undefined) {
    // Nobody awaits it (its caller never asked): drop the weft objects of a received value.
    if (status[abi.StatusSlot.Refs]! > 0) native.takeRefs();
    return;
  }
  waiting.delete(id);
  try {
    if (error.length > 0) {
      w.reject(error[0]);
      return;
    }
    const code = status[abi.StatusSlot.Code]!;
    const index = status[abi.StatusSlot.SelectIndex]!;
    w.resolve([code, index, v === undefined || w.decode === undefined ? v : w.decode(v, index)]);
  } catch (e) {
    w.reject(e);
  }
}

/**
 * @internal The Promise of the async op the last native call left pending (status Code =
 * Pending, its id from {@link opId}); `decode` turns a received value into JavaScript (for a
 * structured channel: the scratch length into the value, see `decodeScratch`).
 */
export function pending(id: number, decode?: Decoder): Promise<Settled> {
  return new Promise<Settled>((resolve, reject) => {
    waiting.set(id, { resolve, reject, decode });
  });
}

const areas = typeof native.init === 'function' ? native.init(() => 0, settle, isMainThread) : undefined;
if (areas === undefined || areas === null) {
  throw new Error('weft: the native addon could not initialise this thread (terminating, or out of memory)');
}
const [scratchAb, statusAb] = areas;
/** @internal This thread's status area: index it with `StatusSlot` (lib/internal/abi.ts); op ids are 64-bit (see {@link opId}). */
export const status = new Int32Array(statusAb, 0, abi.kStatusSlots);
const opIdSlot = new Float64Array(statusAb, abi.kStatusOpIdByteOffset, 1);
const auxSlot = new Float64Array(statusAb, abi.kStatusAuxByteOffset, 1);

/** @internal The second result of the last call that has one: valueLoad's version, onceResult's outcome. */
export function aux(): number {
  return auxSlot[0]!;
}

/**
 * Id of the last async op that was left pending (`status[StatusSlot.Code] === Code.Pending`), for
 * `native.cancel` / `native.weaken`. A double holding the native 64-bit id exactly (ids stay
 * below 2^53), so ids never wrap around or collide however many ops a thread starts.
 * @internal
 */
export function opId(): number {
  return opIdSlot[0]!;
}
let scratchU8 = new Uint8Array(scratchAb);

/** @internal This thread's scratch area (re-read after the native side grew it). */
export function scratch(): Uint8Array {
  return scratchU8;
}

/** @internal */
export function refreshScratch(): Uint8Array {
  scratchU8 = new Uint8Array(native.getScratch());
  return scratchU8;
}
