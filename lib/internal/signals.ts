/**
 * Which AbortSignals belong to weft contexts. A `*Sync` wait cannot see an ordinary signal
 * abort (its thread's event loop is blocked), but a context's signal is backed by the
 * context's done channel, so the wait also waits on that channel and wakes when the context
 * is canceled from any thread or its deadline passes.
 * @internal
 * @module
 */
import type { Handle } from './native.js';

/** @internal */
export interface SignalSource {
  /** handle of the context's done channel */
  done(): Handle;
  /** the context's error (once done) */
  err(): Error | null;
  /** the context's deadline (ms since the epoch), if any */
  deadline?(): number | undefined;
}

/** @internal */
export const signalSources = new WeakMap<AbortSignal, SignalSource>();

/** @internal The context behind `signal`, when it is a weft context's signal (else undefined). */
export function contextOf(signal: AbortSignal | undefined): SignalSource | undefined {
  return signal === undefined ? undefined : signalSources.get(signal);
}
