/**
 * Go's `sync.Cond` on a weft `Mutex`, across threads (API.md §3).
 * @module
 */
import type { InspectOptions } from 'node:util';
import { MisuseError } from '../errors.js';
import { formatWeft, inspectSymbol } from '../inspect.js';
import { Code, Kind, native, type Handle, opId } from '../internal/native.js';
import { ADOPT, WeftObject, fromHandle, notA, registerKind, type Adopt } from '../internal/object.js';
import { awaitPending, parseOpts, type WaitOpts } from '../internal/options.js';
import { canceled, doneOf, fail, nameOf, objName, quoted, syncResult, type SyncOptions } from './common.js';
import { Mutex } from './mutex.js';

/**
 * Go's `sync.Cond` on a weft `Mutex`. `wait` must be called with the mutex locked; it
 * releases it while waiting and holds it again when it returns or throws.
 */
export class Cond extends WeftObject {
  readonly #brand = true;
  /** The mutex this condition is tied to. */
  readonly mu: Mutex;

  /** @param opts `name`: shown by `dump()`, `util.inspect` and error messages. */
  constructor(mu: Mutex, opts?: SyncOptions);
  /** @internal wraps the existing cond handle `h` (see lib/internal/object.ts). */
  constructor(adopt: Adopt, h: Handle);
  constructor(mu: Mutex | Adopt, opts?: SyncOptions | Handle) {
    const adopted = mu === ADOPT;
    if (!adopted && !(mu instanceof Mutex)) throw new TypeError('mu must be a Mutex');
    const handle = adopted ? (opts as Handle) : native.condNew((mu as Mutex)._h, nameOf(opts));
    super(handle);
    this.mu = adopted ? fromHandle(Mutex, native.condMutex(handle)) : (mu as Mutex);
  }

  /** The `name` given at creation (the same on every thread), or `undefined`. */
  get name(): string | undefined {
    if (!(#brand in this)) throw notA('Cond', 'name');
    return objName(this._h);
  }

  #unlocked(): MisuseError {
    return new MisuseError(`wait on cond${quoted(this._h)} without its mutex locked`);
  }

  /** Waits for `signal`/`broadcast`. */
  wait(opts?: WaitOpts): Promise<void> {
    if (!(#brand in this)) throw notA('Cond', 'wait');
    const o = parseOpts(opts);
    if (!this.mu._locked) throw this.#unlocked();
    if (o.signal?.aborted) return Promise.reject(canceled(o.signal, 'wait', 'cond', this._h));
    const r = native.condWait(this._h);
    if (r !== Code.Pending) throw this.#unlocked();
    return awaitPending(opId(), o).then(async ([code]) => {
      await this.mu.lock();
      if (code !== Code.Ok) fail(code, o, 'wait', 'cond', this._h);
    });
  }

  /** Blocking `wait` for worker threads. */
  waitSync(opts?: WaitOpts): void {
    if (!(#brand in this)) throw notA('Cond', 'waitSync');
    const o = parseOpts(opts);
    if (!this.mu._locked) throw this.#unlocked();
    if (o.signal?.aborted) throw canceled(o.signal, 'wait', 'cond', this._h);
    const code = native.condWaitSync(this._h, o.timeout, doneOf(o));
    if (code === Code.Misuse) throw this.#unlocked();
    syncResult(code, o, 'wait', 'cond', this._h);
  }

  /** Wakes the longest-waiting waiter, if any. */
  signal(): void {
    if (!(#brand in this)) throw notA('Cond', 'signal');
    native.condSignal(this._h, false);
  }

  /** Wakes every waiter. */
  broadcast(): void {
    if (!(#brand in this)) throw notA('Cond', 'broadcast');
    native.condSignal(this._h, true);
  }

  /** @internal `util.inspect`: name, how many wait. */
  [inspectSymbol](depth: number, options: InspectOptions): string {
    if (!(#brand in this)) return 'Cond';
    return formatWeft('Cond', this.name, { waiters: native.condWaiters(this._h) }, depth, options);
  }
}

registerKind(Kind.Cond, Cond);
