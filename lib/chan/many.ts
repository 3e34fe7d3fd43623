/**
 * Batch transfer on numeric channels (`sendMany`/`recvMany`/`recvManyInto` and their Sync
 * forms): values move between the channel and a typed array in one native call per run of
 * ready slots (native/node/bind_many.cc).
 * @internal
 * @module
 */
import { ClosedChannelError } from '../errors.js';
import { Code, native, status } from '../internal/native.js';
import { Elem, StatusSlot } from '../internal/abi.js';
import { abortError, closedMessage, parseOpts, throwForCode, type ParsedOpts, type WaitOpts } from '../internal/options.js';
import { contextOf } from '../internal/signals.js';
import type { Chan } from './chan.js';

/** A channel as seen by the batch functions (any value and element type). */
type AnyChan = Chan<any, any>;
/** The typed array a numeric channel's batch travels in. */
type Typed = ArrayBufferView & { length: number; subarray(a: number): any };

function numeric(ch: AnyChan, what: string): void {
  if (ch._elemCode === Elem.Structured) throw new TypeError(`${what} needs a numeric channel (elem f64, i32, i64 or bool)`);
}

/** Checks every element and converts to the channel's typed array (nothing sent on error). */
function toTyped(ch: AnyChan, values: ArrayLike<unknown>): Typed {
  if (values === null || typeof values !== 'object' || typeof (values as ArrayLike<unknown>).length !== 'number') {
    throw new TypeError('values must be an array or typed array');
  }
  const code = ch._elemCode;
  switch (code) {
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
  for (let i = 0; i < n; i++) ch._enc(values[i]);
  switch (code) {
    case Elem.F64: return Float64Array.from(values as ArrayLike<number>);
    case Elem.I32: return Int32Array.from(values as ArrayLike<number>);
    case Elem.I64: return BigInt64Array.from(values as ArrayLike<bigint>);
    default: return Uint8Array.from(values as ArrayLike<boolean>, (b) => (b ? 1 : 0));
  }
}

/** What `recvMany` returns (`R`: the `RecvManyResult` of the channel's element type): the typed array, or `boolean[]`. */
function fromTyped<R>(ch: AnyChan, ta: ArrayBufferView): R {
  if (ch._elemCode === Elem.Bool) return Array.from(ta as Uint8Array, (b) => b !== 0) as R;
  return ta as R;
}

/**
 * Checks `max` (any positive safe integer) and bounds one batch: a receive returns at most
 * what is ready, which a batch of max(capacity, 4096) always covers up to the buffer; a
 * smaller result than `max` is allowed ("returns <= max"), so nothing is allocated for a
 * huge `max`.
 */
function batch(ch: AnyChan, max: unknown): number {
  if (typeof max !== 'number') throw new TypeError('max must be a number');
  if (!Number.isSafeInteger(max) || max < 1) {
    throw new RangeError(`max must be a positive integer, got ${max}`);
  }
  return Math.min(max, Math.max(ch.capacity, 4096));
}

/**
 * The error a batch send gives up with, carrying `sent`. An error that is not the send's own
 * (a context's error or a signal's reason, which every operation on that signal shares) gets
 * a copy with the same class, message, stack and fields, so that one operation's count is not
 * written onto another's error.
 */
function withSent(e: unknown, sent: number, o: ParsedOpts): unknown {
  if (!(e instanceof Error)) return e;
  const shared = o.signal !== undefined && (e === o.signal.reason || e === contextOf(o.signal)?.err());
  const out: Error & { sent?: number } = shared
    ? Object.defineProperties(Object.create(Object.getPrototypeOf(e)), Object.getOwnPropertyDescriptors(e))
    : e;
  out.sent = sent;
  return out;
}

/** Milliseconds left until `deadline` (-1: none), as a WaitOpts timeout. */
const left = (deadline: number): number | undefined => (deadline < 0 ? undefined : Math.max(0, deadline - Date.now()));

/** The value at `off` of a batch's typed array, as `send` takes it. */
const at = (ch: AnyChan, ta: Typed, off: number): unknown =>
  ch._elemCode === Elem.Bool ? (ta as Uint8Array)[off] !== 0 : (ta as any)[off];

/** @internal `Chan.sendMany` (the caller checked `this` and the direction). */
export function sendMany(ch: AnyChan, values: ArrayLike<unknown>, opts: WaitOpts | undefined): Promise<number> {
  numeric(ch, 'sendMany');
  const o = parseOpts(opts);
  const ta = toTyped(ch, values);
  if (o.signal?.aborted) return Promise.reject(withSent(abortError(o.signal, 'send', ch.name), 0, o));
  const deadline = o.timeout >= 0 ? Date.now() + o.timeout : -1;
  const loop = async (): Promise<number> => {
    let off = 0;
    while (off < ta.length) {
      off += native.chanSendMany(ch._h, ta.subarray(off), -1, false);
      if (off === ta.length) break;
      if (status[StatusSlot.Code] === Code.Closed) throw withSent(new ClosedChannelError(closedMessage('send', ch.name)), off, o);
      try {
        await ch.send(at(ch, ta, off), { signal: o.signal, timeout: left(deadline) });
      } catch (e) {
        throw withSent(e, off, o);
      }
      off++;
    }
    return off;
  };
  return loop();
}

/** @internal `Chan.sendManySync` (the caller checked `this` and the direction). */
export function sendManySync(ch: AnyChan, values: ArrayLike<unknown>, opts: WaitOpts | undefined): number {
  numeric(ch, 'sendManySync');
  const o = parseOpts(opts);
  const ta = toTyped(ch, values);
  if (o.signal?.aborted) throw withSent(abortError(o.signal, 'send', ch.name), 0, o);
  if (contextOf(o.signal) !== undefined) {
    // A context's signal: the native batch wait cannot also watch the context, so each wait
    // for room is a sendSync, which does (lib/chan/done.ts), as the async form does.
    const deadline = o.timeout >= 0 ? Date.now() + o.timeout : -1;
    let off = 0;
    while (off < ta.length) {
      off += native.chanSendMany(ch._h, ta.subarray(off), -1, false);
      if (off === ta.length) break;
      if (status[StatusSlot.Code] === Code.Closed) throw withSent(new ClosedChannelError(closedMessage('send', ch.name)), off, o);
      try {
        ch.sendSync(at(ch, ta, off), { signal: o.signal, timeout: left(deadline) });
      } catch (e) {
        throw withSent(e, off, o);
      }
      off++;
    }
    return off;
  }
  const n = native.chanSendMany(ch._h, ta, o.timeout, true);
  const code = status[StatusSlot.Code]!;
  if (code !== Code.Ok) {
    try {
      throwForCode(code, o, 'send', ch.name);
    } catch (e) {
      throw withSent(e, n, o);
    }
  }
  return n;
}

/**
 * A batch that waited for its first value (received by a single-value receive, `value`): that
 * value, then whatever else is ready, up to `m` in all, in a typed array of the channel's kind.
 */
function afterFirst(ch: AnyChan, value: unknown, m: number): ArrayBufferView {
  const rest = native.chanRecvMany(ch._h, m - 1, -1, false) as any;
  const out = new (rest.constructor as any)(rest.length + 1);
  out[0] = ch._elemCode === Elem.Bool ? (value ? 1 : 0) : value;
  out.set(rest, 1);
  return out;
}

/** The same into `dst`; returns how many values it holds. */
function afterFirstInto(ch: AnyChan, value: unknown, dst: Typed): number {
  (dst as any)[0] = ch._elemCode === Elem.Bool ? (value ? 1 : 0) : value;
  if (dst.length === 1) return 1;
  return 1 + (native.chanRecvMany(ch._h, 0, -1, false, dst.subarray(1)) as number);
}

/** The single-value wait's options for what is left of a batch receive's `o`. */
const waitOpts = (o: ParsedOpts): WaitOpts | undefined =>
  o.signal || o.timeout >= 0 ? { signal: o.signal, timeout: o.timeout < 0 ? undefined : o.timeout } : undefined;

/** @internal `Chan.recvMany` (the caller checked `this` and the direction). */
export function recvMany<R>(ch: AnyChan, max: number, opts: WaitOpts | undefined): Promise<R> {
  numeric(ch, 'recvMany');
  const m = batch(ch, max);
  const o = parseOpts(opts);
  if (o.signal?.aborted) return Promise.reject(abortError(o.signal, 'recv', ch.name));
  const first = native.chanRecvMany(ch._h, m, -1, false);
  if ((first as Float64Array).length > 0 || status[StatusSlot.Code] === Code.Closed) {
    return Promise.resolve(fromTyped<R>(ch, first));
  }
  return ch.recvOk(waitOpts(o)).then((r) => fromTyped<R>(ch, r.ok ? afterFirst(ch, r.value, m) : first));
}

/** The typed array `recvManyInto` fills for each numeric element code. */
const INTO: Record<number, { name: string; is(x: unknown): boolean }> = {
  [Elem.F64]: { name: 'Float64Array', is: (x) => x instanceof Float64Array },
  [Elem.I32]: { name: 'Int32Array', is: (x) => x instanceof Int32Array },
  [Elem.I64]: { name: 'BigInt64Array', is: (x) => x instanceof BigInt64Array },
  [Elem.Bool]: { name: 'Uint8Array', is: (x) => x instanceof Uint8Array },
};

/** Checks `dst` for `recvManyInto`: the typed array of the channel's element type, not empty. */
function intoTarget(ch: AnyChan, dst: unknown, what: string): asserts dst is Typed {
  numeric(ch, what);
  const t = INTO[ch._elemCode]!;
  if (!t.is(dst)) throw new TypeError(`dst must be a ${t.name} for a '${ch.elem}' channel`);
  if ((dst as Typed).length === 0) throw new RangeError('dst must have room for at least one value (its length is 0)');
}

/** @internal `Chan.recvManyInto` (the caller checked `this` and the direction). */
export function recvManyInto(ch: AnyChan, dst: unknown, opts: WaitOpts | undefined): Promise<number> {
  intoTarget(ch, dst, 'recvManyInto');
  const o = parseOpts(opts);
  if (o.signal?.aborted) return Promise.reject(abortError(o.signal, 'recv', ch.name));
  const first = native.chanRecvMany(ch._h, 0, -1, false, dst);
  if (first > 0 || status[StatusSlot.Code] === Code.Closed) return Promise.resolve(first);
  return ch.recvOk(waitOpts(o)).then((r) => (r.ok ? afterFirstInto(ch, r.value, dst) : 0));
}

/** @internal `Chan.recvManyIntoSync` (the caller checked `this` and the direction). */
export function recvManyIntoSync(ch: AnyChan, dst: unknown, opts: WaitOpts | undefined): number {
  intoTarget(ch, dst, 'recvManyIntoSync');
  const o = parseOpts(opts);
  if (o.signal?.aborted) throw abortError(o.signal, 'recv', ch.name);
  if (contextOf(o.signal) !== undefined) {
    // A context's signal: wait for the first value with recvOkSync, which also watches the
    // context (lib/chan/done.ts), then take whatever else is ready.
    const first = native.chanRecvMany(ch._h, 0, -1, false, dst) as number;
    if (first > 0 || status[StatusSlot.Code] === Code.Closed) return first;
    const r = ch.recvOkSync(waitOpts(o));
    return r.ok ? afterFirstInto(ch, r.value, dst) : 0;
  }
  const n = native.chanRecvMany(ch._h, 0, o.timeout, true, dst);
  const code = status[StatusSlot.Code]!;
  if (code !== Code.Ok && code !== Code.Closed && code !== Code.WouldBlock) throwForCode(code, o, 'recv', ch.name);
  return n;
}

/** @internal `Chan.recvManySync` (the caller checked `this` and the direction). */
export function recvManySync<R>(ch: AnyChan, max: number, opts: WaitOpts | undefined): R {
  numeric(ch, 'recvManySync');
  const m = batch(ch, max);
  const o = parseOpts(opts);
  if (o.signal?.aborted) throw abortError(o.signal, 'recv', ch.name);
  if (contextOf(o.signal) !== undefined) {
    // As recvManyIntoSync: the first wait is a recvOkSync, which watches the context.
    const first = native.chanRecvMany(ch._h, m, -1, false);
    if ((first as Float64Array).length > 0 || status[StatusSlot.Code] === Code.Closed) return fromTyped<R>(ch, first);
    const r = ch.recvOkSync(waitOpts(o));
    return fromTyped<R>(ch, r.ok ? afterFirst(ch, r.value, m) : first);
  }
  const r = native.chanRecvMany(ch._h, m, o.timeout, true);
  const code = status[StatusSlot.Code]!;
  if (code !== Code.Ok && code !== Code.Closed && code !== Code.WouldBlock) throwForCode(code, o, 'recv', ch.name);
  return fromTyped<R>(ch, r);
}
