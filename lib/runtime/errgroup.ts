/**
 * `ErrGroup`: `golang.org/x/sync/errgroup` across threads (API.md §7).
 * @module
 */
import { background, isContext, withCancel, type Context } from '../time/context.js';
import { checkGoArgs, go } from './pool.js';

/**
 * A group of tasks working on parts of one job: the first error cancels the group's `ctx` and
 * is what `wait()` rejects with, once every task has ended. `go` starts a pool task (pass
 * `g.ctx` as an argument for it to stop early), `goLocal` an async function on this thread.
 * `setLimit(n)` bounds how many run at once; more are queued, never blocking the caller.
 *
 * @example
 * const g = new ErrGroup();
 * g.setLimit(4);
 * for (const file of files) g.go(new URL('./hash.js', import.meta.url), 'hashFile', g.ctx, file);
 * g.goLocal(async (ctx) => { await sleep(10, { signal: ctx.signal }); });
 * await g.wait(); // rejects with the first error, after every task ended
 */
export class ErrGroup {
  /** Canceled by the first error (or when `wait()` returns); pass it to the tasks. */
  readonly ctx: Context;
  readonly #cancel: (cause?: unknown) => void;
  #failed = false;
  #err: unknown;
  #active = 0;
  #limit = Infinity;
  readonly #queue: (() => Promise<unknown>)[] = [];
  #waiters: (() => void)[] = [];

  /** @param ctx the parent context (default `background()`) */
  constructor(ctx: Context = background()) {
    if (!isContext(ctx)) throw new TypeError('ctx must be a Context');
    [this.ctx, this.#cancel] = withCancel(ctx);
  }

  /**
   * Starts `exportName` of `module` on the pool (as `go()`), queued while `setLimit`'s bound is
   * reached. Bad arguments (a relative module path, a value that cannot be cloned) throw here,
   * queued or not, and add nothing to the group.
   */
  go(module: string | URL, exportName: string, ...args: unknown[]): void {
    if (this.#active >= this.#limit) checkGoArgs(module, exportName, args);
    this.#add(() => go(module, exportName, ...args));
  }

  /** Runs `fn(ctx)` on this thread as a member of the group. */
  goLocal(fn: (ctx: Context) => Promise<unknown>): void {
    if (typeof fn !== 'function') throw new TypeError('fn must be a function');
    this.#add(async () => fn(this.ctx));
  }

  /**
   * At most `n` tasks of the group run at once (`n < 0`: no limit, the default); `go` and
   * `goLocal` queue the rest and start them as running ones end.
   */
  setLimit(n: number): void {
    if (typeof n !== 'number' || Number.isNaN(n)) throw new TypeError('n must be a number');
    if (n === 0) throw new RangeError('n must not be 0 (use a negative n for no limit)');
    this.#limit = n < 0 ? Infinity : Math.floor(n);
    this.#pump();
  }

  /** Resolves once every task ended (and cancels `ctx`); rejects with the first error. */
  wait(): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const done = (): void => {
        this.#cancel();
        if (this.#failed) reject(this.#err);
        else resolve();
      };
      if (this.#active === 0 && this.#queue.length === 0) done();
      else this.#waiters.push(done);
    });
  }

  #add(start: () => Promise<unknown>): void {
    if (this.#active < this.#limit) this.#run(start(), true);
    else this.#queue.push(start);
  }

  #run(p: Promise<unknown> | (() => Promise<unknown>), started: boolean): void {
    this.#active++;
    let promise: Promise<unknown>;
    if (started) {
      promise = p as Promise<unknown>;
    } else {
      try {
        promise = (p as () => Promise<unknown>)();
      } catch (e) {
        promise = Promise.reject(e);
      }
    }
    promise.then(
      () => this.#end(),
      (e: unknown) => {
        if (!this.#failed) {
          this.#failed = true;
          this.#err = e;
          this.#cancel(e);
        }
        this.#end();
      },
    );
  }

  #end(): void {
    this.#active--;
    this.#pump();
    if (this.#active === 0 && this.#queue.length === 0) {
      const ws = this.#waiters;
      this.#waiters = [];
      for (const w of ws) w();
    }
  }

  #pump(): void {
    while (this.#active < this.#limit && this.#queue.length > 0) this.#run(this.#queue.shift()!, false);
  }
}
