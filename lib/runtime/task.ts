/**
 * `Task<R>` (what `go()` returns) and how errors cross threads with their class, `code`,
 * `cause` and stack (API.md §7: structured clone alone turns every error into a plain `Error`
 * and drops `code`).
 * @module
 */
import {
  BusyError,
  CanceledError,
  ClosedChannelError,
  DataCloneError,
  DeadlineExceededError,
  DeadlockError,
  GoneError,
  MisuseError,
  TimeoutError,
} from '../errors.js';

/**
 * A started task (what `go()` returns): a Promise of the function's result, with the task's
 * process-unique `id` (as `dump()` lists it).
 */
export interface Task<R> extends Promise<R> {
  /** The task's process-unique id (as `dump()` lists it). */
  readonly id: number;
}

/**
 * @internal A new pending Task and its settle functions. A plain Promise with an own `id`: a
 * Promise subclass costs V8 several times more to create.
 */
export function newTask<R>(id: number): { task: Task<R>; resolve: (v: R) => void; reject: (e: unknown) => void } {
  let resolve!: (v: R) => void;
  let reject!: (e: unknown) => void;
  const task = new Promise<R>((res, rej) => {
    resolve = res;
    reject = rej;
  }) as Promise<R> & { id: number };
  task.id = id;
  return { task, resolve, reject };
}

/** @internal An error as it crosses threads (plain data, plus whatever the channel carries by reference). */
export interface PackedError {
  /** Marks a packed error (a thrown non-Error value is carried as `{ value }` instead). */
  $weftError: 1;
  name: string;
  message: string;
  stack?: string;
  code?: unknown;
  /** Present when the error had an own `cause` (packed when it is an Error). */
  cause?: Packed;
  hasCause?: boolean;
  /** AggregateError's `errors`. */
  errors?: Packed[];
  /** Other own enumerable properties (`sent`, `errno`, `syscall`, ...), when cloneable. */
  props?: Record<string, unknown>;
}
/** @internal A thrown value as it crosses threads. */
export type Packed = PackedError | { value: unknown };

type ErrorCtor = new (message?: string, options?: { cause?: unknown }) => Error;

/** Built-in and weft error classes, rebuilt by name on the receiving side. */
const CLASSES: Record<string, ErrorCtor> = {
  Error,
  TypeError,
  RangeError,
  SyntaxError,
  ReferenceError,
  EvalError,
  URIError,
  ClosedChannelError,
  CanceledError,
  DeadlineExceededError,
  TimeoutError,
  BusyError,
  MisuseError,
  DeadlockError,
  DataCloneError,
  GoneError: GoneError as unknown as ErrorCtor,
};

const SKIP = new Set(['name', 'message', 'stack', 'code', 'cause', 'errors']);

/** @internal Packs a thrown value for the trip back to the task's caller (depth-limited for cycles of causes). */
export function packError(e: unknown, depth = 0): Packed {
  if (!(e instanceof Error) || depth > 16) return { value: e };
  const p: PackedError = { $weftError: 1, name: String(e.name), message: String(e.message) };
  if (typeof e.stack === 'string') p.stack = e.stack;
  const code = (e as { code?: unknown }).code;
  if (code !== undefined) p.code = code;
  if (Object.prototype.hasOwnProperty.call(e, 'cause')) {
    p.hasCause = true;
    p.cause = packError(e.cause, depth + 1);
  }
  if (e instanceof AggregateError && Array.isArray(e.errors)) p.errors = e.errors.map((x) => packError(x, depth + 1));
  for (const k of Object.keys(e)) {
    if (SKIP.has(k)) continue;
    (p.props ??= {})[k] = (e as unknown as Record<string, unknown>)[k];
  }
  return p;
}

/**
 * @internal The same packed error, made safe to clone: values that cannot be cloned are
 * replaced by their `String()` (used when sending the first form failed with DataCloneError).
 */
export function degradePacked(p: Packed): Packed {
  const safe = (v: unknown): unknown => {
    try {
      structuredClone(v);
      return v;
    } catch {
      return String(v);
    }
  };
  if (!('$weftError' in p)) return { value: safe(p.value) };
  const out: PackedError = { $weftError: 1, name: p.name, message: p.message };
  if (p.stack !== undefined) out.stack = p.stack;
  if (p.code !== undefined) out.code = safe(p.code);
  if (p.hasCause) {
    out.hasCause = true;
    out.cause = degradePacked(p.cause!);
  }
  if (p.errors) out.errors = p.errors.map(degradePacked);
  if (p.props) {
    out.props = {};
    for (const [k, v] of Object.entries(p.props)) out.props[k] = safe(v);
  }
  return out;
}

/**
 * @internal Rebuilds a thrown value: built-in and weft errors get their own class back; other
 * errors come back as `Error` with the original `name`. `site` (the `go()` call site's stack,
 * without its first line) is appended to the worker's stack.
 */
export function unpackError(p: Packed, site?: string): unknown {
  if (!('$weftError' in p)) return p.value;
  const Ctor = CLASSES[p.name] ?? Error;
  const cause = p.hasCause ? unpackError(p.cause!) : undefined;
  let e: Error;
  if (p.name === 'AggregateError') {
    const errs = (p.errors ?? []).map((x) => unpackError(x));
    e = p.hasCause ? new AggregateError(errs, p.message, { cause }) : new AggregateError(errs, p.message);
  } else {
    e = p.hasCause ? new Ctor(p.message, { cause }) : new Ctor(p.message);
    if (p.hasCause && !Object.prototype.hasOwnProperty.call(e, 'cause')) {
      Object.defineProperty(e, 'cause', { value: cause, writable: true, configurable: true });
    }
  }
  if (e.name !== p.name) Object.defineProperty(e, 'name', { value: p.name, writable: true, configurable: true });
  if (p.code !== undefined && (e as { code?: unknown }).code !== p.code) {
    Object.defineProperty(e, 'code', { value: p.code, writable: true, configurable: true, enumerable: true });
  }
  if (p.props) Object.assign(e, p.props);
  const stack = p.stack ?? `${p.name}: ${p.message}`;
  Object.defineProperty(e, 'stack', {
    value: site ? `${stack}\n${site}` : stack,
    writable: true,
    configurable: true,
  });
  return e;
}

/**
 * @internal The frames of a captured call site: its stack without the first line, and without
 * the next `skip` lines (the frames of the function that captured it, for a site taken with
 * `new Error()`).
 */
export function siteFrames(site: { stack?: string } | undefined, skip = 0): string | undefined {
  const s = site?.stack;
  if (typeof s !== 'string') return undefined;
  let nl = s.indexOf('\n');
  for (let k = 0; k < skip && nl >= 0; k++) nl = s.indexOf('\n', nl + 1);
  return nl < 0 ? undefined : s.slice(nl + 1);
}
