// Op ids are 64-bit end to end: after 2^31 (and 2^32, 2^53) async operations on one thread,
// timeouts, aborts and select timeouts still cancel the right operation. The counter is
// started near each limit with the internal __setNextOpId hook instead of running 2^31 ops.
import { describe, it, expect } from 'vitest';
import { fixture } from './fixture.js';
import { Worker } from 'node:worker_threads';
import { crossOpIds } from './fixtures/hardening-opid.js';

const LIMITS: [string, number][] = [
  ['2^31', 2 ** 31 - 10],
  ['2^32', 2 ** 32 - 10],
  ['2^53 (wraps to 1)', 2 ** 53 - 10],
];

function inWorker(start: number): Promise<number[]> {
  const src = `
    const { parentPort, workerData } = require('node:worker_threads');
    import(workerData.url).then((m) => m.crossOpIds(workerData.start))
      .then((seen) => parentPort.postMessage({ seen }), (e) => parentPort.postMessage({ error: String(e && e.stack || e) }));`;
  const url = fixture('hardening-opid').href;
  const w = new Worker(src, { eval: true, workerData: { url, start } });
  return new Promise<number[]>((resolve, reject) => {
    w.once('message', (m: { seen: number[]; error?: string }) => (m.error ? reject(new Error(m.error)) : resolve(m.seen)));
    w.once('error', reject);
  }).finally(() => w.terminate());
}

function checkIds(seen: number[], start: number): void {
  // every op got an id at or past the start (or wrapped past 2^53 to small ones), all distinct,
  // and the ones before the limit were not truncated
  expect(new Set(seen).size).toBe(seen.length);
  expect(seen[0]).toBe(start);
  for (const id of seen) {
    expect(Number.isSafeInteger(id)).toBe(true);
    expect(id >= start || id < 1000).toBe(true);
  }
}

describe('async op ids past 32 bits', () => {
  for (const [name, start] of LIMITS) {
    it(`main thread, counter crossing ${name}: timeouts, aborts, select timeouts still work`, async () => {
      const seen = await crossOpIds(start);
      checkIds(seen, start);
      if (start < 2 ** 52) expect(seen.some((id) => id > start + 10)).toBe(true);
    });

    it(`worker, counter crossing ${name}: timeouts, aborts, select timeouts still work`, async () => {
      const seen = await inWorker(start);
      checkIds(seen, start);
    });
  }
});
