/**
 * Go's sync primitives across threads (API.md §3): Mutex, RWMutex, WaitGroup, Cond, Once,
 * Semaphore. Every one is usable from async code on any thread (`lock()`), blocking code in
 * workers (`lockSync()`), and without waiting (`tryLock()`).
 * @module
 */
import type { InspectOptions } from 'node:util';
import { decode, encodeOwned } from '../internal/codec.js';
import { CanceledError, DataCloneError, DeadlineExceededError, MisuseError, TimeoutError } from '../errors.js';
import { formatWeft, inspectSymbol } from '../inspect.js';
import { Code, Kind, native, status, type AsyncResult, type Handle, opId } from '../internal/native.js';
import { kMutexLocked, kMutexWordsBytes, kWaitGroupWordsBytes, MutexWord, OnceOutcome, OnceState, WaitGroupWord } from '../internal/abi.js';
import { WeftObject, registerKind } from '../internal/object.js';
import { awaitPending, parseOpts, throwForCode, type ParsedOpts, type WaitOpts } from '../internal/options.js';
import { signalSources } from '../internal/signals.js';

const RESOLVED = Promise.resolve();
const tid = native.threadId();
let adopting: Handle | undefined;

/** Options of the sync primitives' constructors. */
export interface SyncOptions {
  /** A name shown by `dump()`, `util.inspect` and in error messages. */
  name?: string | undefined;
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

/** The TypeError for a method called with a `this` that is not an instance of its class. */
function notA(cls: string, method: string): TypeError {
  return new TypeError(`${cls}.${method} called on an object that is not ${/^[AEIOU]/.test(cls) ? 'an' : 'a'} ${cls}`);
}

/** The name given at creation (read from the shared object, so it is the same on every thread). */
function objName(h: Handle): string | undefined {
  const n = native.objName(h);
  return n === '' ? undefined : n;
}

/** How messages name an object: `mutex 'db'`, or `mutex` when it has no name. */
function label(kind: string, h: Handle): string {
  const n = objName(h);
  return n === undefined ? kind : `${kind} '${n}'`;
}

/** ` 'db'`, or '' when the object has no name. */
function quoted(h: Handle): string {
  const n = objName(h);
  return n === undefined ? '' : ` '${n}'`;
}

/**
 * The error of a wait ended by `signal` (API.md §0): its reason when that is a weft
 * `CanceledError` or `DeadlineExceededError`, otherwise a `CanceledError` naming the operation
 * and the object, with the reason as `cause`.
 */
function canceled(signal: AbortSignal, op: string, kind: string, h: Handle): Error {
  const r: unknown = signal.reason;
  if (r instanceof CanceledError || r instanceof DeadlineExceededError) return r;
  return new CanceledError(`${op} of ${label(kind, h)} canceled`, { cause: r });
}

/** Throws for a wait's failure code; a timeout or an abort names the operation and the object. */
function fail(code: number, o: ParsedOpts, op: string, kind: string, h: Handle): never {
  if (code === Code.Timeout) {
    throw new TimeoutError(`${op} of ${label(kind, h)} timed out after ${o.timeout} ms`);
  }
  if (code === Code.Canceled && o.signal !== undefined) throw canceled(o.signal, op, kind, h);
  throwForCode(code, o);
}

/** Settles an async wait whose native call returned a code or a pending Promise. */
function asyncWait(
  r: number | Promise<AsyncResult>,
  o: ParsedOpts,
  op: string,
  kind: string,
  h: Handle,
): Promise<void> {
  if (typeof r === 'number') {
    if (r === Code.Ok) return RESOLVED;
    try {
      fail(r, o, op, kind, h);
    } catch (e) {
      return Promise.reject(e);
    }
  }
  return awaitPending(r, opId(), o).then(([code]) => {
    if (code !== Code.Ok) fail(code, o, op, kind, h);
  });
}

/** A context signal's done channel, so a blocked Sync call also wakes when the context ends. */
function doneOf(o: ParsedOpts): Handle | undefined {
  return o.signal === undefined ? undefined : signalSources.get(o.signal)?.done();
}

/** Throws for a Sync wait's code (a context that ended reports its own error). */
function syncResult(code: number, o: ParsedOpts, op: string, kind: string, h: Handle): void {
  if (code === Code.Ok) return;
  if (code === Code.Canceled && o.signal !== undefined) {
    throw signalSources.get(o.signal)?.err() ?? canceled(o.signal, op, kind, h);
  }
  fail(code, o, op, kind, h);
}

function checkCount(n: unknown, name: string, min: number): number {
  if (typeof n !== 'number') throw new TypeError(`${name} must be a number`);
  if (!Number.isInteger(n) || n < min || n > Number.MAX_SAFE_INTEGER) {
    throw new RangeError(`${name} must be an integer >= ${min}, got ${n}`);
  }
  return n;
}

/** Whether v has a callable `then` (a `then` getter that throws counts as not: never throws). */
function isThenable(v: unknown): v is PromiseLike<unknown> {
  if ((typeof v !== 'object' && typeof v !== 'function') || v === null) return false;
  try {
    return typeof (v as { then?: unknown }).then === 'function';
  } catch {
    return false;
  }
}

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
  constructor(opts?: SyncOptions) {
    const h = take() ?? native.mutexNew(nameOf(opts));
    super(h);
    this.#w = new Int32Array(native.mutexWords(h), 0, kMutexWordsBytes / 4);
  }

  /** @internal */
  static _adopt(h: Handle): Mutex {
    adopting = h;
    return new Mutex();
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

const NO_OPTS = parseOpts(undefined);

/**
 * Go's `sync.RWMutex`: many readers or one writer; writer-preferring (while a writer waits,
 * new readers wait). Not owned by a thread. `lockSync`/`rlockSync` by the thread holding the
 * write lock, or `lockSync` by a thread holding a read lock (it cannot be upgraded), throw
 * `DeadlockError` instead of hanging. `dump()` entries of its waiters carry the write-lock
 * holder's thread id.
 */
export class RWMutex extends WeftObject {
  readonly #brand = true;

  /** @param opts `name`: shown by `dump()`, `util.inspect` and error messages. */
  constructor(opts?: SyncOptions) {
    super(take() ?? native.rwNew(nameOf(opts)));
  }

  /** @internal */
  static _adopt(h: Handle): RWMutex {
    adopting = h;
    return new RWMutex();
  }

  /** The `name` given at creation (the same on every thread), or `undefined`. */
  get name(): string | undefined {
    if (!(#brand in this)) throw notA('RWMutex', 'name');
    return objName(this._h);
  }

  /** Takes the write lock if free and no writer waits; never waits. */
  tryLock(): boolean {
    if (!(#brand in this)) throw notA('RWMutex', 'tryLock');
    return native.rwTry(this._h, true);
  }
  /** Takes the write lock, waiting as long as needed (or until `signal`/`timeout`). */
  lock(opts?: WaitOpts): Promise<void> {
    if (!(#brand in this)) throw notA('RWMutex', 'lock');
    const o = parseOpts(opts);
    if (o.signal?.aborted) return Promise.reject(canceled(o.signal, 'lock', 'rwmutex', this._h));
    return asyncWait(native.rwLock(this._h, true), o, 'lock', 'rwmutex', this._h);
  }
  /** Blocking `lock` for worker threads. */
  lockSync(opts?: WaitOpts): void {
    if (!(#brand in this)) throw notA('RWMutex', 'lockSync');
    const o = parseOpts(opts);
    if (o.signal?.aborted) throw canceled(o.signal, 'lock', 'rwmutex', this._h);
    syncResult(native.rwLockSync(this._h, true, o.timeout, doneOf(o)), o, 'lock', 'rwmutex', this._h);
  }
  /** Unlocks the write lock; `MisuseError` if not write-locked (also when read-locked). */
  unlock(): void {
    if (!(#brand in this)) throw notA('RWMutex', 'unlock');
    if (!native.rwUnlock(this._h, true)) {
      throw new MisuseError(`unlock of rwmutex${quoted(this._h)} that is not write-locked`);
    }
  }
  /** Takes a read lock if no writer holds or waits; never waits. */
  tryRLock(): boolean {
    if (!(#brand in this)) throw notA('RWMutex', 'tryRLock');
    return native.rwTry(this._h, false);
  }
  /** Takes a read lock, waiting as long as needed (or until `signal`/`timeout`). */
  rlock(opts?: WaitOpts): Promise<void> {
    if (!(#brand in this)) throw notA('RWMutex', 'rlock');
    const o = parseOpts(opts);
    if (o.signal?.aborted) return Promise.reject(canceled(o.signal, 'rlock', 'rwmutex', this._h));
    return asyncWait(native.rwLock(this._h, false), o, 'rlock', 'rwmutex', this._h);
  }
  /** Blocking `rlock` for worker threads. */
  rlockSync(opts?: WaitOpts): void {
    if (!(#brand in this)) throw notA('RWMutex', 'rlockSync');
    const o = parseOpts(opts);
    if (o.signal?.aborted) throw canceled(o.signal, 'rlock', 'rwmutex', this._h);
    syncResult(native.rwLockSync(this._h, false, o.timeout, doneOf(o)), o, 'rlock', 'rwmutex', this._h);
  }
  /** Releases a read lock (from any thread); `MisuseError` if none is held. */
  runlock(): void {
    if (!(#brand in this)) throw notA('RWMutex', 'runlock');
    if (!native.rwUnlock(this._h, false)) {
      throw new MisuseError(`runlock of rwmutex${quoted(this._h)} without a read lock`);
    }
  }

  /** @internal `util.inspect`: name, readers, whether write-locked, how many wait. */
  [inspectSymbol](depth: number, options: InspectOptions): string {
    if (!(#brand in this)) return 'RWMutex';
    const [readers, writer, , waiters] = native.rwState(this._h);
    return formatWeft('RWMutex', this.name, { readers, writer: writer === 1, waiters }, depth, options);
  }
}

/**
 * Go's `sync.WaitGroup`. `add`/`done` are a CAS on the shared counter (no native call).
 *
 * @example
 * const wg = new WaitGroup();
 * for (const file of files) {
 *   wg.add(1);
 *   new Worker(new URL('./work.js', import.meta.url), { workerData: share({ wg, file }) });
 *   // work.js: const { wg, file } = attach(workerData); ...; wg.done();
 * }
 * await wg.wait({ timeout: 60_000 });
 */
export class WaitGroup extends WeftObject {
  readonly #w: Int32Array;

  /** @param opts `name`: shown by `dump()`, `util.inspect` and error messages. */
  constructor(opts?: SyncOptions) {
    const h = take() ?? native.wgNew(nameOf(opts));
    super(h);
    this.#w = new Int32Array(native.wgWords(h), 0, kWaitGroupWordsBytes / 4);
  }

  /** @internal */
  static _adopt(h: Handle): WaitGroup {
    adopting = h;
    return new WaitGroup();
  }

  /** The `name` given at creation (the same on every thread), or `undefined`. */
  get name(): string | undefined {
    if (!(#w in this)) throw notA('WaitGroup', 'name');
    return objName(this._h);
  }

  /** Adds `n` (default 1; may be negative) to the counter; `MisuseError` if it would go below zero. */
  add(n: number = 1): void {
    if (!(#w in this)) throw notA('WaitGroup', 'add');
    if (typeof n !== 'number') throw new TypeError('n must be a number');
    if (!Number.isInteger(n)) throw new RangeError(`n must be an integer, got ${n}`);
    const w = this.#w;
    let next: number;
    for (;;) {
      const cur = w[WaitGroupWord.Counter]!; // plain read; the CAS below validates it
      next = cur + n;
      if (next < 0) throw new MisuseError(`negative WaitGroup counter${quoted(this._h)}`);
      if (next > 0x7fffffff) {
        throw new RangeError(`n = ${n} would take WaitGroup counter${quoted(this._h)} past 2147483647`);
      }
      if (Atomics.compareExchange(w, WaitGroupWord.Counter, cur, next) === cur) break;
    }
    if (next === 0 && Atomics.load(w, WaitGroupWord.Waiters) !== 0) native.wgWake(this._h);
  }

  /** `add(-1)`. */
  done(): void {
    if (!(#w in this)) throw notA('WaitGroup', 'done');
    this.add(-1);
  }

  /** The counter now. */
  get count(): number {
    if (!(#w in this)) throw notA('WaitGroup', 'count');
    return Atomics.load(this.#w, WaitGroupWord.Counter);
  }

  /** Resolves when the counter is zero. */
  wait(opts?: WaitOpts): Promise<void> {
    if (!(#w in this)) throw notA('WaitGroup', 'wait');
    const o = parseOpts(opts);
    if (o.signal?.aborted) return Promise.reject(canceled(o.signal, 'wait', 'waitgroup', this._h));
    if (Atomics.load(this.#w, WaitGroupWord.Counter) === 0) return RESOLVED;
    return asyncWait(native.wgWait(this._h), o, 'wait', 'waitgroup', this._h);
  }

  /** Blocking `wait` for worker threads. */
  waitSync(opts?: WaitOpts): void {
    if (!(#w in this)) throw notA('WaitGroup', 'waitSync');
    const o = parseOpts(opts);
    if (o.signal?.aborted) throw canceled(o.signal, 'wait', 'waitgroup', this._h);
    if (Atomics.load(this.#w, WaitGroupWord.Counter) === 0) return;
    syncResult(native.wgWaitSync(this._h, o.timeout, doneOf(o)), o, 'wait', 'waitgroup', this._h);
  }

  /** @internal `util.inspect`: name, counter, how many wait. */
  [inspectSymbol](depth: number, options: InspectOptions): string {
    if (!(#w in this)) return 'WaitGroup';
    const count = Atomics.load(this.#w, WaitGroupWord.Counter);
    const waiters = Atomics.load(this.#w, WaitGroupWord.Waiters);
    return formatWeft('WaitGroup', this.name, { count, waiters }, depth, options);
  }
}

/**
 * Go's `sync.Cond` on a weft `Mutex`. `wait` must be called with the mutex locked; it
 * releases it while waiting and holds it again when it returns or throws.
 */
export class Cond extends WeftObject {
  readonly #brand = true;
  /** The mutex this condition is tied to. */
  readonly mu: Mutex;

  /** @param opts `name`: shown by `dump()`, `util.inspect` and error messages. */
  constructor(mu: Mutex, opts?: SyncOptions) {
    const h = take();
    if (h === undefined && !(mu instanceof Mutex)) throw new TypeError('mu must be a Mutex');
    const handle = h ?? native.condNew(mu._h, nameOf(opts));
    super(handle);
    this.mu = h === undefined ? mu : Mutex._adopt(native.condMutex(handle));
  }

  /** @internal */
  static _adopt(h: Handle): Cond {
    adopting = h;
    return new Cond(undefined as unknown as Mutex);
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
    if (typeof r === 'number') throw this.#unlocked();
    return awaitPending(r, opId(), o).then(async ([code]) => {
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

// Once outcomes (abi OnceOutcome).
const VALUE = OnceOutcome.Value;
const ERROR = OnceOutcome.Error;
const CLONE_ERROR = OnceOutcome.CloneError;

/**
 * Go's `sync.OnceValue` across threads: `fn` runs once; concurrent and later callers (on any
 * thread) get its result, or its error rethrown, by structured clone. If the thread running
 * `fn` exits first, the next caller runs it.
 *
 * A result (or thrown value) that structured clone cannot copy (a function, ...) is kept as a
 * `DataCloneError`: the caller that ran `fn` gets the value itself (nothing was copied for
 * it), every other caller, on any thread, gets the `DataCloneError`.
 *
 * The `{ signal, timeout }` options bound only the wait for a `fn` another caller is running;
 * the caller that runs `fn` is not interrupted (a signal already aborted fails at once,
 * without running `fn`). `doSync` by the thread that is running `fn` itself (a recursive
 * `doSync`, or a `do()` whose `fn` is still pending on this thread) throws `DeadlockError`:
 * only this thread's event loop could finish `fn`, and it would be blocked.
 */
export class Once extends WeftObject {
  readonly #brand = true;

  /** @param opts `name`: shown by `dump()`, `util.inspect` and error messages. */
  constructor(opts?: SyncOptions) {
    super(take() ?? native.onceNew(nameOf(opts)));
  }

  /** @internal */
  static _adopt(h: Handle): Once {
    adopting = h;
    return new Once();
  }

  /** The `name` given at creation (the same on every thread), or `undefined`. */
  get name(): string | undefined {
    if (!(#brand in this)) throw notA('Once', 'name');
    return objName(this._h);
  }

  /** True once `fn` has returned or thrown. */
  get done(): boolean {
    if (!(#brand in this)) throw notA('Once', 'done');
    return native.onceState(this._h) === OnceState.Done;
  }

  /** Keeps fn's outcome for every other caller; never throws (the Once must not stay running). */
  #finish(value: unknown, isError: boolean): void {
    let enc;
    let outcome: number = isError ? ERROR : VALUE;
    try {
      enc = encodeOwned(value);
    } catch (e) {
      // Not cloneable (or a getter threw while cloning): keep a DataCloneError's message.
      const why = e instanceof Error ? e.message : String(e);
      enc = encodeOwned(`${isError ? 'error thrown by' : 'result of'} ${label('once', this._h)} could not be cloned: ${why}`);
      outcome = CLONE_ERROR;
    }
    native.onceFinish(this._h, enc.payload, enc.refs, outcome);
  }

  #result<R>(): R {
    const r = native.onceResult(this._h)!;
    const v = decode(r[0], r[0].length, r[1]);
    if (r[2] === CLONE_ERROR) throw new DataCloneError(v as string);
    if (r[2] === ERROR) throw v;
    return v as R;
  }

  /** Runs `fn` if nobody has; otherwise waits for and returns its outcome. */
  do<R>(fn: () => R | Promise<R>, opts?: WaitOpts): Promise<R> {
    if (!(#brand in this)) throw notA('Once', 'do');
    if (typeof fn !== 'function') throw new TypeError('fn must be a function');
    const o = parseOpts(opts);
    if (o.signal?.aborted) return Promise.reject(canceled(o.signal, 'do', 'once', this._h));
    return this.#do(fn, o);
  }

  async #do<R>(fn: () => R | Promise<R>, o: ParsedOpts): Promise<R> {
    const deadline = o.timeout >= 0 ? Date.now() + o.timeout : -1;
    for (;;) {
      const st = native.onceEnter(this._h);
      if (st === OnceState.Idle) {
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
      if (st === OnceState.Done) return this.#result<R>();
      const r = native.onceWait(this._h);
      let code: number;
      if (typeof r === 'number') code = r;
      else {
        // The time left of the caller's timeout (a retry after the runner exited waits again).
        const left = deadline < 0 ? o : { signal: o.signal, timeout: Math.max(0, deadline - Date.now()) };
        code = (await awaitPending(r, opId(), left))[0];
      }
      if (code === Code.Retry) continue;
      if (code !== Code.Ok) fail(code, o, 'do', 'once', this._h);
      return this.#result<R>();
    }
  }

  /**
   * Blocking `do` for worker threads. `fn` must be synchronous: if it returns a Promise (or
   * any thenable), that counts as `fn` throwing a `TypeError`: the Once is done, and this and
   * every later caller get that `TypeError` (the Promise is left alone; its rejection, if any,
   * is marked handled).
   */
  doSync<R>(fn: () => R, opts?: WaitOpts): R {
    if (!(#brand in this)) throw notA('Once', 'doSync');
    if (typeof fn !== 'function') throw new TypeError('fn must be a function');
    const o = parseOpts(opts);
    if (o.signal?.aborted) throw canceled(o.signal, 'do', 'once', this._h);
    const deadline = o.timeout >= 0 ? Date.now() + o.timeout : -1;
    for (;;) {
      const st = native.onceEnter(this._h);
      if (st === OnceState.Idle) {
        let v: R;
        try {
          v = fn();
        } catch (e) {
          this.#finish(e, true);
          throw e;
        }
        if (isThenable(v)) {
          // Mark a rejection handled: the caller learns of the mistake from the TypeError.
          Promise.resolve(v).catch(() => {});
          const err = new TypeError(`fn of ${label('once', this._h)} returned a Promise in doSync (use do() for an async fn)`);
          this.#finish(err, true);
          throw err;
        }
        this.#finish(v, false);
        return v;
      }
      if (st === OnceState.Done) return this.#result<R>();
      const left = deadline < 0 ? -1 : Math.max(0, deadline - Date.now());
      const code = native.onceWaitSync(this._h, left, doneOf(o));
      if (code === Code.Retry) continue;
      syncResult(code, o, 'do', 'once', this._h);
      return this.#result<R>();
    }
  }

  /** @internal `util.inspect`: name, whether fn has finished. */
  [inspectSymbol](depth: number, options: InspectOptions): string {
    if (!(#brand in this)) return 'Once';
    return formatWeft('Once', this.name, { done: native.onceState(this._h) === OnceState.Done }, depth, options);
  }
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

registerKind(Kind.Mutex, (h) => Mutex._adopt(h));
registerKind(Kind.RWMutex, (h) => RWMutex._adopt(h));
registerKind(Kind.WaitGroup, (h) => WaitGroup._adopt(h));
registerKind(Kind.Cond, (h) => Cond._adopt(h));
registerKind(Kind.Once, (h) => Once._adopt(h));
registerKind(Kind.Semaphore, (h) => Semaphore._adopt(h));
