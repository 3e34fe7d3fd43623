/**
 * The task a module-target `stage` runs on pool threads (one per worker, through `go()`): it
 * imports the user's module once, then loops taking values from the input channel, applying the
 * export and sending the results on, until the input is closed and drained or the stage's
 * context ends. Channels pass into tasks by reference, so the values never touch the thread that
 * built the pipeline.
 * @internal
 * @module
 */
import type { Chan } from '../chan/chan.js';
import type { Context } from '../time/context.js';
import { isStopError, yieldToLoop } from './common.js';

type Fn = (v: unknown) => unknown;

const loaded = new Map<string, Promise<Fn>>();

function load(mod: string, exp: string): Promise<Fn> {
  const key = `${mod}#${exp}`;
  let p = loaded.get(key);
  if (p === undefined) {
    p = import(mod).then((m: Record<string, unknown>) => {
      const f = m[exp];
      if (typeof f !== 'function') throw new TypeError(`stage work: export '${exp}' of ${mod} is not a function`);
      return f as Fn;
    });
    loaded.set(key, p);
    p.catch(() => loaded.delete(key));
  }
  return p;
}

// Work items between two yields to the event loop when every channel operation completes at
// once (a pool thread runs many tasks: no task may hold it for the whole input).
const YIELD_EVERY = 1024;

/**
 * @internal One worker of a module-target stage. `tagged`: values in and out are
 * `[seq, value]` pairs (an ordered stage; the caller's thread restores the order). Returns the
 * number of values processed. Ends quietly when `ctx` ends; rethrows what the work throws.
 */
export async function stageWorker(
  mod: string,
  exp: string,
  input: Chan<unknown>,
  out: Chan<unknown>,
  ctx: Context,
  tagged: boolean,
): Promise<number> {
  const fn = await load(mod, exp);
  const opts = { signal: ctx.signal };
  let n = 0;
  for (;;) {
    if (ctx.err() !== null) return n;
    let v: unknown;
    try {
      const t = input.tryRecv();
      if (t.ok) v = t.value;
      else if (t.closed) return n;
      else {
        const r = await input.recvOk(opts);
        if (!r.ok) return n;
        v = r.value;
      }
    } catch (e) {
      if (ctx.err() !== null && isStopError(e)) return n;
      throw e;
    }
    let res: unknown;
    if (tagged) {
      const [seq, x] = v as [number, unknown];
      let y = fn(x);
      if (y instanceof Promise) y = await y;
      res = [seq, y];
    } else {
      res = fn(v);
      if (res instanceof Promise) res = await res;
    }
    try {
      if (!out.trySend(res)) await out.send(res, opts);
    } catch (e) {
      if (ctx.err() !== null && isStopError(e)) return n;
      throw e;
    }
    n++;
    if (n % YIELD_EVERY === 0) await yieldToLoop();
  }
}
