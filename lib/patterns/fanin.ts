/**
 * Fan-in (API.md §8): `fanIn` merges channels keeping each input's order; `orderedFanIn` merges
 * streams whose values carry consecutive sequence numbers into one stream in sequence order,
 * pausing an input that runs ahead (it takes nothing more from that input until its value's turn).
 * Both run on the calling thread (one async loop per input) and close their output once every
 * input is closed and drained, or as soon as `ctx` ends.
 * @module
 */
import { Chan } from '../chan/chan.js';
import type { RecvChan } from '../chan/types.js';
import type { Context } from '../time/context.js';
import { checkCtx, checkRecvChan, isStopError, Turns } from './common.js';

function startMerge<T>(
  ctx: Context,
  inputs: RecvChan<T>[],
  perInput: (input: RecvChan<T>, out: Chan<T>, opts: { signal: AbortSignal }) => Promise<void>,
  onInputDone?: () => void,
  onStop?: () => void,
): RecvChan<T> {
  checkCtx(ctx);
  inputs.forEach((ch, i) => checkRecvChan(ch, `inputs[${i}]`));
  const out = new Chan<T>(0);
  const signal = ctx.signal;
  const closeOut = (): void => {
    onStop?.();
    if (!out.closed) out.close();
  };
  if (signal.aborted) {
    closeOut();
    return out.recvOnly();
  }
  signal.addEventListener('abort', closeOut, { once: true });
  const opts = { signal };
  const loops = inputs.map((ch) =>
    perInput(ch, out, opts).then(
      () => onInputDone?.(),
      (e: unknown) => {
        // A wait ended by ctx (or the output closed by it) is the normal way out; anything
        // else is a bug in a seq() function or a channel misuse: stop and let it surface.
        onInputDone?.();
        if (!(isStopError(e) && ctx.err() !== null)) {
          closeOut();
          queueMicrotask(() => {
            throw e;
          });
        }
      },
    ),
  );
  void Promise.all(loops).then(() => {
    signal.removeEventListener('abort', closeOut);
    closeOut();
  });
  return out.recvOnly();
}

/**
 * Merges `inputs` into one channel (the book's fan-in). Each input's values keep their order;
 * values of different inputs interleave as they come. The output (unbuffered) closes once every
 * input is closed and drained, or once `ctx` ends (then values still in the inputs stay there).
 *
 * @example
 * const merged = fanIn(ctx, stage(ctx, src, work), stage(ctx, src, work));
 * for await (const v of merged) console.log(v);
 */
export function fanIn<T>(ctx: Context, ...inputs: RecvChan<T>[]): RecvChan<T> {
  return startMerge(ctx, inputs, async (input, out, opts) => {
    for (;;) {
      const t = input.tryRecv();
      let v: T;
      if (t.ok) v = t.value;
      else if (t.closed) return;
      else {
        const r = await input.recvOk(opts);
        if (!r.ok) return;
        v = r.value;
      }
      if (!out.trySend(v)) await out.send(v, opts);
    }
  });
}

/**
 * Merges `inputs`, whose values carry consecutive sequence numbers from 0 (`seq(v)`), into one
 * stream in sequence order (the book's ordered fan-in). An input whose value is ahead of its turn
 * is paused: nothing more is taken from it until that value has been sent. If every input still
 * open is paused and the next number never came (its input closed without it), the merge goes
 * on from the lowest number waiting. Closes like {@link fanIn}.
 *
 * @example
 * const out = orderedFanIn(ctx, (r: { seq: number }) => r.seq, w1, w2, w3);
 */
export function orderedFanIn<T>(ctx: Context, seq: (v: T) => number, ...inputs: RecvChan<T>[]): RecvChan<T> {
  if (typeof seq !== 'function') throw new TypeError('seq must be a function');
  const turns = new Turns();
  let open = inputs.length;
  // Inputs that closed may leave a gap no one will fill: when every open input waits, go on
  // from the lowest number waiting.
  const unstick = (): void => {
    if (open > 0 && turns.waiting === open) {
      const low = turns.lowestWaiting();
      if (low !== undefined) turns.skipTo(low);
    }
  };
  return startMerge(
    ctx,
    inputs,
    async (input, out, opts) => {
      for (;;) {
        const r = await input.recvOk(opts);
        if (!r.ok) return;
        const s = seq(r.value);
        if (typeof s !== 'number' || !Number.isInteger(s) || s < 0) {
          throw new TypeError(`seq must return a non-negative integer, got ${String(s)}`);
        }
        let t = turns.turn(s);
        if (t instanceof Promise) {
          unstick();
          t = await t;
        }
        if (!t) return;
        if (!out.trySend(r.value)) await out.send(r.value, opts);
        if (s >= turns.next) turns.advance();
      }
    },
    () => {
      open--;
      unstick();
    },
    () => turns.stop(),
  );
}
