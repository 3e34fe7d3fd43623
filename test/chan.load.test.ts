// Exactly-once under load: 4 producer threads x 4 consumer threads x 250 000 values per
// producer (1 000 000 in all) through one channel, buffered or unbuffered. Every value must be received exactly once: consumers count
// and sum what they get and mark each value in a shared bitmap of seen flags.
import { describe, it, expect, afterEach } from 'vitest';
import { Chan } from 'weft';
import { spawn, cleanup } from './helpers.js';

afterEach(cleanup);

const PRODUCERS = 4;
const CONSUMERS = 4;

interface LoadRun {
  capacity: number;
  elem?: 'i32' | 'f64';
  perProducer: number;
  produce: 'many' | 'each';
  consume: 'many' | 'each' | 'into';
  batch?: number;
  max?: number;
  boxed?: boolean;
}

/** What a consumer scenario reports. */
interface Consumed { count: number; sum: number }

async function run({ capacity, elem, perProducer, produce, consume, batch = 256, max = 256, boxed = false }: LoadRun): Promise<Consumed[]> {
  const total = PRODUCERS * perProducer;
  const ch = new Chan(capacity, elem ? { elem } : undefined);
  const seen = new Uint8Array(new SharedArrayBuffer(total));
  const consumers = Array.from({ length: CONSUMERS }, () =>
    consume === 'many' ? spawn('consumeMany', ch, seen, max)
      : consume === 'into' ? spawn('consumeInto', ch, seen, max)
        : spawn('consumeEach', ch, seen, boxed));
  const producers = Array.from({ length: PRODUCERS }, (_, p) =>
    produce === 'many'
      ? spawn('produceMany', ch, p * perProducer, perProducer, batch)
      : spawn('produceEach', ch, p * perProducer, perProducer, boxed));
  const sent = await Promise.all(producers.map((w) => w.done(55_000)));
  expect(sent).toEqual(Array(PRODUCERS).fill(perProducer));
  ch.close();
  const results: Consumed[] = await Promise.all(consumers.map((w) => w.done(55_000)));
  const count = results.reduce((a, r) => a + r.count, 0);
  const sum = results.reduce((a, r) => a + r.sum, 0);
  const missing: number[] = [];
  const dup: number[] = [];
  for (let i = 0; i < total; i++) {
    if (seen[i] === 0 && missing.length < 10) missing.push(i);
    if (seen[i] > 1 && dup.length < 10) dup.push(i);
  }
  expect({ missing, dup }).toEqual({ missing: [], dup: [] });
  expect(count).toBe(total);
  expect(sum).toBe((total * (total - 1)) / 2);
  // work was actually spread over the consumers (not a correctness rule, but a broken
  // wake-up would leave consumers starved forever, which shows up as a hang above)
  expect(results.filter((r) => r.count > 0).length).toBeGreaterThanOrEqual(1);
  expect(ch.tryRecv()).toEqual({ value: undefined, ok: false, closed: true });
  return results;
}

describe('exactly once under load (4 producers x 4 consumers, worker threads)', () => {
  it("buffered 'i32' channel (capacity 1024), 1 000 000 values with sendManySync/recvManySync", async () => {
    await run({ capacity: 1024, elem: 'i32', perProducer: 250_000, produce: 'many', consume: 'many' });
  }, 60_000);

  it("unbuffered 'i32' channel, 1 000 000 values with sendManySync/recvManySync", async () => {
    await run({ capacity: 0, elem: 'i32', perProducer: 250_000, produce: 'many', consume: 'many' });
  }, 60_000);

  it("buffered 'f64' channel (capacity 1024), 1 000 000 values with sendManySync/recvManyIntoSync into a reused Float64Array", async () => {
    await run({ capacity: 1024, elem: 'f64', perProducer: 250_000, produce: 'many', consume: 'into', max: 100 });
  }, 60_000);

  it("buffered 'i32' channel (capacity 64), 400 000 values, per-value sendSync against recvManyIntoSync into an Int32Array", async () => {
    await run({ capacity: 64, elem: 'i32', perProducer: 100_000, produce: 'each', consume: 'into', max: 48 });
  }, 60_000);

  it("buffered 'f64' channel (capacity 64), 1 000 000 values, per-value sendSync against recvManySync", async () => {
    await run({ capacity: 64, elem: 'f64', perProducer: 250_000, produce: 'each', consume: 'many', max: 64 });
  }, 60_000);

  it('buffered structured channel (capacity 256), 1 000 000 values, per-value sendSync/recvOkSync of { v } objects', async () => {
    await run({ capacity: 256, perProducer: 250_000, produce: 'each', consume: 'each', boxed: true });
  }, 60_000);

  it('unbuffered structured channel, 1 000 000 values with per-value sendSync/recvOkSync', async () => {
    await run({ capacity: 0, perProducer: 250_000, produce: 'each', consume: 'each' });
  }, 60_000);

  it('buffered structured channel with 3 worker consumers and the main thread consuming with for await', async () => {
    const perProducer = 50_000;
    const total = PRODUCERS * perProducer;
    const ch = new Chan<number>(128);
    const seen = new Uint8Array(new SharedArrayBuffer(total));
    const consumers = Array.from({ length: 3 }, () => spawn('consumeEach', ch, seen, false));
    const producers = Array.from({ length: PRODUCERS }, (_, p) => spawn('produceEach', ch, p * perProducer, perProducer, false));
    const closer = Promise.all(producers.map((w) => w.done(55_000))).then(() => ch.close());
    let mainCount = 0;
    let mainSum = 0;
    for await (const v of ch) {
      Atomics.add(seen, v, 1);
      mainCount++;
      mainSum += v;
    }
    await closer;
    const results = await Promise.all(consumers.map((w) => w.done(55_000)));
    const count = results.reduce((a, r) => a + r.count, mainCount);
    const sum = results.reduce((a, r) => a + r.sum, mainSum);
    let bad = -1;
    for (let i = 0; i < total; i++) if (seen[i] !== 1) { bad = i; break; }
    expect(bad).toBe(-1);
    expect(count).toBe(total);
    expect(sum).toBe((total * (total - 1)) / 2);
  }, 60_000);

  for (const capacity of [0, 16]) {
    it(`close while 4 senders and 4 receivers are busy (capacity ${capacity}): every successful send is received, no failed one is`, async () => {
      const MAX = 1_000_000;
      const ch = new Chan(capacity);
      const seen = new Uint8Array(new SharedArrayBuffer(PRODUCERS * MAX));
      const consumers = Array.from({ length: CONSUMERS }, () => spawn('consumeEach', ch, seen, false));
      const producers = Array.from({ length: PRODUCERS }, (_, p) => spawn('produceUntilClosed', ch, p * MAX, MAX));
      await Promise.all(producers.map((w) => w.event('blocking')));
      await new Promise((r) => setTimeout(r, 300));
      ch.close();
      const sent = await Promise.all(producers.map((w) => w.done(30_000)));
      const results = await Promise.all(consumers.map((w) => w.done(30_000)));
      const count = results.reduce((a, r) => a + r.count, 0);
      // the close came while they were still sending (a producer may have been starved: 0 is fine)
      expect(sent.reduce((a, n) => a + n, 0), `sent ${sent}`).toBeGreaterThan(0);
      expect(sent.every((n) => n < MAX), `sent ${sent}`).toBe(true);
      expect(count).toBe(sent.reduce((a, n) => a + n, 0));
      for (let p = 0; p < PRODUCERS; p++) {
        const base = p * MAX;
        let wrong = -1;
        for (let i = 0; i < MAX; i++) {
          if (seen[base + i] !== (i < sent[p] ? 1 : 0)) { wrong = i; break; }
        }
        expect(wrong, `producer ${p} sent ${sent[p]}`).toBe(-1);
      }
    }, 60_000);
  }
});
