/**
 * Go's `sync.RWMutex` across threads (API.md §3).
 * @module
 */
import type { InspectOptions } from 'node:util';
import { MisuseError } from '../errors.js';
import { formatWeft, inspectSymbol } from '../inspect.js';
import { Kind, native, type Handle } from '../internal/native.js';
import { ADOPT, WeftObject, notA, registerKind, type Adopt } from '../internal/object.js';
import { parseOpts, type WaitOpts } from '../internal/options.js';
import { asyncWait, canceled, doneOf, nameOf, objName, quoted, syncResult, type SyncOptions } from './common.js';

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
  constructor(opts?: SyncOptions);
  /** @internal wraps the existing rwmutex handle `h` (see lib/internal/object.ts). */
  constructor(adopt: Adopt, h: Handle);
  constructor(opts?: SyncOptions | Adopt, h?: Handle) {
    super(opts === ADOPT ? h! : native.rwNew(nameOf(opts)));
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

registerKind(Kind.RWMutex, RWMutex);
