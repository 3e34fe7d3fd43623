/**
 * `Monitor` (API.md §8): the book's request monitor. It runs calls of one function on the
 * calling thread and guards them: too many in flight → `BusyError` at once; too slow →
 * `TimeoutError`; slower than the alert threshold → a value on `alerts`, a channel any thread
 * may receive from.
 * @module
 */
import { Chan } from '../chan/chan.js';
import type { RecvChan } from '../chan/types.js';
import { BusyError, ClosedChannelError, TimeoutError } from '../errors.js';
import { nowMs } from './heartbeat.js';

/** Options of {@link Monitor}. */
export interface MonitorOptions {
  /** ms after which a call rejects with `TimeoutError` (> 0; `Infinity`: never). */
  callTimeout: number;
  /** ms after which a call still running sends an alert (> 0; `Infinity`: never). */
  alertTimeout: number;
  /** Calls allowed in flight at once (an integer >= 1); one more gets `BusyError`. */
  maxActive: number;
}

/** The longest delay setTimeout takes; longer ones are treated as "never". */
const MAX_DELAY = 2 ** 31 - 1;
const ALERTS_CAPACITY = 64;

function positive(v: unknown, name: string): number {
  if (typeof v !== 'number' || Number.isNaN(v)) throw new TypeError(`${name} must be a number`);
  if (!(v > 0)) throw new RangeError(`${name} must be > 0, got ${v}`);
  return v;
}

/**
 * The book's request monitor: guards calls of `fn` with a limit on calls in flight, a call
 * timeout and an alert for slow calls.
 *
 * - `call(req)` rejects with `BusyError` at once (without calling `fn`) while `maxActive` calls
 *   are in flight.
 * - A call that has not settled after `callTimeout` ms rejects with `TimeoutError`; its slot is
 *   free from then on, and the `AbortSignal` given to `fn` as second argument aborts (with that
 *   error as reason) so `fn` can stop its work.
 * - A call still running after `alertTimeout` ms sends one value on `alerts`: the ms it had been
 *   running at that moment (>= `alertTimeout`). `alerts` buffers 64 values; alerts that find it
 *   full are dropped (a monitor never waits for its reader).
 *
 * `fn` runs on the thread that calls `call()`; `alerts` is a weft channel that any thread may
 * receive from.
 *
 * @example
 * const m = new Monitor({ callTimeout: 1000, alertTimeout: 200, maxActive: 10 }, (req: string) => fetchIt(req));
 * (async () => { for await (const ms of m.alerts) console.warn(`a request is slow: ${ms} ms`); })();
 * try { await m.call('x'); } catch (e) { if (e instanceof BusyError) ... }
 */
export class Monitor<Req, Rsp> {
  /** One value (ms the call had been running) per call still running after `alertTimeout`; closed by `close()`. */
  readonly alerts: RecvChan<number>;
  readonly #alerts: Chan<number, 'f64'>;
  readonly #fn: (req: Req, signal: AbortSignal) => Rsp | Promise<Rsp>;
  readonly #callTimeout: number;
  readonly #alertTimeout: number;
  readonly #maxActive: number;
  #active = 0;
  #closed = false;

  /**
   * @param opts `callTimeout`, `alertTimeout` (ms) and `maxActive` (see the class)
   * @param fn the function each call runs: `fn(req, signal)`; `signal` aborts when the call times out
   */
  constructor(opts: MonitorOptions, fn: (req: Req, signal: AbortSignal) => Rsp | Promise<Rsp>) {
    if (typeof opts !== 'object' || opts === null) throw new TypeError('opts must be an object');
    this.#callTimeout = positive(opts.callTimeout, 'callTimeout');
    this.#alertTimeout = positive(opts.alertTimeout, 'alertTimeout');
    const max = opts.maxActive;
    if (typeof max !== 'number' || Number.isNaN(max)) throw new TypeError('maxActive must be a number');
    if (!Number.isInteger(max) || max < 1) throw new RangeError(`maxActive must be an integer >= 1, got ${max}`);
    this.#maxActive = max;
    if (typeof fn !== 'function') throw new TypeError('fn must be a function');
    this.#fn = fn;
    this.#alerts = new Chan<number, 'f64'>(ALERTS_CAPACITY, { elem: 'f64', name: 'monitor alerts' });
    this.alerts = this.#alerts.recvOnly();
  }

  /** Calls in flight now. */
  get active(): number {
    return this.#active;
  }

  /** Whether `close()` was called. */
  get closed(): boolean {
    return this.#closed;
  }

  /**
   * Runs `fn(req)`: resolves with its result, rejects with its error, with `BusyError` at once
   * when `maxActive` calls are in flight, with `TimeoutError` after `callTimeout` ms, with
   * `ClosedChannelError` after `close()`.
   */
  call(req: Req): Promise<Rsp> {
    if (this.#closed) return Promise.reject(new ClosedChannelError('Monitor.call: the monitor is closed'));
    if (this.#active >= this.#maxActive) {
      return Promise.reject(new BusyError(`Monitor.call: busy (${this.#maxActive} calls in flight)`));
    }
    this.#active++;
    const started = nowMs();
    const ac = new AbortController();
    let done = false;
    let callTimer: ReturnType<typeof setTimeout> | undefined;
    let alertTimer: ReturnType<typeof setTimeout> | undefined;
    return new Promise<Rsp>((resolve, reject) => {
      const end = (): boolean => {
        if (done) return false;
        done = true;
        this.#active--;
        if (callTimer !== undefined) clearTimeout(callTimer);
        if (alertTimer !== undefined) clearTimeout(alertTimer);
        return true;
      };
      const alert = (ms: number): void => {
        alertTimer = setTimeout(() => {
          alertTimer = undefined;
          if (done || this.#alerts.closed) return;
          // setTimeout runs on libuv's ms clock and may fire a fraction early on this one.
          const ran = nowMs() - started;
          if (ran < this.#alertTimeout) alert(this.#alertTimeout - ran);
          else this.#alerts.trySend(ran);
        }, ms);
        // A call in flight keeps the process alive through its call timer (or fn's own work).
        alertTimer.unref();
      };
      if (this.#alertTimeout <= MAX_DELAY) alert(this.#alertTimeout);
      if (this.#callTimeout <= MAX_DELAY) {
        callTimer = setTimeout(() => {
          callTimer = undefined;
          if (!end()) return;
          const e = new TimeoutError(`Monitor.call timed out after ${this.#callTimeout} ms`);
          ac.abort(e);
          reject(e);
        }, this.#callTimeout);
      }
      let r: Rsp | Promise<Rsp>;
      try {
        r = this.#fn(req, ac.signal);
      } catch (e) {
        if (end()) reject(e);
        return;
      }
      Promise.resolve(r).then(
        (v) => {
          if (end()) resolve(v);
        },
        (e: unknown) => {
          if (end()) reject(e);
        },
      );
    });
  }

  /** Closes `alerts` (a `for await` over it ends); later calls reject. Calls in flight run on. Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#alerts.close();
  }
}
