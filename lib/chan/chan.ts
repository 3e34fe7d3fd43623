/**
 * Go channels shared by every thread (API.md §1): the `Chan` class, its core operations and
 * its direction views. Batch transfer lives in many.ts, iteration in iter.ts, element
 * encoding in elem.ts, the public types in types.ts.
 * @module
 */
import type { InspectOptions } from 'node:util';
import { ClosedChannelError, MisuseError } from '../errors.js';
import { formatWeft, inspectSymbol } from '../inspect.js';
import { Code, Kind, native, status, type Handle, opId } from '../internal/native.js';
import { decodeScratch } from '../internal/codec.js';
import { Elem, Owner, StatusSlot, ViewTag, kMaxCapacity } from '../internal/abi.js';
import { ADOPT, WeftObject, notA, registerKind, type Adopt } from '../internal/object.js';
import { contextOf } from '../internal/signals.js';
import { abortError, awaitPending, closedMessage, parseOpts, throwForCode, type WaitOpts } from '../internal/options.js';
import { ELEM_NAMES, elemCode, encodeElem, lastEncRefs } from './elem.js';
import { selectUntilDone } from './done.js';
import { recvIterator, recvIteratorSync } from './iter.js';
import { recvMany, recvManyInto, recvManyIntoSync, recvManySync, sendMany, sendManySync } from './many.js';
import { NONE, ringOf, type Ring } from './ring.js';
import type { ChanOptions, ElemTypeFor, RecvChan, RecvManyBuffer, RecvManyResult, RecvResult, SendChan, SendManyValues, TryRecvResult } from './types.js';

export type { WaitOpts } from '../internal/options.js';

/**
 * Asks for a channel's fast path (about two per operation) before this thread maps its ring
 * (see Chan#_ring).
 */
const RING_MAP_AFTER = 16;
const MAX_CAPACITY = kMaxCapacity; // 2^30 - 1: ring positions are 32-bit words (abi.h)
const RESOLVED = Promise.resolve();
const NO_OPTS = parseOpts(undefined);

// What a wrapper may do with its channel. A view narrows a channel (Go's chan<- T / <-chan T);
// a channel weft owns (a timer's c, a context's done()) is receive-only for everybody, in every
// thread (the native channel carries its owner tag, read when a thread wraps it).
// A view's mode is its direction tag (ViewTag), so `_tag()` can send it as is.
const MODE_BOTH = ViewTag.None;
const MODE_SEND = ViewTag.Send;
const MODE_RECV = ViewTag.Recv;
/** mode = MODE_OWNED + native owner tag (Owner.Timer, Owner.Ticker, Owner.Context). */
const MODE_OWNED = MODE_RECV;
const OWNER_TEXT: string[] = [];
OWNER_TEXT[Owner.Timer] = "a Timer's c";
OWNER_TEXT[Owner.Ticker] = "a Ticker's c";
OWNER_TEXT[Owner.Context] = "a Context's done()";

/**
 * A Go channel whose values, waiters and state live in native memory, so every thread that
 * holds it (through `share()`/`attach()`, channel payloads or `go()` arguments) uses the same
 * channel. Unbuffered (`capacity` 0) channels are a rendezvous; buffered ones are a lock-free
 * bounded queue. Every blocking operation comes as a Promise (`send`), a thread-blocking
 * `Sync` call for workers (`sendSync`), and a non-blocking `try` call (`trySend`).
 *
 * Direction is enforced at run time: `send`/`close` on a `recvOnly()` view or on a channel weft
 * owns (`timer.c`, `ticker.c`, `ctx.done()`), and `recv` on a `sendOnly()` view, throw
 * `MisuseError` and change nothing.
 *
 * @example
 * const ch = new Chan<number>(16, { elem: 'f64' });
 * await ch.send(1.5);
 * const v = await ch.recv(); // 1.5
 */
export class Chan<T = unknown, E extends ElemTypeFor<T> = ElemTypeFor<T>>
  extends WeftObject
  implements SendChan<T, E>, RecvChan<T, E>
{
  // capacity, elem and name are read-only getters over private fields, so that an assignment
  // (`ch.capacity = 99`) cannot make the wrapper disagree with the channel.
  readonly #cap: number;
  readonly #name: string | undefined;
  readonly #code: number;
  readonly #mode: number;
  /** The wrapper whose ring this one uses (itself, or the channel a view was made from). */
  readonly #base: Chan<any, any>;
  /**
   * This thread's map of the ring (null: no fast path), or, until it is mapped, how many times
   * the fast path was asked for (see {@link _ring}).
   */
  #ringCache: Ring | null | number = 0;

  /**
   * @param capacity buffer size, an integer 0..2^30 - 1 (default 0 = unbuffered; ring positions are 32-bit words).
   * @param opts `elem` (element type, default `'structured'`), `name`.
   */
  constructor(capacity?: number, opts?: ChanOptions<E>);
  /**
   * @internal wraps the existing channel handle `h` (see lib/internal/object.ts). `tag` is a
   * view's direction (`_tag`); `of`, a wrapper of the same channel on this thread whose facts
   * the view reuses (no native call).
   */
  constructor(adopt: Adopt, h: Handle, tag?: number, of?: Chan<any, any>);
  constructor(capacity: number | Adopt = 0, opts?: ChanOptions<E> | Handle, tag: number = MODE_BOTH, of?: Chan<any, any>) {
    let h: Handle;
    let code: number;
    let cap: number;
    let mode: number = MODE_BOTH;
    let name: string | undefined;
    if (capacity === ADOPT) {
      h = opts as Handle;
      if (of !== undefined) {
        cap = of.#cap;
        code = of.#code;
        mode = tag;
        name = of.#name;
      } else {
        const info = native.chanInfo(h);
        cap = info[0];
        code = info[1];
        // A channel weft owns is receive-only for everybody; otherwise a view keeps its direction.
        if (info[3] > 0) mode = MODE_OWNED + info[3];
        else if (tag === MODE_SEND || tag === MODE_RECV) mode = tag;
        name = info[4] || undefined;
      }
    } else {
      const o = opts as ChanOptions<E> | undefined;
      name = o?.name;
      if (typeof capacity !== 'number') throw new TypeError('capacity must be a number');
      if (!Number.isInteger(capacity) || capacity < 0 || capacity > MAX_CAPACITY) {
        throw new RangeError(`capacity must be an integer from 0 to ${MAX_CAPACITY}, got ${capacity}`);
      }
      if (o !== undefined && (typeof o !== 'object' || o === null)) {
        throw new TypeError('opts must be an object');
      }
      code = elemCode(o?.elem);
      if (name !== undefined && typeof name !== 'string') {
        throw new TypeError('name must be a string');
      }
      cap = capacity;
      h = native.chanNew(capacity, code);
      if (name) native.setName(h, name);
      else name = undefined;
    }
    super(h);
    this.#cap = cap;
    this.#code = code;
    this.#mode = mode;
    this.#name = name;
    this.#base = of ?? this;
  }

  /** Number of values the channel buffers (0: unbuffered). */
  get capacity(): number {
    return this.#cap;
  }

  /** The element type. */
  get elem(): E {
    return ELEM_NAMES[this.#code]! as E;
  }

  /** The name given at creation (seen by every thread that holds the channel), if any. */
  get name(): string | undefined {
    return this.#name;
  }

  /**
   * @internal the JavaScript fast path of a buffered numeric channel (lib/chan/ring.ts); null
   * for other channels, and for the first {@link RING_MAP_AFTER} asks on this thread. Mapping
   * a ring makes three or four ArrayBuffers over native memory, each with a finalizer, and
   * costs 10-20 µs here: more than a channel that is used once or twice (a Timer's, a reply
   * channel) ever gains from it. Until then the native path serves the channel, on the same
   * ring and with the same protocol (lib/chan/ring.ts), so nothing else changes.
   */
  get _ring(): Ring | null {
    const b = this.#base;
    const r = b.#ringCache;
    if (typeof r !== 'number') return r;
    if (r < RING_MAP_AFTER) {
      b.#ringCache = r + 1;
      return null;
    }
    return (b.#ringCache = ringOf(b._h, b.#code, b.#cap));
  }

  /** @internal a view crossing threads keeps its direction (owned channels need no tag). */
  override _tag(): number {
    return this.#mode === MODE_SEND || this.#mode === MODE_RECV ? this.#mode : MODE_BOTH;
  }

  /** @internal whether x is a Chan (or a view of one) made by this class. */
  static _is(x: unknown): x is Chan<unknown> {
    return typeof x === 'object' && x !== null && #mode in x;
  }

  /** @internal throws MisuseError unless this wrapper may send (op 'send') or close. */
  _checkSend(op: 'send' | 'close'): void {
    const m = this.#mode;
    if (m < MODE_RECV) return;
    const what = op === 'send' ? 'send on' : 'close of';
    if (m === MODE_RECV) throw new MisuseError(`${what} receive-only channel${label(this.name)}`);
    throw new MisuseError(`${what} receive-only channel${label(this.name)} (${OWNER_TEXT[m - MODE_OWNED]}, owned by weft)`);
  }

  /** @internal throws MisuseError unless this wrapper may receive. */
  _checkRecv(): void {
    if (this.#mode === MODE_SEND) throw new MisuseError(`recv on send-only channel${label(this.name)}`);
  }

  /** Values buffered right now (always 0 when unbuffered). */
  get length(): number {
    if (!Chan._is(this)) throw notA('Chan', 'length');
    return native.chanLen(this._h);
  }

  /** Whether the channel has been closed. */
  get closed(): boolean {
    if (!Chan._is(this)) throw notA('Chan', 'closed');
    return native.chanClosed(this._h);
  }

  /**
   * @internal validates and encodes a value for this channel: the payload (see `encodeElem`),
   * with the weft objects it carries left for `lastEncRefs()`.
   */
  _enc(value: unknown): unknown {
    return encodeElem(this.#code, value);
  }

  /** @internal decodes a value a native receive returned (sync, try, or a settled async op). */
  _dec(v: unknown): T {
    return (this.#code === Elem.Structured ? decodeScratch(v as number) : v) as T;
  }

  /** @internal the decoder of `pending` for this channel's received values (none: numeric). */
  get _decoder(): ((v: unknown) => unknown) | undefined {
    return this.#code === Elem.Structured ? (decodeScratch as (v: unknown) => unknown) : undefined;
  }

  /**
   * Sends a value, waiting while the channel is full (buffered) or until a receiver takes it
   * (unbuffered). Rejects with `ClosedChannelError` if the channel is or gets closed.
   */
  send(value: T, opts?: WaitOpts): Promise<void> {
    if (!Chan._is(this)) throw notA('Chan', 'send');
    this._checkSend('send');
    const o = parseOpts(opts);
    const v = this._enc(value);
    const refs = lastEncRefs();
    if (o.signal?.aborted) return Promise.reject(abortError(o.signal, 'send', this.name));
    if (this._ring?.trySend(v, refs)) return RESOLVED;
    native.chanSend(this._h, v, refs);
    const c = status[StatusSlot.Code];
    if (c !== Code.Pending) {
      return c === Code.Ok ? RESOLVED : Promise.reject(new ClosedChannelError(closedMessage('send', this.name)));
    }
    return awaitPending(opId(), o).then(([code]) => {
      if (code !== Code.Ok) throwForCode(code, o, 'send', this.name);
    });
  }

  /** Blocking `send` for worker threads. */
  sendSync(value: T, opts?: WaitOpts): void {
    if (!Chan._is(this)) throw notA('Chan', 'sendSync');
    this._checkSend('send');
    const o = opts === undefined ? NO_OPTS : parseOpts(opts);
    const v = this._enc(value);
    const refs = lastEncRefs();
    if (o.signal?.aborted) throw abortError(o.signal, 'send', this.name);
    if (this._ring?.trySend(v, refs)) return;
    const ctx = contextOf(o.signal);
    let code: number;
    if (ctx !== undefined) {
      selectUntilDone(ctx, o.signal!, [this._h], 1, [v], [refs], o.timeout, 'send', this.name);
      code = status[StatusSlot.Code]!;
    } else {
      code = native.chanSendSync(this._h, v, refs, o.timeout);
    }
    if (code !== Code.Ok) throwForCode(code, o, 'send', this.name);
  }

  /** Sends if that needs no waiting; false otherwise. Throws `ClosedChannelError` if closed. */
  trySend(value: T): boolean {
    if (!Chan._is(this)) throw notA('Chan', 'trySend');
    this._checkSend('send');
    const v = this._enc(value);
    if (this._ring?.trySend(v, lastEncRefs())) return true;
    const code = native.chanTrySend(this._h, v, lastEncRefs());
    if (code === Code.Ok) return true;
    if (code === Code.Closed) throw new ClosedChannelError(closedMessage('send', this.name));
    return false;
  }

  /** Receives a value; `undefined` once the channel is closed and drained. */
  recv(opts?: WaitOpts): Promise<T | undefined> {
    if (!Chan._is(this)) throw notA('Chan', 'recv');
    const ring = this._ring;
    if (ring !== null && this.#mode !== MODE_SEND && (opts === undefined || !parseOpts(opts).signal?.aborted)) {
      const v = ring.tryRecv();
      if (v !== NONE) return Promise.resolve(v as T);
    }
    return this.recvOk(opts).then((r) => r.value);
  }

  /** Receives a value and whether it came from an open channel (Go's `v, ok := <-ch`). */
  recvOk(opts?: WaitOpts): Promise<RecvResult<T>> {
    if (!Chan._is(this)) throw notA('Chan', 'recvOk');
    this._checkRecv();
    const o = parseOpts(opts);
    if (o.signal?.aborted) return Promise.reject(abortError(o.signal, 'recv', this.name));
    const ring = this._ring;
    if (ring !== null) {
      const v = ring.tryRecv();
      if (v !== NONE) return Promise.resolve({ value: v as T, ok: true });
    }
    const r = native.chanRecv(this._h);
    const code = status[StatusSlot.Code];
    if (code === Code.Ok) return Promise.resolve({ value: this._dec(r), ok: true });
    if (code === Code.Closed) return Promise.resolve({ value: undefined, ok: false });
    return awaitPending(opId(), o, this._decoder).then(([c, , v]) => {
      if (c === Code.Ok) return { value: v as T, ok: true };
      if (c === Code.Closed) return { value: undefined, ok: false };
      return throwForCode(c, o, 'recv', this.name);
    });
  }

  /** Blocking `recv` for worker threads. */
  recvSync(opts?: WaitOpts): T | undefined {
    if (!Chan._is(this)) throw notA('Chan', 'recvSync');
    this._checkRecv();
    const o = opts === undefined ? NO_OPTS : parseOpts(opts);
    if (o.signal !== undefined) return this.recvOkSync(opts).value;
    const ring = this._ring;
    if (ring !== null) {
      const v = ring.tryRecv();
      if (v !== NONE) return v as T;
    }
    const r = native.chanRecvSync(this._h, o.timeout);
    const code = status[StatusSlot.Code]!;
    if (code === Code.Ok) return this._dec(r);
    if (code === Code.Closed) return undefined;
    return throwForCode(code, o, 'recv', this.name);
  }

  /** Blocking `recvOk` for worker threads. */
  recvOkSync(opts?: WaitOpts): RecvResult<T> {
    if (!Chan._is(this)) throw notA('Chan', 'recvOkSync');
    this._checkRecv();
    const o = parseOpts(opts);
    if (o.signal?.aborted) throw abortError(o.signal, 'recv', this.name);
    const ring = this._ring;
    if (ring !== null) {
      const v = ring.tryRecv();
      if (v !== NONE) return { value: v as T, ok: true };
    }
    const ctx = contextOf(o.signal);
    const r = ctx !== undefined
      ? selectUntilDone(ctx, o.signal!, [this._h], 0, undefined, undefined, o.timeout, 'recv', this.name)
      : native.chanRecvSync(this._h, o.timeout);
    const code = status[StatusSlot.Code]!;
    if (code === Code.Ok) return { value: this._dec(r), ok: true };
    if (code === Code.Closed) return { value: undefined, ok: false };
    return throwForCode(code, o, 'recv', this.name);
  }

  /** Receives if a value is ready; `closed` tells an empty channel from a closed, drained one. */
  tryRecv(): TryRecvResult<T> {
    if (!Chan._is(this)) throw notA('Chan', 'tryRecv');
    this._checkRecv();
    const ring = this._ring;
    if (ring !== null) {
      const v = ring.tryRecv();
      if (v !== NONE) return { value: v as T, ok: true };
    }
    const r = native.chanTryRecv(this._h);
    const code = status[StatusSlot.Code];
    if (code === Code.Ok) return { value: this._dec(r), ok: true };
    return { value: undefined, ok: false, closed: code === Code.Closed };
  }

  /** Closes the channel; throws `ClosedChannelError` if it was already closed. */
  close(): void {
    if (!Chan._is(this)) throw notA('Chan', 'close');
    this._checkSend('close');
    if (!native.chanClose(this._h)) throw new ClosedChannelError(closedMessage('close', this.name));
  }

  /**
   * Sends every value in order (numeric channels), waiting for room as needed. Every element is
   * checked first: one bad element throws and nothing is sent. On timeout, abort or close the
   * error's `sent` property says how many were sent before it.
   */
  sendMany(values: SendManyValues<T, E>, opts?: WaitOpts): Promise<number> {
    if (!Chan._is(this)) throw notA('Chan', 'sendMany');
    this._checkSend('send');
    return sendMany(this, values, opts);
  }

  /** Blocking `sendMany` for worker threads. Returns the number sent (all of them). */
  sendManySync(values: SendManyValues<T, E>, opts?: WaitOpts): number {
    if (!Chan._is(this)) throw notA('Chan', 'sendManySync');
    this._checkSend('send');
    return sendManySync(this, values, opts);
  }

  /**
   * Waits for at least one value, then returns up to `max` that are ready (numeric channels):
   * a `Float64Array`, `Int32Array`, `BigInt64Array`, or `boolean[]`. Empty once closed and
   * drained. `max` is any positive safe integer; a huge `max` costs nothing up front.
   */
  recvMany(max: number, opts?: WaitOpts): Promise<RecvManyResult<E>> {
    if (!Chan._is(this)) throw notA('Chan', 'recvMany');
    this._checkRecv();
    return recvMany(this, max, opts);
  }

  /** Blocking `recvMany` for worker threads. */
  recvManySync(max: number, opts?: WaitOpts): RecvManyResult<E> {
    if (!Chan._is(this)) throw notA('Chan', 'recvManySync');
    this._checkRecv();
    return recvManySync(this, max, opts);
  }

  /**
   * `recvMany` into a typed array the caller reuses (numeric channels): waits for at least one
   * value, then writes up to `dst.length` that are ready into `dst` from index 0 and resolves to
   * how many; 0 once closed and drained. `dst` is the channel's typed array (`Float64Array`,
   * `Int32Array`, `BigInt64Array`; `Uint8Array` of 1/0 for `'bool'`) and not empty, else a
   * TypeError / RangeError. Nothing is allocated per call, so a stream of batches costs no
   * garbage (`recvMany` returns a new array each time).
   *
   * @example
   * const buf = new Float64Array(256);
   * for (let n; (n = ch.recvManyIntoSync(buf)) > 0;) total += sum(buf.subarray(0, n));
   */
  recvManyInto(dst: RecvManyBuffer<E>, opts?: WaitOpts): Promise<number> {
    if (!Chan._is(this)) throw notA('Chan', 'recvManyInto');
    this._checkRecv();
    return recvManyInto(this, dst, opts);
  }

  /** Blocking `recvManyInto` for worker threads: the number of values written into `dst`. */
  recvManyIntoSync(dst: RecvManyBuffer<E>, opts?: WaitOpts): number {
    if (!Chan._is(this)) throw notA('Chan', 'recvManyIntoSync');
    this._checkRecv();
    return recvManyIntoSync(this, dst, opts);
  }

  /** The same channel, typed and enforced as send-only (Go's `chan<- T`). */
  sendOnly(): SendChan<T, E> {
    if (!Chan._is(this)) throw notA('Chan', 'sendOnly');
    if (this.#mode === MODE_SEND) return this;
    this._checkSend('send');
    return this.#view(MODE_SEND);
  }

  /** The same channel, typed and enforced as receive-only (Go's `<-chan T`). */
  recvOnly(): RecvChan<T, E> {
    if (!Chan._is(this)) throw notA('Chan', 'recvOnly');
    this._checkRecv();
    if (this.#mode >= MODE_RECV) return this;
    return this.#view(MODE_RECV);
  }

  #views: [Chan<T, E> | undefined, Chan<T, E> | undefined] | undefined;

  /** The send-only (mode 1) or receive-only (mode 2) view of this wrapper, made once. */
  #view(mode: number): Chan<T, E> {
    const views = (this.#views ??= [undefined, undefined]);
    const i = mode - 1;
    let v = views[i];
    if (v === undefined) {
      v = views[i] = new Chan<T, E>(ADOPT, this._h, mode, this);
    }
    return v;
  }

  /**
   * `for await (const v of ch)`: ends when the channel is closed and drained. Leaving early
   * (`break`, a destroyed `Readable.from(ch)`) calls `return()`, which withdraws a receive that
   * `next()` still waits on: it takes nothing from the channel. If a sender had already handed
   * its value over when `return()` ran (the cancel lost the race), the value goes back to the
   * front of the channel for the next receiver, and the pending `next()` resolves as done: no
   * value is ever taken for a consumer that left. After `return()`, `next()` is done.
   */
  [Symbol.asyncIterator](): AsyncIterator<T> {
    if (!Chan._is(this)) throw notA('Chan', '[Symbol.asyncIterator]');
    this._checkRecv();
    return recvIterator<T>(this);
  }

  /** Blocking iteration for worker threads: `for (const v of ch)`. */
  [Symbol.iterator](): Iterator<T> {
    if (!Chan._is(this)) throw notA('Chan', '[Symbol.iterator]');
    this._checkRecv();
    return recvIteratorSync<T>(this);
  }

  /** `util.inspect` / `console.log`: `Chan<f64> 'jobs' { length: 2, capacity: 8, closed: false }`. */
  [inspectSymbol](depth: number, options: InspectOptions): string {
    if (!Chan._is(this)) return 'Chan {}';
    const kind = this.#mode === MODE_BOTH ? 'Chan' : this.#mode === MODE_SEND ? 'SendChan' : 'RecvChan';
    const state = { length: native.chanLen(this._h), capacity: this.capacity, closed: native.chanClosed(this._h) };
    return formatWeft(`${kind}<${this.elem}>`, this.name, state, depth, options);
  }

  /** @internal element code for select. */
  get _elemCode(): number {
    return this.#code;
  }
}

/** `" 'name'"` or `""`. */
function label(name: string | undefined): string {
  return name ? ` '${name}'` : '';
}

registerKind(Kind.Channel, Chan);
