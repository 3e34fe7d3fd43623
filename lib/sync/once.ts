/**
 * Go's `sync.OnceValue` across threads (API.md §3): `fn` runs once, its outcome reaches every
 * caller on every thread by structured clone.
 * @module
 */
import type { InspectOptions } from 'node:util';
import { decodeScratch, encode } from '../internal/codec.js';
import { DataCloneError } from '../errors.js';
import { formatWeft, inspectSymbol } from '../inspect.js';
import { Code, Kind, aux, native, type Handle, opId } from '../internal/native.js';
import { OnceOutcome, OnceState } from '../internal/abi.js';
import { ADOPT, WeftObject, notA, registerKind, type Adopt } from '../internal/object.js';
import { awaitPending, parseOpts, type ParsedOpts, type WaitOpts } from '../internal/options.js';
import { canceled, doneOf, fail, label, nameOf, objName, syncResult, type SyncOptions } from './common.js';

/** Whether v has a callable `then` (a `then` getter that throws counts as not: never throws). */
function isThenable(v: unknown): v is PromiseLike<unknown> {
  if ((typeof v !== 'object' && typeof v !== 'function') || v === null) return false;
  try {
    return typeof (v as { then?: unknown }).then === 'function';
  } catch {
    return false;
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
  constructor(opts?: SyncOptions);
  /** @internal wraps the existing once handle `h` (see lib/internal/object.ts). */
  constructor(adopt: Adopt, h: Handle);
  constructor(opts?: SyncOptions | Adopt, h?: Handle) {
    super(opts === ADOPT ? h! : native.onceNew(nameOf(opts)));
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
      enc = encode(value);
    } catch (e) {
      // Not cloneable (or a getter threw while cloning): keep a DataCloneError's message.
      const why = e instanceof Error ? e.message : String(e);
      enc = encode(`${isError ? 'error thrown by' : 'result of'} ${label('once', this._h)} could not be cloned: ${why}`);
      outcome = CLONE_ERROR;
    }
    native.onceFinish(this._h, enc.payload, enc.refs, outcome);
  }

  #result<R>(): R {
    const len = native.onceResult(this._h);
    const outcome = aux(); // read before decoding (a decode may run user code)
    const v = decodeScratch(len);
    if (outcome === CLONE_ERROR) throw new DataCloneError(v as string);
    if (outcome === ERROR) throw v;
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
      if (r !== Code.Pending) code = r;
      else {
        // The time left of the caller's timeout (a retry after the runner exited waits again).
        const left = deadline < 0 ? o : { signal: o.signal, timeout: Math.max(0, deadline - Date.now()) };
        code = (await awaitPending(opId(), left))[0];
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

registerKind(Kind.Once, Once);
