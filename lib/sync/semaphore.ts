/**
 * A weighted FIFO semaphore across threads (golang.org/x/sync/semaphore; API.md §3).
 * @module
 */
import type { InspectOptions } from 'node:util';
import { MisuseError } from '../errors.js';
import { formatWeft, inspectSymbol } from '../inspect.js';
import { Kind, native, type Handle } from '../internal/native.js';
import { ADOPT, WeftObject, notA, registerKind, type Adopt } from '../internal/object.js';
import { parseOpts, type WaitOpts } from '../internal/options.js';
import { asyncWait, canceled, doneOf, nameOf, objName, quoted, syncResult, type SyncOptions } from './common.js';

function checkCount(n: unknown, name: string, min: number): number {
  if (typeof n !== 'number') throw new TypeError(`${name} must be a number`);
  if (!Number.isInteger(n) || n < min || n > Number.MAX_SAFE_INTEGER) {
    throw new RangeError(`${name} must be an integer >= ${min}, got ${n}`);
  }
  return n;
}

/**
 * A weighted FIFO semaphore (golang.org/x/sync/semaphore): a large pending acquire is not
 * starved by small ones; a canceled acquire leaks no permits.
 */
export class Semaphore extends WeftObject {
  readonly #brand = true;
  /** Total permits. */
  readonly size: number;

  /**
   * @param size total permits (an integer >= 0)
   * @param opts `name`: shown by `dump()`, `util.inspect` and error messages.
   */
  constructor(size: number, opts?: SyncOptions);
  /** @internal wraps the existing semaphore handle `h` (see lib/internal/object.ts). */
  constructor(adopt: Adopt, h: Handle);
  constructor(size: number | Adopt, opts?: SyncOptions | Handle) {
    const handle = size === ADOPT ? (opts as Handle) : native.semNew(checkCount(size, 'size', 0), nameOf(opts));
    super(handle);
    this.size = native.semSize(handle);
  }

  /** The `name` given at creation (the same on every thread), or `undefined`. */
  get name(): string | undefined {
    if (!(#brand in this)) throw notA('Semaphore', 'name');
    return objName(this._h);
  }

  #n(n: unknown): number {
    checkCount(n, 'n', 0);
    if ((n as number) > this.size) throw new RangeError(`n must not exceed the semaphore size ${this.size}, got ${n}`);
    return n as number;
  }

  /** Takes `n` permits (default 1) if available and nobody waits before; never waits. */
  tryAcquire(n: number = 1): boolean {
    if (!(#brand in this)) throw notA('Semaphore', 'tryAcquire');
    return native.semTry(this._h, this.#n(n));
  }

  /** Takes `n` permits, waiting in FIFO order. */
  acquire(n: number = 1, opts?: WaitOpts): Promise<void> {
    if (!(#brand in this)) throw notA('Semaphore', 'acquire');
    const k = this.#n(n);
    const o = parseOpts(opts);
    if (o.signal?.aborted) return Promise.reject(canceled(o.signal, 'acquire', 'semaphore', this._h));
    return asyncWait(native.semAcquire(this._h, k), o, 'acquire', 'semaphore', this._h);
  }

  /** Blocking `acquire` for worker threads. */
  acquireSync(n: number = 1, opts?: WaitOpts): void {
    if (!(#brand in this)) throw notA('Semaphore', 'acquireSync');
    const k = this.#n(n);
    const o = parseOpts(opts);
    if (o.signal?.aborted) throw canceled(o.signal, 'acquire', 'semaphore', this._h);
    syncResult(native.semAcquireSync(this._h, k, o.timeout, doneOf(o)), o, 'acquire', 'semaphore', this._h);
  }

  /** Returns `n` permits; `MisuseError` (and no change) if that is more than were acquired. */
  release(n: number = 1): void {
    if (!(#brand in this)) throw notA('Semaphore', 'release');
    checkCount(n, 'n', 0);
    if (!native.semRelease(this._h, n)) {
      throw new MisuseError(`release of more than acquired on semaphore${quoted(this._h)}`);
    }
  }

  /** @internal `util.inspect`: name, size, permits available, how many wait. */
  [inspectSymbol](depth: number, options: InspectOptions): string {
    if (!(#brand in this)) return 'Semaphore';
    const [available, waiters] = native.semState(this._h);
    return formatWeft('Semaphore', this.name, { size: this.size, available, waiters }, depth, options);
  }
}

registerKind(Kind.Semaphore, Semaphore);
