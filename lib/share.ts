/**
 * `share()` / `attach()`: carrying weft objects through plain `postMessage` / `workerData`.
 * @module
 */
import { native } from './internal/native.js';
import { WeftObject, wrapHandle } from './internal/object.js';

const TOKEN = '__weftShared';
/** A channel view's direction (WeftObject._tag), present only when not 0. */
const TAG = '__weftTag';

interface Token {
  [TOKEN]: number;
  [TAG]?: number;
}

function isPlain(v: object): boolean {
  const p = Object.getPrototypeOf(v);
  return p === Object.prototype || p === null;
}

function isToken(v: unknown): v is Token {
  return typeof v === 'object' && v !== null && typeof (v as Token)[TOKEN] === 'number';
}

/**
 * Prepares a value for `postMessage` / `workerData`: every weft object in it (at any depth of
 * arrays and plain objects) becomes a token that `attach()` turns back into a handle to the
 * same object on the receiving thread. The tokens keep their objects alive until attached
 * once, even if this thread exits first.
 *
 * @example
 * new Worker(url, { workerData: share({ jobs, results }) });
 */
export function share<V>(value: V): V {
  return walk(value, (o) => {
    const tag = o._tag();
    return tag === 0 ? { [TOKEN]: native.share(o._h) } : { [TOKEN]: native.share(o._h), [TAG]: tag };
  }) as V;
}

/**
 * The receiving side of `share()`: replaces tokens with handles to the shared objects.
 * Throws if an object no longer exists (it was attached before and every thread dropped it).
 *
 * @example
 * const { jobs, results } = attach(workerData);
 */
export function attach<V>(value: V): V {
  if (isToken(value)) return wrapHandle(native.attach(value[TOKEN]), value[TAG] ?? 0) as V;
  if (Array.isArray(value)) return value.map((x) => attach(x)) as V;
  if (typeof value === 'object' && value !== null && isPlain(value)) {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(value)) out[k] = attach((value as Record<string, unknown>)[k]);
    return out as V;
  }
  return value;
}

function walk(v: unknown, f: (o: WeftObject) => Token): unknown {
  if (v instanceof WeftObject) return f(v);
  if (Array.isArray(v)) return v.map((x) => walk(x, f));
  if (typeof v === 'object' && v !== null && isPlain(v)) {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(v)) out[k] = walk((v as Record<string, unknown>)[k], f);
    return out;
  }
  return v;
}

/** Number of weft objects alive in the process right now (for leak checks). */
export function liveObjects(): number {
  return native.liveObjects();
}

