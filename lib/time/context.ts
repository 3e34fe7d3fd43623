/**
 * Go's `context` (API.md §6) with the tree in native memory: a Context passed to another
 * thread shares its done channel, cancellation reaches every descendant synchronously in
 * every thread, and deadlines fire from the native timer thread even while all threads are
 * blocked in `*Sync` calls.
 * @module
 */
import { Chan } from '../chan/chan.js';
import type { RecvChan } from '../chan/types.js';
import { decodeScratch, encode, type Encoded } from '../internal/codec.js';
import { CanceledError, DataCloneError, DeadlineExceededError } from '../errors.js';
import { Code, Kind, native, pending, status, type Handle, opId } from '../internal/native.js';
import { CtxErr, StatusSlot } from '../internal/abi.js';
import { ADOPT, WeftObject, fromHandle, notA, registerKind, type Adopt } from '../internal/object.js';
import { signalSources } from '../internal/signals.js';
import { formatWeft, inspectSymbol } from '../inspect.js';
import { setMaxListeners } from 'node:events';
import type { InspectOptions } from 'node:util';

const RESOLVED: Promise<unknown> = Promise.resolve();

const ERR_CANCELED = CtxErr.Canceled;
const ERR_DEADLINE = CtxErr.Deadline;

/** A Go context: cancellation, deadline and request-scoped values, shared across threads. */
export interface Context {
  /** A channel closed when the context is canceled or its deadline passes. */
  done(): RecvChan<never>;
  /** null while active; then `CanceledError` or `DeadlineExceededError`. */
  err(): CanceledError | DeadlineExceededError | null;
  /** The deadline (ms since the epoch), if any. */
  deadline(): number | undefined;
  /** The value stored under `key` by `withValue` on this context or an ancestor. */
  value<V>(key: unknown): V | undefined;
  /** An AbortSignal that aborts with `err()` as its reason: pass it to any Node API. */
  readonly signal: AbortSignal;
}

let canceledErr: CanceledError | undefined;
let deadlineErr: DeadlineExceededError | undefined;
let nextToken = 0;
const tokenPrefix = `${process.pid}:${Math.random().toString(36).slice(2)}:`;

// Values stored by withValue on this thread, by native node id (keys compare by identity
// here); entries go when the creating wrapper is collected.
const localValues = new Map<number, { key: unknown; value: unknown }>();
const valuesGone = new FinalizationRegistry<number>((id) => localValues.delete(id));
// Causes given to cancel on this thread, by token, so this thread gets the very object back.
const localCauses = new Map<string, WeakRef<CtxImpl>>();
// Wrappers on this thread whose signal was asked for: aborted synchronously by a local cancel.
const watched = new Set<WeakRef<CtxImpl>>();

function keyText(key: unknown): string {
  if (typeof key === 'string') return 's:' + key;
  if (typeof key === 'symbol') {
    const k = Symbol.keyFor(key);
    if (k !== undefined) return 'y:' + k;
  }
  return '';
}

class CtxImpl extends WeftObject implements Context {
  #done: Chan<never> | undefined;
  #err: CanceledError | DeadlineExceededError | undefined;
  #ac: AbortController | undefined;
  /** @internal parent wrapper kept alive (its local values stay reachable) */
  readonly _parent: CtxImpl | undefined;
  /** @internal cause given by a cancel on this thread */
  _cause: unknown;
  /** @internal */
  readonly _id: number;

  constructor(parent: CtxImpl | undefined, deadline: number, key?: string, value?: Encoded['payload'], refs?: Handle[]);
  /** @internal wraps the existing context handle `h` (see lib/internal/object.ts). */
  constructor(adopt: Adopt, h: Handle);
  constructor(parent: CtxImpl | undefined | Adopt, deadline: number | Handle, key?: string, value?: Encoded['payload'], refs?: Handle[]) {
    const adopted = parent === ADOPT;
    super(adopted ? (deadline as Handle) : native.ctxNew(parent?._h ?? null, deadline as number, key, value, refs));
    this._parent = adopted ? undefined : parent;
    this._id = nextToken++;
  }

  /** @internal whether x is a Context made by this class. */
  static _is(x: unknown): x is CtxImpl {
    return typeof x === 'object' && x !== null && #done in x;
  }

  done(): RecvChan<never> {
    if (!CtxImpl._is(this)) throw notA('Context', 'done');
    return (this.#done ??= fromHandle(Chan<never>, native.ctxDone(this._h)));
  }

  err(): CanceledError | DeadlineExceededError | null {
    if (!CtxImpl._is(this)) throw notA('Context', 'err');
    if (this.#err) return this.#err;
    const code = native.ctxErr(this._h);
    if (code === 0) return null;
    // Go's sentinels: one error value per kind (per thread), so err() costs no stack trace.
    this.#err = code === ERR_DEADLINE ? (deadlineErr ??= new DeadlineExceededError()) : (canceledErr ??= new CanceledError('context canceled'));
    return this.#err;
  }

  deadline(): number | undefined {
    if (!CtxImpl._is(this)) throw notA('Context', 'deadline');
    const d = native.ctxDeadline(this._h);
    return Number.isNaN(d) ? undefined : d;
  }

  value<V>(key: unknown): V | undefined {
    if (!CtxImpl._is(this)) throw notA('Context', 'value');
    const text = keyText(key);
    for (const [id, k] of native.ctxChain(this._h)) {
      const local = localValues.get(id);
      if (local !== undefined) {
        if (local.key === key) return local.value as V;
        if (text === '' || k !== text) continue;
      }
      if (text !== '' && k === text) {
        const len = native.ctxValue(this._h, id);
        if (len < 0) return undefined;
        return decodeScratch(len) as V;
      }
    }
    return undefined;
  }

  get signal(): AbortSignal {
    if (!CtxImpl._is(this)) throw notA('Context', 'signal');
    if (this.#ac) return this.#ac.signal;
    const ac = new AbortController();
    // One context's signal is shared by any number of waits: no MaxListenersExceededWarning.
    setMaxListeners(0, ac.signal);
    this.#ac = ac;
    signalSources.set(ac.signal, {
      done: () => (this.done() as Chan<never>)._h,
      err: () => this.err(),
      deadline: () => this.deadline(),
    });
    const e = this.err();
    if (e) {
      ac.abort(e);
      return ac.signal;
    }
    const ref = new WeakRef<CtxImpl>(this);
    watched.add(ref);
    // Wait for done without keeping the event loop alive (a context may never be canceled).
    const ch = this.done() as Chan<never>;
    native.chanRecv(ch._h);
    let p: Promise<unknown> = RESOLVED;
    if (status[StatusSlot.Code] === Code.Pending) {
      const id = opId();
      native.weaken(id);
      p = pending(id);
    }
    p.then(() => {
      watched.delete(ref);
      this._abortSignal();
    });
    return ac.signal;
  }

  /** `util.inspect`: `Context { err: null, deadline: '2026-...' }` (deadline only when set). */
  [inspectSymbol](depth: number, options: InspectOptions): string {
    if (!CtxImpl._is(this)) return 'Context {}';
    const e = this.err();
    const state: Record<string, unknown> = { err: e === null ? null : e.message };
    const d = this.deadline();
    if (d !== undefined) state.deadline = Number.isFinite(d) ? new Date(d).toISOString() : d;
    return formatWeft(this === bg ? 'Context.background' : 'Context', undefined, state, depth, options);
  }

  /** @internal aborts this wrapper's signal if the context is done. */
  _abortSignal(): void {
    const e = this.err();
    if (e && this.#ac && !this.#ac.signal.aborted) this.#ac.abort(e);
  }
}

registerKind(Kind.Context, CtxImpl);

function asCtx(parent: unknown, name = 'parent'): CtxImpl {
  if (!CtxImpl._is(parent)) throw new TypeError(`${name} must be a Context`);
  return parent;
}

/** @internal whether `x` is a weft Context (made by this module, on any thread). */
export function isContext(x: unknown): x is Context {
  return CtxImpl._is(x);
}

let bg: CtxImpl | undefined;

/** The root context: never canceled, no deadline, no values. */
export function background(): Context {
  return (bg ??= new CtxImpl(undefined, NaN));
}

function cancelFunc(ctx: CtxImpl): (cause?: unknown) => void {
  return (cause?: unknown) => {
    if (native.ctxErr(ctx._h) !== CtxErr.None) return; // idempotent: the first cause stays
    const token = tokenPrefix + nextToken++;
    let enc: Encoded;
    try {
      enc = encode(cause === undefined ? [token] : [token, cause]);
    } catch (e) {
      if (!(e instanceof DataCloneError)) throw e;
      enc = encode([token]); // other threads see err() as the cause
    }
    if (cause !== undefined) {
      ctx._cause = cause;
      localCauses.set(token, new WeakRef(ctx));
    }
    if (native.ctxCancel(ctx._h, ERR_CANCELED, enc.payload, enc.refs)) abortLocal();
    else localCauses.delete(token);
  };
}

// A cancel on this thread aborts this thread's signals of the canceled subtree at once.
function abortLocal(): void {
  for (const ref of watched) {
    const c = ref.deref();
    if (c === undefined) {
      watched.delete(ref);
      continue;
    }
    if (native.ctxErr(c._h) !== CtxErr.None) {
      watched.delete(ref);
      c._abortSignal();
    }
  }
}

/**
 * A child context canceled by the returned function (with an optional cause) or with its parent.
 * Canceling never throws: a cause that cannot be cloned is seen as is on this thread and as
 * `err()` by `cause()` on other threads.
 *
 * @example
 * const [ctx, cancel] = withCancel(background());
 * const work = jobs.recv({ signal: ctx.signal }); // rejects with CanceledError once canceled
 * cancel(new Error('shutting down'));
 * await select([recv(ctx.done())]); // ctx.done() is closed: proceeds at once
 */
export function withCancel(parent: Context): [Context, (cause?: unknown) => void] {
  const ctx = new CtxImpl(asCtx(parent), NaN);
  return [ctx, cancelFunc(ctx)];
}

/** A child context that is also canceled, with `DeadlineExceededError`, at `atMs` (ms since the epoch). */
export function withDeadline(parent: Context, atMs: number): [Context, (cause?: unknown) => void] {
  const p = asCtx(parent);
  if (typeof atMs !== 'number') throw new TypeError('atMs must be a number');
  if (Number.isNaN(atMs)) throw new RangeError('atMs must not be NaN');
  const pd = p.deadline();
  const d = pd !== undefined && pd < atMs ? pd : atMs;
  const ctx = new CtxImpl(p, d === Infinity ? NaN : d);
  // Already past: canceled before returning, as Go does.
  if (d <= Date.now() && native.ctxCancel(ctx._h, ERR_DEADLINE, undefined, undefined)) abortLocal();
  return [ctx, cancelFunc(ctx)];
}

/** `withDeadline(parent, Date.now() + ms)`. */
export function withTimeout(parent: Context, ms: number): [Context, (cause?: unknown) => void] {
  if (typeof ms !== 'number') throw new TypeError('ms must be a number');
  if (Number.isNaN(ms)) throw new RangeError('ms must not be NaN');
  return withDeadline(parent, Date.now() + ms);
}

/**
 * A child context carrying `value` under `key`. Keys compare by identity on this thread; on
 * other threads, string keys and registered symbols (`Symbol.for`) find a structured clone of
 * the value. Since every context can reach another thread, a value stored under such a key
 * must be cloneable: a function, a symbol or any other non-cloneable value throws
 * `DataCloneError` here, at `withValue` (never a silent `undefined` in the other thread).
 * Under any other key (an object, a number, a local `Symbol()`) the value is only reachable on
 * this thread, so it may be anything and is kept as it is.
 */
export function withValue(parent: Context, key: unknown, value: unknown): Context {
  const p = asCtx(parent);
  const text = keyText(key);
  let enc: Encoded;
  if (text !== '') {
    try {
      enc = encode(value);
    } catch (e) {
      if (e instanceof DataCloneError) {
        throw new DataCloneError(`withValue: the value for key ${String(key)} cannot be shared with other threads: ${e.message}`, { cause: e });
      }
      throw e;
    }
  } else {
    enc = encode(undefined);
  }
  const ctx = new CtxImpl(p, NaN, text, enc.payload, enc.refs);
  const [[id]] = native.ctxChain(ctx._h) as [[number, string]];
  localValues.set(id, { key, value });
  valuesGone.register(ctx, id);
  return ctx;
}

/** Go's `context.Cause`: null while active; the cause given to cancel, else `err()`. */
export function cause(ctx: Context): unknown {
  const c = asCtx(ctx, 'ctx');
  const e = c.err();
  if (e === null) return null;
  const len = native.ctxCause(c._h);
  if (len < 0) return e;
  const [token, ...rest] = decodeScratch(len) as [string, unknown?];
  const owner = localCauses.get(token)?.deref();
  if (owner !== undefined) return owner._cause;
  return rest.length > 0 ? rest[0] : e;
}
