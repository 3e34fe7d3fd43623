/**
 * Go's `sync.WaitGroup` across threads (API.md §3).
 * @module
 */
import type { InspectOptions } from 'node:util';
import { MisuseError } from '../errors.js';
import { formatWeft, inspectSymbol } from '../inspect.js';
import { Kind, native, type Handle } from '../internal/native.js';
import { kWaitGroupWordsBytes, WaitGroupWord } from '../internal/abi.js';
import { ADOPT, WeftObject, notA, registerKind, type Adopt } from '../internal/object.js';
import { parseOpts, type WaitOpts } from '../internal/options.js';
import { RESOLVED, asyncWait, canceled, doneOf, nameOf, objName, quoted, syncResult, type SyncOptions } from './common.js';

/**
 * Go's `sync.WaitGroup`. `add`/`done` are a CAS on the shared counter (no native call).
 *
 * @example
 * const wg = new WaitGroup();
 * for (const file of files) {
 *   wg.add(1);
 *   new Worker(new URL('./work.js', import.meta.url), { workerData: share({ wg, file }) });
 *   // work.js: const { wg, file } = attach(workerData); ...; wg.done();
 * }
 * await wg.wait({ timeout: 60_000 });
 */
export class WaitGroup extends WeftObject {
  readonly #w: Int32Array;

  /** @param opts `name`: shown by `dump()`, `util.inspect` and error messages. */
  constructor(opts?: SyncOptions);
  /** @internal wraps the existing waitgroup handle `h` (see lib/internal/object.ts). */
  constructor(adopt: Adopt, h: Handle);
  constructor(opts?: SyncOptions | Adopt, h?: Handle) {
    const handle = opts === ADOPT ? h! : native.wgNew(nameOf(opts));
    super(handle);
    this.#w = new Int32Array(native.wgWords(handle), 0, kWaitGroupWordsBytes / 4);
  }

  /** The `name` given at creation (the same on every thread), or `undefined`. */
  get name(): string | undefined {
    if (!(#w in this)) throw notA('WaitGroup', 'name');
    return objName(this._h);
  }

  /** Adds `n` (default 1; may be negative) to the counter; `MisuseError` if it would go below zero. */
  add(n: number = 1): void {
    if (!(#w in this)) throw notA('WaitGroup', 'add');
    if (typeof n !== 'number') throw new TypeError('n must be a number');
    if (!Number.isInteger(n)) throw new RangeError(`n must be an integer, got ${n}`);
    const w = this.#w;
    let next: number;
    for (;;) {
      const cur = w[WaitGroupWord.Counter]!; // plain read; the CAS below validates it
      next = cur + n;
      if (next < 0) throw new MisuseError(`negative WaitGroup counter${quoted(this._h)}`);
      if (next > 0x7fffffff) {
        throw new RangeError(`n = ${n} would take WaitGroup counter${quoted(this._h)} past 2147483647`);
      }
      if (Atomics.compareExchange(w, WaitGroupWord.Counter, cur, next) === cur) break;
    }
    if (next === 0 && Atomics.load(w, WaitGroupWord.Waiters) !== 0) native.wgWake(this._h);
  }

  /** `add(-1)`. */
  done(): void {
    if (!(#w in this)) throw notA('WaitGroup', 'done');
    this.add(-1);
  }

  /** The counter now. */
  get count(): number {
    if (!(#w in this)) throw notA('WaitGroup', 'count');
    return Atomics.load(this.#w, WaitGroupWord.Counter);
  }

  /** Resolves when the counter is zero. */
  wait(opts?: WaitOpts): Promise<void> {
    if (!(#w in this)) throw notA('WaitGroup', 'wait');
    const o = parseOpts(opts);
    if (o.signal?.aborted) return Promise.reject(canceled(o.signal, 'wait', 'waitgroup', this._h));
    if (Atomics.load(this.#w, WaitGroupWord.Counter) === 0) return RESOLVED;
    return asyncWait(native.wgWait(this._h), o, 'wait', 'waitgroup', this._h);
  }

  /** Blocking `wait` for worker threads. */
  waitSync(opts?: WaitOpts): void {
    if (!(#w in this)) throw notA('WaitGroup', 'waitSync');
    const o = parseOpts(opts);
    if (o.signal?.aborted) throw canceled(o.signal, 'wait', 'waitgroup', this._h);
    if (Atomics.load(this.#w, WaitGroupWord.Counter) === 0) return;
    syncResult(native.wgWaitSync(this._h, o.timeout, doneOf(o)), o, 'wait', 'waitgroup', this._h);
  }

  /** @internal `util.inspect`: name, counter, how many wait. */
  [inspectSymbol](depth: number, options: InspectOptions): string {
    if (!(#w in this)) return 'WaitGroup';
    const count = Atomics.load(this.#w, WaitGroupWord.Counter);
    const waiters = Atomics.load(this.#w, WaitGroupWord.Waiters);
    return formatWeft('WaitGroup', this.name, { count, waiters }, depth, options);
  }
}

registerKind(Kind.WaitGroup, WaitGroup);
