/**
 * Go's `select` over channel cases, across threads (API.md §2).
 * @module
 */
import { Chan, decodeAsync, lastEncRefs, type RecvChan, type SendChan } from './chan.js';
import { ClosedChannelError } from './errors.js';
import { Code, native, scratch, status, type AsyncResult, type Handle } from './native.js';
import { abortError, awaitPending, parseOpts, throwForCode, type WaitOpts } from './options.js';
import { signalSources } from './signals.js';

const CASE = Symbol('weft.case');

/** A receive case: `recv(ch)`. */
export interface RecvCase<T> {
  readonly [CASE]: 'recv';
  readonly ch: RecvChan<T>;
}
/** A send case: `send(ch, value)`. */
export interface SendCase<T> {
  readonly [CASE]: 'send';
  readonly ch: SendChan<T>;
  /** @internal encoded payload */
  readonly payload: unknown;
  /** @internal weft objects in the payload */
  readonly refs: Handle[] | undefined;
}
/** A select case, or `null` for a nil case that never proceeds. */
export type Case = RecvCase<any> | SendCase<any> | null;
/** What `select` chose: the case index (-1 for default), the value received, and `ok`. */
export type Selected = { index: number; value?: unknown; ok: boolean };
/** Options of `select`: wait options plus `default`. */
export type SelectOpts = WaitOpts & { default?: boolean };

function asChan(ch: unknown, what: string): Chan<any> {
  if (!(ch instanceof Chan)) throw new TypeError(`${what}: ch must be a Chan`);
  return ch;
}

/** A receive case for `select`. */
export function recv<T>(ch: RecvChan<T>): RecvCase<T> {
  asChan(ch, 'recv');
  return { [CASE]: 'recv', ch };
}

/**
 * A send case for `select`. The value is checked (and encoded) now: a value that cannot be
 * sent throws here (`DataCloneError`, `TypeError`, `RangeError`).
 */
export function send<T>(ch: SendChan<T>, value: T): SendCase<T> {
  const c = asChan(ch, 'send');
  const payload = c._enc(value);
  const refs = lastEncRefs();
  // Structured payloads are copied out of the scratch area (reused by the next encode).
  const p = typeof payload === 'number' && c._elemCode === 0 ? scratch().slice(0, payload) : payload;
  return { [CASE]: 'send', ch, payload: p, refs };
}

interface Prepared {
  handles: (Handle | null)[];
  ops: Int32Array;
  values: unknown[];
  refs: (Handle[] | undefined)[];
  chans: (Chan<any> | null)[];
}

function prepare(cases: unknown): Prepared {
  if (!Array.isArray(cases)) throw new TypeError('cases must be an array');
  const n = cases.length;
  const p: Prepared = { handles: new Array(n), ops: new Int32Array(n), values: new Array(n), refs: new Array(n), chans: new Array(n) };
  for (let i = 0; i < n; i++) {
    const c = cases[i] as Case | undefined;
    if (c === null) {
      p.ops[i] = -1;
      p.handles[i] = null;
      p.chans[i] = null;
      continue;
    }
    if (typeof c !== 'object' || c === undefined || (c[CASE] !== 'recv' && c[CASE] !== 'send')) {
      throw new TypeError(`cases[${i}] must be a recv() or send() case or null`);
    }
    const ch = c.ch as Chan<any>;
    p.chans[i] = ch;
    p.handles[i] = ch._h;
    if (c[CASE] === 'send') {
      p.ops[i] = 1;
      p.values[i] = c.payload;
      p.refs[i] = c.refs;
    }
  }
  return p;
}

function parseSelectOpts(opts: unknown): { o: ReturnType<typeof parseOpts>; dflt: boolean } {
  if (opts !== undefined && (typeof opts !== 'object' || opts === null)) throw new TypeError('opts must be an object');
  const d = (opts as SelectOpts | undefined)?.default;
  if (d !== undefined && typeof d !== 'boolean') throw new TypeError('default must be a boolean');
  return { o: parseOpts(opts), dflt: d === true };
}

function result(p: Prepared, r: AsyncResult, o: ReturnType<typeof parseOpts>): Selected {
  const [code, index, v] = r;
  if (code === Code.WouldBlock) return { index: -1, ok: false };
  if (code === Code.Closed) {
    if (p.ops[index] === 1) throw new ClosedChannelError();
    return { index, value: undefined, ok: false };
  }
  if (code !== Code.Ok) throwForCode(code, o);
  if (p.ops[index] === 1) return { index, ok: true };
  return { index, value: decodeAsync(p.chans[index]!._elemCode, v), ok: true };
}

/**
 * Go's `select`: waits until one case can proceed and performs exactly that one, chosen
 * uniformly at random among the ready ones. With `{ default: true }` it never waits
 * (`{ index: -1, ok: false }` when nothing is ready). A recv case on a closed channel
 * proceeds with `ok: false`; a send case on a closed channel rejects with `ClosedChannelError`.
 */
export function select(cases: Case[], opts?: SelectOpts): Promise<Selected> {
  const p = prepare(cases);
  const { o, dflt } = parseSelectOpts(opts);
  if (o.signal?.aborted) return Promise.reject(abortError(o.signal));
  try {
    const r = native.select(p.handles, p.ops, p.values, p.refs, dflt ? 0 : 2, -1);
    if (Array.isArray(r)) return Promise.resolve(result(p, r, o));
    return awaitPending(r, status[1]!, o).then((x) => result(p, x, o));
  } catch (e) {
    return Promise.reject(e);
  }
}

/** Blocking `select` for worker threads. */
export function selectSync(cases: Case[], opts?: SelectOpts): Selected {
  const p = prepare(cases);
  const { o, dflt } = parseSelectOpts(opts);
  if (o.signal?.aborted) throw abortError(o.signal);
  const src = o.signal !== undefined && !dflt ? signalSources.get(o.signal) : undefined;
  if (src !== undefined) {
    // A context's signal: also wait on its done channel (an extra, last case).
    const n = p.handles.length;
    const ops = new Int32Array(n + 1);
    ops.set(p.ops);
    const r = native.select([...p.handles, src.done()], ops, [...p.values, undefined], [...p.refs, undefined], 1, o.timeout) as AsyncResult;
    if (r[1] === n) throw src.err() ?? abortError(o.signal!);
    return result(p, r, o);
  }
  const r = native.select(p.handles, p.ops, p.values, p.refs, dflt ? 0 : 1, o.timeout) as AsyncResult;
  return result(p, r, o);
}
