// API.md §7: "every thread may call go": a plain Worker that calls go() before the main thread
// did starts the pool and manages it; when that Worker exits, the pool goes with it and the
// next go() (here from the main thread) starts a fresh one.
import { describe, it, expect } from 'vitest';
import { Worker } from 'node:worker_threads';
import { configure, go } from 'weft';

const M = new URL('./fixtures/go/basic.mjs', import.meta.url);

describe('go() from a Worker that starts the pool', () => {
  it('runs tasks; after the Worker exits, go() from main starts a fresh pool', async () => {
    configure({ threads: 1 });
    const w = new Worker(new URL('./fixtures/go/from-worker.mjs', import.meta.url), { workerData: { module: M.href } });
    const msg = await new Promise<any>((res, rej) => {
      w.once('message', res);
      w.once('error', rej);
    });
    expect(msg.r).toBe(42);
    expect(msg.inner).not.toBe(msg.me);
    await new Promise((res) => w.once('exit', res));
    expect(await go(M, 'add', 1, 2)).toBe(3);
  });
});
