/**
 * The public types of channels: element types, receive results, options, and the send-only
 * and receive-only views (`SendChan` / `RecvChan`) a `Chan` implements.
 * @module
 */
import type { WaitOpts } from '../internal/options.js';

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

/** Per numeric element type: what `recvMany` returns, and what `recvManyInto` fills. */
interface BatchArrays {
  f64: { result: Float64Array; buffer: Float64Array };
  i32: { result: Int32Array; buffer: Int32Array };
  i64: { result: BigInt64Array; buffer: BigInt64Array };
  bool: { result: boolean[]; buffer: Uint8Array };
}

/**
 * What `recvMany` returns on a channel of element type `E`: `Float64Array` for `'f64'`,
 * `Int32Array` for `'i32'`, `BigInt64Array` for `'i64'`, `boolean[]` for `'bool'` (a union when
 * `E` is one of several).
 */
export type RecvManyResult<E extends ElemType> = E extends keyof BatchArrays ? BatchArrays[E]['result'] : never;

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
 * The typed array `recvManyInto` fills on a channel of element type `E`: `Float64Array` for
 * `'f64'`, `Int32Array` for `'i32'`, `BigInt64Array` for `'i64'`, `Uint8Array` (1 or 0) for
 * `'bool'`.
 */
export type RecvManyBuffer<E extends ElemType> = E extends keyof BatchArrays ? BatchArrays[E]['buffer'] : never;

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
  /**
   * `recvMany` into the caller's typed array: waits for at least one value, writes up to
   * `dst.length` that are ready into `dst` from index 0, and resolves to how many (0 once closed
   * and drained). Nothing is allocated per call.
   */
  recvManyInto(dst: RecvManyBuffer<E>, opts?: WaitOpts): Promise<number>;
  /** Blocking `recvManyInto` for worker threads. */
  recvManyIntoSync(dst: RecvManyBuffer<E>, opts?: WaitOpts): number;
  /** `for await (const v of ch)`: ends when the channel is closed and drained. */
  [Symbol.asyncIterator](): AsyncIterator<T>;
  /** Blocking iteration for worker threads: `for (const v of ch)`. */
  [Symbol.iterator](): Iterator<T>;
}
