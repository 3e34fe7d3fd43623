/**
 * Go's timers and tickers (API.md §5), fired by one native timer thread, so a worker blocked
 * in `recvSync`/`selectSync` on a timer channel wakes on time.
 * @module
 */
import { Chan } from '../chan/chan.js';
import type { RecvChan } from '../chan/types.js';
import { CanceledError } from '../errors.js';
import { Kind, native, type Handle } from '../internal/native.js';
import { ADOPT, WeftObject, fromHandle, notA, registerKind, type Adopt } from '../internal/object.js';
import { abortError, parseOpts } from '../internal/options.js';
import { formatWeft, inspectSymbol } from '../inspect.js';
import type { InspectOptions } from 'node:util';

/** ms: any number but NaN; `ms <= 0` fires at once, `Infinity` never (no limit). */
function checkMs(ms: unknown, name = 'ms'): number {
  if (typeof ms !== 'number') throw new TypeError(`${name} must be a number`);
  if (Number.isNaN(ms)) throw new RangeError(`${name} must not be NaN`);
  return ms;
}

/** A ticker's period: positive (Infinity: a ticker that never ticks). */
function checkPeriod(ms: unknown): number {
  checkMs(ms);
  if ((ms as number) <= 0) throw new RangeError(`ms must be positive for a ticker, got ${ms}`);
  return ms as number;
}

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
  readonly #timer = true;

  /**
   * @param ms delay in ms: `<= 0` fires at once (the value is receivable when the constructor
   *   returns), `Infinity` never fires; NaN throws `RangeError`.
   */
  constructor(ms: number);
  /** @internal wraps the existing timer handle `h` (see lib/internal/object.ts). */
  constructor(adopt: Adopt, h: Handle);
  constructor(ms: number | Adopt, h?: Handle) {
    const adopted = ms === ADOPT;
    if (!adopted) checkMs(ms);
    const handle = adopted ? h! : native.timerNew(false);
    super(handle);
    this.c = fromHandle(Chan<number>, native.timerChan(handle));
    if (!adopted) native.timerReset(handle, ms, 0);
  }

  /** @internal whether x is a Timer made by this class. */
  static _is(x: unknown): x is Timer {
    return typeof x === 'object' && x !== null && #timer in x;
  }

  /** Stops the timer; true if it had not fired yet or its value was never received (now discarded). */
  stop(): boolean {
    if (!Timer._is(this)) throw notA('Timer', 'stop');
    return native.timerStop(this._h);
  }

  /**
   * Re-arms the timer for `ms` from now (`<= 0`: fires at once, `Infinity`: never); returns
   * what `stop()` would have.
   */
  reset(ms: number): boolean {
    if (!Timer._is(this)) throw notA('Timer', 'reset');
    checkMs(ms);
    return native.timerReset(this._h, ms, 0);
  }

  /** `util.inspect`: `Timer { active: true, ready: false }` (`ready`: a value waits in `c`). */
  [inspectSymbol](depth: number, options: InspectOptions): string {
    if (!Timer._is(this)) return 'Timer {}';
    const [active, , ready] = native.timerState(this._h);
    return formatWeft('Timer', undefined, { active, ready }, depth, options);
  }
}

/**
 * Go's `time.Ticker`: `c` receives the tick time every `ms`. A slow receiver skips ticks:
 * at most one tick waits in the channel, never a burst.
 */
export class Ticker extends WeftObject {
  /** Receives the tick times. */
  readonly c: RecvChan<number>;
  readonly #ticker = true;

  /** @param ms period in ms, `> 0` (`Infinity`: never ticks); `<= 0` or NaN throws `RangeError`. */
  constructor(ms: number);
  /** @internal wraps the existing ticker handle `h` (see lib/internal/object.ts). */
  constructor(adopt: Adopt, h: Handle);
  constructor(ms: number | Adopt, h?: Handle) {
    const adopted = ms === ADOPT;
    if (!adopted) checkPeriod(ms);
    const handle = adopted ? h! : native.timerNew(true);
    super(handle);
    this.c = fromHandle(Chan<number>, native.timerChan(handle));
    if (!adopted) native.timerReset(handle, ms, ms);
  }

  /** @internal whether x is a Ticker made by this class. */
  static _is(x: unknown): x is Ticker {
    return typeof x === 'object' && x !== null && #ticker in x;
  }

  /** Stops the ticker; no tick from before it is received afterwards. */
  stop(): void {
    if (!Ticker._is(this)) throw notA('Ticker', 'stop');
    native.timerStop(this._h);
  }

  /** Restarts the ticker (also a stopped one) with period `ms > 0`. */
  reset(ms: number): void {
    if (!Ticker._is(this)) throw notA('Ticker', 'reset');
    checkPeriod(ms);
    native.timerReset(this._h, ms, ms);
  }

  /** `util.inspect`: `Ticker { active: true, period: 100, ready: false }`. */
  [inspectSymbol](depth: number, options: InspectOptions): string {
    if (!Ticker._is(this)) return 'Ticker {}';
    const [active, period, ready] = native.timerState(this._h);
    return formatWeft('Ticker', undefined, { active, period, ready }, depth, options);
  }
}

/** Go's `time.After`: a channel that receives the time once, `ms` from now (`Infinity`: never). */
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
    // false: the value was received (only our own receive takes it), so that receive is done
    // even if its callback has not run yet (afterFunc(0, fn).reset(10) in one turn); fn runs
    // for it, and the new fire needs a receive of its own. true: the pending receive gets it.
    if (!r || this.#ac === undefined) this.#arm();
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

/**
 * Waits `ms` (on the native timer thread); `Infinity` waits until `signal` aborts. Rejects like
 * any wait when `signal` aborts.
 */
export function sleep(ms: number, opts?: { signal?: AbortSignal | undefined }): Promise<void> {
  checkMs(ms);
  const o = parseOpts(opts);
  if (o.signal?.aborted) return Promise.reject(abortError(o.signal, 'sleep'));
  const t = new Timer(ms);
  return t.c.recv({ signal: o.signal }).then(
    () => undefined,
    (e: unknown) => {
      t.stop();
      throw o.signal?.aborted ? abortError(o.signal, 'sleep') : e;
    },
  );
}

const sleeper = new Int32Array(new SharedArrayBuffer(4));

/** Blocks the calling thread for `ms` (`Infinity`: forever). */
export function sleepSync(ms: number): void {
  checkMs(ms);
  if (ms <= 0) return;
  const hook = syncWaitHook;
  hook?.(true);
  try {
    Atomics.wait(sleeper, 0, 0, ms);
  } finally {
    hook?.(false);
  }
}

let syncWaitHook: ((waiting: boolean) => void) | undefined;

/**
 * @internal Called with `true` before `sleepSync` blocks its thread and `false` after: a pool
 * thread (lib/runtime/worker.ts) reports it to the pool manager, which hands the thread's work
 * to another as for a `*Sync` call that waits in native code.
 */
export function setSyncWaitHook(fn: ((waiting: boolean) => void) | undefined): void {
  syncWaitHook = fn;
}

/** @internal diagnostics: [entries in the timer heap, whether the timer thread runs]. */
export function timerStats(): { pending: number; threadRunning: boolean } {
  const [pending, threadRunning] = native.timerStats();
  return { pending, threadRunning };
}

registerKind(Kind.Timer, Timer);
registerKind(Kind.Ticker, Ticker);
