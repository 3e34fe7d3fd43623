/**
 * Go channels shared by every thread (API.md §1).
 * @module
 */
import { ClosedChannelError } from './errors.js';
import { decode, encode } from './codec.js';
import { Code, Kind, native, refreshScratch, scratch, status, type AsyncResult, type Handle, opId } from './native.js';
import { WeftObject, registerKind } from './object.js';
import { signalSources } from './signals.js';
import { abortError, awaitPending, parseOpts, throwForCode, type WaitOpts } from './options.js';

export type { WaitOpts } from './options.js';

/** Element type of a channel: `'structured'` carries any cloneable value; the others are stored inline. */
export type ElemType = 'structured' | 'f64' | 'i32' | 'i64' | 'bool';

/** Result of a receive that reports whether the channel was open (Go's `v, ok := <-ch`). */
export type RecvResult<T> = { value: T; ok: true } | { value: undefined; ok: false };
/** Result of `tryRecv`: `closed` tells an empty open channel from a closed, drained one. */
export type TryRecvResult<T> =
  | { value: T; ok: true }
  | { value: undefined; ok: false; closed: boolean };

/** The typed array `recvMany` returns for a numeric channel (booleans come back as `boolean[]`). */
export type TypedArray = Float64Array | Int32Array | BigInt64Array;

/** Options of `new Chan()`. */
export interface ChanOptions {
  /** Element type (default `'structured'`). */
  elem?: ElemType;
  /** A name shown in diagnostics. */
  name?: string;
}

/** The sending half of a channel (Go's `chan<- T`). */
export interface SendChan<T> {
  readonly capacity: number;
  readonly length: number;
  readonly closed: boolean;
  send(value: T, opts?: WaitOpts): Promise<void>;
  sendSync(value: T, opts?: WaitOpts): void;
  trySend(value: T): boolean;
  sendMany(values: ArrayLike<T>, opts?: WaitOpts): Promise<number>;
  sendManySync(values: ArrayLike<T>, opts?: WaitOpts): number;
  close(): void;
}

/** The receiving half of a channel (Go's `<-chan T`). */
export interface RecvChan<T> {
  readonly capacity: number;
  readonly length: number;
  readonly closed: boolean;
  recv(opts?: WaitOpts): Promise<T | undefined>;
  recvOk(opts?: WaitOpts): Promise<RecvResult<T>>;
  recvSync(opts?: WaitOpts): T | undefined;
  recvOkSync(opts?: WaitOpts): RecvResult<T>;
  tryRecv(): TryRecvResult<T>;
  recvMany(max: number, opts?: WaitOpts): Promise<T[] | TypedArray>;
  recvManySync(max: number, opts?: WaitOpts): T[] | TypedArray;
  [Symbol.asyncIterator](): AsyncIterator<T>;
  [Symbol.iterator](): Iterator<T>;
}

const ELEM_CODES: Record<ElemType, number> = { structured: 0, f64: 1, i32: 2, i64: 3, bool: 4 };
const ELEM_NAMES: ElemType[] = ['structured', 'f64', 'i32', 'i64', 'bool'];
const MAX_CAPACITY = 2 ** 30;
const I64_MIN = -(2n ** 63n);
const I64_MAX = 2n ** 63n - 1n;
const RESOLVED = Promise.resolve();
const NO_OPTS = parseOpts(undefined);

let adopting: Handle | undefined;
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
  const refs = status[2]! > 0 ? native.takeRefs() : undefined;
  return decode(u8, len, refs);
}

/** @internal decodes an async/select result value. */
export function decodeAsync(elem: number, v: unknown): unknown {
  if (elem !== 0) return v;
  const [u8, refs] = v as [Uint8Array, Handle[] | undefined];
  return decode(u8, u8.length, refs);
}

/**
 * A Go channel whose values, waiters and state live in native memory, so every thread that
 * holds it (through `share()`/`attach()`, channel payloads or `go()` arguments) uses the same
 * channel. Unbuffered (`capacity` 0) channels are a rendezvous; buffered ones are a lock-free
 * bounded queue. Every blocking operation comes as a Promise (`send`), a thread-blocking
 * `Sync` call for workers (`sendSync`), and a non-blocking `try` call (`trySend`).
 *
 * @example
 * const ch = new Chan<number>(16, { elem: 'f64' });
 * await ch.send(1.5);
 * const v = await ch.recv(); // 1.5
 */
export class Chan<T = unknown> extends WeftObject implements SendChan<T>, RecvChan<T> {
  /** Number of values the channel buffers (0: unbuffered). */
  readonly capacity: number;
  /** The element type. */
  readonly elem: ElemType;
  /** The diagnostic name given at creation (this thread only). */
  readonly name: string | undefined;
  readonly #code: number;

  /**
   * @param capacity buffer size, an integer 0..2^30 (default 0 = unbuffered).
   * @param opts `elem` (element type, default `'structured'`), `name`.
   */
  constructor(capacity: number = 0, opts?: ChanOptions) {
    let h = adopting;
    adopting = undefined;
    let code = 0;
    let cap = 0;
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
      if (opts?.name !== undefined && typeof opts.name !== 'string') {
        throw new TypeError('name must be a string');
      }
      code = ELEM_CODES[elem];
      cap = capacity;
      h = native.chanNew(capacity, code);
      if (opts?.name) native.setName(h, opts.name);
    } else {
      [cap, code] = native.chanInfo(h);
    }
    super(h);
    this.capacity = cap;
    this.#code = code;
    this.elem = ELEM_NAMES[code]!;
    this.name = opts?.name;
  }

  /** @internal wraps a native channel handle. */
  static _adopt(h: Handle): Chan<unknown> {
    adopting = h;
    return new Chan();
  }

  /** Values buffered right now (always 0 when unbuffered). */
  get length(): number {
    return native.chanLen(this._h);
  }

  /** Whether the channel has been closed. */
  get closed(): boolean {
    return native.chanClosed(this._h);
  }

  /**
   * @internal validates and encodes a value for this channel: returns the payload (the value
   * itself for numeric channels; the scratch length or bytes for structured ones) and leaves
   * the weft objects it carries in `encRefs` (no allocation on the numeric hot path).
   */
  _enc(value: unknown): unknown {
    switch (this.#code) {
      case 0: {
        const e = encode(value);
        encRefs = e.refs;
        return e.payload;
      }
      case 1:
        if (typeof value !== 'number') throw new TypeError(`value must be a number for an f64 channel, got ${typeof value}`);
        break;
      case 2:
        if (typeof value !== 'number') throw new TypeError(`value must be a number for an i32 channel, got ${typeof value}`);
        if ((value | 0) !== value) {
          throw new RangeError(`value must be an int32 for an i32 channel, got ${value}`);
        }
        break;
      case 3:
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
    return (this.#code === 0 ? decodeScratch(v as number) : v) as T;
  }

  /**
   * Sends a value, waiting while the channel is full (buffered) or until a receiver takes it
   * (unbuffered). Rejects with `ClosedChannelError` if the channel is or gets closed.
   */
  send(value: T, opts?: WaitOpts): Promise<void> {
    const o = parseOpts(opts);
    const v = this._enc(value);
    const refs = encRefs;
    if (o.signal?.aborted) return Promise.reject(abortError(o.signal));
    const r = native.chanSend(this._h, v, refs);
    if (typeof r === 'number') {
      return r === Code.Ok ? RESOLVED : Promise.reject(new ClosedChannelError());
    }
    return awaitPending(r, opId(), o).then(([code]) => {
      if (code !== Code.Ok) throwForCode(code, o);
    });
  }

  /** Blocking `send` for worker threads. */
  sendSync(value: T, opts?: WaitOpts): void {
    const o = opts === undefined ? NO_OPTS : parseOpts(opts);
    const v = this._enc(value);
    const refs = encRefs;
    if (o.signal !== undefined) {
      if (o.signal.aborted) throw abortError(o.signal);
      const src = signalSources.get(o.signal);
      if (src !== undefined) {
        const [code, index] = withDone(this._h, 1, v, refs, src.done(), o.timeout);
        if (index === 1) throw src.err() ?? abortError(o.signal);
        if (code !== Code.Ok) throwForCode(code, o);
        return;
      }
    }
    const code = native.chanSendSync(this._h, v, refs, o.timeout);
    if (code !== Code.Ok) throwForCode(code, o);
  }

  /** Sends if that needs no waiting; false otherwise. Throws `ClosedChannelError` if closed. */
  trySend(value: T): boolean {
    const v = this._enc(value);
    const code = native.chanTrySend(this._h, v, encRefs);
    if (code === Code.Ok) return true;
    if (code === Code.Closed) throw new ClosedChannelError();
    return false;
  }

  /** Receives a value; `undefined` once the channel is closed and drained. */
  recv(opts?: WaitOpts): Promise<T | undefined> {
    return this.recvOk(opts).then((r) => r.value);
  }

  /** Receives a value and whether it came from an open channel (Go's `v, ok := <-ch`). */
  recvOk(opts?: WaitOpts): Promise<RecvResult<T>> {
    const o = parseOpts(opts);
    if (o.signal?.aborted) return Promise.reject(abortError(o.signal));
    const r = native.chanRecv(this._h);
    const code = status[0];
    if (code === Code.Ok) return Promise.resolve({ value: this._dec(r), ok: true });
    if (code === Code.Closed) return Promise.resolve({ value: undefined, ok: false });
    return awaitPending(r as Promise<AsyncResult>, opId(), o).then(([c, , v]) => {
      if (c === Code.Ok) return { value: decodeAsync(this.#code, v) as T, ok: true };
      if (c === Code.Closed) return { value: undefined, ok: false };
      return throwForCode(c, o);
    });
  }

  /** Blocking `recv` for worker threads. */
  recvSync(opts?: WaitOpts): T | undefined {
    const o = opts === undefined ? NO_OPTS : parseOpts(opts);
    if (o.signal !== undefined) return this.recvOkSync(opts).value;
    const r = native.chanRecvSync(this._h, o.timeout);
    const code = status[0]!;
    if (code === Code.Ok) return this._dec(r);
    if (code === Code.Closed) return undefined;
    return throwForCode(code, o);
  }

  /** Blocking `recvOk` for worker threads. */
  recvOkSync(opts?: WaitOpts): RecvResult<T> {
    const o = parseOpts(opts);
    if (o.signal !== undefined) {
      if (o.signal.aborted) throw abortError(o.signal);
      const src = signalSources.get(o.signal);
      if (src !== undefined) {
        const [code, index, v] = withDone(this._h, 0, undefined, undefined, src.done(), o.timeout);
        if (index === 1) throw src.err() ?? abortError(o.signal);
        if (code === Code.Ok) return { value: this._dec(v), ok: true };
        if (code === Code.Closed) return { value: undefined, ok: false };
        return throwForCode(code, o);
      }
    }
    const r = native.chanRecvSync(this._h, o.timeout);
    const code = status[0]!;
    if (code === Code.Ok) return { value: this._dec(r), ok: true };
    if (code === Code.Closed) return { value: undefined, ok: false };
    return throwForCode(code, o);
  }

  /** Receives if a value is ready; `closed` tells an empty channel from a closed, drained one. */
  tryRecv(): TryRecvResult<T> {
    const r = native.chanTryRecv(this._h);
    const code = status[0];
    if (code === Code.Ok) return { value: this._dec(r), ok: true };
    return { value: undefined, ok: false, closed: code === Code.Closed };
  }

  /** Closes the channel; throws `ClosedChannelError` if it was already closed. */
  close(): void {
    if (!native.chanClose(this._h)) throw new ClosedChannelError('close of closed channel');
  }

  #numeric(what: string): void {
    if (this.#code === 0) throw new TypeError(`${what} needs a numeric channel (elem f64, i32, i64 or bool)`);
  }

  /** Checks every element and converts to the channel's typed array (nothing sent on error). */
  #toTyped(values: ArrayLike<T>): ArrayBufferView & { length: number; subarray(a: number): any } {
    if (values === null || typeof values !== 'object' || typeof (values as ArrayLike<T>).length !== 'number') {
      throw new TypeError('values must be an array or typed array');
    }
    switch (this.#code) {
      case 1:
        if (values instanceof Float64Array) return values;
        break;
      case 2:
        if (values instanceof Int32Array) return values;
        break;
      case 3:
        if (values instanceof BigInt64Array) return values;
        break;
    }
    const n = values.length;
    for (let i = 0; i < n; i++) this._enc(values[i]);
    switch (this.#code) {
      case 1: return Float64Array.from(values as ArrayLike<number>);
      case 2: return Int32Array.from(values as ArrayLike<number>);
      case 3: return BigInt64Array.from(values as ArrayLike<bigint>);
      default: return Uint8Array.from(values as ArrayLike<boolean>, (b) => (b ? 1 : 0));
    }
  }

  #fromTyped(ta: ArrayBufferView): T[] | TypedArray {
    if (this.#code === 4) return Array.from(ta as Uint8Array, (b) => b !== 0) as T[];
    return ta as TypedArray;
  }

  /**
   * Sends every value in order (numeric channels), waiting for room as needed. Every element is
   * checked first: one bad element throws and nothing is sent. On timeout, abort or close the
   * error's `sent` property says how many were sent before it.
   */
  sendMany(values: ArrayLike<T>, opts?: WaitOpts): Promise<number> {
    this.#numeric('sendMany');
    const o = parseOpts(opts);
    const ta = this.#toTyped(values);
    if (o.signal?.aborted) return Promise.reject(abortError(o.signal));
    const deadline = o.timeout >= 0 ? Date.now() + o.timeout : -1;
    const loop = async (): Promise<number> => {
      let off = 0;
      while (off < ta.length) {
        off += native.chanSendMany(this._h, ta.subarray(off), -1, false);
        if (off === ta.length) break;
        if (status[0] === Code.Closed) throw withSent(new ClosedChannelError(), off);
        const rest = deadline < 0 ? undefined : Math.max(0, deadline - Date.now());
        const next = this.#code === 4 ? (ta as Uint8Array)[off] !== 0 : (ta as any)[off];
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
  sendManySync(values: ArrayLike<T>, opts?: WaitOpts): number {
    this.#numeric('sendManySync');
    const o = parseOpts(opts);
    const ta = this.#toTyped(values);
    if (o.signal?.aborted) throw abortError(o.signal);
    const n = native.chanSendMany(this._h, ta, o.timeout, true);
    const code = status[0]!;
    if (code !== Code.Ok) {
      try {
        throwForCode(code, o);
      } catch (e) {
        throw withSent(e, n);
      }
    }
    return n;
  }

  /**
   * Waits for at least one value, then returns up to `max` that are ready (numeric channels):
   * a `Float64Array`, `Int32Array`, `BigInt64Array`, or `boolean[]`. Empty once closed and drained.
   */
  recvMany(max: number, opts?: WaitOpts): Promise<T[] | TypedArray> {
    this.#numeric('recvMany');
    checkMax(max);
    const o = parseOpts(opts);
    if (o.signal?.aborted) return Promise.reject(abortError(o.signal));
    const first = native.chanRecvMany(this._h, max, -1, false);
    if ((first as Float64Array).length > 0 || status[0] === Code.Closed || max === 0) {
      return Promise.resolve(this.#fromTyped(first));
    }
    return this.recvOk(o.signal || o.timeout >= 0 ? { signal: o.signal, timeout: o.timeout < 0 ? undefined : o.timeout } : undefined).then((r) => {
      if (!r.ok) return this.#fromTyped(first);
      const rest = native.chanRecvMany(this._h, max - 1, -1, false) as any;
      const out = new (rest.constructor as any)(rest.length + 1);
      out[0] = this.#code === 4 ? (r.value ? 1 : 0) : r.value;
      out.set(rest, 1);
      return this.#fromTyped(out);
    });
  }

  /** Blocking `recvMany` for worker threads. */
  recvManySync(max: number, opts?: WaitOpts): T[] | TypedArray {
    this.#numeric('recvManySync');
    checkMax(max);
    const o = parseOpts(opts);
    if (o.signal?.aborted) throw abortError(o.signal);
    const r = native.chanRecvMany(this._h, max, o.timeout, max > 0);
    const code = status[0]!;
    if (code !== Code.Ok && code !== Code.Closed && code !== Code.WouldBlock) throwForCode(code, o);
    return this.#fromTyped(r);
  }

  /** The same channel, typed as send-only (Go's `chan<- T`). */
  sendOnly(): SendChan<T> {
    return this;
  }

  /** The same channel, typed as receive-only (Go's `<-chan T`). */
  recvOnly(): RecvChan<T> {
    return this;
  }

  /** `for await (const v of ch)`: ends when the channel is closed and drained. Leaving early consumes nothing more. */
  [Symbol.asyncIterator](): AsyncIterator<T> {
    return {
      next: async (): Promise<IteratorResult<T>> => {
        const r = await this.recvOk();
        return r.ok ? { value: r.value, done: false } : { value: undefined, done: true };
      },
      return: async (): Promise<IteratorResult<T>> => ({ value: undefined, done: true }),
    };
  }

  /** Blocking iteration for worker threads: `for (const v of ch)`. */
  [Symbol.iterator](): Iterator<T> {
    return {
      next: (): IteratorResult<T> => {
        const r = this.recvOkSync();
        return r.ok ? { value: r.value, done: false } : { value: undefined, done: true };
      },
      return: (): IteratorResult<T> => ({ value: undefined, done: true }),
    };
  }

  /** @internal element code for select. */
  get _elemCode(): number {
    return this.#code;
  }
}

/**
 * A blocking op on h raced against a context's done channel (case 1): [code, index, value]
 * where a received value is in the sync form (decode with `_dec`).
 */
function withDone(h: Handle, op: 0 | 1, v: unknown, refs: Handle[] | undefined, done: Handle, timeout: number): AsyncResult {
  const r = op === 1
    ? native.select([h, done], 1, [v, undefined], [refs, undefined], 1, timeout)
    : native.select([h, done], 0, undefined, undefined, 1, timeout);
  return [status[0]!, status[3]!, r];
}

function checkMax(max: unknown): void {
  if (typeof max !== 'number') throw new TypeError('max must be a number');
  if (!Number.isInteger(max) || max < 1 || max > MAX_CAPACITY) {
    throw new RangeError(`max must be a positive integer, got ${max}`);
  }
}

function withSent(e: unknown, sent: number): unknown {
  if (e instanceof Error) (e as Error & { sent?: number }).sent = sent;
  return e;
}

registerKind(Kind.Channel, (h) => Chan._adopt(h));
