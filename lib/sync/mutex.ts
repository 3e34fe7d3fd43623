/**
 * Go's `sync.Mutex` across threads (API.md §3).
 * @module
 */
import type { InspectOptions } from 'node:util';
import { MisuseError } from '../errors.js';
import { formatWeft, inspectSymbol } from '../inspect.js';
import { Kind, native, type Handle } from '../internal/native.js';
import { kMutexLocked, kMutexWordsBytes, MutexWord } from '../internal/abi.js';
import { ADOPT, WeftObject, notA, registerKind, type Adopt } from '../internal/object.js';
import { parseOpts, type WaitOpts } from '../internal/options.js';
import { RESOLVED, asyncWait, canceled, doneOf, nameOf, objName, quoted, syncResult, type SyncOptions } from './common.js';

const tid = native.threadId();

/**
 * Go's `sync.Mutex`, shared by every thread. Not owned by a thread: any thread may unlock
 * it. The uncontended `tryLock`/`lock`/`unlock` run entirely in JavaScript on the shared lock
 * word; waiters queue FIFO, and one that waited over 1 ms is handed the lock (no starvation).
 * `lockSync` on a mutex the calling thread locked itself, or closing a lock cycle among blocked
 * threads, throws `DeadlockError`. `dump()` entries of its waiters carry the holder's thread id.
 *
 * @example
 * const mu = new Mutex({ name: 'account' });
 * await mu.lock();
 * try {
 *   // critical section: exclusive across every thread that holds `mu`
 * } finally {
 *   mu.unlock();
 * }
 * // in a worker thread: mu.lockSync(); ...; mu.unlock();
 */
export class Mutex extends WeftObject {
  readonly #w: Int32Array;

  /** @param opts `name`: shown by `dump()`, `util.inspect` and error messages. */
  constructor(opts?: SyncOptions);
  /** @internal wraps the existing mutex handle `h` (see lib/internal/object.ts). */
  constructor(adopt: Adopt, h: Handle);
  constructor(opts?: SyncOptions | Adopt, h?: Handle) {
    const handle = opts === ADOPT ? h! : native.mutexNew(nameOf(opts));
    super(handle);
    this.#w = new Int32Array(native.mutexWords(handle), 0, kMutexWordsBytes / 4);
  }

  /** The `name` given at creation (the same on every thread), or `undefined`. */
  get name(): string | undefined {
    if (!(#w in this)) throw notA('Mutex', 'name');
    return objName(this._h);
  }

  /** Locks if free; never waits. */
  tryLock(): boolean {
    if (!(#w in this)) throw notA('Mutex', 'tryLock');
    const w = this.#w;
    let c = Atomics.compareExchange(w, MutexWord.State, 0, kMutexLocked);
    // Free but with waiters queued (one is being woken to retry): barging is allowed, as in Go.
    if (c !== 0 && (c & kMutexLocked) === 0) c = Atomics.compareExchange(w, MutexWord.State, c, c | kMutexLocked) === c ? 0 : 1;
    if (c !== 0) return false;
    // Holder hint (dump(), deadlock detection): a plain store after the locking CAS, read
    // relaxed by the native side (Mutex::owner); never used for correctness.
    w[MutexWord.Owner] = tid;
    return true;
  }

  /** Locks, waiting as long as needed (or until `signal`/`timeout`). */
  lock(opts?: WaitOpts): Promise<void> {
    if (!(#w in this)) throw notA('Mutex', 'lock');
    const o = parseOpts(opts);
    if (o.signal?.aborted) return Promise.reject(canceled(o.signal, 'lock', 'mutex', this._h));
    if (this.tryLock()) return RESOLVED;
    return asyncWait(native.mutexLock(this._h), o, 'lock', 'mutex', this._h);
  }

  /** Blocking `lock` for worker threads. Throws `DeadlockError` instead of hanging on a lock cycle. */
  lockSync(opts?: WaitOpts): void {
    if (!(#w in this)) throw notA('Mutex', 'lockSync');
    const o = parseOpts(opts);
    if (o.signal?.aborted) throw canceled(o.signal, 'lock', 'mutex', this._h);
    if (this.tryLock()) return;
    syncResult(native.mutexLockSync(this._h, o.timeout, doneOf(o)), o, 'lock', 'mutex', this._h);
  }

  /** Unlocks (from any thread); `MisuseError` (and no change) if it is not locked. */
  unlock(): void {
    if (!(#w in this)) throw notA('Mutex', 'unlock');
    const w = this.#w;
    const owner = w[MutexWord.Owner]!;
    // Not owned: whoever unlocks clears the holder hint, before the unlocking CAS (a plain
    // store, see tryLock).
    w[MutexWord.Owner] = 0;
    const c = Atomics.compareExchange(w, MutexWord.State, kMutexLocked, 0);
    if (c === kMutexLocked) return; // nobody queued
    if ((c & kMutexLocked) === 0) {
      w[MutexWord.Owner] = owner;
      throw new MisuseError(`unlock of unlocked mutex${quoted(this._h)}`);
    }
    // Waiters are queued: the native side wakes or hands over.
    if (!native.mutexUnlock(this._h)) throw new MisuseError(`unlock of unlocked mutex${quoted(this._h)}`);
  }

  /** Runs `fn` with the lock held (waiting for it as `lock(opts)` does); unlocks however `fn` ends. */
  withLock<R>(fn: () => R | Promise<R>, opts?: WaitOpts): Promise<R> {
    if (!(#w in this)) throw notA('Mutex', 'withLock');
    if (typeof fn !== 'function') throw new TypeError('fn must be a function');
    return this.lock(opts).then(async () => {
      try {
        return await fn();
      } finally {
        this.unlock();
      }
    });
  }

  /** @internal whether it is locked now */
  get _locked(): boolean {
    return (Atomics.load(this.#w, MutexWord.State) & kMutexLocked) !== 0;
  }

  /** @internal `util.inspect`: name, whether it is locked, how many wait. */
  [inspectSymbol](depth: number, options: InspectOptions): string {
    if (!(#w in this)) return 'Mutex';
    const c = Atomics.load(this.#w, MutexWord.State);
    return formatWeft('Mutex', this.name, { locked: (c & kMutexLocked) !== 0, waiters: c >>> 1 /* 2 per waiter above the locked bit */ }, depth, options);
  }
}

registerKind(Kind.Mutex, Mutex);
