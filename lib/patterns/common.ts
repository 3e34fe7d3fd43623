/**
 * Helpers shared by the pipeline patterns (stage, fanIn, orderedFanIn).
 * @internal
 * @module
 */
import { Chan } from '../chan/chan.js';
import { resolveModule } from '../runtime/pool.js';
import type { RecvChan } from '../chan/types.js';
import type { Context } from '../time/context.js';

/** @internal throws TypeError unless `ctx` is a weft Context. */
export function checkCtx(ctx: unknown): asserts ctx is Context {
  const c = ctx as Context | null | undefined;
  if (typeof c !== 'object' || c === null || typeof c.done !== 'function' || typeof c.err !== 'function') {
    throw new TypeError('ctx must be a Context (background(), withCancel(...), ...)');
  }
}

/** @internal throws TypeError unless `ch` is a channel (or a receive-only view of one). */
export function checkRecvChan(ch: unknown, name: string): asserts ch is RecvChan<unknown> {
  if (!Chan._is(ch)) throw new TypeError(`${name} must be a channel (a Chan or a RecvChan)`);
  ch._checkRecv(); // a send-only view: MisuseError now, not at the first receive
}

/** @internal a module given as a URL, a file: URL string or an absolute path, as an import specifier. */
export function moduleHref(module: unknown, name: string): string {
  return resolveModule(module, name);
}

/** @internal whether `e` is how a wait ends when its context was canceled (or its channel closed under it). */
export function isStopError(e: unknown): boolean {
  const code = (e as { code?: unknown } | null)?.code;
  return code === 'ERR_WEFT_CANCELED' || code === 'ERR_WEFT_DEADLINE' || code === 'ERR_WEFT_CLOSED';
}

/** @internal a promise that resolves after pending I/O callbacks ran (lets a busy loop share its thread). */
export function yieldToLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/**
 * @internal Emits values tagged with consecutive sequence numbers (from 0) in order: `turn(seq)`
 * resolves true when `seq` is the next to emit (false once `stop()` was called); `advance()`
 * moves on to the next sequence number and lets its holder go.
 */
export class Turns {
  next = 0;
  #waiting = new Map<number, (go: boolean) => void>();
  #stopped = false;

  turn(seq: number): Promise<boolean> | boolean {
    if (this.#stopped) return false;
    if (seq <= this.next) return true;
    return new Promise((resolve) => this.#waiting.set(seq, resolve));
  }

  advance(): void {
    this.next++;
    const w = this.#waiting.get(this.next);
    if (w !== undefined) {
      this.#waiting.delete(this.next);
      w(true);
    }
  }

  /** The smallest sequence number waiting, or undefined. */
  lowestWaiting(): number | undefined {
    let low: number | undefined;
    for (const s of this.#waiting.keys()) if (low === undefined || s < low) low = s;
    return low;
  }

  /** Number of holders waiting for their turn. */
  get waiting(): number {
    return this.#waiting.size;
  }

  /** Skips ahead to `seq` (a gap nobody will fill) and lets its holder go. */
  skipTo(seq: number): void {
    this.next = seq - 1;
    this.advance();
  }

  stop(): void {
    this.#stopped = true;
    for (const w of this.#waiting.values()) w(false);
    this.#waiting.clear();
  }
}
