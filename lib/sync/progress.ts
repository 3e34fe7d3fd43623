/**
 * A progress meter shared by every thread (API.md §4): a count and the time of the last
 * progress, read as one consistent snapshot.
 * @module
 */
import type { InspectOptions } from 'node:util';
import { formatWeft, inspectSymbol } from '../inspect.js';
import { Kind, native, type Handle } from '../internal/native.js';
import { ADOPT, WeftObject, notA, registerKind, type Adopt } from '../internal/object.js';

/**
 * Counts progress from any thread; `get()` is one consistent snapshot of the count and the
 * time of the last progress (never a new count with a stale time).
 */
export class ProgressMeter extends WeftObject {
  readonly #brand = true;

  /** Takes no arguments: the count starts at 0, `at` at 0 (none yet). */
  constructor();
  /** @internal wraps the existing progress meter handle `h` (see lib/internal/object.ts). */
  constructor(adopt: Adopt, h: Handle);
  constructor(adopt?: Adopt, h?: Handle) {
    super(adopt === ADOPT ? h! : native.progNew());
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

registerKind(Kind.Progress, ProgressMeter);
