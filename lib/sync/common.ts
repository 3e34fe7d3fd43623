/**
 * What the sync primitives share: their constructor options, how messages name an object
 * (`mutex 'db'`), and how a wait ends (a code, a pending Promise, a context that ended).
 * @module
 */
import { CanceledError, DeadlineExceededError, TimeoutError } from '../errors.js';
import { Code, native, type Handle, opId } from '../internal/native.js';
import { awaitPending, throwForCode, type ParsedOpts } from '../internal/options.js';
import { contextOf } from '../internal/signals.js';

/** @internal a settled Promise, returned by waits that finished at once */
export const RESOLVED = Promise.resolve();

/** Options of the sync primitives' constructors. */
export interface SyncOptions {
  /** A name shown by `dump()`, `util.inspect` and in error messages. */
  name?: string | undefined;
}

/** @internal `opts.name`, checked (TypeError for a bad one). */
export function nameOf(opts: unknown): string | undefined {
  if (opts === undefined) return undefined;
  if (typeof opts !== 'object' || opts === null) throw new TypeError('opts must be an object');
  const n = (opts as SyncOptions).name;
  if (n !== undefined && typeof n !== 'string') throw new TypeError('name must be a string');
  return n;
}

/** @internal The name given at creation (read from the shared object, so it is the same on every thread). */
export function objName(h: Handle): string | undefined {
  const n = native.objName(h);
  return n === '' ? undefined : n;
}

/** @internal How messages name an object: `mutex 'db'`, or `mutex` when it has no name. */
export function label(kind: string, h: Handle): string {
  const n = objName(h);
  return n === undefined ? kind : `${kind} '${n}'`;
}

/** @internal ` 'db'`, or '' when the object has no name. */
export function quoted(h: Handle): string {
  const n = objName(h);
  return n === undefined ? '' : ` '${n}'`;
}

/**
 * @internal
 * The error of a wait ended by `signal` (API.md §0): its reason when that is a weft
 * `CanceledError` or `DeadlineExceededError`, otherwise a `CanceledError` naming the operation
 * and the object, with the reason as `cause`.
 */
export function canceled(signal: AbortSignal, op: string, kind: string, h: Handle): Error {
  const r: unknown = signal.reason;
  if (r instanceof CanceledError || r instanceof DeadlineExceededError) return r;
  return new CanceledError(`${op} of ${label(kind, h)} canceled`, { cause: r });
}

/** @internal Throws for a wait's failure code; a timeout or an abort names the operation and the object. */
export function fail(code: number, o: ParsedOpts, op: string, kind: string, h: Handle): never {
  if (code === Code.Timeout) {
    throw new TimeoutError(`${op} of ${label(kind, h)} timed out after ${o.timeout} ms`);
  }
  if (code === Code.Canceled && o.signal !== undefined) throw canceled(o.signal, op, kind, h);
  throwForCode(code, o);
}

/** @internal Settles an async wait from its native call's code (Pending: the op id is in the status area). */
export function asyncWait(r: number, o: ParsedOpts, op: string, kind: string, h: Handle): Promise<void> {
  if (r !== Code.Pending) {
    if (r === Code.Ok) return RESOLVED;
    try {
      fail(r, o, op, kind, h);
    } catch (e) {
      return Promise.reject(e);
    }
  }
  return awaitPending(opId(), o).then(([code]) => {
    if (code !== Code.Ok) fail(code, o, op, kind, h);
  });
}

/** @internal A context signal's done channel, so a blocked Sync call also wakes when the context ends. */
export function doneOf(o: ParsedOpts): Handle | undefined {
  return contextOf(o.signal)?.done();
}

/** @internal Throws for a Sync wait's code (a context that ended reports its own error). */
export function syncResult(code: number, o: ParsedOpts, op: string, kind: string, h: Handle): void {
  if (code === Code.Ok) return;
  if (code === Code.Canceled && o.signal !== undefined) {
    throw contextOf(o.signal)?.err() ?? canceled(o.signal, op, kind, h);
  }
  fail(code, o, op, kind, h);
}
