/**
 * Atomics and progress meters shared by every thread (API.md §4), and `dump()` (§9).
 * @module
 */
import { decode, encodeOwned } from './codec.js';
import { Kind, native, type Handle } from './native.js';
import { WeftObject, registerKind } from './object.js';

let adopting: Handle | undefined;
function take(): Handle | undefined {
  const h = adopting;
  adopting = undefined;
  return h;
}

function safeInt(v: unknown, name: string): number {
  if (typeof v !== 'number') throw new TypeError(`${name} must be a number`);
  if (!Number.isSafeInteger(v)) throw new RangeError(`${name} must be a safe integer, got ${v}`);
  return v;
}

const I64_MIN = -(2n ** 63n);
const I64_MAX = 2n ** 63n - 1n;
const OUT_OF_RANGE = 'result outside the safe-integer range (nothing changed; use loadBig to read it)';

/**
 * A shared 64-bit integer (Go's `atomic.Int64`). The number API takes and returns safe
 * integers only: an operation whose argument or result is outside that range throws
 * `RangeError` and has no effect; `loadBig` reads any value.
 */
export class AtomicInt64 extends WeftObject {
  constructor(v: number | bigint = 0) {
    let h = take();
    if (h === undefined) {
      let big: bigint;
      if (typeof v === 'bigint') {
        if (v < I64_MIN || v > I64_MAX) throw new RangeError(`v must fit in int64, got ${v}`);
        big = v;
      } else {
        big = BigInt(safeInt(v, 'v'));
      }
      h = native.atomNew(big, false);
    }
    super(h);
  }

  /** @internal */
  static _adopt(h: Handle): AtomicInt64 {
    adopting = h;
    return new AtomicInt64();
  }

  load(): number {
    const r = native.atomLoad(this._h);
    if (Number.isNaN(r)) throw new RangeError(OUT_OF_RANGE);
    return r;
  }
  store(v: number): void {
    native.atomOp(this._h, 1, safeInt(v, 'v'), 0);
  }
  /** Adds `d` and returns the new value. */
  add(d: number): number {
    if (!Number.isSafeInteger(d)) safeInt(d, 'd');
    const r = native.atomAdd(this._h, d);
    if (Number.isNaN(r)) throw new RangeError(OUT_OF_RANGE);
    return r;
  }
  /** Stores `v` and returns the old value. */
  swap(v: number): number {
    const r = native.atomOp(this._h, 3, safeInt(v, 'v'), 0);
    if (Number.isNaN(r)) throw new RangeError(OUT_OF_RANGE);
    return r;
  }
  compareAndSwap(expected: number, next: number): boolean {
    return native.atomOp(this._h, 4, safeInt(expected, 'expected'), safeInt(next, 'next')) === 1;
  }
  /** The value as a bigint (any int64). */
  loadBig(): bigint {
    return native.atomLoadBig(this._h);
  }
}

/** A shared boolean (Go's `atomic.Bool`): JavaScript Atomics on the shared word, no native call. */
export class AtomicBool extends WeftObject {
  readonly #w: Int32Array;

  constructor(v: boolean = false) {
    const h0 = take();
    if (h0 === undefined && typeof v !== 'boolean') throw new TypeError('v must be a boolean');
    const h = h0 ?? native.atomNew(v ? 1n : 0n, true);
    super(h);
    this.#w = new Int32Array(native.atomWords(h), 0, 1);
  }

  /** @internal */
  static _adopt(h: Handle): AtomicBool {
    adopting = h;
    return new AtomicBool();
  }

  load(): boolean {
    return Atomics.load(this.#w, 0) !== 0;
  }
  store(v: boolean): void {
    if (typeof v !== 'boolean') throw new TypeError('v must be a boolean');
    Atomics.store(this.#w, 0, v ? 1 : 0);
  }
  swap(v: boolean): boolean {
    if (typeof v !== 'boolean') throw new TypeError('v must be a boolean');
    return Atomics.exchange(this.#w, 0, v ? 1 : 0) !== 0;
  }
  compareAndSwap(expected: boolean, next: boolean): boolean {
    if (typeof expected !== 'boolean') throw new TypeError('expected must be a boolean');
    if (typeof next !== 'boolean') throw new TypeError('next must be a boolean');
    const e = expected ? 1 : 0;
    return Atomics.compareExchange(this.#w, 0, e, next ? 1 : 0) === e;
  }
}

/**
 * A shared value with a version (Go's `atomic.Pointer` CAS, by version): `store` always
 * advances the version, even for an equal value. Values cross threads by structured clone.
 */
export class AtomicValue<T> extends WeftObject {
  constructor(v: T) {
    let h = take();
    if (h === undefined) {
      const e = encodeOwned(v);
      h = native.valueNew(e.payload, e.refs);
    }
    super(h);
  }

  /** @internal */
  static _adopt(h: Handle): AtomicValue<unknown> {
    adopting = h;
    return new AtomicValue(undefined);
  }

  load(): { value: T; version: number } {
    const [u8, refs, version] = native.valueLoad(this._h);
    return { value: decode(u8, u8.length, refs) as T, version };
  }
  store(v: T): void {
    const e = encodeOwned(v);
    native.valueStore(this._h, e.payload, e.refs);
  }
  /** Stores `next` if the version is still `version`. */
  compareAndSwap(version: number, next: T): boolean {
    if (typeof version !== 'number') throw new TypeError('version must be a number');
    const e = encodeOwned(next);
    return native.valueCas(this._h, version, e.payload, e.refs);
  }
}

/**
 * Counts progress from any thread; `get()` is one consistent snapshot of the count and the
 * time of the last progress (never a new count with a stale time).
 */
export class ProgressMeter extends WeftObject {
  constructor() {
    super(take() ?? native.progNew());
  }

  /** @internal */
  static _adopt(h: Handle): ProgressMeter {
    adopting = h;
    return new ProgressMeter();
  }

  progress(n: number = 1): void {
    if (typeof n !== 'number') throw new TypeError('n must be a number');
    if (!Number.isFinite(n)) throw new RangeError(`n must be finite, got ${n}`);
    native.progAdd(this._h, n);
  }
  /** `at`: ms since the epoch of the last progress, 0 if none. */
  get(): { count: number; at: number } {
    const [count, at] = native.progGet(this._h);
    return { count, at };
  }
}

/** One blocked operation, as `dump()` lists it. */
export interface WaitInfo {
  thread: number;
  op: string;
  object: string;
  sinceMs: number;
  stack?: string;
}

/** Every operation blocked right now, in every thread (sync primitives: Sync and async waits). */
export function dump(): WaitInfo[] {
  return native.dump();
}

/** This thread's weft thread id (as `dump()` and `DeadlockError` name threads). */
export function threadId(): number {
  return native.threadId();
}

registerKind(Kind.Atomic, (h) => AtomicInt64._adopt(h));
registerKind(Kind.AtomicBool, (h) => AtomicBool._adopt(h));
registerKind(Kind.Value, (h) => AtomicValue._adopt(h));
registerKind(Kind.Progress, (h) => ProgressMeter._adopt(h));
