// API.md §10: toReadable, toWritable, pipeFrom, and an iterator's return() withdrawing its
// pending receive (Readable.from(ch) destroyed after one chunk; return() while next() waits),
// with producers and consumers on pool threads. Also runs examples/moving-average.js.
import { describe, it, expect, afterAll } from 'vitest';
import { Readable, Writable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { CanceledError, Chan, MisuseError, go, pipeFrom, shutdown, sleep, toReadable, toWritable } from 'weft';

const M = new URL('./fixtures/go/stage.mjs', import.meta.url);
const ROOT = fileURLToPath(new URL('..', import.meta.url));
const run = promisify(execFile);

afterAll(() => shutdown({ timeout: 5000 }));

// ReadableStream.from exists since Node 20.6; @types/node 20 does not declare it.
const webFrom = <T>(src: AsyncIterable<T>): AsyncIterable<T> =>
  (ReadableStream as unknown as { from(x: AsyncIterable<T>): AsyncIterable<T> }).from(src);
const range = (n: number, from = 0): number[] => Array.from({ length: n }, (_, i) => from + i);

/** A Writable that collects what it is given. */
function collector(got: unknown[]): Writable {
  return new Writable({
    objectMode: true,
    write(v, _e, cb) {
      got.push(v);
      cb();
    },
  });
}

describe('iterator return() withdraws its pending receive', () => {
  it('Readable.from(ch) destroyed after one chunk: the values left go to another receiver', async () => {
    const ch = new Chan<number>(0);
    const r = Readable.from(ch);
    const first = new Promise<number>((resolve) => r.once('data', resolve));
    await ch.send(1); // taken by the stream's iterator
    expect(await first).toBe(1);
    await sleep(10); // Readable.from reads ahead: its next receive is pending now
    r.destroy();
    await new Promise((resolve) => r.once('close', resolve));
    // the pending receive was withdrawn: every later value reaches a receiver on a pool thread
    const t = go<number[]>(M, 'consumeAll', ch);
    for (let i = 2; i <= 20; i++) await ch.send(i);
    ch.close();
    expect(await t).toEqual(range(19, 2));
  });

  it('Readable.from(ch) destroyed while a pool thread keeps sending: nothing is lost or duplicated', async () => {
    const ch = new Chan<number>(0);
    const producer = go<number>(M, 'produce', ch, 0, 200);
    const r = Readable.from(ch, { highWaterMark: 1 });
    r.pause();
    await new Promise((resolve) => r.once('readable', resolve));
    const seen: number[] = [];
    for (let v = r.read(); v !== null; v = r.read()) seen.push(v as number);
    r.destroy();
    await new Promise((resolve) => r.once('close', resolve));
    const rest: number[] = [];
    for await (const v of ch) rest.push(v);
    await producer;
    // Readable.from asks for the next value as soon as it pushed one. When a sender is already
    // waiting, that next() takes its value at once (a completed receive, not a pending one),
    // and the destroyed stream then drops it: that is the stream's read-ahead, like a Go
    // goroutine that received and exited. What weft guarantees is that no *pending* receive
    // survives the stream: nothing else is lost and nothing is duplicated.
    const all = [...seen, ...rest];
    expect(new Set(all).size).toBe(all.length);
    const missing = range(200).filter((v) => !all.includes(v));
    expect(missing.length).toBeLessThanOrEqual(1);
    if (missing.length === 1) expect(missing[0]).toBe(seen.length);
    expect(all.filter((v) => v !== missing[0])).toEqual(range(200).filter((v) => v !== missing[0]));
  });

  it('return() while next() waits: next() resolves done and a later value reaches someone else', async () => {
    const ch = new Chan<number>(0);
    const it = ch[Symbol.asyncIterator]();
    const pending = it.next();
    await sleep(5);
    await it.return!();
    expect(await pending).toEqual({ value: undefined, done: true });
    expect(await it.next()).toEqual({ value: undefined, done: true });
    const t = go<number[]>(M, 'consumeAll', ch);
    await ch.send(42);
    ch.close();
    expect(await t).toEqual([42]);
  });

  it('break out of for await: no value beyond the last one seen is consumed', async () => {
    const ch = new Chan<number>(0);
    const producer = go<number>(M, 'produce', ch, 0, 10);
    const seen: number[] = [];
    for await (const v of ch) {
      seen.push(v);
      if (v === 3) break;
    }
    const rest: number[] = [];
    for await (const v of ch) rest.push(v);
    await producer;
    expect([...seen, ...rest]).toEqual(range(10));
  });

  it('a receive withdrawn on the main thread while a pool thread sends: every value is received once', async () => {
    const ch = new Chan<number>(0);
    const producer = go<number>(M, 'produce', ch, 0, 200);
    const got: number[] = [];
    while (got.length < 200) {
      const it = ch[Symbol.asyncIterator]();
      const p = it.next();
      if (got.length % 2 === 0) await Promise.resolve();
      else await sleep(0);
      await it.return!();
      const r = await p;
      if (!r.done) got.push(r.value);
      else {
        const v = await ch.recvOk({ timeout: 5000 });
        if (v.ok) got.push(v.value);
      }
    }
    await producer;
    expect(got).toEqual(range(200));
  });
});

describe('toReadable', () => {
  it('streams every value of a channel fed by a pool thread, in order, then ends', async () => {
    const ch = new Chan<number>(4);
    void go(M, 'produce', ch, 0, 500);
    const got: number[] = [];
    await pipeline(toReadable(ch), collector(got));
    expect(got).toEqual(range(500));
  });

  it('receives only when the stream wants data', async () => {
    const ch = new Chan<number>(20);
    for (let i = 0; i < 20; i++) ch.trySend(i);
    const r = toReadable(ch, { highWaterMark: 2 });
    await sleep(20);
    expect(ch.length).toBe(20); // nobody asked yet
    r.read(0); // fills the stream's buffer up to highWaterMark
    await sleep(20);
    expect(ch.length).toBeGreaterThanOrEqual(20 - 3);
    expect(ch.length).toBeLessThan(20);
    r.destroy();
  });

  it('destroy stops receiving without consuming a value', async () => {
    const ch = new Chan<number>(0);
    const r = toReadable(ch);
    r.read(0); // a receive is now pending
    await sleep(10);
    r.destroy();
    await new Promise((resolve) => r.once('close', resolve));
    const t = go<number[]>(M, 'consumeAll', ch);
    await ch.send(7);
    ch.close();
    expect(await t).toEqual([7]);
  });

  it('works with ReadableStream.from and with async iteration of the stream', async () => {
    const ch = new Chan<string>(2);
    void go(M, 'produce', ch, 0, 5);
    const web = webFrom(toReadable(ch));
    const got: unknown[] = [];
    for await (const v of web) got.push(v);
    expect(got).toEqual(range(5));
    const ch2 = new Chan<number>(2);
    void go(M, 'produce', ch2, 10, 5);
    const got2: number[] = [];
    for await (const v of toReadable(ch2)) got2.push(v);
    expect(got2).toEqual(range(5, 10));
  });

  it('ReadableStream.from(ch) works on the channel itself', async () => {
    const ch = new Chan<number>(0);
    void go(M, 'produce', ch, 0, 5);
    const got: number[] = [];
    for await (const v of webFrom(ch)) got.push(v);
    expect(got).toEqual(range(5));
  });

  it('a null value destroys the stream with a TypeError (Node streams cannot carry null)', async () => {
    const ch = new Chan<unknown>(2);
    ch.trySend(1);
    ch.trySend(null);
    const err = await pipeline(toReadable(ch), collector([])).then(() => null, (e: unknown) => e);
    expect(err).toBeInstanceOf(TypeError);
  });

  it('rejects bad arguments', () => {
    const ch = new Chan<number>();
    expect(() => toReadable({} as never)).toThrow(TypeError);
    expect(() => toReadable(ch, { highWaterMark: -1 })).toThrow(RangeError);
    expect(() => toReadable(ch.sendOnly() as never)).toThrow(MisuseError);
  });
});

describe('toWritable', () => {
  it('sends what is written to a channel read on a pool thread, and closes it at the end', async () => {
    const ch = new Chan<number>(0);
    const t = go<number[]>(M, 'consumeAll', ch);
    await pipeline(Readable.from(range(300)), toWritable(ch));
    expect(await t).toEqual(range(300));
    expect(ch.closed).toBe(true);
  });

  it('write waits while the channel is full', async () => {
    const ch = new Chan<number>(2);
    const w = toWritable(ch, { highWaterMark: 1 });
    const oks: boolean[] = [];
    for (let i = 0; i < 6; i++) oks.push(w.write(i));
    await sleep(20);
    expect(ch.length).toBe(2);
    expect(w.writableLength).toBeGreaterThan(0); // the rest waits in the stream
    expect(oks.at(-1)).toBe(false);
    w.end();
    const got: number[] = [];
    for await (const v of ch) got.push(v);
    expect(got).toEqual(range(6));
  });

  it('close: false leaves the channel open', async () => {
    const ch = new Chan<number>(10);
    await pipeline(Readable.from([1, 2, 3]), toWritable(ch, { close: false }));
    expect(ch.closed).toBe(false);
    expect(ch.length).toBe(3);
  });

  it('a failed pipeline closes the channel (receivers see the end) and reports the error', async () => {
    const ch = new Chan<number>(10);
    const boom = new Transform({
      objectMode: true,
      transform(v, _e, cb) {
        cb(v === 3 ? new Error('boom') : null, v);
      },
    });
    await expect(pipeline(Readable.from(range(10)), boom, toWritable(ch))).rejects.toThrow('boom');
    const got: number[] = [];
    for await (const v of ch) got.push(v);
    expect(got).toEqual([0, 1, 2]);
  });

  it('round trip: channel → stream → channel across pool threads', async () => {
    const a = new Chan<number>(4);
    const b = new Chan<number>(4);
    void go(M, 'produce', a, 0, 200);
    const t = go<number[]>(M, 'consumeAll', b);
    const double = new Transform({ objectMode: true, transform: (v, _e, cb) => cb(null, v * 2) });
    await pipeline(toReadable(a), double, toWritable(b));
    expect(await t).toEqual(range(200).map((v) => v * 2));
  });

  it('rejects bad arguments', () => {
    const ch = new Chan<number>();
    expect(() => toWritable({} as never)).toThrow(TypeError);
    expect(() => toWritable(ch, { close: 'yes' as never })).toThrow(/close/);
    expect(() => toWritable(ch.recvOnly() as never)).toThrow(MisuseError);
  });
});

describe('pipeFrom', () => {
  it('an already-aborted signal rejects at once: nothing is pulled or sent (the channel is closed if asked)', async () => {
    let pulled = 0;
    function* counting() { for (let i = 0; ; i++) { pulled++; yield i; } }
    const sig = AbortSignal.abort();
    const empty = new Chan<number>(10);
    await expect(pipeFrom([], empty, { signal: sig, close: false })).rejects.toBeInstanceOf(CanceledError);
    const ch = new Chan<number>(10);
    await expect(pipeFrom(counting(), ch, { signal: sig, close: false })).rejects.toBeInstanceOf(CanceledError);
    expect(pulled).toBe(0);
    expect([ch.length, ch.closed]).toEqual([0, false]);
    await expect(pipeFrom(counting(), ch, { signal: sig })).rejects.toBeInstanceOf(CanceledError);
    expect([pulled, ch.length, ch.closed]).toEqual([0, 0, true]);
  });


  it('sends an iterable to a channel read on a pool thread, resolves with the count and closes', async () => {
    const ch = new Chan<number>(0);
    const t = go<number[]>(M, 'consumeAll', ch);
    expect(await pipeFrom(range(100), ch)).toBe(100);
    expect(await t).toEqual(range(100));
    expect(ch.closed).toBe(true);
  });

  it('a sender and a receiver on the same thread, unbuffered: never reported as a deadlock', async () => {
    // Regression: a send that completes this thread's pending receive, followed by a new
    // pending send, left the loop "idle" with the completion still in the inbox.
    const ch = new Chan<number>(0);
    const sent = pipeFrom(range(20_000), ch);
    let n = 0;
    for (;;) {
      const r = await ch.recvOk();
      if (!r.ok) break;
      n++;
    }
    expect(await sent).toBe(20_000);
    expect(n).toBe(20_000);
  });

  it('takes async iterables (a Readable, an async generator)', async () => {
    const ch = new Chan<number>(100);
    expect(await pipeFrom(Readable.from(range(10)), ch, { close: false })).toBe(10);
    async function* gen() {
      for (let i = 10; i < 15; i++) {
        await sleep(1);
        yield i;
      }
    }
    expect(await pipeFrom(gen(), ch)).toBe(5);
    const got: number[] = [];
    for await (const v of ch) got.push(v);
    expect(got).toEqual(range(15));
  });

  it('gives up on abort (CanceledError) and still closes the channel', async () => {
    const ch = new Chan<number>(2);
    const ac = new AbortController();
    const p = pipeFrom(range(10), ch, { signal: ac.signal });
    await sleep(10);
    ac.abort();
    await expect(p).rejects.toBeInstanceOf(CanceledError);
    expect(ch.closed).toBe(true);
    const got: number[] = [];
    for await (const v of ch) got.push(v);
    expect(got).toEqual([0, 1]);
  });

  it('rejects bad arguments synchronously', () => {
    const ch = new Chan<number>();
    expect(() => pipeFrom(42 as never, ch)).toThrow(TypeError);
    expect(() => pipeFrom([], {} as never)).toThrow(TypeError);
    expect(() => pipeFrom([], ch, { timeout: 'x' as never })).toThrow(TypeError);
    expect(() => pipeFrom([], ch.recvOnly() as never)).toThrow(MisuseError);
  });
});

describe('examples/moving-average.js', () => {
  it('streams the readings through the moving average and prints the summary', async () => {
    const { stdout } = await run('node', ['examples/moving-average.js', '500', '10'], { cwd: ROOT, timeout: 60_000 });
    const lines = stdout.trim().split('\n');
    expect(lines[0]).toBe('t=0 value=19.50 avg=19.500');
    expect(lines).toHaveLength(6);
    expect(lines.at(-1)).toMatch(/^summary: 500 of 500 readings, window 10, mean of averages \d+\.\d{3}, last average \d+\.\d{3}$/);
  }, 90_000);
});
