/**
 * `{ signal, timeout }` for remote operations: weft's own timers (JetStream's 1 s minimum
 * `expires` never shows), so a 10 ms timeout gives up after 10 ms.
 * @internal
 * @module
 */
import { TimeoutError } from '../errors.js';
import { abortError, onName, parseOpts, type ParsedOpts } from '../internal/options.js';

/**
 * One operation's deadline and signal. `failed` is set (and `onFail` listeners run) once the
 * timeout passes or the signal aborts; `error()` is what the operation then rejects with.
 */
export class Deadline {
  readonly o: ParsedOpts;
  private timer: NodeJS.Timeout | undefined;
  private reason: Error | undefined;
  private listeners: (() => void)[] = [];
  private readonly onAbort = (): void => this.fail(abortError(this.o.signal!, this.op, this.name));

  constructor(
    opts: unknown,
    private readonly op: string,
    private readonly name: string,
  ) {
    this.o = parseOpts(opts);
  }

  /** Starts the clock; returns the error at once if the signal is already aborted. */
  start(): Error | undefined {
    const { signal, timeout } = this.o;
    if (signal?.aborted) {
      this.reason = abortError(signal, this.op, this.name);
      return this.reason;
    }
    signal?.addEventListener('abort', this.onAbort, { once: true });
    if (timeout >= 0) {
      const end = Date.now() + timeout;
      const arm = (ms: number): void => {
        this.timer = setTimeout(() => {
          const left = end - Date.now();
          if (left > 0) arm(left);
          else this.fail(new TimeoutError(`${this.op}${onName(this.name)} timed out after ${timeout} ms`));
        }, Math.min(ms, 0x7fffffff));
      };
      arm(timeout);
    }
    return undefined;
  }

  /** The error the operation gave up with, if it did. */
  get failed(): Error | undefined {
    return this.reason;
  }

  /** Runs `f` once the operation gives up (at once if it already did). Returns an unsubscribe. */
  onFail(f: () => void): () => void {
    if (this.reason) {
      f();
      return () => {};
    }
    this.listeners.push(f);
    return () => {
      const i = this.listeners.indexOf(f);
      if (i >= 0) this.listeners.splice(i, 1);
    };
  }

  /** Stops the clock and the signal listener. */
  done(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    this.o.signal?.removeEventListener('abort', this.onAbort);
    this.listeners = [];
  }

  private fail(e: Error): void {
    if (this.reason) return;
    this.reason = e;
    const ls = this.listeners;
    this.listeners = [];
    for (const f of ls) f();
  }

  /** Resolves after `ms`, or early on `wake`; rejects with the give-up error. */
  sleep(ms: number, wake?: (resolve: () => void) => () => void): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      let off: () => void = () => {};
      let unwake: () => void = () => {};
      const t = setTimeout(() => finish(), ms);
      const finish = (e?: Error): void => {
        clearTimeout(t);
        off();
        unwake();
        if (e) reject(e);
        else resolve();
      };
      off = this.onFail(() => finish(this.reason));
      if (wake) unwake = wake(() => finish());
    });
  }
}
