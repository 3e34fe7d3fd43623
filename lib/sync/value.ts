/**
 * A shared value with a version (API.md §4), copied by structured clone on every access.
 * @module
 */
import type { InspectOptions } from 'node:util';
import { decodeScratch, encode } from '../internal/codec.js';
import { formatWeft, inspectSymbol } from '../inspect.js';
import { Kind, aux, native, type Handle } from '../internal/native.js';
import { ADOPT, WeftObject, notA, registerKind, type Adopt } from '../internal/object.js';

/** A new native value holding a copy of `v`. */
function newValue(v: unknown): Handle {
  const e = encode(v);
  return native.valueNew(e.payload, e.refs);
}

/**
 * A shared value with a version (Go's `atomic.Pointer` CAS, by version): `store` always
 * advances the version, even for an equal value. Values cross threads by structured clone.
 */
export class AtomicValue<T> extends WeftObject {
  readonly #brand = true;

  /** @param v the initial value (structured-cloneable; weft objects by reference) */
  constructor(v: T);
  /** @internal wraps the existing value handle `h` (see lib/internal/object.ts). */
  constructor(adopt: Adopt, h: Handle);
  constructor(v: T | Adopt, h?: Handle) {
    super(v === ADOPT ? h! : newValue(v));
  }

  /** A copy of the value now, and its version (advanced by every store). */
  load(): {
    /** A copy of the stored value. */
    value: T;
    /** The version of that value (advanced by every store). */
    version: number;
  } {
    if (!(#brand in this)) throw notA('AtomicValue', 'load');
    const len = native.valueLoad(this._h);
    const version = aux(); // read before decoding (a decode may call native code)
    return { value: decodeScratch(len) as T, version };
  }
  /** Stores a copy of `v` and advances the version. */
  store(v: T): void {
    if (!(#brand in this)) throw notA('AtomicValue', 'store');
    const e = encode(v);
    native.valueStore(this._h, e.payload, e.refs);
  }
  /** Stores `next` if the version is still `version`. */
  compareAndSwap(version: number, next: T): boolean {
    if (!(#brand in this)) throw notA('AtomicValue', 'compareAndSwap');
    if (typeof version !== 'number') throw new TypeError('version must be a number');
    if (!Number.isSafeInteger(version) || version < 0) {
      throw new RangeError(`version must be an integer >= 0, got ${version}`);
    }
    const e = encode(next);
    return native.valueCas(this._h, version, e.payload, e.refs);
  }

  /** @internal `util.inspect`: a copy of the value, and its version. */
  [inspectSymbol](depth: number, options: InspectOptions): string {
    if (!(#brand in this)) return 'AtomicValue';
    const { value, version } = this.load();
    return formatWeft('AtomicValue', undefined, { value, version }, depth, options);
  }
}


registerKind(Kind.Value, AtomicValue);
