/**
 * Go's timers and tickers (API.md §5), fired by one native timer thread, so a worker blocked
 * in `recvSync`/`selectSync` on a timer channel wakes on time.
 * @module
 */
import { Chan, type RecvChan } from './chan.js';
import { CanceledError } from './errors.js';
import { Kind, native, type Handle } from './native.js';
import { WeftObject, registerKind } from './object.js';
import { abortError, parseOpts } from './options.js';

function checkMs(ms: unknown, name = 'ms'): number {
  if (typeof ms !== 'number') throw new TypeError(`${name} must be a number`);
  if (Number.isNaN(ms) || ms === Infinity || ms === -Infinity) throw new RangeError(`${name} must be finite, got ${ms}`);
  return ms;
}

function checkPeriod(ms: unknown): number {
  checkMs(ms);
  if ((ms as number) <= 0) throw new RangeError(`ms must be positive for a ticker, got ${ms}`);
  return ms as number;
}

let adopting: Handle | undefined;
let adoptingTicker: Handle | undefined;

/**
 * Go's `time.Timer`: `c` receives the fire time (ms since the epoch) once, `ms` from now
 * (`ms <= 0` fires at once). Go 1.23 semantics: after `stop()` or `reset()` returns, no value
 * from before it can be received.
 *
 * @example
 * const t = new Timer(50);
 * const at = await t.c.recv();
 */
export class Timer extends WeftObject {
  /** Receives the fire time. */
  readonly c: RecvChan<number>;

  constructor(ms: number) {
    const h = adopting;
    adopting = undefined;
    if (h === undefined) checkMs(ms);
    const handle = h ?? native.timerNew(false);
    super(handle);
    this.c = Chan._adopt(native.timerChan(handle)) as Chan<number>;
    if (h === undefined) native.timerReset(handle, ms, 0);
  }

  /** @internal */
  static _adopt(h: Handle): Timer {
    adopting = h;
    return new Timer(0);
  }

  /** Stops the timer; true if it had not fired yet or its value was never received (now discarded). */
  stop(): boolean {
    return native.timerStop(this._h);
  }

  /** Re-arms the timer for `ms` from now; returns what `stop()` would have. */
  reset(ms: number): boolean {
    checkMs(ms);
    return native.timerReset(this._h, ms, 0);
  }
}

/**
 * Go's `time.Ticker`: `c` receives the tick time every `ms`. A slow receiver skips ticks:
 * at most one tick waits in the channel, never a burst.
 */
export class Ticker extends WeftObject {
  /** Receives the tick times. */
  readonly c: RecvChan<number>;

  constructor(ms: number) {
    const adopted = adoptingTicker;
    adoptingTicker = undefined;
    if (adopted === undefined) checkPeriod(ms);
    const h = adopted ?? native.timerNew(true);
    super(h);
    this.c = Chan._adopt(native.timerChan(h)) as Chan<number>;
    if (adopted === undefined) native.timerReset(h, ms, ms);
  }

  /** @internal */
  static _adopt(h: Handle): Ticker {
    adoptingTicker = h;
    return new Ticker(1);
  }

  /** Stops the ticker; no tick from before it is received afterwards. */
  stop(): void {
    native.timerStop(this._h);
  }

  /** Restarts the ticker (also a stopped one) with period `ms > 0`. */
  reset(ms: number): void {
    checkPeriod(ms);
    native.timerReset(this._h, ms, ms);
  }
}

/** Go's `time.After`: a channel that receives the time once, `ms` from now. */
export function after(ms: number): RecvChan<number> {
  return new Timer(ms).c;
}

class FuncTimer extends Timer {
  #fn: () => void;
  #ac: AbortController | undefined;

  constructor(ms: number, fn: () => void) {
    super(ms);
    this.#fn = fn;
    this.#arm();
  }

  #arm(): void {
    const ac = new AbortController();
    this.#ac = ac;
    this.c.recv({ signal: ac.signal }).then(
      () => {
        if (this.#ac === ac) this.#ac = undefined;
        this.#fn();
      },
      (e: unknown) => {
        if (!(e instanceof CanceledError)) throw e;
      },
    );
  }

  override stop(): boolean {
    const r = super.stop();
    this.#ac?.abort();
    this.#ac = undefined;
    return r;
  }

  override reset(ms: number): boolean {
    const r = super.reset(ms);
    if (this.#ac === undefined) this.#arm();
    return r;
  }
}

/**
 * Go's `time.AfterFunc`: runs `fn` on this thread's event loop `ms` from now, unless stopped.
 * Returns the Timer (its `c` is used internally; do not receive from it).
 */
export function afterFunc(ms: number, fn: () => void): Timer {
  checkMs(ms);
  if (typeof fn !== 'function') throw new TypeError('fn must be a function');
  return new FuncTimer(ms, fn);
}

/** Waits `ms` (on the native timer thread). Rejects like any wait when `signal` aborts. */
export function sleep(ms: number, opts?: { signal?: AbortSignal }): Promise<void> {
  checkMs(ms);
  const o = parseOpts(opts);
  if (o.signal?.aborted) return Promise.reject(abortError(o.signal));
  const t = new Timer(ms);
  return t.c.recv({ signal: o.signal }).then(
    () => undefined,
    (e: unknown) => {
      t.stop();
      throw e;
    },
  );
}

const sleeper = new Int32Array(new SharedArrayBuffer(4));

/** Blocks the calling thread for `ms`. */
export function sleepSync(ms: number): void {
  checkMs(ms);
  if (ms > 0) Atomics.wait(sleeper, 0, 0, ms);
}

/** @internal diagnostics: [entries in the timer heap, whether the timer thread runs]. */
export function timerStats(): { pending: number; threadRunning: boolean } {
  const [pending, threadRunning] = native.timerStats();
  return { pending, threadRunning };
}

registerKind(Kind.Timer, (h) => Timer._adopt(h));
registerKind(Kind.Ticker, (h) => Ticker._adopt(h));
