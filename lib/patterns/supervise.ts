/**
 * `supervise()` (API.md §8): runs a module's export on a thread of its own and restarts it when
 * its heartbeats stop.
 *
 * ## Runs
 * Each run is a dedicated `Worker` (lib/patterns/supervise-worker.ts), not a pool thread: a
 * stuck run must be terminated without taking other tasks with it. The arguments travel in a
 * weft channel (as `go()` carries them: weft objects by reference at any depth), with a fresh
 * {@link Heartbeat} appended for each run. The run's clock starts when the function is called
 * (the thread beats once just before); loading the thread and the module is given
 * `startTimeout`.
 *
 * ## Watch
 * One timer on the calling thread, set for the moment the run's time is up (last beat +
 * `heartbeatTimeout`) and re-armed whenever a beat moved that moment. When it is up,
 * `Worker.terminate()` ends the thread whatever it does: V8 interrupts a `while (true) {}` loop,
 * and weft wakes a `*Sync` wait of a thread being torn down (DESIGN.md, fact 6). After
 * `backoff` ms the function starts again on a new thread (without waiting for the old one to
 * be gone: it can no longer answer), and `restarts` receives `{ at, reason }`.
 *
 * ## Standby
 * While a run runs, one more thread is started and loads the module, then waits for a run of
 * its own on its box channel (unref'd: it never keeps the process alive). A restart hands the
 * next run to it, so the function runs again within a few ms of the decision instead of after
 * a thread start (30-70 ms on an idle machine, hundreds on a busy one). `standby: false` turns
 * this off; no standby is kept once no restart is left (`maxRestarts`).
 *
 * ## Lifetime
 * A running thread and a pending backoff keep the process alive (as a running `go()` task
 * does); once `result` settled or `stop()` was called nothing does: threads being terminated
 * are unref'd.
 * @module
 */
import { Worker } from 'node:worker_threads';
import { Chan } from '../chan/chan.js';
import type { RecvChan } from '../chan/types.js';
import { CanceledError, TimeoutError } from '../errors.js';
import { share } from '../share.js';
import { resolved } from '../runtime/config.js';
import { resolveModule } from '../runtime/pool.js';
import { siteFrames, unpackError, type Packed } from '../runtime/task.js';
import { Heartbeat, delayMs, monoNs, nowMs } from './heartbeat.js';

/** @internal What a run's box carries: `[module, exportName, args (Heartbeat last), reply]` (read by supervise-worker.ts). */
export type RunMsg = [module: string, exportName: string, args: unknown[], reply: Chan<RunReply>];
/** @internal A run's outcome: `[0, value]` or `[1, packed error]`. */
export type RunReply = [failed: 0 | 1, value: unknown];

/** Options of {@link supervise}. */
export interface SuperviseOptions {
  /** ms without a beat after which the thread is terminated and the function restarted (> 0). */
  heartbeatTimeout: number;
  /** Restarts allowed (an integer >= 0, or Infinity, the default); past them `result` rejects. */
  maxRestarts?: number;
  /** ms to wait between terminating a thread and starting the next run (>= 0, default 0). */
  backoff?: number;
  /**
   * ms a new thread has to load weft and the module and call the function, before its first
   * beat is due (> 0; default `max(10_000, heartbeatTimeout)`). Exceeding it counts as a miss
   * (the thread is terminated and restarted, reason `not started within ... ms`).
   */
  startTimeout?: number;
  /**
   * Keep one thread started ahead, with the module loaded, for the next restart (default
   * true): a restart then costs a message instead of a thread start (tens of ms, more on a
   * busy machine). The standby thread runs the module's top-level code when it loads, and
   * never keeps the process alive.
   */
  standby?: boolean;
}

/** A restart, as {@link Supervisor.restarts} reports it. */
export interface Restart {
  /** When the new run started: ms on the `performance.timeOrigin` scale (as `Heartbeat.last`). */
  at: number;
  /** Why the previous run was stopped, e.g. `no heartbeat for 100 ms`. */
  reason: string;
}

/** What {@link supervise} returns. */
export interface Supervisor {
  /**
   * One value per restart, in order; closed when the supervisor ends (`result` settled or
   * `stop()`). Buffers 1024 restarts: past that, restarts nobody received are not reported.
   */
  readonly restarts: RecvChan<Restart>;
  /**
   * Settles with the first run that returns or throws (errors keep their class, `name`,
   * `message`, `code` and `cause`, as with `go()`); rejects with `TimeoutError` when a run
   * missed its heartbeat and `maxRestarts` restarts were already made, and with
   * `CanceledError` after `stop()`.
   */
  readonly result: Promise<unknown>;
  /** Terminates the running thread and ends the supervisor; resolves once its threads are gone. */
  stop(): Promise<void>;
}

/** A supervised thread: a standby until it is given a run, then that run. */
interface Thread {
  worker: Worker;
  /** Brings the run's message (see supervise-worker.ts). */
  box: Chan<RunMsg>;
  /** The run's Heartbeat and reply channel, once it was given a run. */
  hb: Heartbeat | undefined;
  reply: Chan<RunReply> | undefined;
  /** monotonic ns when it was given its run. */
  started: bigint;
  /** 'error' event of the Worker (it failed to start, ran out of memory, ...). */
  error: unknown;
  /** Terminated by the supervisor: its exit is expected. */
  killed: boolean;
  exited: Promise<void>;
}

/** A run's message and the objects the supervisor keeps of it. */
interface NewRun {
  msg: RunMsg;
  hb: Heartbeat;
  reply: Chan<RunReply>;
}

const RESTARTS_CAPACITY = 1024;

/** The checked options. */
interface Opts {
  timeout: number;
  maxRestarts: number;
  backoff: number;
  startTimeout: number;
  standby: boolean;
}

function num(v: unknown, name: string): number {
  if (typeof v !== 'number' || Number.isNaN(v)) throw new TypeError(`${name} must be a number`);
  return v;
}

/**
 * Runs `exportName` of the ES module `module` on a thread of its own, with a fresh
 * {@link Heartbeat} appended to `args`; the function calls `hb.beat()` at least every
 * `heartbeatTimeout` ms. When no beat comes for that long, the thread is terminated (this
 * works for a thread stuck in `while (true) {}` or blocked in a `*Sync` call, which Go
 * cannot do to a goroutine) and, after `backoff` ms, the function starts again on a new thread,
 * up to `maxRestarts` times; each restart is sent on `restarts`. `result` settles with the
 * first run that returns or throws.
 *
 * `module` is resolved as `go()` resolves it (a URL, a `file:` URL string or an absolute path);
 * `args` are carried as `go()` carries them (a value that cannot be cloned throws
 * `DataCloneError` here). A missing module or export rejects `result` with a `TypeError`
 * naming both. Threads get `configure()`'s `execArgv` and `resourceLimits`.
 *
 * @example
 * // worker.js: export async function work(jobs, hb) { for (;;) { hb.beat(); ... } }
 * const sup = supervise(new URL('./worker.js', import.meta.url), 'work', [jobs], { heartbeatTimeout: 500, backoff: 100 });
 * for await (const r of sup.restarts) console.log('restarted:', r.reason);
 * console.log(await sup.result);
 */
export function supervise(module: string | URL, exportName: string, args: unknown[], opts: SuperviseOptions): Supervisor {
  const mod = resolveModule(module);
  if (typeof exportName !== 'string') throw new TypeError('exportName must be a string');
  if (exportName === '') throw new TypeError('exportName must not be empty');
  if (!Array.isArray(args)) throw new TypeError('args must be an array');
  if (typeof opts !== 'object' || opts === null) throw new TypeError('opts must be an object');
  const timeout = num(opts.heartbeatTimeout, 'heartbeatTimeout');
  if (!(timeout > 0) || !Number.isFinite(timeout)) throw new RangeError(`heartbeatTimeout must be a finite number > 0, got ${timeout}`);
  const maxRestarts = opts.maxRestarts === undefined ? Infinity : num(opts.maxRestarts, 'maxRestarts');
  if (maxRestarts < 0 || (maxRestarts !== Infinity && !Number.isInteger(maxRestarts))) {
    throw new RangeError(`maxRestarts must be an integer >= 0 or Infinity, got ${maxRestarts}`);
  }
  const backoff = opts.backoff === undefined ? 0 : num(opts.backoff, 'backoff');
  if (!(backoff >= 0) || backoff > 2 ** 31 - 1) throw new RangeError(`backoff must be a number from 0 to 2147483647, got ${backoff}`);
  const startTimeout = opts.startTimeout === undefined ? Math.max(10_000, timeout) : num(opts.startTimeout, 'startTimeout');
  if (!(startTimeout > 0) || !Number.isFinite(startTimeout)) throw new RangeError(`startTimeout must be a finite number > 0, got ${startTimeout}`);
  const standby = opts.standby ?? true;
  if (typeof standby !== 'boolean') throw new TypeError('standby must be a boolean');
  const site: { stack?: string } = {};
  Error.captureStackTrace(site, supervise);
  return new SupervisorImpl(mod, exportName, args, { timeout, maxRestarts, backoff, startTimeout, standby }, site);
}

class SupervisorImpl implements Supervisor {
  readonly restarts: RecvChan<Restart>;
  readonly result: Promise<unknown>;
  readonly #restarts: Chan<Restart>;
  readonly #mod: string;
  readonly #exp: string;
  readonly #args: unknown[];
  readonly #o: Opts;
  readonly #site: { stack?: string };
  #resolve!: (v: unknown) => void;
  #reject!: (e: unknown) => void;
  #settled = false;
  /** The thread running the current run (undefined during a backoff). */
  #run: Thread | undefined;
  /** A thread started ahead, with the module loaded, for the next restart (see "Standby"). */
  #spare: Thread | undefined;
  /** Every thread started and not yet exited (stop() waits for them). */
  readonly #live = new Set<Thread>();
  #timer: ReturnType<typeof setTimeout> | undefined;
  #restartCount = 0;

  constructor(mod: string, exp: string, args: unknown[], o: Opts, site: { stack?: string }) {
    this.#mod = mod;
    this.#exp = exp;
    this.#args = args;
    this.#o = o;
    this.#site = site;
    this.#restarts = new Chan<Restart>(RESTARTS_CAPACITY, { name: `supervise ${exp} restarts` });
    this.restarts = this.#restarts.recvOnly();
    this.result = new Promise((res, rej) => {
      this.#resolve = res;
      this.#reject = rej;
    });
    // The first run's message is sent here, so arguments that cannot be cloned throw
    // DataCloneError from supervise() and nothing starts.
    const first = this.#newRun();
    const box = new Chan<RunMsg>(1);
    box.trySend(first.msg);
    const t = this.#spawn(box);
    if (t !== undefined) this.#begin(t, first, false);
  }

  /** A run's message: the arguments with a fresh Heartbeat last, and a reply channel. */
  #newRun(): NewRun {
    const hb = new Heartbeat({ name: `supervise ${this.#exp}` });
    const reply = new Chan<RunReply>(1);
    return { msg: [this.#mod, this.#exp, [...this.#args, hb], reply], hb, reply };
  }

  /** Starts a thread that loads the module and waits for its run on `box`. */
  #spawn(box: Chan<RunMsg>): Thread | undefined {
    const cfg = resolved();
    const wo: import('node:worker_threads').WorkerOptions = { workerData: share({ box, module: this.#mod }) };
    if (cfg.execArgv !== undefined) wo.execArgv = cfg.execArgv;
    if (cfg.resourceLimits !== undefined) wo.resourceLimits = cfg.resourceLimits;
    let worker: Worker;
    try {
      worker = new Worker(new URL('./supervise-worker.js', import.meta.url), wo);
    } catch (e) {
      this.#finish(false, e);
      return undefined;
    }
    let exited!: () => void;
    const t: Thread = {
      worker,
      box,
      hb: undefined,
      reply: undefined,
      started: 0n,
      error: undefined,
      killed: false,
      exited: new Promise<void>((res) => (exited = res)),
    };
    this.#live.add(t);
    worker.on('error', (e) => {
      t.error ??= e;
    });
    worker.on('exit', (code) => {
      this.#live.delete(t);
      exited();
      this.#exited(t, code);
    });
    return t;
  }

  /** Gives thread `t` its run (`send`: its message is not in its box yet) and watches it. */
  #begin(t: Thread, r: NewRun, send: boolean): void {
    t.hb = r.hb;
    t.reply = r.reply;
    t.started = monoNs();
    if (send) t.box.trySend(r.msg);
    t.worker.ref();
    this.#run = t;
    this.#watch(t);
    // Standby: the next restart, if one may come, takes a thread that is already up.
    if (this.#o.standby && this.#spare === undefined && this.#restartCount < this.#o.maxRestarts && !this.#settled) {
      const spare = this.#spawn(new Chan<RunMsg>(1));
      if (spare !== undefined) {
        spare.worker.unref(); // a standby never keeps the process alive
        this.#spare = spare;
      }
    }
  }

  /** Arms the watch timer for the moment `run`'s time is up, or acts if it is up now. */
  #watch(run: Thread): void {
    this.#timer = undefined;
    if (this.#settled || this.#run !== run) return;
    const last = run.hb!._lastNs();
    const due = last === 0n ? run.started + BigInt(Math.round(this.#o.startTimeout * 1e6)) : last + BigInt(Math.round(this.#o.timeout * 1e6));
    const left = due - monoNs();
    if (left > 0n) {
      // Before the first beat, look again every heartbeatTimeout: once it came, the run's
      // deadline is that beat + heartbeatTimeout, which may be sooner than the start deadline.
      const period = BigInt(Math.round(this.#o.timeout * 1e6));
      this.#timer = setTimeout(() => this.#watch(run), delayMs(last === 0n && period < left ? period : left));
      return;
    }
    // Time is up. A run that has just answered is not a miss: take its answer.
    const r = run.reply!.tryRecv();
    if (r.ok) {
      this.#answer(r.value);
      this.#kill(run);
      return;
    }
    const reason = last === 0n ? `not started within ${this.#o.startTimeout} ms` : `no heartbeat for ${this.#o.timeout} ms`;
    this.#kill(run);
    this.#run = undefined;
    if (this.#restartCount >= this.#o.maxRestarts) {
      const made = this.#restartCount === 1 ? '1 restart' : `${this.#restartCount} restarts`;
      this.#finish(
        false,
        new TimeoutError(`weft supervise(): ${this.#exp}: ${reason} after ${made} (maxRestarts ${this.#o.maxRestarts}); the thread was terminated`),
      );
      return;
    }
    this.#restartCount++;
    const restart = (): void => {
      this.#timer = undefined;
      if (this.#settled) return;
      let next: NewRun;
      try {
        next = this.#newRun();
        const spare = this.#spare;
        this.#spare = undefined;
        if (spare !== undefined) {
          this.#begin(spare, next, true);
        } else {
          const box = new Chan<RunMsg>(1);
          box.trySend(next.msg);
          const t = this.#spawn(box);
          if (t === undefined) return;
          this.#begin(t, next, false);
        }
      } catch (e) {
        this.#finish(false, e);
        return;
      }
      this.#restarts.trySend({ at: nowMs(), reason });
    };
    if (this.#o.backoff > 0) this.#timer = setTimeout(restart, this.#o.backoff);
    else restart();
  }

  /** Terminates a run's thread; its exit no longer matters to the process or to the result. */
  #kill(run: Thread): void {
    if (run.killed) return;
    run.killed = true;
    run.worker.unref();
    void run.worker.terminate().catch(() => {});
  }

  #exited(run: Thread, code: number): void {
    if (run === this.#spare) this.#spare = undefined; // a standby that died: the next restart starts a thread
    if (run.killed || this.#settled || this.#run !== run) return;
    const r = run.reply!.tryRecv();
    if (r.ok) {
      this.#answer(r.value);
      return;
    }
    this.#finish(false, run.error ?? new Error(`weft supervise(): the thread running ${this.#exp} exited (code ${code}) before it returned`));
  }

  #answer([failed, value]: RunReply): void {
    if (failed) this.#finish(false, unpackError(value as Packed, siteFrames(this.#site)));
    else this.#finish(true, value);
  }

  #finish(ok: boolean, value: unknown): void {
    if (this.#settled) return;
    this.#settled = true;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    if (this.#run !== undefined) this.#kill(this.#run);
    if (this.#spare !== undefined) this.#kill(this.#spare);
    this.#run = undefined;
    this.#spare = undefined;
    this.#restarts.close();
    if (ok) this.#resolve(value);
    else this.#reject(value);
  }

  stop(): Promise<void> {
    if (!this.#settled) {
      // A stop is asked for: its rejection of `result` is not an unhandled one.
      this.result.catch(() => {});
      this.#finish(false, new CanceledError(`weft supervise(): ${this.#exp} was stopped`));
    }
    return Promise.all([...this.#live].map((r) => r.exited)).then(() => undefined);
  }
}
