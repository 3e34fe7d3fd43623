/**
 * The base of every JavaScript class whose instances are handles to shared native objects,
 * the one way a wrapper of an existing native handle is made, and the table that turns a
 * native handle back into the right class.
 *
 * Wrapping an existing handle (`attach()`, a weft object carried in a message, a channel
 * view, the channel of a Timer or a Context) always goes through the class's own constructor,
 * called with {@link ADOPT} as its first argument: `new C(ADOPT, h, tag)`. That constructor
 * overload is `@internal` (absent from the published `.d.ts`), and `ADOPT` is not exported from
 * weft, so only weft itself can call it; every private field is set up as for a new object.
 * @module
 */
import { GoneError } from '../errors.js';
import { native, type Handle } from './native.js';
import { ViewTag } from './abi.js';

/**
 * @internal The first constructor argument that means "wrap the existing native handle given
 * as the second" (the third, if the class uses it, is the sender's `_tag()`).
 */
export const ADOPT: unique symbol = Symbol('weft.adopt');

/** @internal The type of {@link ADOPT}. */
export type Adopt = typeof ADOPT;

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

/** @internal A weft class: `new C(ADOPT, h, tag)` wraps the existing handle `h`. */
export type WeftClass<T extends WeftObject = WeftObject> = new (adopt: Adopt, h: Handle, tag: number) => T;

const classes = new Map<number, WeftClass>();

/** @internal Registers the class that wraps handles of a native kind (`Kind` in abi.ts). */
export function registerKind(kind: number, cls: WeftClass): void {
  classes.set(kind, cls);
}

/** @internal Wraps an existing handle in class `cls` (`tag`: see `WeftObject._tag`). */
export function fromHandle<T extends WeftObject>(cls: WeftClass<T>, h: Handle, tag = 0): T {
  return new cls(ADOPT, h, tag);
}

/** @internal Wraps a native handle in the class registered for its kind (`tag`: see `WeftObject._tag`). */
export function wrapHandle(h: Handle | null, tag = 0): WeftObject {
  if (h === null) throw new GoneError();
  const cls = classes.get(native.kindOf(h));
  if (cls === undefined) throw new TypeError('unknown weft object kind');
  return new cls(ADOPT, h, tag);
}

/**
 * @internal The TypeError for a method called with a `this` that is not an instance of its
 * class: `Mutex.lock called on an object that is not a Mutex`.
 */
export function notA(cls: string, method: string): TypeError {
  return new TypeError(`${cls}.${method} called on an object that is not ${/^[AEIOU]/.test(cls) ? 'an' : 'a'} ${cls}`);
}
