/**
 * `Heartbeat` (API.md §8): a shared object that workers `beat()` and any thread watches.
 *
 * ## Clock
 * A beat stores the time on the `CLOCK_MONOTONIC` clock (`process.hrtime.bigint()`, the clock
 * libuv and weft's native timers use), which is one clock for every thread of the process and
 * never jumps with the wall clock. `last` turns it into ms on the `performance.timeOrigin`
 * scale (comparable with `performance.timeOrigin + performance.now()`, about `Date.now()`):
 * each thread measures once, at load, how far that scale is from the monotonic clock.
 *
 * ## State
 * A native cell of its own kind (`Kind.Heartbeat`, an int64 word: ns of the last beat, 0 before
 * the first), read and written with JavaScript `Atomics` on the word itself: `beat()` costs no
 * native call.
 * @module
 */
import type { InspectOptions } from 'node:util';
import { performance } from 'node:perf_hooks';
import { Chan } from '../chan/chan.js';
import type { RecvChan } from '../chan/types.js';
import { formatWeft, inspectSymbol } from '../inspect.js';
import { Kind, native, type Handle } from '../internal/native.js';
import { ADOPT, WeftObject, notA, registerKind, type Adopt } from '../internal/object.js';
import { nameOf, objName } from '../sync/common.js';

/** The native functions behind Heartbeat (native/node/bind_atomic.cc). */
interface HeartbeatNative {
  hbNew(): Handle;
  hbWords(h: Handle): ArrayBuffer;
}
const hb = native as unknown as HeartbeatNative;

/** @internal The monotonic clock (ns), the same for every thread of the process. */
export const monoNs: () => bigint = process.hrtime.bigint;

/**
 * ms to add to the monotonic clock (in ms) to get the `performance.timeOrigin` scale on this
 * thread (measured once; threads agree to a fraction of a ms).
 */
const OFFSET_MS = performance.timeOrigin + performance.now() - Number(monoNs()) / 1e6;

/** @internal A monotonic time in ns as ms on the `performance.timeOrigin` scale. */
export function monoToMs(ns: bigint): number {
  return Number(ns) / 1e6 + OFFSET_MS;
}

/** @internal Now, in ms on the `performance.timeOrigin` scale (the scale of `Heartbeat.last`). */
export function nowMs(): number {
  return monoToMs(monoNs());
}

/** @internal A wait in ns as a setTimeout delay: >= 1 ms, at most setTimeout's limit (a longer wait re-arms). */
export function delayMs(ns: bigint): number {
  return Math.min(2 ** 31 - 1, Math.max(1, Math.ceil(Number(ns) / 1e6)));
}

/** Options of {@link Heartbeat.missed}. */
export interface MissedOptions {
  /** Stops watching: the channel is closed (a `for await` over it ends). */
  signal?: AbortSignal;
}

/**
 * A heartbeat shared by every thread that holds it (it passes by reference in channels,
 * `go()` arguments, `share()`/`attach()`): workers call `beat()` to say they are alive; any
 * thread reads `last` or receives from `missed(ms)`.
 *
 * @example
 * const hb = new Heartbeat({ name: 'worker' });
 * go(new URL('./work.js', import.meta.url), 'work', hb); // calls hb.beat() as it goes
 * for await (const ms of hb.missed(500)) console.log(`no beat for ${ms} ms`);
 */
export class Heartbeat extends WeftObject {
  readonly #w: BigInt64Array;

  /** @param opts `name`: shown by `util.inspect` and `dump()`, the same on every thread. */
  constructor(opts?: { name?: string });
  /** @internal wraps the existing heartbeat handle `h` (see lib/internal/object.ts). */
  constructor(adopt: Adopt, h: Handle);
  constructor(opts?: { name?: string } | Adopt, h?: Handle) {
    let handle: Handle;
    if (opts === ADOPT) handle = h!;
    else {
      const name = nameOf(opts);
      handle = hb.hbNew();
      if (name) native.setName(handle, name);
    }
    super(handle);
    this.#w = new BigInt64Array(hb.hbWords(handle), 0, 1);
  }

  /** The `name` given at creation (the same on every thread), or `undefined`. */
  get name(): string | undefined {
    if (!(#w in this)) throw notA('Heartbeat', 'name');
    return objName(this._h);
  }

  /** Records a beat now (from any thread; no native call, one atomic store). */
  beat(): void {
    if (!(#w in this)) throw notA('Heartbeat', 'beat');
    // seq_cst store on the shared word; pairs with the Atomics.load in `last` and `missed`'s
    // watcher on any thread (both read the same hardware word, see native/core/sync/atomic.h).
    Atomics.store(this.#w, 0, monoNs());
  }

  /**
   * The time of the last beat, in ms on the `performance.timeOrigin` scale (compare with
   * `performance.timeOrigin + performance.now()`; about `Date.now()`, with sub-ms precision and
   * no wall-clock jumps), the same on every thread; 0 if it never beat.
   */
  get last(): number {
    if (!(#w in this)) throw notA('Heartbeat', 'last');
    const ns = Atomics.load(this.#w, 0);
    return ns === 0n ? 0 : monoToMs(ns);
  }

  /** @internal the last beat in monotonic ns (0n: none). */
  _lastNs(): bigint {
    return Atomics.load(this.#w, 0);
  }

  /**
   * A channel that receives a value each time no beat came for `timeoutMs`: the first when
   * `timeoutMs` passed since the last beat (or since this call, if the last beat is older or
   * there was none), then one more every further `timeoutMs` without a beat. The value is the
   * ms since that starting point (the last beat, or this call): about `timeoutMs`, then
   * `2 * timeoutMs`, ... A beat starts the count again.
   *
   * The channel buffers one value; while that value is not received, later misses are not
   * queued (as a Ticker skips ticks). The watch runs on this thread's event loop and keeps the
   * process alive (like `setInterval`) until `opts.signal` aborts, which closes the channel.
   * The channel may be passed to and received from any thread.
   *
   * @param timeoutMs ms without a beat that count as a miss (> 0)
   * @param opts `signal`: stops the watch and closes the channel
   */
  missed(timeoutMs: number, opts?: MissedOptions): RecvChan<number> {
    if (!(#w in this)) throw notA('Heartbeat', 'missed');
    if (typeof timeoutMs !== 'number') throw new TypeError('timeoutMs must be a number');
    if (!(timeoutMs > 0) || !Number.isFinite(timeoutMs)) throw new RangeError(`timeoutMs must be a finite number > 0, got ${timeoutMs}`);
    if (opts !== undefined && (typeof opts !== 'object' || opts === null)) throw new TypeError('opts must be an object');
    const signal = opts?.signal;
    if (signal !== undefined && !(signal instanceof AbortSignal)) throw new TypeError('signal must be an AbortSignal');
    const name = this.name;
    const ch = new Chan<number, 'f64'>(1, { elem: 'f64', name: `${name === undefined ? 'heartbeat' : `heartbeat '${name}'`} missed` });
    const period = BigInt(Math.round(timeoutMs * 1e6));
    const start = monoNs();
    let reported = 0n; // monotonic ns of the last value sent (0n: none since the last beat)
    let timer: ReturnType<typeof setTimeout> | undefined;
    const stop = (): void => {
      if (timer !== undefined) clearTimeout(timer);
      timer = undefined;
      if (!ch.closed) ch.close();
    };
    const check = (): void => {
      timer = undefined;
      const now = monoNs();
      const lastBeat = this._lastNs();
      const since = lastBeat > start ? lastBeat : start;
      if (reported < since) reported = 0n;
      const anchor = reported > since ? reported : since;
      let wait = anchor + period - now;
      if (wait <= 0n) {
        ch.trySend(Number(now - since) / 1e6);
        reported = now;
        wait = period;
      }
      timer = setTimeout(check, delayMs(wait));
    };
    if (signal?.aborted) {
      ch.close();
      return ch.recvOnly();
    }
    signal?.addEventListener('abort', stop, { once: true });
    timer = setTimeout(check, delayMs(period));
    return ch.recvOnly();
  }

  /** @internal `util.inspect`: name and the time of the last beat. */
  [inspectSymbol](depth: number, options: InspectOptions): string {
    if (!(#w in this)) return 'Heartbeat';
    return formatWeft('Heartbeat', this.name, { last: this.last }, depth, options);
  }
}

registerKind(Kind.Heartbeat, Heartbeat);
