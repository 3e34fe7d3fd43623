/**
 * Go channels shared by every thread (API.md §1).
 * @module
 */
import type { InspectOptions } from 'node:util';
import { ClosedChannelError, MisuseError } from '../errors.js';
import { formatWeft, inspectSymbol } from '../inspect.js';
import { decode, encode } from '../internal/codec.js';
import { Code, Kind, native, refreshScratch, scratch, status, type AsyncResult, type Handle, opId } from '../internal/native.js';
import { Elem, Owner, SelectMode, StatusSlot, ViewTag } from '../internal/abi.js';
import { WeftObject, registerKind } from '../internal/object.js';
import { signalSources } from '../internal/signals.js';
import { abortError, awaitPending, closedMessage, parseOpts, throwForCode, type WaitOpts } from '../internal/options.js';

export type { WaitOpts } from '../internal/options.js';

/** Element type of a channel: `'structured'` carries any cloneable value; the others are stored inline. */
export type ElemType = 'structured' | 'f64' | 'i32' | 'i64' | 'bool';

/** The numeric element types, the ones `sendMany`/`recvMany` work on. */
export type NumericElemType = Exclude<ElemType, 'structured'>;

/**
 * The element types a channel of `T` may have: `'structured'` always; `'f64'`/`'i32'` when
 * `T` is `number`, `'i64'` when it is `bigint`, `'bool'` when it is `boolean`; every one when
 * `T` is `unknown` or `any`.
 */
export type ElemTypeFor<T> = unknown extends T
  ? ElemType
  :
      | 'structured'
      | ([T] extends [number] ? 'f64' | 'i32' : never)
      | ([T] extends [bigint] ? 'i64' : never)
      | ([T] extends [boolean] ? 'bool' : never);

/** Result of a receive that reports whether the channel was open (Go's `v, ok := <-ch`). */
export type RecvResult<T> =
  | {
      /** The value received. */
      value: T;
      /** The channel was open: `value` was sent by a sender. */
      ok: true;
    }
  | {
      /** Nothing was received. */
      value: undefined;
      /** The channel is closed and drained. */
      ok: false;
    };
/** Result of `tryRecv`: `closed` tells an empty open channel from a closed, drained one. */
export type TryRecvResult<T> =
  | {
      /** The value received. */
      value: T;
      /** A value was ready. */
      ok: true;
    }
  | {
      /** Nothing was received. */
      value: undefined;
      /** No value was ready. */
      ok: false;
      /** true: the channel is closed and drained; false: it is open and empty (a receive would wait). */
      closed: boolean;
    };

/** The typed array `recvMany` returns for a numeric channel (booleans come back as `boolean[]`). */
export type TypedArray = Float64Array | Int32Array | BigInt64Array;

/**
 * What `recvMany` returns on a channel of element type `E`: `Float64Array` for `'f64'`,
 * `Int32Array` for `'i32'`, `BigInt64Array` for `'i64'`, `boolean[]` for `'bool'` (a union when
 * `E` is one of several).
 */
export type RecvManyResult<E extends ElemType> = E extends 'f64'
  ? Float64Array
  : E extends 'i32'
    ? Int32Array
    : E extends 'i64'
      ? BigInt64Array
      : E extends 'bool'
        ? boolean[]
        : never;

/**
 * What `sendMany` takes on a channel of element type `E` carrying `T`: any `ArrayLike<T>`
 * (typed arrays included) on a channel that may be numeric; `never` (a compile error) on a
 * `'structured'` one, which has no batch transfer.
 */
export type SendManyValues<T, E extends ElemType> = [E] extends ['structured'] ? never : ArrayLike<T>;

/** Options of `new Chan()`. */
export interface ChanOptions<E extends ElemType = ElemType> {
  /** Element type (default `'structured'`); it must fit the channel's value type `T`. */
  elem?: E | undefined;
  /** A name shown in diagnostics, `util.inspect` and error messages, in every thread. */
  name?: string | undefined;
}

/**
 * The sending half of a channel (Go's `chan<- T`). `T` is contravariant: a `SendChan<string>`
 * is not a `SendChan<string | number>` (it cannot take numbers), while a
 * `SendChan<string | number>` may be used where a `SendChan<string>` is expected.
 */
export interface SendChan<in T, E extends ElemType = ElemTypeFor<T>> {
  /** Number of values the channel buffers (0: unbuffered). */
  readonly capacity: number;
  /** Values buffered right now (always 0 when unbuffered). */
  readonly length: number;
  /** Whether the channel has been closed. */
  readonly closed: boolean;
  // The senders are function-typed properties, not methods, so that their parameter is
  // checked contravariantly (methods are bivariant): a Chan<string> is not a
  // SendChan<string | number> either.
  /** Sends a value, waiting for a receiver or for room; `ClosedChannelError` if closed. */
  readonly send: (value: T, opts?: WaitOpts) => Promise<void>;
  /** Blocking `send` for worker threads. */
  readonly sendSync: (value: T, opts?: WaitOpts) => void;
  /** Sends if that needs no waiting; false otherwise. Throws `ClosedChannelError` if closed. */
  readonly trySend: (value: T) => boolean;
  /** Sends every value in order (numeric channels only); resolves to the number sent. */
  readonly sendMany: (values: SendManyValues<T, E>, opts?: WaitOpts) => Promise<number>;
  /** Blocking `sendMany` for worker threads. */
  readonly sendManySync: (values: SendManyValues<T, E>, opts?: WaitOpts) => number;
  /** Closes the channel; throws `ClosedChannelError` if it was already closed. */
  close(): void;
}

/**
 * The receiving half of a channel (Go's `<-chan T`). `T` is covariant: a `RecvChan<string>`
 * is a `RecvChan<string | number>`.
 */
export interface RecvChan<out T, E extends ElemType = ElemTypeFor<T>> {
  /** Number of values the channel buffers (0: unbuffered). */
  readonly capacity: number;
  /** Values buffered right now (always 0 when unbuffered). */
  readonly length: number;
  /** Whether the channel has been closed. */
  readonly closed: boolean;
  /** Receives a value; `undefined` once the channel is closed and drained. */
  recv(opts?: WaitOpts): Promise<T | undefined>;
  /** Receives a value and whether it came from an open channel (Go's `v, ok := <-ch`). */
  recvOk(opts?: WaitOpts): Promise<RecvResult<T>>;
  /** Blocking `recv` for worker threads. */
  recvSync(opts?: WaitOpts): T | undefined;
  /** Blocking `recvOk` for worker threads. */
  recvOkSync(opts?: WaitOpts): RecvResult<T>;
  /** Receives if a value is ready; `closed` tells an empty channel from a closed, drained one. */
  tryRecv(): TryRecvResult<T>;
  /** Waits for at least one value, then returns up to `max` that are ready (numeric channels only). */
  recvMany(max: number, opts?: WaitOpts): Promise<RecvManyResult<E>>;
  /** Blocking `recvMany` for worker threads. */
  recvManySync(max: number, opts?: WaitOpts): RecvManyResult<E>;
  /** `for await (const v of ch)`: ends when the channel is closed and drained. */
  [Symbol.asyncIterator](): AsyncIterator<T>;
  /** Blocking iteration for worker threads: `for (const v of ch)`. */
  [Symbol.iterator](): Iterator<T>;
}

const ELEM_CODES: Record<ElemType, number> = { structured: Elem.Structured, f64: Elem.F64, i32: Elem.I32, i64: Elem.I64, bool: Elem.Bool };
const ELEM_NAMES: ElemType[] = [];
for (const [name, code] of Object.entries(ELEM_CODES)) ELEM_NAMES[code] = name as ElemType;
const MAX_CAPACITY = 2 ** 30;
const I64_MIN = -(2n ** 63n);
const I64_MAX = 2n ** 63n - 1n;
const RESOLVED = Promise.resolve();
const NO_OPTS = parseOpts(undefined);
const DONE: IteratorReturnResult<undefined> = Object.freeze({ value: undefined, done: true }) as never;

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

let adopting: Handle | undefined;
/** Set with `adopting` to make a view of a wrapper already known here (no native call). */
let viewOf: { cap: number; code: number; mode: number; name: string | undefined } | undefined;
/** Weft objects of the value last encoded by `_enc` (see there). */
let encRefs: Handle[] | undefined;

/** @internal the weft objects of the last `_enc` */
export function lastEncRefs(): Handle[] | undefined {
  return encRefs;
}

/** @internal decodes a received structured value left in the scratch area. */
export function decodeScratch(len: number): unknown {
  let u8 = scratch();
  if (len > u8.length) u8 = refreshScratch();
  const refs = status[StatusSlot.Refs]! > 0 ? native.takeRefs() : undefined;
  return decode(u8, len, refs);
}

/** @internal decodes an async/select result value. */
export function decodeAsync(elem: number, v: unknown): unknown {
  if (elem !== Elem.Structured) return v;
  const [u8, refs] = v as [Uint8Array, Handle[] | undefined];
  return decode(u8, u8.length, refs);
}

function notChan(method: string): TypeError {
  return new TypeError(`Chan.${method} called on an object that is not a Chan`);
}

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
  /** Number of values the channel buffers (0: unbuffered). */
  readonly capacity: number;
  /** The element type. */
  readonly elem: E;
  /** The name given at creation (seen by every thread that holds the channel), if any. */
  readonly name: string | undefined;
  readonly #code: number;
  readonly #mode: number;

  /**
   * @param capacity buffer size, an integer 0..2^30 (default 0 = unbuffered).
   * @param opts `elem` (element type, default `'structured'`), `name`.
   */
  constructor(capacity: number = 0, opts?: ChanOptions<E>) {
    let h = adopting;
    const view = viewOf;
    adopting = undefined;
    viewOf = undefined;
    let code = 0;
    let cap = 0;
    let mode: number = MODE_BOTH;
    let name = opts?.name;
    if (h === undefined) {
      if (typeof capacity !== 'number') throw new TypeError('capacity must be a number');
      if (!Number.isInteger(capacity) || capacity < 0 || capacity > MAX_CAPACITY) {
        throw new RangeError(`capacity must be an integer from 0 to ${MAX_CAPACITY}, got ${capacity}`);
      }
      if (opts !== undefined && (typeof opts !== 'object' || opts === null)) {
        throw new TypeError('opts must be an object');
      }
      const elem = opts?.elem ?? 'structured';
      if (typeof elem !== 'string' || !Object.hasOwn(ELEM_CODES, elem)) {
        throw new TypeError(`elem must be one of ${ELEM_NAMES.join(', ')}, got ${String(elem)}`);
      }
      if (name !== undefined && typeof name !== 'string') {
        throw new TypeError('name must be a string');
      }
      code = ELEM_CODES[elem];
      cap = capacity;
      h = native.chanNew(capacity, code);
      if (name) native.setName(h, name);
      else name = undefined;
    } else if (view !== undefined) {
      ({ cap, code, mode, name } = view);
    } else {
      const info = native.chanInfo(h);
      cap = info[0];
      code = info[1];
      mode = info[3] > 0 ? MODE_OWNED + info[3] : MODE_BOTH;
      name = info[4] || undefined;
    }
    super(h);
    this.capacity = cap;
    this.#code = code;
    this.#mode = mode;
    this.elem = ELEM_NAMES[code]! as E;
    this.name = name;
  }

  /** @internal wraps a native channel handle (`tag`: a view's direction, see `_tag`). */
  static _adopt<U = unknown>(h: Handle, tag = 0): Chan<U> {
    adopting = h;
    const c = new Chan<U>();
    return tag === MODE_SEND || tag === MODE_RECV ? c.#narrow(tag) : c;
  }

  /** @internal a view crossing threads keeps its direction (owned channels need no tag). */
  override _tag(): number {
    return this.#mode === MODE_SEND || this.#mode === MODE_RECV ? this.#mode : MODE_BOTH;
  }

  /** This channel narrowed to `mode`, unless it already is (or is owned by weft). */
  #narrow(mode: number): Chan<T, E> {
    return this.#mode === MODE_BOTH ? this.#view(mode) : this;
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
    if (!Chan._is(this)) throw notChan('length');
    return native.chanLen(this._h);
  }

  /** Whether the channel has been closed. */
  get closed(): boolean {
    if (!Chan._is(this)) throw notChan('closed');
    return native.chanClosed(this._h);
  }

  /**
   * @internal validates and encodes a value for this channel: returns the payload (the value
   * itself for numeric channels; the scratch length or bytes for structured ones) and leaves
   * the weft objects it carries in `encRefs` (no allocation on the numeric hot path).
   */
  _enc(value: unknown): unknown {
    switch (this.#code) {
      case Elem.Structured: {
        const e = encode(value);
        encRefs = e.refs;
        return e.payload;
      }
      case Elem.F64:
        if (typeof value !== 'number') throw new TypeError(`value must be a number for an f64 channel, got ${typeof value}`);
        break;
      case Elem.I32:
        if (typeof value !== 'number') throw new TypeError(`value must be a number for an i32 channel, got ${typeof value}`);
        if ((value | 0) !== value) {
          throw new RangeError(`value must be an int32 for an i32 channel, got ${value}`);
        }
        break;
      case Elem.I64:
        if (typeof value !== 'bigint') throw new TypeError(`value must be a bigint for an i64 channel, got ${typeof value}`);
        if (value < I64_MIN || value > I64_MAX) throw new RangeError(`value must fit in int64, got ${value}`);
        break;
      default:
        if (typeof value !== 'boolean') throw new TypeError(`value must be a boolean for a bool channel, got ${typeof value}`);
    }
    encRefs = undefined;
    return value;
  }

  /** @internal decodes a value returned by a sync/try native receive. */
  _dec(v: unknown): T {
    return (this.#code === Elem.Structured ? decodeScratch(v as number) : v) as T;
  }

  /**
   * Sends a value, waiting while the channel is full (buffered) or until a receiver takes it
   * (unbuffered). Rejects with `ClosedChannelError` if the channel is or gets closed.
   */
  send(value: T, opts?: WaitOpts): Promise<void> {
    if (!Chan._is(this)) throw notChan('send');
    this._checkSend('send');
    const o = parseOpts(opts);
    const v = this._enc(value);
    const refs = encRefs;
    if (o.signal?.aborted) return Promise.reject(abortError(o.signal, 'send', this.name));
    const r = native.chanSend(this._h, v, refs);
    if (typeof r === 'number') {
      return r === Code.Ok ? RESOLVED : Promise.reject(new ClosedChannelError(closedMessage('send', this.name)));
    }
    return awaitPending(r, opId(), o).then(([code]) => {
      if (code !== Code.Ok) throwForCode(code, o, 'send', this.name);
    });
  }

  /** Blocking `send` for worker threads. */
  sendSync(value: T, opts?: WaitOpts): void {
    if (!Chan._is(this)) throw notChan('sendSync');
    this._checkSend('send');
    const o = opts === undefined ? NO_OPTS : parseOpts(opts);
    const v = this._enc(value);
    const refs = encRefs;
    if (o.signal !== undefined) {
      if (o.signal.aborted) throw abortError(o.signal, 'send', this.name);
      const src = signalSources.get(o.signal);
      if (src !== undefined) {
        const [code, index] = withDone(this._h, 1, v, refs, src.done(), o.timeout);
        if (index === 1) throw src.err() ?? abortError(o.signal, 'send', this.name);
        if (code !== Code.Ok) throwForCode(code, o, 'send', this.name);
        return;
      }
    }
    const code = native.chanSendSync(this._h, v, refs, o.timeout);
    if (code !== Code.Ok) throwForCode(code, o, 'send', this.name);
  }

  /** Sends if that needs no waiting; false otherwise. Throws `ClosedChannelError` if closed. */
  trySend(value: T): boolean {
    if (!Chan._is(this)) throw notChan('trySend');
    this._checkSend('send');
    const v = this._enc(value);
    const code = native.chanTrySend(this._h, v, encRefs);
    if (code === Code.Ok) return true;
    if (code === Code.Closed) throw new ClosedChannelError(closedMessage('send', this.name));
    return false;
  }

  /** Receives a value; `undefined` once the channel is closed and drained. */
  recv(opts?: WaitOpts): Promise<T | undefined> {
    if (!Chan._is(this)) throw notChan('recv');
    return this.recvOk(opts).then((r) => r.value);
  }

  /** Receives a value and whether it came from an open channel (Go's `v, ok := <-ch`). */
  recvOk(opts?: WaitOpts): Promise<RecvResult<T>> {
    if (!Chan._is(this)) throw notChan('recvOk');
    this._checkRecv();
    const o = parseOpts(opts);
    if (o.signal?.aborted) return Promise.reject(abortError(o.signal, 'recv', this.name));
    const r = native.chanRecv(this._h);
    const code = status[StatusSlot.Code];
    if (code === Code.Ok) return Promise.resolve({ value: this._dec(r), ok: true });
    if (code === Code.Closed) return Promise.resolve({ value: undefined, ok: false });
    return awaitPending(r as Promise<AsyncResult>, opId(), o).then(([c, , v]) => {
      if (c === Code.Ok) return { value: decodeAsync(this.#code, v) as T, ok: true };
      if (c === Code.Closed) return { value: undefined, ok: false };
      return throwForCode(c, o, 'recv', this.name);
    });
  }

  /** Blocking `recv` for worker threads. */
  recvSync(opts?: WaitOpts): T | undefined {
    if (!Chan._is(this)) throw notChan('recvSync');
    this._checkRecv();
    const o = opts === undefined ? NO_OPTS : parseOpts(opts);
    if (o.signal !== undefined) return this.recvOkSync(opts).value;
    const r = native.chanRecvSync(this._h, o.timeout);
    const code = status[StatusSlot.Code]!;
    if (code === Code.Ok) return this._dec(r);
    if (code === Code.Closed) return undefined;
    return throwForCode(code, o, 'recv', this.name);
  }

  /** Blocking `recvOk` for worker threads. */
  recvOkSync(opts?: WaitOpts): RecvResult<T> {
    if (!Chan._is(this)) throw notChan('recvOkSync');
    this._checkRecv();
    const o = parseOpts(opts);
    if (o.signal !== undefined) {
      if (o.signal.aborted) throw abortError(o.signal, 'recv', this.name);
      const src = signalSources.get(o.signal);
      if (src !== undefined) {
        const [code, index, v] = withDone(this._h, 0, undefined, undefined, src.done(), o.timeout);
        if (index === 1) throw src.err() ?? abortError(o.signal, 'recv', this.name);
        if (code === Code.Ok) return { value: this._dec(v), ok: true };
        if (code === Code.Closed) return { value: undefined, ok: false };
        return throwForCode(code, o, 'recv', this.name);
      }
    }
    const r = native.chanRecvSync(this._h, o.timeout);
    const code = status[StatusSlot.Code]!;
    if (code === Code.Ok) return { value: this._dec(r), ok: true };
    if (code === Code.Closed) return { value: undefined, ok: false };
    return throwForCode(code, o, 'recv', this.name);
  }

  /** Receives if a value is ready; `closed` tells an empty channel from a closed, drained one. */
  tryRecv(): TryRecvResult<T> {
    if (!Chan._is(this)) throw notChan('tryRecv');
    this._checkRecv();
    const r = native.chanTryRecv(this._h);
    const code = status[StatusSlot.Code];
    if (code === Code.Ok) return { value: this._dec(r), ok: true };
    return { value: undefined, ok: false, closed: code === Code.Closed };
  }

  /** Closes the channel; throws `ClosedChannelError` if it was already closed. */
  close(): void {
    if (!Chan._is(this)) throw notChan('close');
    this._checkSend('close');
    if (!native.chanClose(this._h)) throw new ClosedChannelError(closedMessage('close', this.name));
  }

  #numeric(what: string): void {
    if (this.#code === Elem.Structured) throw new TypeError(`${what} needs a numeric channel (elem f64, i32, i64 or bool)`);
  }

  /** Checks every element and converts to the channel's typed array (nothing sent on error). */
  #toTyped(values: ArrayLike<T>): ArrayBufferView & { length: number; subarray(a: number): any } {
    if (values === null || typeof values !== 'object' || typeof (values as ArrayLike<T>).length !== 'number') {
      throw new TypeError('values must be an array or typed array');
    }
    switch (this.#code) {
      case Elem.F64:
        if (values instanceof Float64Array) return values;
        break;
      case Elem.I32:
        if (values instanceof Int32Array) return values;
        break;
      case Elem.I64:
        if (values instanceof BigInt64Array) return values;
        break;
    }
    const n = values.length;
    for (let i = 0; i < n; i++) this._enc(values[i]);
    switch (this.#code) {
      case Elem.F64: return Float64Array.from(values as ArrayLike<number>);
      case Elem.I32: return Int32Array.from(values as ArrayLike<number>);
      case Elem.I64: return BigInt64Array.from(values as ArrayLike<bigint>);
      default: return Uint8Array.from(values as ArrayLike<boolean>, (b) => (b ? 1 : 0));
    }
  }

  #fromTyped(ta: ArrayBufferView): RecvManyResult<E> {
    if (this.#code === Elem.Bool) return Array.from(ta as Uint8Array, (b) => b !== 0) as RecvManyResult<E>;
    return ta as RecvManyResult<E>;
  }

  /**
   * Sends every value in order (numeric channels), waiting for room as needed. Every element is
   * checked first: one bad element throws and nothing is sent. On timeout, abort or close the
   * error's `sent` property says how many were sent before it.
   */
  sendMany(values: SendManyValues<T, E>, opts?: WaitOpts): Promise<number> {
    if (!Chan._is(this)) throw notChan('sendMany');
    this._checkSend('send');
    this.#numeric('sendMany');
    const o = parseOpts(opts);
    const ta = this.#toTyped(values);
    if (o.signal?.aborted) return Promise.reject(abortError(o.signal, 'send', this.name));
    const deadline = o.timeout >= 0 ? Date.now() + o.timeout : -1;
    const loop = async (): Promise<number> => {
      let off = 0;
      while (off < ta.length) {
        off += native.chanSendMany(this._h, ta.subarray(off), -1, false);
        if (off === ta.length) break;
        if (status[StatusSlot.Code] === Code.Closed) throw withSent(new ClosedChannelError(closedMessage('send', this.name)), off);
        const rest = deadline < 0 ? undefined : Math.max(0, deadline - Date.now());
        const next = this.#code === Elem.Bool ? (ta as Uint8Array)[off] !== 0 : (ta as any)[off];
        try {
          await this.send(next as T, { signal: o.signal, timeout: rest });
        } catch (e) {
          throw withSent(e, off);
        }
        off++;
      }
      return off;
    };
    return loop();
  }

  /** Blocking `sendMany` for worker threads. Returns the number sent (all of them). */
  sendManySync(values: SendManyValues<T, E>, opts?: WaitOpts): number {
    if (!Chan._is(this)) throw notChan('sendManySync');
    this._checkSend('send');
    this.#numeric('sendManySync');
    const o = parseOpts(opts);
    const ta = this.#toTyped(values);
    if (o.signal?.aborted) throw abortError(o.signal, 'send', this.name);
    const n = native.chanSendMany(this._h, ta, o.timeout, true);
    const code = status[StatusSlot.Code]!;
    if (code !== Code.Ok) {
      try {
        throwForCode(code, o, 'send', this.name);
      } catch (e) {
        throw withSent(e, n);
      }
    }
    return n;
  }

  /**
   * Waits for at least one value, then returns up to `max` that are ready (numeric channels):
   * a `Float64Array`, `Int32Array`, `BigInt64Array`, or `boolean[]`. Empty once closed and
   * drained. `max` is any positive safe integer; a huge `max` costs nothing up front.
   */
  recvMany(max: number, opts?: WaitOpts): Promise<RecvManyResult<E>> {
    if (!Chan._is(this)) throw notChan('recvMany');
    this._checkRecv();
    this.#numeric('recvMany');
    const m = this.#batch(max);
    const o = parseOpts(opts);
    if (o.signal?.aborted) return Promise.reject(abortError(o.signal, 'recv', this.name));
    const first = native.chanRecvMany(this._h, m, -1, false);
    if ((first as Float64Array).length > 0 || status[StatusSlot.Code] === Code.Closed) {
      return Promise.resolve(this.#fromTyped(first));
    }
    return this.recvOk(o.signal || o.timeout >= 0 ? { signal: o.signal, timeout: o.timeout < 0 ? undefined : o.timeout } : undefined).then((r) => {
      if (!r.ok) return this.#fromTyped(first);
      const rest = native.chanRecvMany(this._h, m - 1, -1, false) as any;
      const out = new (rest.constructor as any)(rest.length + 1);
      out[0] = this.#code === Elem.Bool ? (r.value ? 1 : 0) : r.value;
      out.set(rest, 1);
      return this.#fromTyped(out);
    });
  }

  /** Blocking `recvMany` for worker threads. */
  recvManySync(max: number, opts?: WaitOpts): RecvManyResult<E> {
    if (!Chan._is(this)) throw notChan('recvManySync');
    this._checkRecv();
    this.#numeric('recvManySync');
    const m = this.#batch(max);
    const o = parseOpts(opts);
    if (o.signal?.aborted) throw abortError(o.signal, 'recv', this.name);
    const r = native.chanRecvMany(this._h, m, o.timeout, true);
    const code = status[StatusSlot.Code]!;
    if (code !== Code.Ok && code !== Code.Closed && code !== Code.WouldBlock) throwForCode(code, o, 'recv', this.name);
    return this.#fromTyped(r);
  }

  /**
   * Checks `max` (any positive safe integer) and bounds one batch: a receive returns at most
   * what is ready, which a batch of max(capacity, 4096) always covers up to the buffer; a
   * smaller result than `max` is allowed ("returns <= max"), so nothing is allocated for a
   * huge `max`.
   */
  #batch(max: unknown): number {
    if (typeof max !== 'number') throw new TypeError('max must be a number');
    if (!Number.isSafeInteger(max) || max < 1) {
      throw new RangeError(`max must be a positive integer, got ${max}`);
    }
    return Math.min(max, Math.max(this.capacity, 4096));
  }

  /** The same channel, typed and enforced as send-only (Go's `chan<- T`). */
  sendOnly(): SendChan<T, E> {
    if (!Chan._is(this)) throw notChan('sendOnly');
    if (this.#mode === MODE_SEND) return this;
    this._checkSend('send');
    return this.#view(MODE_SEND);
  }

  /** The same channel, typed and enforced as receive-only (Go's `<-chan T`). */
  recvOnly(): RecvChan<T, E> {
    if (!Chan._is(this)) throw notChan('recvOnly');
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
      adopting = this._h;
      viewOf = { cap: this.capacity, code: this.#code, mode, name: this.name };
      v = views[i] = new Chan<T, E>();
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
    if (!Chan._is(this)) throw notChan('[Symbol.asyncIterator]');
    this._checkRecv();
    const pending = new Set<number>();
    let finished = false;
    return {
      next: (): Promise<IteratorResult<T>> => {
        if (finished) return Promise.resolve(DONE);
        const r = native.chanRecv(this._h);
        const code = status[StatusSlot.Code];
        if (code === Code.Ok) return Promise.resolve({ value: this._dec(r), done: false });
        if (code === Code.Closed) {
          finished = true;
          return Promise.resolve(DONE);
        }
        const id = opId();
        pending.add(id);
        return (r as Promise<AsyncResult>).then(([c, , v]): IteratorResult<T> => {
          pending.delete(id);
          if (c === Code.Ok) return { value: decodeAsync(this.#code, v) as T, done: false };
          if (c === Code.Closed) {
            finished = true;
            return DONE;
          }
          if (c === Code.Canceled && finished) return DONE; // withdrawn by return()
          return throwForCode(c, NO_OPTS, 'recv', this.name);
        });
      },
      return: (value?: unknown): Promise<IteratorResult<T>> => {
        finished = true;
        // Withdraw: a canceled receive took nothing; a value a sender already handed over goes
        // back to the channel (native cancel with withdraw = true).
        for (const id of pending) native.cancel(id, Code.Canceled, true);
        pending.clear();
        return Promise.resolve({ value: value as T, done: true });
      },
    };
  }

  /** Blocking iteration for worker threads: `for (const v of ch)`. */
  [Symbol.iterator](): Iterator<T> {
    if (!Chan._is(this)) throw notChan('[Symbol.iterator]');
    this._checkRecv();
    let finished = false;
    return {
      next: (): IteratorResult<T> => {
        if (finished) return DONE;
        const r = this.recvOkSync();
        if (r.ok) return { value: r.value, done: false };
        finished = true;
        return DONE;
      },
      return: (value?: unknown): IteratorResult<T> => {
        finished = true;
        return { value: value as T, done: true };
      },
    };
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

/**
 * A blocking op on h raced against a context's done channel (case 1): [code, index, value]
 * where a received value is in the sync form (decode with `_dec`).
 */
function withDone(h: Handle, op: 0 | 1, v: unknown, refs: Handle[] | undefined, done: Handle, timeout: number): AsyncResult {
  const r = op === 1
    ? native.select([h, done], 1, [v, undefined], [refs, undefined], SelectMode.Block, timeout)
    : native.select([h, done], 0, undefined, undefined, SelectMode.Block, timeout);
  return [status[StatusSlot.Code]!, status[StatusSlot.SelectIndex]!, r];
}

function withSent(e: unknown, sent: number): unknown {
  if (e instanceof Error) (e as Error & { sent?: number }).sent = sent;
  return e;
}

registerKind(Kind.Channel, (h, tag) => Chan._adopt(h, tag));
