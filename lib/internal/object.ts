/**
 * The base of every JavaScript class whose instances are handles to shared native objects,
 * and the table that turns a native handle back into the right class.
 * @module
 */
import { GoneError } from '../errors.js';
import { native, type Handle } from './native.js';
import { ViewTag } from './abi.js';

/** Base class of weft's shared objects (Chan, and the sync primitives). */
export abstract class WeftObject {
  /** @internal the native handle (owns one reference to the shared object). */
  readonly _h: Handle;
  /** @internal */
  constructor(h: Handle) {
    this._h = h;
  }
  /**
   * @internal what a message carries besides the handle so the other thread rebuilds the
   * same kind of wrapper: a `ViewTag` (lib/internal/abi.ts) — `None`, or a channel view's direction.
   */
  _tag(): number {
    return ViewTag.None;
  }
}

/** Wraps a handle of one native kind; `tag` is the sender's `_tag()` (0 if none). */
type Factory = (h: Handle, tag: number) => WeftObject;
const factories = new Map<number, Factory>();

/** @internal Registers how to wrap a handle of a native kind. */
export function registerKind(kind: number, f: Factory): void {
  factories.set(kind, f);
}

/** @internal Wraps a native handle in its JavaScript class (`tag`: see `WeftObject._tag`). */
export function wrapHandle(h: Handle | null, tag = 0): WeftObject {
  if (h === null) throw new GoneError();
  const f = factories.get(native.kindOf(h));
  if (f === undefined) throw new TypeError('unknown weft object kind');
  return f(h, tag);
}
