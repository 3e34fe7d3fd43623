// API.md §8: Heartbeat — a shared object beaten from other threads (go() tasks, a plain Worker
// through share()/attach(), a channel), `last` on one clock for every thread, `missed(ms)`
// firing only while beats stop, and bad arguments. Bounds are generous (a loaded machine).
import { describe, it, expect } from 'vitest';
import { inspect } from 'node:util';
import { Worker } from 'node:worker_threads';
import { Chan, Heartbeat, go, share } from 'weft';
import { runNode, thrown } from './helpers.js';

const T = new URL('./fixtures/supervise/tasks.mjs', import.meta.url);
const now = (): number => performance.timeOrigin + performance.now();

describe('Heartbeat', () => {
  it('is beaten from a pool thread; last is on the same clock on every thread', async () => {
    const hb = new Heartbeat({ name: 'w1' });
    expect(hb.last).toBe(0);
    expect(hb.name).toBe('w1');
    const before = now();
    const [isHb, name, lastThere] = await go<[boolean, string, number]>(T, 'beats', hb, 3, 5);
    const after = now();
    expect(isHb).toBe(true);
    expect(name).toBe('w1');
    const last = hb.last;
    expect(last).toBeGreaterThanOrEqual(before);
    expect(last).toBeLessThanOrEqual(after);
    // The worker's view of the same beat and ours differ by clock calibration only (< 5 ms).
    expect(Math.abs(last - lastThere)).toBeLessThan(5);
    expect(Math.abs(last - Date.now())).toBeLessThan(1000);
  });

  it('passes by reference in a channel and through share()/attach() to a plain Worker', async () => {
    const hb = new Heartbeat();
    const ch = new Chan<Heartbeat>(1);
    ch.trySend(hb);
    const got = ch.tryRecv();
    expect(got.ok && got.value instanceof Heartbeat).toBe(true);
    const w = new Worker(new URL('./fixtures/supervise/attach-worker.mjs', import.meta.url), { workerData: share({ hb }) });
    const [isHb, lastThere] = await new Promise<[boolean, number]>((res, rej) => {
      w.once('message', res);
      w.once('error', rej);
    });
    await w.terminate();
    expect(isHb).toBe(true);
    expect(hb.last).toBeGreaterThan(0);
    expect(Math.abs(hb.last - lastThere)).toBeLessThan(5);
  });

  it('missed() stays silent while a worker beats and fires once beats stop', async () => {
    const hb = new Heartbeat({ name: 'm' });
    await go(T, 'beats', hb, 1, 0); // a pool thread is up: the beats below start at once
    const ac = new AbortController();
    const missed = hb.missed(250, { signal: ac.signal });
    // 20 beats 10 ms apart from a thread blocked in sleepSync between them (~200 ms of beats).
    const task = go<number>(T, 'beatsSync', hb, 20, 10);
    const end = await task;
    expect(missed.tryRecv().ok).toBe(false); // no miss while beating
    const v = await missed.recv({ timeout: 10_000 });
    const at = now();
    expect(v).toBeGreaterThanOrEqual(250);
    expect(v).toBeLessThan(5_000);
    expect(at - end).toBeGreaterThanOrEqual(245);
    // No beat: another value, about one more period later, counted from the same last beat.
    const v2 = await missed.recv({ timeout: 10_000 });
    expect(v2!).toBeGreaterThanOrEqual(500);
    expect(v2!).toBeGreaterThan(v!);
    ac.abort();
    expect(await missed.recv({ timeout: 5_000 })).toBeUndefined(); // closed
    expect(missed.closed).toBe(true);
  });

  it('missed() counts from the call when there was no beat, and is received on another thread', async () => {
    const hb = new Heartbeat();
    const ac = new AbortController();
    const missed = hb.missed(30, { signal: ac.signal });
    const t0 = now();
    // A pool thread blocks in recvSync on the channel this thread's watch sends to.
    const v = await go<number>(T, 'recvOne', missed, 10_000);
    expect(v).toBeGreaterThanOrEqual(30);
    expect(now() - t0).toBeGreaterThanOrEqual(28);
    ac.abort();
  });

  it('a beat restarts the count; a signal already aborted gives a closed channel', async () => {
    const hb = new Heartbeat();
    const ac = new AbortController();
    const missed = hb.missed(200, { signal: ac.signal });
    const stop = Date.now() + 400;
    while (Date.now() < stop) {
      hb.beat();
      await new Promise((r) => setTimeout(r, 10));
    }
    expect(missed.tryRecv().ok).toBe(false);
    ac.abort();
    const done = new AbortController();
    done.abort();
    const closed = hb.missed(10, { signal: done.signal });
    expect(closed.closed).toBe(true);
  });

  it('shows its name and last beat in util.inspect', () => {
    const hb = new Heartbeat({ name: 'svc' });
    expect(inspect(hb)).toBe("Heartbeat 'svc' { last: 0 }");
    hb.beat();
    expect(inspect(hb)).toMatch(/^Heartbeat 'svc' \{ last: \d+(\.\d+)? \}$/);
  });

  it('refuses bad arguments', () => {
    const hb = new Heartbeat();
    expect(thrown(() => new Heartbeat({ name: 5 as unknown as string }))).toBeInstanceOf(TypeError);
    expect(thrown(() => new Heartbeat(7 as unknown as { name: string }))).toBeInstanceOf(TypeError);
    const e1 = thrown(() => hb.missed('10' as unknown as number));
    expect(e1).toBeInstanceOf(TypeError);
    expect(e1.message).toMatch(/timeoutMs/);
    const e2 = thrown(() => hb.missed(0));
    expect(e2).toBeInstanceOf(RangeError);
    expect(e2.message).toMatch(/timeoutMs/);
    expect(thrown(() => hb.missed(-5))).toBeInstanceOf(RangeError);
    expect(thrown(() => hb.missed(Infinity))).toBeInstanceOf(RangeError);
    expect(thrown(() => hb.missed(10, { signal: {} as AbortSignal }))).toBeInstanceOf(TypeError);
    expect(thrown(() => Heartbeat.prototype.beat.call({}))).toBeInstanceOf(TypeError);
  });

  it('examples/heartbeat.js prints the missed heartbeats, one restart and its summary', async () => {
    const r = await runNode(['examples/heartbeat.js'], 60_000);
    expect(r.timedOut).toBe(false);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const misses = r.lines.filter((l) => /^no heartbeat for \d+ ms$/.test(l));
    expect(misses.length).toBeGreaterThanOrEqual(1);
    expect(r.lines).toContain('worker restarted: no heartbeat for 500 ms');
    expect(r.lines.filter((l) => l.startsWith('worker restarted')).length).toBe(1);
    expect(r.lines).toContain('worker returned 210 after 2 runs');
    expect(r.lines.some((l) => /^worker finished 8 jobs, last heartbeat \d+ ms ago$/.test(l))).toBe(true);
    expect(r.lines.at(-1)).toMatch(/^summary: \d+ missed heartbeats, 1 restart, result 210 ok$/);
  });
});
