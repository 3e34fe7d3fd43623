// API.md §8: Monitor — BusyError at once past maxActive, TimeoutError after callTimeout (the
// function's signal aborts, the slot frees), alerts for calls slower than alertTimeout received
// on another thread, close(), bad arguments. Calls run real work on pool threads (go()).
import { describe, it, expect } from 'vitest';
import { BusyError, Chan, ClosedChannelError, Heartbeat, Monitor, TimeoutError, go } from 'weft';
import { rejection, runNode, thrown } from './helpers.js';

const T = new URL('./fixtures/supervise/tasks.mjs', import.meta.url);

describe('Monitor', () => {
  it('passes results and errors through; a fast call raises no alert', async () => {
    const m = new Monitor({ callTimeout: 5_000, alertTimeout: 2_000, maxActive: 2 }, async (x: number) => {
      if (x < 0) throw new RangeError('negative');
      return x * 2;
    });
    expect(await m.call(21)).toBe(42);
    const e = await rejection(m.call(-1));
    expect(e).toBeInstanceOf(RangeError);
    expect(m.active).toBe(0);
    expect(m.alerts.tryRecv().ok).toBe(false);
    m.close();
  });

  it('rejects with BusyError at once while maxActive calls are in flight', async () => {
    const gate = new Chan<number>(0);
    let started = 0;
    // Each call waits on a pool thread blocked in recvSync until this thread sends it a value.
    const m = new Monitor({ callTimeout: 30_000, alertTimeout: 30_000, maxActive: 2 }, () => {
      started++;
      return go<number>(T, 'recvOne', gate, 30_000);
    });
    const a = m.call(1);
    const b = m.call(2);
    expect(m.active).toBe(2);
    let settled = false;
    const c = m.call(3).finally(() => (settled = true));
    await Promise.resolve();
    await Promise.resolve();
    expect(settled).toBe(true); // at once: no timer, no work
    const e = await rejection(c);
    expect(e).toBeInstanceOf(BusyError);
    expect(e.code).toBe('ERR_WEFT_BUSY');
    expect(started).toBe(2);
    await gate.send(7);
    await gate.send(8);
    expect((await Promise.all([a, b])).sort()).toEqual([7, 8]);
    expect(m.active).toBe(0);
    const d = m.call(4);
    await gate.send(9);
    expect(await d).toBe(9);
    m.close();
  });

  it('rejects with TimeoutError after callTimeout, aborts the signal and frees the slot', async () => {
    let signal: AbortSignal | undefined;
    const m = new Monitor({ callTimeout: 50, alertTimeout: 10_000, maxActive: 1 }, (_: null, s: AbortSignal) => {
      signal = s;
      return new Promise<never>(() => {});
    });
    const t0 = performance.now();
    const e = await rejection(m.call(null));
    expect(performance.now() - t0).toBeGreaterThanOrEqual(45);
    expect(e).toBeInstanceOf(TimeoutError);
    expect(e.code).toBe('ERR_WEFT_TIMEOUT');
    expect(signal!.aborted).toBe(true);
    expect(signal!.reason).toBe(e);
    expect(m.active).toBe(0);
    expect(await rejection(m.call(null))).toBeInstanceOf(TimeoutError); // not busy
    m.close();
  });

  it('sends an alert (ms the call had run) for a call slower than alertTimeout, received on a pool thread', async () => {
    // The work itself runs on a pool thread: ~150 ms of a thread blocked in sleepSync.
    const m = new Monitor({ callTimeout: 10_000, alertTimeout: 40, maxActive: 4 }, (ms: number) =>
      go<number>(T, 'beatsSync', new Heartbeat(), 1, ms),
    );
    const alert = go<number>(T, 'recvOne', m.alerts, 30_000);
    await m.call(150);
    const ms = await alert;
    expect(ms).toBeGreaterThanOrEqual(40);
    expect(ms).toBeLessThan(10_000);
    // A call faster than alertTimeout sends nothing.
    const quick = new Monitor({ callTimeout: 10_000, alertTimeout: 500, maxActive: 1 }, async () => 1);
    await quick.call(undefined);
    await new Promise((r) => setTimeout(r, 600));
    expect(quick.alerts.tryRecv().ok).toBe(false);
    quick.close();
    m.close();
  });

  it('close() closes alerts; later calls reject with ClosedChannelError; calls in flight finish', async () => {
    let release!: (v: string) => void;
    const m = new Monitor({ callTimeout: 5_000, alertTimeout: 5_000, maxActive: 1 }, () => new Promise<string>((r) => (release = r)));
    const p = m.call(1);
    m.close();
    m.close(); // idempotent
    expect(m.closed).toBe(true);
    expect(m.alerts.closed).toBe(true);
    expect(await rejection(m.call(2))).toBeInstanceOf(ClosedChannelError);
    release('done');
    expect(await p).toBe('done');
  });

  it('refuses bad arguments, naming them', () => {
    const fn = async (): Promise<void> => {};
    const ok = { callTimeout: 10, alertTimeout: 10, maxActive: 1 };
    const cases: [() => unknown, abstract new (...a: never[]) => Error, RegExp][] = [
      [() => new Monitor(null as unknown as typeof ok, fn), TypeError, /opts/],
      [() => new Monitor({ ...ok, callTimeout: '1' as unknown as number }, fn), TypeError, /callTimeout/],
      [() => new Monitor({ ...ok, callTimeout: 0 }, fn), RangeError, /callTimeout/],
      [() => new Monitor({ ...ok, alertTimeout: -1 }, fn), RangeError, /alertTimeout/],
      [() => new Monitor({ ...ok, alertTimeout: undefined as unknown as number }, fn), TypeError, /alertTimeout/],
      [() => new Monitor({ ...ok, maxActive: 0 }, fn), RangeError, /maxActive/],
      [() => new Monitor({ ...ok, maxActive: 1.5 }, fn), RangeError, /maxActive/],
      [() => new Monitor(ok, 'f' as unknown as typeof fn), TypeError, /fn/],
    ];
    for (const [f, cls, msg] of cases) {
      const e = thrown(f);
      expect(e).toBeInstanceOf(cls);
      expect(e.message).toMatch(msg);
    }
  });

  it('examples/monitor.js prints each request, the alerts and its summary', async () => {
    const r = await runNode(['examples/monitor.js'], 60_000);
    expect(r.timedOut).toBe(false);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const requests = r.lines.filter((l) => l.startsWith('request '));
    expect(requests).toEqual([
      'request 1: done in 20 ms',
      'request 2: done in 600 ms',
      'request 3: timed out',
      'request 4: done in 100 ms',
      'request 5: done in 100 ms',
      'request 6: busy',
    ]);
    const alerts = r.lines.filter((l) => /^alert: a request has been running for \d+ ms$/.test(l));
    expect(alerts.length).toBeGreaterThanOrEqual(2);
    expect(r.lines.at(-1)).toMatch(/^summary: 4 done, 1 busy, 1 timed out, \d+ alerts ok$/);
  });
});
