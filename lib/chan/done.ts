/**
 * The one way a blocking (`*Sync`) channel wait also ends when a context does: a `*Sync` call
 * blocks its thread's event loop, so an AbortSignal's `abort` event cannot reach it; but a
 * context's signal is backed by the context's done channel, so the wait becomes a select with
 * that channel as an extra, last receive case, and wakes when the context is canceled from any
 * thread or its deadline passes. `sendSync`, `recvOkSync` and `selectSync` all go through here.
 * @internal
 * @module
 */
import { Code, native, status, type Handle } from '../internal/native.js';
import { SelectMode, StatusSlot } from '../internal/abi.js';
import { abortError } from '../internal/options.js';
import type { SignalSource } from '../internal/signals.js';

/** @internal A numeric send mask holds up to 52 cases (a double's exact bits); more use a boolean[]. */
export const MASK_MAX = 52;

/** The send mask of `n` cases plus one more receive case at index `n`. */
function withRecvCase(mask: number | boolean[], n: number): number | boolean[] {
  if (typeof mask !== 'number') return [...mask, false];
  if (n + 1 <= MASK_MAX) return mask; // bit n stays clear: a receive
  return Array.from({ length: n + 1 }, (_, i) => i < n && Math.floor(mask / 2 ** i) % 2 === 1);
}

/**
 * @internal A blocking `native.select` over the cases (`handles`, `mask`, `values`, `refs` as
 * `native.select` takes them) raced against `ctx`'s done channel. When a case proceeds or the
 * timeout passes it returns what `native.select` returns, with status `Code` and `SelectIndex`
 * as it leaves them (a received value in the sync form); when the context ended first it
 * throws the context's error (else the abort error of `signal`, naming `op` and `name`).
 */
export function selectUntilDone(
  ctx: SignalSource,
  signal: AbortSignal,
  handles: (Handle | null)[],
  mask: number | boolean[],
  values: unknown[] | undefined,
  refs: (Handle[] | undefined)[] | undefined,
  timeout: number,
  op: string,
  name?: string,
): unknown {
  const n = handles.length;
  const r = native.select(
    [...handles, ctx.done()],
    withRecvCase(mask, n),
    values && [...values, undefined],
    refs && [...refs, undefined],
    SelectMode.Block,
    timeout,
  );
  if (status[StatusSlot.SelectIndex] === n && status[StatusSlot.Code] !== Code.Timeout) {
    throw ctx.err() ?? abortError(signal, op, name);
  }
  return r;
}
