/**
 * A token bucket shared by every thread holding it (golang.org/x/time/rate; API.md §8).
 * @module
 */
import type { InspectOptions } from 'node:util';
import { DeadlineExceededError, TimeoutError } from '../errors.js';
import { formatWeft, inspectSymbol } from '../inspect.js';
import { RateRes } from '../internal/abi.js';
import { Code, Kind, native, type Handle } from '../internal/native.js';
import { ADOPT, WeftObject, notA, registerKind, type Adopt } from '../internal/object.js';
import { parseOpts, type ParsedOpts, type WaitOpts } from '../internal/options.js';
import { contextOf } from '../internal/signals.js';
import { Timer } from '../time/time.js';
import { RESOLVED, canceled, doneOf, label, nameOf, objName, syncResult, type SyncOptions } from './common.js';

const KIND = 'rate limiter';

/** What `reserve()` returns: whether the tokens were reserved, and how long to wait before acting. */
export interface RateReservation {
  /**
   * Whether the tokens were reserved. False only when they can never be available (rate 0 and
   * too few tokens); then `delayMs` is `Infinity` and `cancel()` does nothing.
   */
  readonly ok: boolean;
  /** How long the holder must wait before acting, in ms from the `reserve()` call (0: act now). */
  readonly delayMs: number;
  /**
   * The holder will not act: gives the tokens back, as far as later reservations allow
   * (x/time/rate's `Reservation.Cancel`). Does nothing once the time to act has passed, and
   * after the first call.
   */
  cancel(): void;
}

function checkRate(r: unknown): number {
  if (typeof r !== 'number') throw new TypeError('ratePerSec must be a number');
  if (Number.isNaN(r) || r < 0) throw new RangeError(`ratePerSec must be a number >= 0 (or Infinity), got ${r}`);
  return r;
}

function checkInt(v: unknown, name: string): number {
  if (typeof v !== 'number') throw new TypeError(`${name} must be a number`);
  if (!Number.isInteger(v) || v < 0 || v > Number.MAX_SAFE_INTEGER) {
    throw new RangeError(`${name} must be an integer >= 0, got ${v}`);
  }
  return v;
}

/** A reservation as native returns it: [RateRes, tokens, timeToActNs, atNs, limit]. */
type Raw = [res: number, tokens: number, timeToActNs: number, atNs: number, limit: number];

const NOT_OK: RateReservation = Object.freeze({ ok: false, delayMs: Infinity, cancel(): void {} });

/**
 * A token bucket (golang.org/x/time/rate's `Limiter`) in shared memory: every thread holding it
 * (through a channel, `go()` arguments, `share()`/`attach()`) takes from the same bucket. It
 * holds up to `burst` tokens, starts full and refills at `ratePerSec` tokens per second;
 * `Infinity` allows everything (burst ignored). Asking for more than `burst` tokens at once
 * throws `RangeError` from every method (unless the rate is `Infinity`).
 *
 * @example
 * const limiter = new RateLimiter(10, 5);   // 10 per second, bursts of 5
 * await limiter.wait();                     // in any thread that holds it
 * if (limiter.allow()) handle(request); else drop(request);
 */
export class RateLimiter extends WeftObject {
  readonly #brand = true;
  #clock: (() => number) | undefined;

  /**
   * @param ratePerSec tokens added per second: a number >= 0, or `Infinity`
   * @param burst the bucket's size: an integer >= 0 (the most tokens one call can take)
   * @param opts `name`: shown by `dump()`, `util.inspect` and error messages.
   */
  constructor(ratePerSec: number, burst: number, opts?: SyncOptions);
  /** @internal wraps the existing limiter handle `h` (see lib/internal/object.ts). */
  constructor(adopt: Adopt, h: Handle);
  constructor(ratePerSec: number | Adopt, burst: number | Handle, opts?: SyncOptions) {
    super(
      ratePerSec === ADOPT
        ? (burst as Handle)
        : native.rateNew(checkRate(ratePerSec), checkInt(burst, 'burst'), nameOf(opts)),
    );
  }

  /**
   * @internal Test hook: `clock()` (ms, on any timeline) is the time of every later call made
   * through this wrapper (x/time/rate's `*At` methods); `undefined` restores the real clock.
   */
  _setClock(clock: (() => number) | undefined): void {
    this.#clock = clock;
  }

  /** The `name` given at creation (the same on every thread), or `undefined`. */
  get name(): string | undefined {
    if (!(#brand in this)) throw notA('RateLimiter', 'name');
    return objName(this._h);
  }

  /** Tokens added per second (`Infinity`: no limit). */
  get rate(): number {
    if (!(#brand in this)) throw notA('RateLimiter', 'rate');
    return native.rateInfo(this._h)[0];
  }

  /** The bucket's size: the most tokens one call can take. */
  get burst(): number {
    if (!(#brand in this)) throw notA('RateLimiter', 'burst');
    return native.rateInfo(this._h)[1];
  }

  /** Tokens available now (fractional; negative while reserved tokens are still owed). */
  get tokens(): number {
    if (!(#brand in this)) throw notA('RateLimiter', 'tokens');
    return native.rateTokens(this._h, this.#clock?.());
  }

  #burstError(n: number): RangeError {
    return new RangeError(`n must not exceed the burst of ${label(KIND, this._h)} (${native.rateInfo(this._h)[1]}), got ${n}`);
  }

  /** Takes `n` tokens (default 1) if they are available now; never waits. */
  allow(n: number = 1): boolean {
    if (!(#brand in this)) throw notA('RateLimiter', 'allow');
    const r = native.rateAllow(this._h, checkInt(n, 'n'), this.#clock?.());
    if (r === RateRes.Ok) return true;
    if (r === RateRes.Burst) throw this.#burstError(n);
    return false;
  }

  /**
   * Reserves `n` tokens (default 1) and says how long to wait before acting
   * (x/time/rate's `Reserve`): the tokens are taken now, other callers wait behind them.
   * Call `cancel()` if you will not act.
   */
  reserve(n: number = 1): RateReservation {
    if (!(#brand in this)) throw notA('RateLimiter', 'reserve');
    const raw = native.rateReserve(this._h, checkInt(n, 'n'), -1, this.#clock?.());
    if (raw[0] === RateRes.Burst) throw this.#burstError(n);
    if (raw[0] !== RateRes.Ok) return NOT_OK;
    let canceled = false;
    return {
      ok: true,
      delayMs: (raw[2] - raw[3]) / 1e6,
      cancel: (): void => {
        if (canceled) return;
        canceled = true;
        this.#cancel(raw);
      },
    };
  }

  #cancel(raw: Raw): void {
    native.rateCancel(this._h, raw[1], raw[2], raw[4], this.#clock?.());
  }

  /**
   * Reserves for a wait, or explains why not: like x/time/rate's `WaitN`, a wait that would
   * outlast `timeout` (or the deadline of the context behind `signal`) fails at once and takes
   * nothing. Throws synchronously for `n > burst`.
   */
  #reserveFor(n: number, o: ParsedOpts, op: string): Raw | Error {
    let max = o.timeout;
    let byDeadline = false;
    const deadline = contextOf(o.signal)?.deadline?.();
    if (deadline !== undefined) {
      const left = Math.max(0, deadline - Date.now());
      if (max < 0 || left < max) {
        max = left;
        byDeadline = true;
      }
    }
    const raw = native.rateReserve(this._h, n, max, this.#clock?.());
    switch (raw[0]) {
      case RateRes.Ok:
        return raw;
      case RateRes.Burst:
        throw this.#burstError(n);
      case RateRes.Never:
        return new TimeoutError(`${op} of ${label(KIND, this._h)}: ${n} tokens can never be available at rate 0`);
      default:
        return byDeadline
          ? new DeadlineExceededError(`${op} of ${label(KIND, this._h)} would outlast the context's deadline`)
          : new TimeoutError(`${op} of ${label(KIND, this._h)} would take longer than its timeout of ${o.timeout} ms`);
    }
  }

  /** Throws `RangeError` when `n` exceeds the burst at a finite rate (checked before an abort is reported). */
  #checkBurst(n: number): void {
    const [rate, burst] = native.rateInfo(this._h);
    if (rate !== Infinity && n > burst) throw this.#burstError(n);
  }

  /**
   * Waits until `n` tokens (default 1) are available and takes them (x/time/rate's `WaitN`).
   * Fails at once, taking nothing, with `TimeoutError` when the wait would outlast
   * `opts.timeout` (`DeadlineExceededError`: the deadline of the context behind `opts.signal`);
   * an abort gives the reserved tokens back. `n > burst` throws `RangeError` synchronously.
   */
  wait(n: number = 1, opts?: WaitOpts): Promise<void> {
    if (!(#brand in this)) throw notA('RateLimiter', 'wait');
    const k = checkInt(n, 'n');
    const o = parseOpts(opts);
    if (o.signal?.aborted) {
      this.#checkBurst(k);
      return Promise.reject(canceled(o.signal, 'wait', KIND, this._h));
    }
    const raw = this.#reserveFor(k, o, 'wait');
    if (raw instanceof Error) return Promise.reject(raw);
    const delay = (raw[2] - raw[3]) / 1e6;
    if (delay <= 0) return RESOLVED;
    // The sleep runs on weft's native timer thread; its channel receive withdraws at once when
    // the signal aborts, and the reservation is then canceled (its tokens come back).
    const t = new Timer(delay);
    return t.c.recv({ signal: o.signal }).then(
      () => undefined,
      (e: unknown) => {
        t.stop();
        this.#cancel(raw);
        throw o.signal?.aborted ? canceled(o.signal, 'wait', KIND, this._h) : e;
      },
    );
  }

  /**
   * Blocking `wait` for worker threads: parks the thread until the tokens' time comes (or the
   * context behind `opts.signal` ends, which gives the tokens back).
   */
  waitSync(n: number = 1, opts?: WaitOpts): void {
    if (!(#brand in this)) throw notA('RateLimiter', 'waitSync');
    const k = checkInt(n, 'n');
    const o = parseOpts(opts);
    if (o.signal?.aborted) {
      this.#checkBurst(k);
      throw canceled(o.signal, 'wait', KIND, this._h);
    }
    const raw = this.#reserveFor(k, o, 'wait');
    if (raw instanceof Error) throw raw;
    const delay = (raw[2] - raw[3]) / 1e6;
    if (delay <= 0) return;
    const code = native.rateSleepSync(this._h, delay, doneOf(o));
    if (code !== Code.Ok) {
      this.#cancel(raw);
      syncResult(code, o, 'wait', KIND, this._h);
    }
  }

  /** Changes the rate (tokens per second, >= 0 or `Infinity`); tokens accrued so far are kept. */
  setRate(ratePerSec: number): void {
    if (!(#brand in this)) throw notA('RateLimiter', 'setRate');
    native.rateSet(this._h, false, checkRate(ratePerSec), this.#clock?.());
  }

  /** Changes the bucket's size (an integer >= 0). */
  setBurst(burst: number): void {
    if (!(#brand in this)) throw notA('RateLimiter', 'setBurst');
    native.rateSet(this._h, true, checkInt(burst, 'burst'), this.#clock?.());
  }

  /** @internal `util.inspect`: name, rate, burst, tokens available now. */
  [inspectSymbol](depth: number, options: InspectOptions): string {
    if (!(#brand in this)) return 'RateLimiter';
    const [rate, burst] = native.rateInfo(this._h);
    const tokens = Math.round(native.rateTokens(this._h) * 1000) / 1000;
    return formatWeft('RateLimiter', this.name, { rate, burst, tokens }, depth, options);
  }
}

registerKind(Kind.RateLimiter, RateLimiter);
