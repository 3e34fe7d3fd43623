/**
 * Node streams over channels (API.md §10): `toReadable`, `toWritable`, `pipeFrom`.
 * Backpressure is the channel's: a Readable receives only when the stream asks for data (one
 * receive per `_read`), a Writable's write completes when the channel took the value.
 * @module
 */
import { Readable, Writable } from 'node:stream';
import { Chan } from './chan.js';
import type { RecvChan, SendChan } from './types.js';
import { ClosedChannelError } from '../errors.js';
import { abortError, parseOpts, type WaitOpts } from '../internal/options.js';

/** Options of {@link toReadable}. */
export interface ToReadableOptions {
  /** Values the stream buffers before it stops receiving (default: Node's object-mode default, 16). */
  highWaterMark?: number;
}

/** Options of {@link toWritable}. */
export interface ToWritableOptions {
  /** Values the stream buffers before `write()` returns false (default: Node's object-mode default, 16). */
  highWaterMark?: number;
  /** Close the channel when the stream ends or is destroyed (default true). */
  close?: boolean;
}

function checkHwm(opts: { highWaterMark?: number } | undefined): number | undefined {
  if (opts !== undefined && (typeof opts !== 'object' || opts === null)) throw new TypeError('opts must be an object');
  const h = opts?.highWaterMark;
  if (h === undefined) return undefined;
  if (typeof h !== 'number') throw new TypeError('highWaterMark must be a number');
  if (!Number.isInteger(h) || h < 0) throw new RangeError(`highWaterMark must be a non-negative integer, got ${h}`);
  return h;
}

function checkClose(opts: { close?: boolean } | undefined): boolean {
  const c = opts?.close ?? true;
  if (typeof c !== 'boolean') throw new TypeError('close must be a boolean');
  return c;
}

function closeQuietly(ch: SendChan<any>): void {
  if (ch.closed) return;
  try {
    ch.close();
  } catch (e) {
    if (!(e instanceof ClosedChannelError)) throw e;
  }
}

/**
 * An object-mode `Readable` of the values received from `ch`; it ends when `ch` is closed and
 * drained. It receives only when the stream wants data (backpressure is the channel's), and
 * destroying it withdraws a pending receive: no value is taken for a stream that is gone.
 * A Node stream cannot carry `null`: a `null` received destroys the stream with a `TypeError`.
 *
 * @example
 * await pipeline(toReadable(lines), new Transform({ objectMode: true, transform: ... }), process.stdout);
 */
export function toReadable<T>(ch: RecvChan<T>, opts?: ToReadableOptions): Readable {
  if (!Chan._is(ch)) throw new TypeError('ch must be a channel');
  ch._checkRecv();
  const highWaterMark = checkHwm(opts);
  const it = ch[Symbol.asyncIterator]();
  let reading = false;
  const r = new Readable({
    objectMode: true,
    ...(highWaterMark !== undefined ? { highWaterMark } : {}),
    read() {
      if (reading) return;
      reading = true;
      const step = (): void => {
        it.next().then(
          (res) => {
            reading = false;
            if (r.destroyed) return;
            if (res.done) {
              r.push(null);
              return;
            }
            if (res.value === null) {
              r.destroy(new TypeError('toReadable: a channel value was null, which a Node stream cannot carry'));
              return;
            }
            if (r.push(res.value)) {
              reading = true;
              step();
            }
          },
          (e: unknown) => {
            reading = false;
            r.destroy(e as Error);
          },
        );
      };
      step();
    },
    destroy(err, cb) {
      // Withdraws a receive still pending: nothing is taken for a stream that is gone.
      it.return!().then(
        () => cb(err),
        () => cb(err),
      );
    },
  });
  return r;
}

/**
 * An object-mode `Writable` that sends each value written to `ch`. A write completes when the
 * channel took the value, so a full channel holds the writer back (`write()` returns false once
 * `highWaterMark` values wait). With `close` (default true) the channel is closed when the stream
 * finishes, and also when it is destroyed (so receivers see the end).
 *
 * @example
 * await pipeline(Readable.from(rows), toWritable(ch));
 */
export function toWritable<T>(ch: SendChan<T>, opts?: ToWritableOptions): Writable {
  if (!Chan._is(ch)) throw new TypeError('ch must be a channel');
  ch._checkSend('send');
  const highWaterMark = checkHwm(opts);
  const close = checkClose(opts);
  const ac = new AbortController();
  return new Writable({
    objectMode: true,
    ...(highWaterMark !== undefined ? { highWaterMark } : {}),
    write(chunk: T, _enc, cb) {
      let sent: boolean;
      try {
        sent = ch.trySend(chunk);
      } catch (e) {
        cb(e as Error);
        return;
      }
      if (sent) cb();
      else
        ch.send(chunk, { signal: ac.signal }).then(
          () => cb(),
          (e: unknown) => cb(e as Error),
        );
    },
    final(cb) {
      try {
        if (close) closeQuietly(ch);
        cb();
      } catch (e) {
        cb(e as Error);
      }
    },
    destroy(err, cb) {
      ac.abort(err ?? undefined);
      try {
        if (close) closeQuietly(ch);
      } catch {
        // a direction error was reported at the first write already
      }
      cb(err);
    },
  });
}

/**
 * Sends every value of `src` (an async or sync iterable: a Node Readable, a generator, an array)
 * to `ch`, in order, waiting for room as needed; resolves with the number of values sent. With
 * `close` (default true) the channel is closed afterwards, also when `src` throws or the send
 * gives up (`signal`, `timeout`), as Go's `defer close(ch)` would.
 *
 * @example
 * const n = await pipeFrom(fs.createReadStream(path).pipe(split()), lines);
 */
export function pipeFrom<T>(
  src: AsyncIterable<T> | Iterable<T>,
  ch: SendChan<T>,
  opts?: WaitOpts & { close?: boolean },
): Promise<number> {
  if (!Chan._is(ch)) throw new TypeError('ch must be a channel');
  ch._checkSend('send');
  if (src === null || (typeof src !== 'object' && typeof src !== 'function') ||
      (typeof (src as AsyncIterable<T>)[Symbol.asyncIterator] !== 'function' && typeof (src as Iterable<T>)[Symbol.iterator] !== 'function')) {
    throw new TypeError('src must be an iterable or an async iterable');
  }
  const close = checkClose(opts);
  const o = parseOpts(opts); // validates signal/timeout synchronously
  if (o.signal?.aborted) {
    // An aborted signal fails at once (API.md §0): nothing is pulled from src. The channel is
    // still closed if asked, as for any other way the pipe gives up.
    if (close) closeQuietly(ch);
    return Promise.reject(abortError(o.signal, 'send', ch.name));
  }
  const waitOpts: WaitOpts = {};
  if (o.signal !== undefined) waitOpts.signal = o.signal;
  const deadline = o.timeout >= 0 ? Date.now() + o.timeout : undefined;
  return pump(src, ch, close, o.signal, waitOpts, deadline);
}

async function pump<T>(
  src: AsyncIterable<T> | Iterable<T>,
  ch: SendChan<T>,
  close: boolean,
  signal: AbortSignal | undefined,
  waitOpts: WaitOpts,
  deadline: number | undefined,
): Promise<number> {
  let n = 0;
  try {
    for await (const v of src as AsyncIterable<T>) {
      if (signal?.aborted || !ch.trySend(v)) {
        if (deadline !== undefined) waitOpts.timeout = Math.max(0, deadline - Date.now());
        await ch.send(v, waitOpts);
      }
      n++;
    }
  } finally {
    if (close) closeQuietly(ch);
  }
  return n;
}
