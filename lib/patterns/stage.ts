/**
 * Pipeline stages (API.md §8): `stage(ctx, input, work, opts)` runs `workers` loops that take
 * values from `input`, apply `work` and send the results on a channel of its own.
 *
 * - A function target runs on the calling thread: `workers` async loops. Their receives are
 *   chained one after another, so the values are taken in channel order and, with
 *   `ordered: true`, numbered in that order; a loop whose result is ahead of its turn waits
 *   (it takes no more input meanwhile), so at most `workers` results wait.
 * - A module target (`{ module, export }`) runs on pool threads: `workers` long-lived `go()`
 *   tasks (lib/patterns/stage-worker.ts) that receive from `input` and send to the output
 *   themselves, since channels pass into tasks by reference: the calling thread carries no value.
 *   With `ordered: true` the calling thread numbers the values (`[seq, value]` into the workers)
 *   and puts the results back in order, admitting at most `2 * workers` values ahead of the
 *   oldest one not yet sent.
 *
 * The stage runs under a context of its own (a child of `ctx`): the first error thrown by `work`
 * cancels it, which stops every worker, and `done` rejects with that error. The output closes
 * once every worker is done (input closed and drained), or as soon as the context ends.
 * @module
 */
import { Chan } from '../chan/chan.js';
import type { RecvChan, RecvResult } from '../chan/types.js';
import { go } from '../runtime/pool.js';
import { withCancel, type Context } from '../time/context.js';
import { checkCtx, checkRecvChan, isStopError, moduleHref, Turns, yieldToLoop } from './common.js';

/**
 * What a stage does with each value: a function (runs on the calling thread; may be async), or
 * the named export of an ES module run on pool threads (CPU-bound work). The module is a `URL`,
 * a `file:` URL string or an absolute path, as for `go()`.
 */
export type Work<I, O> = ((v: I) => O | Promise<O>) | { module: string | URL; export: string };

/** The output of a stage: a receive-only channel plus `done`, which settles when the stage has ended. */
export interface Stage<O> extends RecvChan<O> {
  /** Resolves when the stage has ended (input drained or context ended); rejects with the first error thrown by `work`. */
  readonly done: Promise<void>;
}

/** Options of {@link stage}. */
export interface StageOptions {
  /** Number of concurrent workers (default 1). */
  workers?: number;
  /** Capacity of the output channel (default 0, unbuffered). */
  capacity?: number;
  /** Keep the input order across workers (default false). */
  ordered?: boolean;
}

const WORKER = new URL('./stage-worker.js', import.meta.url);
const YIELD_EVERY = 1024;

/**
 * A pipeline stage (the book's `stage`): `workers` workers (default 1) take values from `input`,
 * apply `work`, and send the results to the returned channel (capacity `capacity`, default 0).
 * The channel closes once `input` is closed and drained and every worker is done, or once `ctx`
 * ends. With a module target the workers run on pool threads (`go`), so a pipeline of stages
 * uses every core. `ordered: true` keeps input order across workers. An error thrown by `work`
 * cancels the stage (its workers stop taking input, its output closes) and `done` rejects with
 * it; cancel the shared `ctx` then to stop the rest of the pipeline.
 *
 * @example
 * const [ctx, cancel] = withCancel(background());
 * const parsed = stage(ctx, lines, (l: string) => l.split(','));
 * const rows = stage(ctx, parsed, { module: new URL('./convert.js', import.meta.url), export: 'convert' }, { workers: 4 });
 * for await (const r of rows) console.log(r);
 * await Promise.all([parsed.done, rows.done]);
 */
export function stage<I, O>(ctx: Context, input: RecvChan<I>, work: Work<I, O>, opts?: StageOptions): Stage<O> {
  checkCtx(ctx);
  checkRecvChan(input, 'input');
  let target: { module: string; export: string } | undefined;
  if (typeof work !== 'function') {
    if (typeof work !== 'object' || work === null) throw new TypeError('work must be a function or { module, export }');
    const w = work as { module?: unknown; export?: unknown };
    if (typeof w.export !== 'string' || w.export === '') throw new TypeError('work.export must be a non-empty string');
    target = { module: moduleHref(w.module, 'work.module'), export: w.export };
  }
  if (opts !== undefined && (typeof opts !== 'object' || opts === null)) throw new TypeError('opts must be an object');
  const workers = opts?.workers ?? 1;
  if (typeof workers !== 'number') throw new TypeError('workers must be a number');
  if (!Number.isInteger(workers) || workers < 1) throw new RangeError(`workers must be a positive integer, got ${workers}`);
  const capacity = opts?.capacity ?? 0;
  if (typeof capacity !== 'number') throw new TypeError('capacity must be a number');
  const ordered = opts?.ordered ?? false;
  if (typeof ordered !== 'boolean') throw new TypeError('ordered must be a boolean');

  const out = new Chan<O>(capacity);
  const [sctx, cancel] = withCancel(ctx);
  const signal = sctx.signal;
  let firstError: { e: unknown } | undefined;
  const closeOut = (): void => {
    if (!out.closed) {
      try {
        out.close();
      } catch {
        // closed meanwhile
      }
    }
  };
  const fail = (e: unknown): void => {
    if (firstError === undefined && !(sctx.err() !== null && isStopError(e))) {
      firstError = { e };
      cancel(e);
    }
  };
  // The context ends: the output closes at once (workers find it closed and stop).
  if (signal.aborted) closeOut();
  else signal.addEventListener('abort', closeOut, { once: true });

  const run =
    target === undefined
      ? runLocal(work as (v: I) => O | Promise<O>, input, out, sctx, workers, ordered, fail)
      : runPool(target, input, out, sctx, workers, ordered, fail);
  const done = run.then(() => {
    signal.removeEventListener('abort', closeOut);
    closeOut();
    cancel(); // release the stage's context (Go's defer cancel())
    if (firstError !== undefined) throw firstError.e;
  });
  // A stage whose caller never looks at `done` must not crash the process: the error is
  // reported through `done` to whoever awaits it.
  done.catch(() => {});
  const view = out.recvOnly() as Stage<O>;
  Object.defineProperty(view, 'done', { value: done, enumerable: false });
  return view;
}

/** The workers of a function target: async loops on this thread. */
async function runLocal<I, O>(
  fn: (v: I) => O | Promise<O>,
  input: RecvChan<I>,
  out: Chan<O>,
  ctx: Context,
  workers: number,
  ordered: boolean,
  fail: (e: unknown) => void,
): Promise<void> {
  const opts = { signal: ctx.signal };
  const turns = ordered && workers > 1 ? new Turns() : undefined;
  ctx.signal.addEventListener('abort', () => turns?.stop(), { once: true });
  let seq = 0;
  let taken = 0;
  let chain: Promise<unknown> = Promise.resolve();
  const recvOne = async (): Promise<{ r: RecvResult<I>; seq: number }> => {
    if (ctx.err() !== null) return { r: { value: undefined, ok: false }, seq: -1 };
    if (++taken % YIELD_EVERY === 0) await yieldToLoop();
    const t = input.tryRecv();
    const r: RecvResult<I> = t.ok ? t : t.closed ? { value: undefined, ok: false } : await input.recvOk(opts);
    return { r, seq: r.ok ? seq++ : -1 };
  };
  // Receives run one after another (each starts when the previous one settled): values are
  // taken, and numbered, in channel order whatever the number of workers.
  const take = (): Promise<{ r: RecvResult<I>; seq: number }> => {
    const p = chain.then(recvOne);
    chain = p.catch(() => {});
    return p;
  };
  const loop = async (): Promise<void> => {
    try {
      for (;;) {
        const { r, seq: s } = await take();
        if (!r.ok) return;
        let y = fn(r.value);
        if (y instanceof Promise) y = await y;
        if (turns !== undefined) {
          let t = turns.turn(s);
          if (t instanceof Promise) t = await t;
          if (!t) return;
        }
        if (!out.trySend(y as O)) await out.send(y as O, opts);
        turns?.advance();
      }
    } catch (e) {
      fail(e);
    }
  };
  const loops: Promise<void>[] = [];
  for (let i = 0; i < workers; i++) loops.push(loop());
  await Promise.all(loops);
}

/** The workers of a module target: `go()` tasks on pool threads. */
async function runPool<I, O>(
  target: { module: string; export: string },
  input: RecvChan<I>,
  out: Chan<O>,
  ctx: Context,
  workers: number,
  ordered: boolean,
  fail: (e: unknown) => void,
): Promise<void> {
  const tasks: Promise<unknown>[] = [];
  if (!ordered || workers === 1) {
    // (one worker keeps the input order by itself)
    for (let i = 0; i < workers; i++) tasks.push(go(WORKER, 'stageWorker', target.module, target.export, input, out, ctx, false).catch(fail));
    await Promise.all(tasks);
    return;
  }
  // Ordered: number the values here, let the workers tag their results, restore the order.
  const jobs = new Chan<[number, I]>(workers);
  const results = new Chan<[number, O]>(workers);
  for (let i = 0; i < workers; i++) tasks.push(go(WORKER, 'stageWorker', target.module, target.export, jobs, results, ctx, true).catch(fail));
  const all = Promise.all(tasks).then(() => {
    if (!results.closed) results.close();
  });
  const window = 2 * workers;
  let next = 0; // the oldest sequence number not yet sent
  let room: (() => void) | undefined; // the dispatcher, waiting for `next` to move
  const opts = { signal: ctx.signal };
  const dispatch = async (): Promise<void> => {
    let seq = 0;
    try {
      for (;;) {
        if (seq - next >= window) await new Promise<void>((resolve) => (room = resolve));
        if (ctx.err() !== null) return;
        const r = await input.recvOk(opts);
        if (!r.ok) return;
        await jobs.send([seq++, r.value], opts);
      }
    } catch (e) {
      fail(e);
    } finally {
      if (!jobs.closed) jobs.close();
    }
  };
  const collect = async (): Promise<void> => {
    const held = new Map<number, O>();
    try {
      for await (const [s, y] of results) {
        held.set(s, y);
        while (held.has(next)) {
          const v = held.get(next)!;
          held.delete(next);
          if (!out.trySend(v)) await out.send(v, opts);
          next++;
          const w = room;
          room = undefined;
          w?.();
        }
      }
    } catch (e) {
      fail(e);
    } finally {
      room?.();
    }
  };
  ctx.signal.addEventListener('abort', () => room?.(), { once: true });
  await Promise.all([dispatch(), collect(), all]);
}
