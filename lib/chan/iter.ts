/**
 * Iterating a channel: `for await (const v of ch)` (leaving early withdraws the pending
 * receive, so no value is taken for a consumer that left) and, in workers, `for (const v of ch)`.
 * @internal
 * @module
 */
import { Code, native, pending as pendingOp, status, opId } from '../internal/native.js';
import { StatusSlot } from '../internal/abi.js';
import { parseOpts, throwForCode } from '../internal/options.js';
import type { Chan } from './chan.js';
import { NONE } from './ring.js';

const NO_OPTS = parseOpts(undefined);
const DONE: IteratorReturnResult<undefined> = Object.freeze({ value: undefined, done: true }) as never;

/** @internal `Chan[Symbol.asyncIterator]` (the caller checked `this` and the direction). */
export function recvIterator<T>(ch: Chan<T, any>): AsyncIterator<T> {
  const pending = new Set<number>();
  let finished = false;
  return {
    next: (): Promise<IteratorResult<T>> => {
      if (finished) return Promise.resolve(DONE);
      const ring = ch._ring;
      if (ring !== null) {
        const v = ring.tryRecv(); // a value already there: no native call (lib/chan/ring.ts)
        if (v !== NONE) return Promise.resolve({ value: v as T, done: false });
      }
      const r = native.chanRecv(ch._h);
      const code = status[StatusSlot.Code];
      if (code === Code.Ok) return Promise.resolve({ value: ch._dec(r), done: false });
      if (code === Code.Closed) {
        finished = true;
        return Promise.resolve(DONE);
      }
      const id = opId();
      pending.add(id);
      return pendingOp(id, ch._decoder).then(([c, , v]): IteratorResult<T> => {
        pending.delete(id);
        if (c === Code.Ok) return { value: v as T, done: false };
        if (c === Code.Closed) {
          finished = true;
          return DONE;
        }
        if (c === Code.Canceled && finished) return DONE; // withdrawn by return()
        return throwForCode(c, NO_OPTS, 'recv', ch.name);
      });
    },
    return: (value?: unknown): Promise<IteratorResult<T>> => {
      finished = true;
      // Withdraw: a canceled receive took nothing; a value a sender already handed over goes
      // back to the channel (native cancel with withdraw = true).
      for (const id of pending) native.cancel(id, Code.Canceled, true);
      pending.clear();
      return Promise.resolve({ value: value as T, done: true });
    },
  };
}

/** @internal `Chan[Symbol.iterator]` (the caller checked `this` and the direction). */
export function recvIteratorSync<T>(ch: Chan<T, any>): Iterator<T> {
  let finished = false;
  return {
    next: (): IteratorResult<T> => {
      if (finished) return DONE;
      const r = ch.recvOkSync();
      if (r.ok) return { value: r.value, done: false };
      finished = true;
      return DONE;
    },
    return: (value?: unknown): IteratorResult<T> => {
      finished = true;
      return { value: value as T, done: true };
    },
  };
}
