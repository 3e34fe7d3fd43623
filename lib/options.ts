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
} from './errors.js';
import { Code, native, type AsyncResult } from './native.js';
import { signalSources } from './signals.js';

/** Options of every waiting operation. */
export interface WaitOpts {
  /** Abort the wait; the operation then has no effect. */
  signal?: AbortSignal;
  /** Give up after this many milliseconds with `TimeoutError`; the operation has no effect. */
  timeout?: number;
}

export interface ParsedOpts {
  signal: AbortSignal | undefined;
  /** ms, or -1 for none */
  timeout: number;
}

const NONE: ParsedOpts = { signal: undefined, timeout: -1 };

/** Validates opts; throws TypeError/RangeError naming the bad option. */
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

/** The error an aborted signal turns into (API.md §0). */
export function abortError(signal: AbortSignal): Error {
  const r: unknown = signal.reason;
  if (r instanceof CanceledError || r instanceof DeadlineExceededError) return r;
  return new CanceledError('operation canceled', { cause: r });
}

/** Throws for the codes that are failures of a wait. */
export function throwForCode(code: number, o: ParsedOpts): never {
  switch (code) {
    case Code.Timeout:
      throw new TimeoutError(`operation timed out after ${o.timeout} ms`);
    case Code.Canceled:
      throw o.signal ? abortError(o.signal) : new CanceledError();
    case Code.Stopped:
      throw new CanceledError('thread is shutting down');
    case Code.Closed:
      throw new ClosedChannelError();
    case Code.Deadlock:
      throw new DeadlockError(`deadlock: ${native.lastError()}`);
    case Code.Misuse:
      throw new MisuseError();
    default:
      throw new Error(`weft: unexpected result code ${code}`);
  }
}

/**
 * Waits for a pending native op, withdrawing it on timeout or abort. A withdrawn op had no
 * effect; if a peer completed it first, the completion wins and is reported.
 */
export function awaitPending(
  p: Promise<AsyncResult>,
  id: number,
  o: ParsedOpts,
): Promise<AsyncResult> {
  if (o.signal === undefined && o.timeout < 0) return p;
  // What else can end the op (API.md §9, native/deadlock.cc): a context's done channel, or
  // an ordinary signal (anyone may abort it: never reported as asleep).
  if (o.signal !== undefined) native.opDepends(id, signalSources.get(o.signal)?.done() ?? null);
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
