/**
 * Validation of the `{ signal, timeout }` options every waiting operation takes, and the
 * mapping of native result codes to weft's errors.
 * @internal
 * @module
 */
import {
  CanceledError,
  ClosedChannelError,
  DeadlineExceededError,
  DeadlockError,
  MisuseError,
  TimeoutError,
} from '../errors.js';
import { Code, native, pending, type Settled } from './native.js';
import { contextOf } from './signals.js';

/** Options of every waiting operation. */
export interface WaitOpts {
  /** Abort the wait; the operation then has no effect. */
  signal?: AbortSignal | undefined;
  /** Give up after this many milliseconds with `TimeoutError`; the operation has no effect. */
  timeout?: number | undefined;
}

/** @internal validated wait options */
export interface ParsedOpts {
  signal: AbortSignal | undefined;
  /** ms, or -1 for none */
  timeout: number;
}

const NONE: ParsedOpts = { signal: undefined, timeout: -1 };

/** @internal Validates opts; throws TypeError/RangeError naming the bad option. */
export function parseOpts(opts: unknown, name = 'opts'): ParsedOpts {
  if (opts === undefined) return NONE;
  if (typeof opts !== 'object' || opts === null) {
    throw new TypeError(`${name} must be an object`);
  }
  const { signal, timeout } = opts as WaitOpts;
  if (signal !== undefined && !(signal instanceof AbortSignal)) {
    throw new TypeError('signal must be an AbortSignal');
  }
  let t = -1;
  if (timeout !== undefined) {
    if (typeof timeout !== 'number') throw new TypeError('timeout must be a number');
    if (Number.isNaN(timeout) || timeout < 0) {
      throw new RangeError(`timeout must be a non-negative number of ms, got ${timeout}`);
    }
    t = timeout === Infinity ? -1 : timeout;
  }
  if (signal === undefined && t < 0) return NONE;
  return { signal, timeout: t };
}

/**
 * `" on 'name'"` for a named object, else `""`: the part of a message that names the object.
 * @internal
 */
export function onName(name: string | undefined): string {
  return name ? ` on ${quote(name)}` : '';
}

function quote(name: string): string {
  return `'${name}'`;
}

/**
 * `"send on closed channel 'jobs'"`-style messages (the name omitted when unset).
 * @internal
 */
export function closedMessage(op: 'send' | 'close', name: string | undefined): string {
  const base = op === 'send' ? 'send on closed channel' : 'close of closed channel';
  return name ? `${base} ${quote(name)}` : base;
}

/**
 * The error an aborted signal turns into (API.md §0): the reason itself when it is a weft
 * `CanceledError`/`DeadlineExceededError`, else a `CanceledError` naming the operation
 * (`"recv on 'jobs' canceled"`) whose `cause` is the reason.
 * @internal
 */
export function abortError(signal: AbortSignal, op = 'operation', name?: string): Error {
  const r: unknown = signal.reason;
  if (r instanceof CanceledError || r instanceof DeadlineExceededError) return r;
  return new CanceledError(`${op}${onName(name)} canceled`, { cause: r });
}

/**
 * Throws for the codes that are failures of a wait. `op` (`'recv'`, `'send'`, `'select'`,
 * `'lock'`, ...) and `name` (the object's name, if any) make the message:
 * `"recv on 'jobs' timed out after 10 ms"`, `"send on closed channel 'jobs'"`.
 * @internal
 */
export function throwForCode(code: number, o: ParsedOpts, op = 'operation', name?: string): never {
  switch (code) {
    case Code.Timeout:
      throw new TimeoutError(`${op}${onName(name)} timed out after ${o.timeout} ms`);
    case Code.Canceled:
      throw o.signal ? abortError(o.signal, op, name) : new CanceledError(`${op}${onName(name)} canceled`);
    case Code.Stopped:
      throw new CanceledError(`${op}${onName(name)} canceled: thread is shutting down`);
    case Code.Closed:
      throw new ClosedChannelError(closedMessage(op === 'close' ? 'close' : 'send', name));
    case Code.Deadlock:
      throw new DeadlockError(`deadlock: ${native.lastError()}`);
    case Code.Misuse:
      throw new MisuseError(`${op}${onName(name)}: misuse`);
    default:
      throw new Error(`weft: unexpected result code ${code}`);
  }
}

/**
 * @internal
 * Waits for pending native op `id` (see `pending`), withdrawing it on timeout or abort. A withdrawn op had no
 * effect; if a peer completed it first, the completion wins and is reported.
 */
export function awaitPending(
  id: number,
  o: ParsedOpts,
  decode?: (v: unknown, index: number) => unknown,
): Promise<Settled> {
  const p = pending(id, decode);
  if (o.signal === undefined && o.timeout < 0) return p;
  // What else can end the op (API.md §9, native/deadlock.cc): a context's done channel, or
  // an ordinary signal (anyone may abort it: never reported as asleep).
  if (o.signal !== undefined) native.opDepends(id, contextOf(o.signal)?.done() ?? null);
  let timer: NodeJS.Timeout | undefined;
  const onAbort = (): void => {
    native.cancel(id, Code.Canceled);
  };
  if (o.timeout >= 0) {
    // setTimeout caps at 2^31-1 ms (longer fires at once): re-arm until the deadline.
    const deadline = Date.now() + o.timeout;
    const arm = (ms: number): void => {
      timer = setTimeout(() => {
        const left = deadline - Date.now();
        if (left > 0) arm(left);
        else native.cancel(id, Code.Timeout);
      }, Math.min(ms, 0x7fffffff));
    };
    arm(o.timeout);
  }
  o.signal?.addEventListener('abort', onAbort, { once: true });
  return p.finally(() => {
    if (timer !== undefined) clearTimeout(timer);
    o.signal?.removeEventListener('abort', onAbort);
  });
}
