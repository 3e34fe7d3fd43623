// Memory and liveness, each in a child process:
// - 1 000 000 channels created, shared with a worker (batches sent through a channel to a
//   worker that drops them) and dropped: once both threads collected, the native object count
//   is back where it was (exactly), and resident memory grows less than 50 MB.
// - a script that used channels and stopped exits by itself.
import { describe, it, expect } from 'vitest';
import { fixture } from './fixture.js';
import { runNode } from './helpers.js';
import { fileURLToPath } from 'node:url';

const fixturePath = (name: string): string => fileURLToPath(fixture(name));


describe('memory', () => {
  it('1 000 000 channels shared with a worker and dropped: rss grows < 50 MB after gc', async () => {
    const r = await runNode(['--expose-gc', fixturePath('leak-main'), '1000000'], 170_000);
    expect(r.timedOut, r.stderr).toBe(false);
    expect(r.signal, r.stderr).toBeNull();
    expect(r.code, r.stderr).toBe(0);
    const line = r.stdout.trim().split('\n').at(-1);
    const res = JSON.parse(line ?? '');
    expect(res.made).toBe(1_400_000);
    expect(res.received).toBe(1_400_000);
    expect(res.liveEnd, 'weft objects alive after the 1 000 000 were dropped').toBe(res.liveBase);
    expect(res.growthMB, `rss ${(res.base / 2 ** 20).toFixed(1)} MB -> ${(res.end / 2 ** 20).toFixed(1)} MB`).toBeLessThan(50);
  }, 180_000);
});

describe('liveness', () => {
  it('a script that used channels (and a worker) and stopped using them exits by itself', async () => {
    const r = await runNode([fixturePath('idle-exit')], 8_000);
    expect(r.timedOut, `still running after 8 s; stdout: ${r.stdout}`).toBe(false);
    expect(r.signal, r.stderr).toBeNull();
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/idle from worker/);
    // it exits soon after its work is done (node startup + work is well under this)
    expect(r.ms).toBeLessThan(5_000);
  }, 20_000);
});
