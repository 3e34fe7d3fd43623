/**
 * Go's `select` over channel cases, across threads (API.md §2).
 * @module
 */
import { Chan } from './chan.js';
import { lastEncRefs } from './elem.js';
import { MASK_MAX, selectUntilDone } from './done.js';
import type { RecvChan, SendChan } from './types.js';
import { ClosedChannelError } from '../errors.js';
import { Code, native, scratch, status, type Handle, type Settled, opId } from '../internal/native.js';
import { Elem, SelectMode, StatusSlot } from '../internal/abi.js';
import { abortError, awaitPending, closedMessage, parseOpts, throwForCode, type WaitOpts } from '../internal/options.js';
import { contextOf } from '../internal/signals.js';
import { NONE, type Ring } from './ring.js';

const CASE = Symbol('weft.case');

/** A receive case: `recv(ch)`. */
export interface RecvCase<T> {
  /** Brand: what kind of case this is (only `recv()`/`send()` make cases). */
  readonly [CASE]: 'recv';
  /** The channel to receive from. */
  readonly ch: RecvChan<T>;
}
/** A send case: `send(ch, value)`. */
export interface SendCase<T> {
  /** Brand: what kind of case this is (only `recv()`/`send()` make cases). */
  readonly [CASE]: 'send';
  /** The channel to send on. */
  readonly ch: SendChan<T>;
  /** @internal encoded payload */
  readonly payload: unknown;
  /** @internal weft objects in the payload */
  readonly refs: Handle[] | undefined;
}
/** A select case, or `null` for a nil case that never proceeds. */
export type Case = RecvCase<any> | SendCase<any> | null;
/** What `select` chose: the case index (-1 for default), the value received, and `ok`. */
export type Selected = {
  /** Index of the case that proceeded in the cases array; -1 when `default` was taken. */
  index: number;
  /** The value received by a recv case (`undefined` for a send case, a closed channel or default). */
  value?: unknown;
  /** true: the chosen case sent, or received from an open channel; false: closed channel or default. */
  ok: boolean;
};
/** Options of `select`: wait options plus `default`. */
export type SelectOpts = WaitOpts & {
  /** Never wait: `{ index: -1, ok: false }` when no case is ready (Go's `default:`). */
  default?: boolean | undefined;
};

/**
 * What case `I` of a select returns when chosen: for `recv(ch)` on a `RecvChan<T>`,
 * `{ index: I, value: T, ok: true }` or, once the channel is closed and drained,
 * `{ index: I, value: undefined, ok: false }`; for a send case `{ index: I, ok: true }`; a nil
 * (`null`) case is never chosen.
 */
export type CaseResult<C, I extends number> = C extends RecvCase<infer T>
  ?
      | {
          /** The index of this case. */
          index: I;
          /** The value received. */
          value: T;
          /** The channel was open. */
          ok: true;
        }
      | {
          /** The index of this case. */
          index: I;
          /** Nothing was received. */
          value: undefined;
          /** The channel is closed and drained. */
          ok: false;
        }
  : C extends SendCase<any>
    ? {
        /** The index of this case. */
        index: I;
        /** A send case receives nothing. */
        value?: undefined;
        /** The value was sent. */
        ok: true;
      }
    : never;

/** The result of the `default` of a select that has one: `{ index: -1, ok: false }`. */
export type DefaultResult = {
  /** -1: no case was ready. */
  index: -1;
  /** Nothing was received. */
  value?: undefined;
  /** Always false. */
  ok: false;
};

/**
 * What `select(cases, opts)` resolves to: a union of the cases' {@link CaseResult}s,
 * discriminated by `index` (with a tuple of cases, each `index` is a literal and its `value`
 * has that case's type), plus {@link DefaultResult} when `opts.default` may be true. Always
 * assignable to {@link Selected}.
 */
export type SelectResult<C extends readonly Case[], O = undefined> =
  | { [K in keyof C]: CaseResult<C[K], K extends `${infer I extends number}` ? I : number> }[number]
  | (O extends object ? ('default' extends keyof O ? (true extends O['default' & keyof O] ? DefaultResult : never) : never) : never);

function asChan(ch: unknown, what: string): Chan<any> {
  if (!Chan._is(ch)) throw new TypeError(`${what}: ch must be a Chan`);
  return ch;
}

/**
 * A receive case for `select`. Throws `MisuseError` for a `sendOnly()` view (Go's "receive
 * from send-only channel").
 */
export function recv<T>(ch: RecvChan<T>): RecvCase<T> {
  asChan(ch, 'recv')._checkRecv();
  return new RecvCaseImpl(ch);
}

// The cases are class instances with the brand on the prototype: an object literal with a
// computed symbol key is built through a runtime call in V8, several times the cost of a
// constructor, and `recv(ch)` runs on every select of a loop.
class RecvCaseImpl<T> {
  declare readonly [CASE]: 'recv';
  constructor(readonly ch: RecvChan<T>) {}
}
Object.defineProperty(RecvCaseImpl.prototype, CASE, { value: 'recv' });

class SendCaseImpl<T> {
  declare readonly [CASE]: 'send';
  constructor(
    readonly ch: SendChan<T>,
    readonly payload: unknown,
    readonly refs: Handle[] | undefined,
  ) {}
}
Object.defineProperty(SendCaseImpl.prototype, CASE, { value: 'send' });

/**
 * A send case for `select`. The value is checked (and encoded) now: a value that cannot be
 * sent throws here (`DataCloneError`, `TypeError`, `RangeError`), and so does a channel that
 * cannot be sent on (`MisuseError`: a `recvOnly()` view, `timer.c`, `ctx.done()`).
 */
export function send<T>(ch: SendChan<T>, value: T): SendCase<T> {
  const c = asChan(ch, 'send');
  c._checkSend('send');
  const payload = c._enc(value);
  const refs = lastEncRefs();
  // Structured payloads are copied out of the scratch area (reused by the next encode).
  const p = typeof payload === 'number' && c._elemCode === 0 ? scratch().slice(0, payload) : payload;
  return new SendCaseImpl(ch, p, refs);
}

interface Prepared {
  cases: Case[];
  handles: (Handle | null)[];
  /** bit i: case i is a send (up to 52 cases), else one boolean per case */
  mask: number | boolean[];
  values: unknown[] | undefined;
  refs: (Handle[] | undefined)[] | undefined;
  /** Every case's ring when each non-nil case is on a buffered numeric channel (null: nil case). */
  rings: (Ring | null)[] | undefined;
}

function prepare(cases: unknown): Prepared {
  if (!Array.isArray(cases)) throw new TypeError('cases must be an array');
  const n = cases.length;
  const handles = new Array<Handle | null>(n);
  let mask: number | boolean[] = n <= MASK_MAX ? 0 : new Array<boolean>(n).fill(false);
  let values: unknown[] | undefined;
  let refs: (Handle[] | undefined)[] | undefined;
  let rings: (Ring | null)[] | undefined = new Array<Ring | null>(n);
  for (let i = 0; i < n; i++) {
    const c = cases[i] as Case | undefined;
    if (c === null) {
      handles[i] = null;
      if (rings !== undefined) rings[i] = null;
      continue;
    }
    if (typeof c !== 'object' || c === undefined || (c[CASE] !== 'recv' && c[CASE] !== 'send')) {
      throw new TypeError(`cases[${i}] must be a recv() or send() case or null`);
    }
    handles[i] = (c.ch as Chan<any>)._h;
    if (rings !== undefined) {
      const r = (c.ch as Chan<any>)._ring;
      if (r === null || r.elem === Elem.Structured) rings = undefined;
      else rings[i] = r;
    }
    if (c[CASE] === 'send') {
      if (typeof mask === 'number') mask += 2 ** i;
      else mask[i] = true;
      values ??= new Array(n);
      refs ??= new Array(n);
      values[i] = c.payload;
      refs[i] = c.refs;
    }
  }
  return { cases: cases as Case[], handles, mask, values, refs, rings };
}

/**
 * Tries every case from JavaScript (lib/chan/ring.ts) when all of them are buffered numeric
 * channels, in a uniformly random order as native select does; the first that proceeds, or is
 * on a closed channel ({@link tryOne}: a send case throws), is the one performed. undefined:
 * none was ready (or contended), and native select decides and waits.
 */
function tryRings(p: Prepared): Selected | undefined {
  const rings = p.rings!;
  const n = rings.length;
  if (n <= 2) {
    // Two orders, each equally likely: a random start is a random permutation.
    const start = Math.random() < 0.5 ? 0 : n - 1;
    for (let k = 0; k < n; k++) {
      const i = (start + k) % n;
      const r = tryOne(p.cases[i]!, rings[i] ?? null, i);
      if (r !== undefined) return r === BAIL ? undefined : r;
    }
    return undefined;
  }
  const order = Array.from({ length: n }, (_, i) => i);
  for (let k = n - 1; k > 0; k--) {
    const j = Math.floor(Math.random() * (k + 1));
    const t = order[k]!;
    order[k] = order[j]!;
    order[j] = t;
  }
  for (let k = 0; k < n; k++) {
    const i = order[k]!;
    const r = tryOne(p.cases[i]!, rings[i] ?? null, i);
    if (r !== undefined) return r === BAIL ? undefined : r;
  }
  return undefined;
}


/**
 * The common select, tried before anything is allocated: one or two cases (nil cases allowed),
 * no options, every channel a buffered numeric one (lib/chan/ring.ts). Both orders are equally
 * likely, as tryRings; a case on a closed channel counts as ready ({@link tryOne}: a send case
 * throws). undefined: anything else, or nothing ready; the full path then checks the cases,
 * tries again and decides natively.
 */
function tryFast(cases: readonly Case[]): Selected | undefined {
  const n = cases.length;
  if (n > 2 || n === 0) return undefined;
  const c0 = cases[0];
  const c1 = n === 2 ? cases[1] : null;
  const r0 = fastRing(c0);
  if (r0 === undefined) return undefined;
  const r1 = fastRing(c1);
  if (r1 === undefined) return undefined;
  // `??` stops at BAIL (0): the full path decides.
  const r = Math.random() < 0.5 ? tryOne(c0, r0, 0) ?? tryOne(c1, r1, 1) : tryOne(c1, r1, 1) ?? tryOne(c0, r0, 0);
  return r === BAIL ? undefined : r;
}

/** The ring of a case the fast path can try (null for a nil case); undefined: the full path. */
function fastRing(c: Case | undefined): Ring | null | undefined {
  if (c === null) return null;
  if (!(c instanceof RecvCaseImpl || c instanceof SendCaseImpl)) return undefined;
  const r = (c.ch as Chan<any>)._ring;
  if (r === null || r.elem === Elem.Structured) return undefined;
  return r;
}

/** What {@link tryOne} returns when the full path must decide after all. */
const BAIL = 0;

/**
 * Case `index` tried from JavaScript on its ring (null: a nil case, never ready). A case that
 * cannot proceed here may still be ready: on a closed channel (recv: ok false once drained;
 * send: an error), and then, being the first ready case in the random order, it is the one
 * performed ({@link takeClosed}). The closed bit is read only then: it sits in the tail word,
 * the line every sender writes, and reading it before each try cost a contended load per case
 * (selectSync over 2 chans fed by 2 producers: 145-153 -> 124-134 ns per value here).
 *
 * Ordering: Ring.closed() is a seq_cst Atomics.load of the tail, pairing with ring_close()'s
 * seq_cst fetch_or of the mark bit (ring.cc). Reading it clear after the failed try means the
 * close comes later in that order, so "not ready" was true at the load (the try and the load
 * together are the check, as native select's are under its locks); reading it set hands the
 * case to native code, which tells a value still buffered from a drained channel.
 */
function tryOne(c: Case, r: Ring | null, index: number): Selected | typeof BAIL | undefined {
  if (r === null || c === null) return undefined;
  if (c instanceof SendCaseImpl) {
    if (r.trySend(c.payload)) return { index, ok: true };
  } else {
    const v = r.tryRecv();
    if (v !== NONE) return { index, value: v, ok: true };
  }
  return r.closed() ? takeClosed(c as RecvCaseImpl<unknown> | SendCaseImpl<unknown>, index) ?? BAIL : undefined;
}

/**
 * Performs case `index`, on a closed channel: a send throws ClosedChannelError; a recv takes
 * a value still buffered, or reports ok: false once drained (native code tells which).
 * undefined: neither yet (a sender that claimed a slot before the close is still publishing).
 */
function takeClosed(c: RecvCaseImpl<unknown> | SendCaseImpl<unknown>, index: number): Selected | undefined {
  const ch = c.ch as Chan<any>;
  if (c instanceof SendCaseImpl) throw closedCase(ch, index);
  const t = ch.tryRecv();
  if (t.ok) return { index, value: t.value, ok: true };
  return t.closed === true ? { index, value: undefined, ok: false } : undefined;
}

function isSend(p: Prepared, i: number): boolean {
  return typeof p.mask === 'number' ? Math.floor(p.mask / 2 ** i) % 2 === 1 : p.mask[i] === true;
}

function parseSelectOpts(opts: unknown): { o: ReturnType<typeof parseOpts>; dflt: boolean } {
  if (opts !== undefined && (typeof opts !== 'object' || opts === null)) throw new TypeError('opts must be an object');
  const d = (opts as SelectOpts | undefined)?.default;
  if (d !== undefined && typeof d !== 'boolean') throw new TypeError('default must be a boolean');
  return { o: parseOpts(opts), dflt: d === true };
}

/** `send on closed channel 'jobs' (select case 2)`. */
function closedCase(ch: Chan<any>, index: number): ClosedChannelError {
  return new ClosedChannelError(`${closedMessage('send', ch.name)} (select case ${index})`);
}

/** Result of a select that finished synchronously (value in the sync form). */
function syncResult(p: Prepared, v: unknown, o: ReturnType<typeof parseOpts>): Selected {
  const code = status[StatusSlot.Code]!;
  const index = status[StatusSlot.SelectIndex]!;
  if (code === Code.WouldBlock) return { index: -1, ok: false };
  if (code === Code.Closed) {
    if (isSend(p, index)) throw closedCase(p.cases[index]!.ch as Chan<any>, index);
    return { index, value: undefined, ok: false };
  }
  if (code !== Code.Ok) throwForCode(code, o, 'select');
  if (isSend(p, index)) return { index, ok: true };
  return { index, value: (p.cases[index]!.ch as Chan<any>)._dec(v), ok: true };
}

/** Result of a select that was pending (its value decoded when it settled). */
function asyncResult(p: Prepared, r: Settled, o: ReturnType<typeof parseOpts>): Selected {
  const [code, index, v] = r;
  if (code === Code.Closed) {
    if (isSend(p, index)) throw closedCase(p.cases[index]!.ch as Chan<any>, index);
    return { index, value: undefined, ok: false };
  }
  if (code !== Code.Ok) throwForCode(code, o, 'select');
  if (isSend(p, index)) return { index, ok: true };
  return { index, value: v, ok: true };
}

/**
 * Go's `select`: waits until one case can proceed and performs exactly that one, chosen
 * uniformly at random among the ready ones. With `{ default: true }` it never waits
 * (`{ index: -1, ok: false }` when nothing is ready). A recv case on a closed channel
 * proceeds with `ok: false`; a send case on a closed channel rejects with `ClosedChannelError`.
 * The result is typed per case: narrowing on `index` gives that case's value type.
 *
 * @example
 * const jobs = new Chan<string>(8);
 * const quit = new Chan<void>();
 * const results = new Chan<number>(1);
 * const r = await select([recv(jobs), recv(quit), send(results, 42)], { timeout: 1000 });
 * if (r.index === 0 && r.ok) console.log('job', r.value); // r.value: string
 * else if (r.index === 1) console.log('quit');
 * else console.log('sent 42');
 */
export function select<const C extends readonly Case[], const O extends SelectOpts | undefined = undefined>(
  cases: C,
  opts?: O,
): Promise<SelectResult<C, O>>;
export function select(cases: readonly Case[], opts?: SelectOpts): Promise<Selected> {
  if (opts === undefined && Array.isArray(cases)) {
    let r: Selected | undefined;
    try {
      r = tryFast(cases);
    } catch (e) {
      return Promise.reject(e); // a send case on a closed channel
    }
    if (r !== undefined) return Promise.resolve(r);
  }
  const p = prepare(cases);
  const { o, dflt } = parseSelectOpts(opts);
  if (o.signal?.aborted) return Promise.reject(abortError(o.signal, 'select'));
  try {
    if (p.rings !== undefined) {
      const r = tryRings(p);
      if (r !== undefined) return Promise.resolve(r);
    }
    const r = native.select(p.handles, p.mask, p.values, p.refs, dflt ? SelectMode.Try : SelectMode.Async, -1);
    if (status[StatusSlot.Code] !== Code.Pending) return Promise.resolve(syncResult(p, r, o));
    const decode = (v: unknown, index: number): unknown => (p.cases[index]!.ch as Chan<any>)._dec(v);
    return awaitPending(opId(), o, decode).then((x) => asyncResult(p, x, o));
  } catch (e) {
    return Promise.reject(e);
  }
}

/** Blocking `select` for worker threads. */
export function selectSync<const C extends readonly Case[], const O extends SelectOpts | undefined = undefined>(
  cases: C,
  opts?: O,
): SelectResult<C, O>;
export function selectSync(cases: readonly Case[], opts?: SelectOpts): Selected {
  if (opts === undefined && Array.isArray(cases)) {
    const r = tryFast(cases);
    if (r !== undefined) return r;
  }
  const p = prepare(cases);
  const { o, dflt } = parseSelectOpts(opts);
  if (o.signal?.aborted) throw abortError(o.signal, 'select');
  if (p.rings !== undefined) {
    const r = tryRings(p);
    if (r !== undefined) return r;
  }
  const ctx = dflt ? undefined : contextOf(o.signal);
  const r = ctx !== undefined
    ? selectUntilDone(ctx, o.signal!, p.handles, p.mask, p.values, p.refs, o.timeout, 'select')
    : native.select(p.handles, p.mask, p.values, p.refs, dflt ? SelectMode.Try : SelectMode.Block, o.timeout);
  return syncResult(p, r, o);
}
