/**
 * Go's sync primitives across threads (API.md §3): Mutex, RWMutex, WaitGroup, Cond, Once,
 * Semaphore. Every one is usable from async code on any thread (`lock()`), blocking code in
 * workers (`lockSync()`), and without waiting (`tryLock()`).
 * @module
 */
import { decode, encodeOwned } from './codec.js';
import { DataCloneError, MisuseError } from './errors.js';
import { Code, Kind, native, status, type AsyncResult, type Handle, opId } from './native.js';
import { WeftObject, registerKind } from './object.js';
import { abortError, awaitPending, parseOpts, throwForCode, type ParsedOpts, type WaitOpts } from './options.js';
import { signalSources } from './signals.js';

const RESOLVED = Promise.resolve();
const tid = native.threadId();
let adopting: Handle | undefined;

/** Options of the sync primitives' constructors. */
export interface SyncOptions {
  /** A name shown by `dump()` and in `DeadlockError` messages. */
  name?: string;
}

function nameOf(opts: unknown): string | undefined {
  if (opts === undefined) return undefined;
  if (typeof opts !== 'object' || opts === null) throw new TypeError('opts must be an object');
  const n = (opts as SyncOptions).name;
  if (n !== undefined && typeof n !== 'string') throw new TypeError('name must be a string');
  return n;
}

function take(): Handle | undefined {
  const h = adopting;
  adopting = undefined;
  return h;
}

/** Settles an async wait whose native call returned a code or a pending Promise. */
function asyncWait(r: number | Promise<AsyncResult>, o: ParsedOpts): Promise<void> {
  if (typeof r === 'number') return r === Code.Ok ? RESOLVED : Promise.reject(codeError(r, o));
  return awaitPending(r, opId(), o).then(([code]) => {
    if (code !== Code.Ok) throwForCode(code, o);
  });
}

/** A context signal's done channel, so a blocked Sync call also wakes when the context ends. */
function doneOf(o: ParsedOpts): Handle | undefined {
  return o.signal === undefined ? undefined : signalSources.get(o.signal)?.done();
}

/** Throws for a Sync wait's code (a context that ended reports its own error). */
function syncResult(code: number, o: ParsedOpts): void {
  if (code === Code.Ok) return;
  if (code === Code.Canceled && o.signal !== undefined) {
    throw signalSources.get(o.signal)?.err() ?? abortError(o.signal);
  }
  throwForCode(code, o);
}

function codeError(code: number, o: ParsedOpts): unknown {
  try {
    throwForCode(code, o);
  } catch (e) {
    return e;
  }
}

function checkCount(n: unknown, name: string, min: number): number {
  if (typeof n !== 'number') throw new TypeError(`${name} must be a number`);
  if (!Number.isInteger(n) || n < min || n > Number.MAX_SAFE_INTEGER) {
    throw new RangeError(`${name} must be an integer >= ${min}, got ${n}`);
  }
  return n;
}

/**
 * Go's `sync.Mutex`, shared by every thread. Not owned by a thread: any thread may unlock
 * it. The uncontended `tryLock`/`lock`/`unlock` run entirely in JavaScript on the shared lock
 * word; waiters queue FIFO, and one that waited over 1 ms is handed the lock (no starvation).
 * `lockSync` detects lock cycles among blocked threads and throws `DeadlockError`.
 */
export class Mutex extends WeftObject {
  readonly #w: Int32Array;

  constructor(opts?: SyncOptions) {
    const h = take() ?? native.mutexNew(nameOf(opts));
    super(h);
    this.#w = new Int32Array(native.mutexWords(h));
  }

  /** @internal */
  static _adopt(h: Handle): Mutex {
    adopting = h;
    return new Mutex();
  }

  /** Locks if free; never waits. */
  tryLock(): boolean {
    const w = this.#w;
    let c = Atomics.compareExchange(w, 0, 0, 1);
    // Free but with waiters queued (one is being woken to retry): barging is allowed, as in Go.
    if (c !== 0 && (c & 1) === 0) c = Atomics.compareExchange(w, 0, c, c | 1) === c ? 0 : 1;
    if (c !== 0) return false;
    w[2] = tid; // owner hint for deadlock detection (plain store)
    return true;
  }

  /** Locks, waiting as long as needed (or until `signal`/`timeout`). */
  lock(opts?: WaitOpts): Promise<void> {
    const o = parseOpts(opts);
    if (o.signal?.aborted) return Promise.reject(abortError(o.signal));
    if (this.tryLock()) return RESOLVED;
    return asyncWait(native.mutexLock(this._h), o);
  }

  /** Blocking `lock` for worker threads. Throws `DeadlockError` instead of hanging on a lock cycle. */
  lockSync(opts?: WaitOpts): void {
    const o = opts === undefined ? NO_OPTS : parseOpts(opts);
    if (o.signal?.aborted) throw abortError(o.signal);
    if (this.tryLock()) return;
    syncResult(native.mutexLockSync(this._h, o.timeout, doneOf(o)), o);
  }

  /** Unlocks; `MisuseError` (and no change) if it is not locked. */
  unlock(): void {
    const w = this.#w;
    const owner = w[2]!;
    w[2] = 0;
    const c = Atomics.compareExchange(w, 0, 1, 0);
    if (c === 1) return; // nobody queued
    if ((c & 1) === 0) {
      w[2] = owner;
      throw new MisuseError('unlock of unlocked mutex');
    }
    // Waiters are queued: the native side wakes or hands over.
    if (!native.mutexUnlock(this._h)) throw new MisuseError('unlock of unlocked mutex');
  }

  /** Runs `fn` with the lock held; unlocks however `fn` ends. */
  withLock<R>(fn: () => R | Promise<R>): Promise<R> {
    if (typeof fn !== 'function') throw new TypeError('fn must be a function');
    return this.lock().then(async () => {
      try {
        return await fn();
      } finally {
        this.unlock();
      }
    });
  }

  /** @internal whether it is locked now */
  get _locked(): boolean {
    return (Atomics.load(this.#w, 0) & 1) === 1;
  }
}

const NO_OPTS = parseOpts(undefined);

/** Go's `sync.RWMutex`: many readers or one writer; writer-preferring (while a writer waits, new readers wait). */
export class RWMutex extends WeftObject {
  constructor(opts?: SyncOptions) {
    super(take() ?? native.rwNew(nameOf(opts)));
  }

  /** @internal */
  static _adopt(h: Handle): RWMutex {
    adopting = h;
    return new RWMutex();
  }

  tryLock(): boolean {
    return native.rwTry(this._h, true);
  }
  lock(opts?: WaitOpts): Promise<void> {
    const o = parseOpts(opts);
    if (o.signal?.aborted) return Promise.reject(abortError(o.signal));
    return asyncWait(native.rwLock(this._h, true), o);
  }
  lockSync(opts?: WaitOpts): void {
    const o = parseOpts(opts);
    if (o.signal?.aborted) throw abortError(o.signal);
    syncResult(native.rwLockSync(this._h, true, o.timeout, doneOf(o)), o);
  }
  /** Unlocks the write lock; `MisuseError` if not write-locked (also when read-locked). */
  unlock(): void {
    if (!native.rwUnlock(this._h, true)) throw new MisuseError('unlock of an RWMutex that is not write-locked');
  }
  tryRLock(): boolean {
    return native.rwTry(this._h, false);
  }
  rlock(opts?: WaitOpts): Promise<void> {
    const o = parseOpts(opts);
    if (o.signal?.aborted) return Promise.reject(abortError(o.signal));
    return asyncWait(native.rwLock(this._h, false), o);
  }
  rlockSync(opts?: WaitOpts): void {
    const o = parseOpts(opts);
    if (o.signal?.aborted) throw abortError(o.signal);
    syncResult(native.rwLockSync(this._h, false, o.timeout, doneOf(o)), o);
  }
  /** Releases a read lock; `MisuseError` if none is held. */
  runlock(): void {
    if (!native.rwUnlock(this._h, false)) throw new MisuseError('runlock of an RWMutex that is not read-locked');
  }
}

/** Go's `sync.WaitGroup`. `add`/`done` are a CAS on the shared counter (no native call). */
export class WaitGroup extends WeftObject {
  readonly #w: Int32Array;

  constructor(opts?: SyncOptions) {
    const h = take() ?? native.wgNew(nameOf(opts));
    super(h);
    this.#w = new Int32Array(native.wgWords(h));
  }

  /** @internal */
  static _adopt(h: Handle): WaitGroup {
    adopting = h;
    return new WaitGroup();
  }

  /** Adds `n` (default 1; may be negative) to the counter; `MisuseError` if it would go below zero. */
  add(n: number = 1): void {
    if (typeof n !== 'number') throw new TypeError('n must be a number');
    if (!Number.isInteger(n)) throw new RangeError(`n must be an integer, got ${n}`);
    const w = this.#w;
    let next: number;
    for (;;) {
      const cur = w[0]!; // plain read; the CAS below validates it
      next = cur + n;
      if (next < 0) throw new MisuseError('negative WaitGroup counter');
      if (next > 0x7fffffff) throw new RangeError('WaitGroup counter overflow');
      if (Atomics.compareExchange(w, 0, cur, next) === cur) break;
    }
    if (next === 0 && Atomics.load(w, 1) !== 0) native.wgWake(this._h);
  }

  /** `add(-1)`. */
  done(): void {
    this.add(-1);
  }

  /** The counter now. */
  get count(): number {
    return Atomics.load(this.#w, 0);
  }

  /** Resolves when the counter is zero. */
  wait(opts?: WaitOpts): Promise<void> {
    const o = parseOpts(opts);
    if (o.signal?.aborted) return Promise.reject(abortError(o.signal));
    if (Atomics.load(this.#w, 0) === 0) return RESOLVED;
    return asyncWait(native.wgWait(this._h), o);
  }

  /** Blocking `wait` for worker threads. */
  waitSync(opts?: WaitOpts): void {
    const o = parseOpts(opts);
    if (o.signal?.aborted) throw abortError(o.signal);
    if (Atomics.load(this.#w, 0) === 0) return;
    syncResult(native.wgWaitSync(this._h, o.timeout, doneOf(o)), o);
  }
}

/**
 * Go's `sync.Cond` on a weft `Mutex`. `wait` must be called with the mutex locked; it
 * releases it while waiting and holds it again when it returns or throws.
 */
export class Cond extends WeftObject {
  /** The mutex this condition is tied to. */
  readonly mu: Mutex;

  constructor(mu: Mutex) {
    const h = take();
    if (h === undefined && !(mu instanceof Mutex)) throw new TypeError('mu must be a Mutex');
    const handle = h ?? native.condNew(mu._h);
    super(handle);
    this.mu = h === undefined ? mu : Mutex._adopt(native.condMutex(handle));
  }

  /** @internal */
  static _adopt(h: Handle): Cond {
    adopting = h;
    return new Cond(undefined as unknown as Mutex);
  }

  /** Waits for `signal`/`broadcast`. */
  wait(opts?: WaitOpts): Promise<void> {
    const o = parseOpts(opts);
    if (!this.mu._locked) throw new MisuseError('Cond.wait without the mutex locked');
    if (o.signal?.aborted) return Promise.reject(abortError(o.signal));
    const r = native.condWait(this._h);
    if (typeof r === 'number') throw new MisuseError('Cond.wait without the mutex locked');
    return awaitPending(r, opId(), o).then(async ([code]) => {
      await this.mu.lock();
      if (code !== Code.Ok) throwForCode(code, o);
    });
  }

  /** Blocking `wait` for worker threads. */
  waitSync(opts?: WaitOpts): void {
    const o = parseOpts(opts);
    if (!this.mu._locked) throw new MisuseError('Cond.wait without the mutex locked');
    if (o.signal?.aborted) throw abortError(o.signal);
    const code = native.condWaitSync(this._h, o.timeout, doneOf(o));
    if (code === Code.Misuse) throw new MisuseError('Cond.wait without the mutex locked');
    syncResult(code, o);
  }

  /** Wakes the longest-waiting waiter, if any. */
  signal(): void {
    native.condSignal(this._h, false);
  }

  /** Wakes every waiter. */
  broadcast(): void {
    native.condSignal(this._h, true);
  }
}

/**
 * Go's `sync.OnceValue` across threads: `fn` runs once; concurrent and later callers (on any
 * thread) get its result, or its error rethrown, by structured clone. If the thread running
 * `fn` exits first, the next caller runs it.
 */
export class Once extends WeftObject {
  constructor() {
    super(take() ?? native.onceNew());
  }

  /** @internal */
  static _adopt(h: Handle): Once {
    adopting = h;
    return new Once();
  }

  /** True once `fn` has returned or thrown. */
  get done(): boolean {
    return native.onceState(this._h) === 2;
  }

  #finish(value: unknown, isError: boolean): void {
    let enc;
    try {
      enc = encodeOwned(value);
    } catch (e) {
      if (!(e instanceof DataCloneError)) throw e;
      enc = encodeOwned(new DataCloneError(`Once result could not be cloned: ${e.message}`));
      isError = true;
    }
    native.onceFinish(this._h, enc.payload, enc.refs, isError);
  }

  #result<R>(): R {
    const r = native.onceResult(this._h)!;
    const v = decode(r[0], r[0].length, r[1]);
    if (r[2]) throw v;
    return v as R;
  }

  /** Runs `fn` if nobody has; otherwise waits for and returns its outcome. */
  do<R>(fn: () => R | Promise<R>): Promise<R> {
    if (typeof fn !== 'function') throw new TypeError('fn must be a function');
    return this.#do(fn);
  }

  async #do<R>(fn: () => R | Promise<R>): Promise<R> {
    for (;;) {
      const st = native.onceEnter(this._h);
      if (st === 0) {
        let v: R;
        try {
          v = await fn();
        } catch (e) {
          this.#finish(e, true);
          throw e;
        }
        this.#finish(v, false);
        return v;
      }
      if (st === 2) return this.#result<R>();
      const r = native.onceWait(this._h);
      const code = typeof r === 'number' ? r : (await awaitPending(r, opId(), NO_OPTS))[0];
      if (code === Code.Retry) continue;
      if (code !== Code.Ok) throwForCode(code, NO_OPTS);
      return this.#result<R>();
    }
  }

  /** Blocking `do` for worker threads (`fn` must be synchronous). */
  doSync<R>(fn: () => R): R {
    if (typeof fn !== 'function') throw new TypeError('fn must be a function');
    for (;;) {
      const st = native.onceEnter(this._h);
      if (st === 0) {
        let v: R;
        try {
          v = fn();
        } catch (e) {
          this.#finish(e, true);
          throw e;
        }
        this.#finish(v, false);
        return v;
      }
      if (st === 2) return this.#result<R>();
      const code = native.onceWaitSync(this._h, -1);
      if (code === Code.Retry) continue;
      if (code !== Code.Ok) throwForCode(code, NO_OPTS);
      return this.#result<R>();
    }
  }
}

/**
 * A weighted FIFO semaphore (golang.org/x/sync/semaphore): a large pending acquire is not
 * starved by small ones; a canceled acquire leaks no permits.
 */
export class Semaphore extends WeftObject {
  /** Total permits. */
  readonly size: number;

  constructor(size: number, opts?: SyncOptions) {
    const h = take();
    if (h === undefined) checkCount(size, 'size', 0);
    const handle = h ?? native.semNew(size, nameOf(opts));
    super(handle);
    this.size = native.semSize(handle);
  }

  /** @internal */
  static _adopt(h: Handle): Semaphore {
    adopting = h;
    return new Semaphore(0);
  }

  #n(n: unknown): number {
    checkCount(n, 'n', 0);
    if ((n as number) > this.size) throw new RangeError(`n must not exceed the semaphore size ${this.size}, got ${n}`);
    return n as number;
  }

  /** Takes `n` permits (default 1) if available and nobody waits before; never waits. */
  tryAcquire(n: number = 1): boolean {
    return native.semTry(this._h, this.#n(n));
  }

  /** Takes `n` permits, waiting in FIFO order. */
  acquire(n: number = 1, opts?: WaitOpts): Promise<void> {
    const k = this.#n(n);
    const o = parseOpts(opts);
    if (o.signal?.aborted) return Promise.reject(abortError(o.signal));
    return asyncWait(native.semAcquire(this._h, k), o);
  }

  /** Blocking `acquire` for worker threads. */
  acquireSync(n: number = 1, opts?: WaitOpts): void {
    const k = this.#n(n);
    const o = parseOpts(opts);
    if (o.signal?.aborted) throw abortError(o.signal);
    syncResult(native.semAcquireSync(this._h, k, o.timeout, doneOf(o)), o);
  }

  /** Returns `n` permits; `MisuseError` (and no change) if that is more than were acquired. */
  release(n: number = 1): void {
    checkCount(n, 'n', 0);
    if (!native.semRelease(this._h, n)) throw new MisuseError('semaphore released more than acquired');
  }
}

registerKind(Kind.Mutex, (h) => Mutex._adopt(h));
registerKind(Kind.RWMutex, (h) => RWMutex._adopt(h));
registerKind(Kind.WaitGroup, (h) => WaitGroup._adopt(h));
registerKind(Kind.Cond, (h) => Cond._adopt(h));
registerKind(Kind.Once, (h) => Once._adopt(h));
registerKind(Kind.Semaphore, (h) => Semaphore._adopt(h));
