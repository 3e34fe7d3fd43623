/**
 * Shared integers and booleans (API.md §4): Go's `atomic.Int64` and `atomic.Bool`.
 * @module
 */
import type { InspectOptions } from 'node:util';
import { formatWeft, inspectSymbol } from '../inspect.js';
import { Kind, native, type Handle } from '../internal/native.js';
import { AtomicBoolWord, AtomOp, kAtomicWordsBytes } from '../internal/abi.js';
import { ADOPT, WeftObject, notA, registerKind, type Adopt } from '../internal/object.js';

function safeInt(v: unknown, name: string): number {
  if (typeof v !== 'number') throw new TypeError(`${name} must be a number`);
  if (!Number.isSafeInteger(v)) throw new RangeError(`${name} must be a safe integer, got ${v}`);
  return v;
}

const I64_MIN = -(2n ** 63n);
const I64_MAX = 2n ** 63n - 1n;
const OUT_OF_RANGE = 'result outside the safe-integer range (nothing changed; use loadBig to read it)';

/** An initial AtomicInt64 value as a bigint: a safe integer, or a bigint that fits in int64. */
function int64(v: unknown): bigint {
  if (typeof v === 'bigint') {
    if (v < I64_MIN || v > I64_MAX) throw new RangeError(`v must fit in int64, got ${v}`);
    return v;
  }
  if (typeof v !== 'number') throw new TypeError('v must be a number or a bigint');
  return BigInt(safeInt(v, 'v'));
}

/**
 * A shared 64-bit integer (Go's `atomic.Int64`). The number API takes and returns safe
 * integers only: an operation whose argument or result is outside that range throws
 * `RangeError` and has no effect; `loadBig` reads any value.
 */
export class AtomicInt64 extends WeftObject {
  readonly #brand = true;

  /** @param v the initial value: a safe integer, or any int64 as a bigint (default 0) */
  constructor(v?: number | bigint);
  /** @internal wraps the existing atomic handle `h` (see lib/internal/object.ts). */
  constructor(adopt: Adopt, h: Handle);
  constructor(v: number | bigint | Adopt = 0, h?: Handle) {
    super(v === ADOPT ? h! : native.atomNew(int64(v), false));
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
  constructor(v?: boolean);
  /** @internal wraps the existing atomic handle `h` (see lib/internal/object.ts). */
  constructor(adopt: Adopt, h: Handle);
  constructor(v: boolean | Adopt = false, h?: Handle) {
    const adopted = v === ADOPT;
    if (!adopted && typeof v !== 'boolean') throw new TypeError('v must be a boolean');
    const handle = adopted ? h! : native.atomNew(v ? 1n : 0n, true);
    super(handle);
    this.#w = new Int32Array(native.atomWords(handle), 0, kAtomicWordsBytes / 4);
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


registerKind(Kind.Atomic, AtomicInt64);
registerKind(Kind.AtomicBool, AtomicBool);
