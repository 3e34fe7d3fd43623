/**
 * Atomics and progress meters shared by every thread (API.md §4), and `dump()` (§9).
 * @module
 */
import type { InspectOptions } from 'node:util';
import { decode, encodeOwned } from '../internal/codec.js';
import { formatWeft, inspectSymbol } from '../inspect.js';
import { Kind, native, type Handle } from '../internal/native.js';
import { AtomicBoolWord, AtomOp, kAtomicWordsBytes } from '../internal/abi.js';
import { WeftObject, registerKind } from '../internal/object.js';
import { withTaskEntries, type TaskDumpInfo } from '../runtime/dump.js';

let adopting: Handle | undefined;
function take(): Handle | undefined {
  const h = adopting;
  adopting = undefined;
  return h;
}

/** The TypeError for a method called with a `this` that is not an instance of its class. */
function notA(cls: string, method: string): TypeError {
  return new TypeError(`${cls}.${method} called on an object that is not ${/^[AEIOU]/.test(cls) ? 'an' : 'a'} ${cls}`);
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
  readonly #brand = true;

  /** @param v the initial value: a safe integer, or any int64 as a bigint (default 0) */
  constructor(v: number | bigint = 0) {
    let h = take();
    if (h === undefined) {
      let big: bigint;
      if (typeof v === 'bigint') {
        if (v < I64_MIN || v > I64_MAX) throw new RangeError(`v must fit in int64, got ${v}`);
        big = v;
      } else {
        if (typeof v !== 'number') throw new TypeError('v must be a number or a bigint');
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

  /** The value now; `RangeError` if it is outside the safe-integer range (see `loadBig`). */
  load(): number {
    if (!(#brand in this)) throw notA('AtomicInt64', 'load');
    const r = native.atomLoad(this._h);
    if (Number.isNaN(r)) throw new RangeError(OUT_OF_RANGE);
    return r;
  }
  /** Stores `v` (a safe integer). */
  store(v: number): void {
    if (!(#brand in this)) throw notA('AtomicInt64', 'store');
    native.atomOp(this._h, AtomOp.Store, safeInt(v, 'v'), 0);
  }
  /** Adds `d` and returns the new value. */
  add(d: number): number {
    if (!(#brand in this)) throw notA('AtomicInt64', 'add');
    if (!Number.isSafeInteger(d)) safeInt(d, 'd');
    const r = native.atomAdd(this._h, d);
    if (Number.isNaN(r)) throw new RangeError(OUT_OF_RANGE);
    return r;
  }
  /** Stores `v` and returns the old value. */
  swap(v: number): number {
    if (!(#brand in this)) throw notA('AtomicInt64', 'swap');
    const r = native.atomOp(this._h, AtomOp.Swap, safeInt(v, 'v'), 0);
    if (Number.isNaN(r)) throw new RangeError(OUT_OF_RANGE);
    return r;
  }
  /** Stores `next` if the value is `expected`; whether it did. */
  compareAndSwap(expected: number, next: number): boolean {
    if (!(#brand in this)) throw notA('AtomicInt64', 'compareAndSwap');
    return native.atomOp(this._h, AtomOp.Cas, safeInt(expected, 'expected'), safeInt(next, 'next')) === 1;
  }
  /** The value as a bigint (any int64). */
  loadBig(): bigint {
    if (!(#brand in this)) throw notA('AtomicInt64', 'loadBig');
    return native.atomLoadBig(this._h);
  }

  /** @internal `util.inspect`: the value (a bigint when outside the safe-integer range). */
  [inspectSymbol](depth: number, options: InspectOptions): string {
    if (!(#brand in this)) return 'AtomicInt64';
    const big = native.atomLoadBig(this._h);
    const value = big >= BigInt(Number.MIN_SAFE_INTEGER) && big <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(big) : big;
    return formatWeft('AtomicInt64', undefined, { value }, depth, options);
  }
}

/** A shared boolean (Go's `atomic.Bool`): JavaScript Atomics on the shared word, no native call. */
export class AtomicBool extends WeftObject {
  readonly #w: Int32Array;

  /** @param v the initial value (default false) */
  constructor(v: boolean = false) {
    const h0 = take();
    if (h0 === undefined && typeof v !== 'boolean') throw new TypeError('v must be a boolean');
    const h = h0 ?? native.atomNew(v ? 1n : 0n, true);
    super(h);
    this.#w = new Int32Array(native.atomWords(h), 0, kAtomicWordsBytes / 4);
  }

  /** @internal */
  static _adopt(h: Handle): AtomicBool {
    adopting = h;
    return new AtomicBool();
  }

  /** The value now. */
  load(): boolean {
    if (!(#w in this)) throw notA('AtomicBool', 'load');
    return Atomics.load(this.#w, AtomicBoolWord.Value) !== 0;
  }
  /** Stores `v`. */
  store(v: boolean): void {
    if (!(#w in this)) throw notA('AtomicBool', 'store');
    if (typeof v !== 'boolean') throw new TypeError('v must be a boolean');
    Atomics.store(this.#w, AtomicBoolWord.Value, v ? 1 : 0);
  }
  /** Stores `v` and returns the old value. */
  swap(v: boolean): boolean {
    if (!(#w in this)) throw notA('AtomicBool', 'swap');
    if (typeof v !== 'boolean') throw new TypeError('v must be a boolean');
    return Atomics.exchange(this.#w, AtomicBoolWord.Value, v ? 1 : 0) !== 0;
  }
  /** Stores `next` if the value is `expected`; whether it did. */
  compareAndSwap(expected: boolean, next: boolean): boolean {
    if (!(#w in this)) throw notA('AtomicBool', 'compareAndSwap');
    if (typeof expected !== 'boolean') throw new TypeError('expected must be a boolean');
    if (typeof next !== 'boolean') throw new TypeError('next must be a boolean');
    const e = expected ? 1 : 0;
    return Atomics.compareExchange(this.#w, AtomicBoolWord.Value, e, next ? 1 : 0) === e;
  }

  /** @internal `util.inspect`: the value. */
  [inspectSymbol](depth: number, options: InspectOptions): string {
    if (!(#w in this)) return 'AtomicBool';
    return formatWeft('AtomicBool', undefined, { value: Atomics.load(this.#w, AtomicBoolWord.Value) !== 0 }, depth, options);
  }
}

/**
 * A shared value with a version (Go's `atomic.Pointer` CAS, by version): `store` always
 * advances the version, even for an equal value. Values cross threads by structured clone.
 */
export class AtomicValue<T> extends WeftObject {
  readonly #brand = true;

  /** @param v the initial value (structured-cloneable; weft objects by reference) */
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

  /** A copy of the value now, and its version (advanced by every store). */
  load(): {
    /** A copy of the stored value. */
    value: T;
    /** The version of that value (advanced by every store). */
    version: number;
  } {
    if (!(#brand in this)) throw notA('AtomicValue', 'load');
    const [u8, refs, version] = native.valueLoad(this._h);
    return { value: decode(u8, u8.length, refs) as T, version };
  }
  /** Stores a copy of `v` and advances the version. */
  store(v: T): void {
    if (!(#brand in this)) throw notA('AtomicValue', 'store');
    const e = encodeOwned(v);
    native.valueStore(this._h, e.payload, e.refs);
  }
  /** Stores `next` if the version is still `version`. */
  compareAndSwap(version: number, next: T): boolean {
    if (!(#brand in this)) throw notA('AtomicValue', 'compareAndSwap');
    if (typeof version !== 'number') throw new TypeError('version must be a number');
    if (!Number.isSafeInteger(version) || version < 0) {
      throw new RangeError(`version must be an integer >= 0, got ${version}`);
    }
    const e = encodeOwned(next);
    return native.valueCas(this._h, version, e.payload, e.refs);
  }

  /** @internal `util.inspect`: a copy of the value, and its version. */
  [inspectSymbol](depth: number, options: InspectOptions): string {
    if (!(#brand in this)) return 'AtomicValue';
    const { value, version } = this.load();
    return formatWeft('AtomicValue', undefined, { value, version }, depth, options);
  }
}

/**
 * Counts progress from any thread; `get()` is one consistent snapshot of the count and the
 * time of the last progress (never a new count with a stale time).
 */
export class ProgressMeter extends WeftObject {
  readonly #brand = true;

  /** Takes no arguments: the count starts at 0, `at` at 0 (none yet). */
  constructor() {
    super(take() ?? native.progNew());
  }

  /** @internal */
  static _adopt(h: Handle): ProgressMeter {
    adopting = h;
    return new ProgressMeter();
  }

  /**
   * Adds `n` (an integer >= 0, default 1) to the count and sets `at` to now; `progress(0)` only
   * marks the time (a heartbeat). A bad `n`, or a count that would pass 2^53 - 1, throws
   * (`TypeError`/`RangeError`) and changes nothing.
   */
  progress(n: number = 1): void {
    if (!(#brand in this)) throw notA('ProgressMeter', 'progress');
    if (typeof n !== 'number') throw new TypeError('n must be a number');
    if (!Number.isSafeInteger(n) || n < 0) throw new RangeError(`n must be an integer >= 0, got ${n}`);
    if (!native.progAdd(this._h, n)) {
      throw new RangeError(`n = ${n} would take the count past Number.MAX_SAFE_INTEGER (nothing changed)`);
    }
  }
  /** `at`: ms since the epoch of the last progress, 0 if none. */
  get(): {
    /** The count now. */
    count: number;
    /** ms since the epoch of the last progress, 0 if none. */
    at: number;
  } {
    if (!(#brand in this)) throw notA('ProgressMeter', 'get');
    const [count, at] = native.progGet(this._h);
    return { count, at };
  }

  /** @internal `util.inspect`: the count and the time of the last progress. */
  [inspectSymbol](depth: number, options: InspectOptions): string {
    if (!(#brand in this)) return 'ProgressMeter';
    const [count, at] = native.progGet(this._h);
    return formatWeft('ProgressMeter', undefined, { count, at }, depth, options);
  }
}

/** One blocked operation, as `dump()` lists it. */
export interface WaitInfo {
  /** The blocked thread (see `threadId()`). */
  thread: number;
  /** The operation: `lock`, `rlock`, `wait`, `acquire`, `do`, `send`, `recv`, `select`, ... */
  op: string;
  /** The object's kind and name (`mutex db`). */
  object: string;
  /** How long it has been blocked. */
  sinceMs: number;
  /** Where the wait started (a JavaScript stack), when it was captured. */
  stack?: string;
  /**
   * Waiting on a Mutex or on an RWMutex's write lock: the thread holding it (set when known).
   * Mutexes are not owned: this is the thread that locked it, or was handed it.
   */
  holder?: number;
  /** With `holder`: true if that thread has exited (so only another thread can unlock it). */
  holderExited?: boolean;
  /** Entries with `op: 'task'` describe a `go()` task (id, `module#export`, state, blocked-on). */
  task?: TaskDumpInfo;
}

/** Every operation blocked right now, in every thread (sync primitives: Sync and async waits). */
export function dump(): WaitInfo[] {
  return withTaskEntries(native.dump());
}

/** This thread's weft thread id (as `dump()` and `DeadlockError` name threads). */
export function threadId(): number {
  return native.threadId();
}

registerKind(Kind.Atomic, (h) => AtomicInt64._adopt(h));
registerKind(Kind.AtomicBool, (h) => AtomicBool._adopt(h));
registerKind(Kind.Value, (h) => AtomicValue._adopt(h));
registerKind(Kind.Progress, (h) => ProgressMeter._adopt(h));
