// API.md §5: Timer, Ticker, after, afterFunc, sleep, sleepSync — with Go 1.23 stop/reset
// semantics — and timer channels used from worker threads. Ports the ideas of Go's
// time/sleep_test.go and time/tick_test.go. Timing bounds are deliberately generous: they
// prove that a timer fires at all and not absurdly early or late, nothing more.
import { describe, it, expect, afterEach } from 'vitest';
import { fixture } from './fixture.js';
import { threadId } from 'node:worker_threads';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import {
  Chan, Timer, Ticker, after, afterFunc, sleep, sleepSync, select, recv,
  CanceledError, TimeoutError,
} from 'weft';
import type { RecvChan } from 'weft';
import { spawnWith, cleanup, delay, track, within, rejection, thrown, until } from './helpers.js';

afterEach(cleanup);

const MODULE = fixture('time-scenarios');
const run = (fn: string, ...args: unknown[]) => spawnWith({ module: MODULE }, fn, ...args);

const LATE = 2000; // a timer firing later than this is broken, not slow
const EARLY = 5;   // ms of slack below the requested delay (clock granularity)

/** Expects the channel to deliver nothing within ms. */
async function expectNothing(c: RecvChan<number,"structured"|"f64"|"i32">, ms = 100) {
  const e = await rejection(c.recv({ timeout: ms }));
  expect(e).toBeInstanceOf(TimeoutError);
}

describe('argument checks', () => {
  it('constructors: TypeError for non-numbers, RangeError for NaN/Infinity and (Ticker) ms <= 0', () => {
    for (const bad of ['10', null, undefined, {}, 10n]) {
      // @ts-expect-error -- bad input on purpose
      const e = thrown(() => new Timer(bad));
      expect(e).toBeInstanceOf(TypeError);
      expect(e.message).toMatch(/ms/);
      // @ts-expect-error -- bad input on purpose
      expect(thrown(() => new Ticker(bad))).toBeInstanceOf(TypeError);
      // @ts-expect-error -- bad input on purpose
      expect(thrown(() => after(bad))).toBeInstanceOf(TypeError);
    }
    // NaN is refused; Infinity means "never" (test/contract.time.test.ts), -Infinity "at once".
    expect(thrown(() => new Timer(NaN))).toBeInstanceOf(RangeError);
    expect(thrown(() => new Ticker(NaN))).toBeInstanceOf(RangeError);
    expect(thrown(() => after(NaN))).toBeInstanceOf(RangeError);
    expect(thrown(() => new Ticker(-Infinity))).toBeInstanceOf(RangeError);
    for (const bad of [0, -1, -0.5]) {
      const e = thrown(() => new Ticker(bad));
      expect(e).toBeInstanceOf(RangeError);
      expect(e.message).toMatch(/ms/);
    }
  });

  it('methods and functions check their arguments synchronously', () => {
    const t = new Timer(1e6);
    // @ts-expect-error -- bad input on purpose
    expect(thrown(() => t.reset('5'))).toBeInstanceOf(TypeError);
    expect(thrown(() => t.reset(NaN))).toBeInstanceOf(RangeError);
    t.stop();
    const k = new Ticker(1e6);
    expect(thrown(() => k.reset(0))).toBeInstanceOf(RangeError);
    expect(thrown(() => k.reset(-5))).toBeInstanceOf(RangeError);
    // @ts-expect-error -- bad input on purpose
    expect(thrown(() => k.reset('5'))).toBeInstanceOf(TypeError);
    expect(thrown(() => k.reset(NaN))).toBeInstanceOf(RangeError);
    k.stop();
    // @ts-expect-error -- bad input on purpose
    expect(thrown(() => afterFunc(10, 'nope'))).toBeInstanceOf(TypeError);
    // @ts-expect-error -- bad input on purpose
    expect(thrown(() => afterFunc('10', () => {}))).toBeInstanceOf(TypeError);
    // @ts-expect-error -- bad input on purpose
    expect(thrown(() => sleep('10'))).toBeInstanceOf(TypeError);
    expect(thrown(() => sleep(NaN))).toBeInstanceOf(RangeError);
    // @ts-expect-error -- bad input on purpose
    expect(thrown(() => sleep(10, { signal: {} }))).toBeInstanceOf(TypeError);
    // @ts-expect-error -- bad input on purpose
    expect(thrown(() => sleep(10, 'opts'))).toBeInstanceOf(TypeError);
    // @ts-expect-error -- bad input on purpose
    expect(thrown(() => sleepSync('10'))).toBeInstanceOf(TypeError);
    expect(thrown(() => sleepSync(NaN))).toBeInstanceOf(RangeError);
  });
});

describe('Timer', () => {
  it('fires once, with the fire time in ms since the epoch', async () => {
    const start = Date.now();
    const t = new Timer(50);
    const v = await t.c.recv({ timeout: 10_000 });
    const now = Date.now();
    expect(typeof v).toBe('number');
    expect(v).toBeGreaterThanOrEqual(start + 50 - EARLY);
    expect(v).toBeLessThanOrEqual(now + 1);
    expect(now - start).toBeGreaterThanOrEqual(50 - EARLY);
    expect(now - start).toBeLessThan(LATE);
    await expectNothing(t.c, 100); // only once
    expect(t.stop()).toBe(false);  // already fired and received
  });

  it('ms <= 0 fires at once', async () => {
    for (const ms of [0, -10, -0.5]) {
      const start = Date.now();
      const v = await new Timer(ms).c.recv({ timeout: 10_000 });
      expect(Date.now() - start).toBeLessThan(LATE);
      expect(Math.abs(v! - Date.now())).toBeLessThan(LATE);
    }
  });

  it('fractional ms work', async () => {
    const v = await new Timer(10.5).c.recv({ timeout: 10_000 });
    expect(typeof v).toBe('number');
  });

  it('many timers with different delays each fire exactly once, in deadline order', async () => {
    const delays = [120, 40, 80, 0, 160];
    const timers = delays.map((ms) => new Timer(ms));
    const vals = await Promise.all(timers.map((t) => t.c.recv({ timeout: 10_000 })));
    const byDelay = delays.map((d, i): [number, number] => [d, vals[i]!]).sort((a, b) => a[0] - b[0]);
    for (let i = 1; i < byDelay.length; i++) expect(byDelay[i]![1]).toBeGreaterThanOrEqual(byDelay[i - 1]![1]);
    await delay(50);
    for (const t of timers) expect(t.c.tryRecv().ok).toBe(false);
  });

  it('stop before it fires: returns true, nothing arrives; a second stop returns false', async () => {
    const t = new Timer(50);
    expect(t.stop()).toBe(true);
    await expectNothing(t.c, 150);
    expect(t.stop()).toBe(false);
  });

  it('stopping hundreds of timers before they fire: none fires (Go TestTimerStopStress)', async () => {
    const timers = Array.from({ length: 300 }, (_, i) => new Timer(30 + (i % 50)));
    for (const t of timers) expect(t.stop()).toBe(true);
    await delay(150);
    for (const t of timers) expect(t.c.tryRecv().ok).toBe(false);
  });

  it('an expired value nobody received is discarded: stop returns true and nothing is received', async () => {
    const t = new Timer(5);
    await delay(60);
    expect(t.c.length).toBeLessThanOrEqual(1);
    expect(t.stop()).toBe(true);
    expect(t.c.tryRecv().ok).toBe(false);
    await expectNothing(t.c, 50);
  });

  it("`if (!t.stop()) await t.c.recv()` never hangs (pending timer, expired-unreceived timer)", async () => {
    const pending = new Timer(1000);
    const expired = new Timer(1);
    await delay(50);
    for (const t of [pending, expired]) {
      if (!t.stop()) await within(t.c.recv(), 2000, 'idiomatic drain');
    }
    // stop after the value was received reports false (nothing left to stop)
    const got = new Timer(1);
    await got.c.recv({ timeout: 10_000 });
    expect(got.stop()).toBe(false);
  });

  it('reset: returns true while pending (and re-arms), false after receive or stop', async () => {
    const t = new Timer(10_000);
    const before = Date.now();
    expect(t.reset(30)).toBe(true); // earlier than before (Go TestTimerModifiedEarlier)
    const v = await t.c.recv({ timeout: 10_000 });
    expect(v).toBeGreaterThanOrEqual(before + 30 - EARLY);
    expect(Date.now() - before).toBeLessThan(LATE);
    expect(t.reset(20)).toBe(false); // fired and received
    await t.c.recv({ timeout: 10_000 });
    t.stop();
    expect(t.reset(20)).toBe(false); // stopped
    expect(typeof (await t.c.recv({ timeout: 10_000 }))).toBe('number');
  });

  it('reset to a later time: no value at the old time', async () => {
    const t = new Timer(20);
    expect(t.reset(400)).toBe(true);
    await expectNothing(t.c, 150);
    expect(typeof (await t.c.recv({ timeout: 10_000 }))).toBe('number');
  });

  it('no stale value after reset of an expired, unreceived timer: reset returns true and the value is the new fire time', async () => {
    for (let i = 0; i < 20; i++) {
      const t = new Timer(1);
      sleepSync(3); // expired, unreceived
      const before = Date.now();
      expect(t.reset(20)).toBe(true);
      expect(t.c.tryRecv().ok).toBe(false);
      const v = await t.c.recv({ timeout: 10_000 });
      expect(v).toBeGreaterThanOrEqual(before + 20 - EARLY);
    }
  });

  it('stop/reset stress: stop before any receive always reports true and leaves no value (main and worker at once)', async () => {
    const w = run('stopResetStress', 1500);
    const t = new Timer(1e6);
    t.stop();
    const bad: unknown[] = [];
    for (let i = 0; i < 1500 && bad.length < 5; i++) {
      if (t.reset(i % 2 ? 0 : 1) !== false) bad.push(`reset ${i}`);
      if (i % 3 === 0) await Promise.resolve();
      if (t.stop() !== true) bad.push(`stop ${i}`);
      if (t.c.tryRecv().ok) bad.push(`stale ${i}`);
    }
    expect(bad).toEqual([]);
    expect(await w.done(40_000)).toEqual([]);
  }, 60_000);

  it('a blocked async recv is not woken by a stop (it keeps waiting; a later reset wakes it)', async () => {
    const t = new Timer(30);
    const p = track(t.c.recv({ timeout: 10_000 }));
    expect(t.stop()).toBe(true);
    await delay(100);
    expect(p.state).toBe('pending');
    t.reset(10);
    await within(p.promise, 5000, 'recv after reset');
    expect(typeof p.value).toBe('number');
  });
});

describe('after', () => {
  it('after(ms) receives the time once', async () => {
    const start = Date.now();
    const c = after(40);
    const v = await c.recv({ timeout: 10_000 });
    expect(v).toBeGreaterThanOrEqual(start + 40 - EARLY);
    expect(Date.now() - start).toBeLessThan(LATE);
    await expectNothing(c, 80);
  });

  it('after() as a select timeout case (Go idiom)', async () => {
    const never = new Chan();
    const r = await select([recv(never), recv(after(30))]);
    expect(r.index).toBe(1);
    expect(r.ok).toBe(true);
    expect(typeof r.value).toBe('number');
  });

  it('after() in a worker: recvSync and selectSync wake on time', async () => {
    for (const how of ['after', 'select', 'timer']) {
      const r = await run('ownTimer', 50, how).done();
      expect(r.elapsed).toBeGreaterThanOrEqual(50 - EARLY);
      expect(r.elapsed).toBeLessThan(LATE);
      expect(r.value).toBeGreaterThanOrEqual(r.start + 50 - EARLY);
    }
  });
});

describe('Ticker', () => {
  it('delivers increasing tick times about every period', async () => {
    const start = Date.now();
    const k = new Ticker(20);
    const ticks: number[] = [];
    for (let i = 0; i < 6; i++) ticks.push((await k.c.recv({ timeout: 10_000 }))!);
    k.stop();
    const took = Date.now() - start;
    for (let i = 1; i < ticks.length; i++) expect(ticks[i]).toBeGreaterThan(ticks[i - 1]);
    expect(took).toBeGreaterThanOrEqual(6 * 20 - EARLY);
    expect(took).toBeLessThan(6 * 20 + LATE);
    expect(ticks[0]).toBeGreaterThanOrEqual(start + 20 - EARLY);
  });

  it('a slow receiver gets one pending tick, not a burst', async () => {
    const k = new Ticker(10);
    await delay(200); // ~20 periods
    expect(k.c.length).toBeLessThanOrEqual(1);
    const t1 = Date.now();
    expect(k.c.tryRecv().ok).toBe(true);
    const second = k.c.tryRecv();
    // nothing more, or (rarely) a brand-new tick that arrived just now: never an old one
    if (second.ok) expect(second.value).toBeGreaterThanOrEqual(t1 - 1);
    // the next tick is a fresh one, at most a period (+ slack) away
    const t0 = Date.now();
    const v = await k.c.recv({ timeout: 10_000 });
    expect(Date.now() - t0).toBeLessThan(LATE);
    expect(v).toBeGreaterThanOrEqual(t0 - EARLY);
    k.stop();
  });

  it('a slow worker (blocking between receives) never sees a burst', async () => {
    const k = new Ticker(5);
    await delay(100); // ~20 periods before the worker even starts
    const { start, ticks } = await run('recvTicksTimed', k.c, 3).done();
    k.stop();
    // at most the first tick can be from before the worker started receiving: a burst of
    // saved-up ticks would make the second one old too
    expect(ticks[1]).toBeGreaterThanOrEqual(start - 1);
    expect(ticks[2]).toBeGreaterThan(ticks[1]);
  });

  it('stop: no tick from before it is received afterwards; reset restarts a stopped ticker', async () => {
    const k = new Ticker(10);
    await delay(50); // a tick is pending
    k.stop();
    expect(k.c.tryRecv().ok).toBe(false);
    await expectNothing(k.c, 100);
    const before = Date.now();
    k.reset(20);
    const a = await k.c.recv({ timeout: 10_000 });
    const b = await k.c.recv({ timeout: 10_000 });
    expect(a).toBeGreaterThanOrEqual(before + 20 - EARLY);
    expect(b).toBeGreaterThan(a!);
    k.stop();
  });

  it('reset changes the period and drops a pending tick', async () => {
    const k = new Ticker(10);
    await delay(40);
    const before = Date.now();
    k.reset(300);
    expect(k.c.tryRecv().ok).toBe(false);
    await expectNothing(k.c, 150);
    const v = await k.c.recv({ timeout: 10_000 });
    expect(v).toBeGreaterThanOrEqual(before + 300 - EARLY);
    k.stop();
  });

  it('stop and reset return undefined', () => {
    const k = new Ticker(1000);
    expect(k.reset(500)).toBeUndefined();
    expect(k.stop()).toBeUndefined();
  });
});

describe('afterFunc', () => {
  it('runs fn once on the creating thread (main), returns a Timer', async () => {
    let calls = 0;
    let on = -1;
    const start = Date.now();
    const ran = new Promise<number>((resolve) => {
      const t = afterFunc(40, () => { calls++; on = threadId; resolve(Date.now()); });
      expect(t).toBeInstanceOf(Timer);
    });
    const at = await within(ran, 10_000, 'afterFunc');
    expect(at - start).toBeGreaterThanOrEqual(40 - EARLY);
    expect(on).toBe(threadId);
    await delay(80);
    expect(calls).toBe(1);
  });

  it('stop() prevents the call and returns true; stop after the call returns false', async () => {
    let calls = 0;
    const t = afterFunc(40, () => calls++);
    expect(t.stop()).toBe(true);
    await delay(150);
    expect(calls).toBe(0);
    const u = afterFunc(0, () => calls++);
    await until(() => calls === 1, 10_000, 'afterFunc(0)');
    expect(u.stop()).toBe(false);
    await delay(50);
    expect(calls).toBe(1);
  });

  it('reset() after it ran schedules fn again (Go: AfterFunc timers can be reset)', async () => {
    let calls = 0;
    const t = afterFunc(10, () => calls++);
    await until(() => calls === 1, 10_000, 'first call');
    expect(t.reset(10)).toBe(false);
    await until(() => calls === 2, 10_000, 'second call');
    // reset before it fires: one call, at the new time
    const u = afterFunc(10_000, () => calls++);
    expect(u.reset(10)).toBe(true);
    await until(() => calls === 3, 10_000, 'reset call');
    await delay(50);
    expect(calls).toBe(3);
  });

  it('reset() in the same turn as a fire that fn has not yet seen still runs fn again', async () => {
    let calls = 0;
    const t = afterFunc(0, () => calls++);
    expect(t.reset(10)).toBe(false); // the value of the first fire was already taken
    await until(() => calls === 2, 10_000, 'both calls');
    // stopped, then reset twice in one turn: the second reset finds the first one's fire
    // taken, and fn runs for each
    const u = afterFunc(10_000, () => calls++);
    u.stop();
    u.reset(0);
    await delay(20);
    u.reset(10);
    await until(() => calls === 4, 10_000, 'calls after stop and two resets');
    await delay(50);
    expect(calls).toBe(4);
  });

  it('in a worker: fn runs on the worker thread, and a stopped one never runs', async () => {
    const r = await run('afterFuncHere', 30, false).done();
    expect(r.calledOn).toBe(r.threadId);
    expect(r.calledOn).not.toBe(threadId);
    expect(r.calls).toBe(1);
    const w = run('afterFuncHere', 30, true);
    const s = await w.done();
    expect(s.calls).toBe(0);
    expect(s.stopped).toBe(true);
    // a stopped afterFunc does not keep the worker's event loop alive
    await within(w.exited, 10_000, 'worker exit after a stopped afterFunc');
  });

  it('several afterFuncs run independently', async () => {
    let n = 0;
    afterFunc(5, () => n++);
    afterFunc(10, () => n++);
    await until(() => n === 2, 10_000, 'both afterFuncs');
  });
});

describe('sleep / sleepSync', () => {
  it('sleep(ms) resolves with undefined after about ms', async () => {
    const start = Date.now();
    expect(await sleep(50)).toBeUndefined();
    expect(Date.now() - start).toBeGreaterThanOrEqual(50 - EARLY);
    expect(Date.now() - start).toBeLessThan(LATE);
    await sleep(0);
    await sleep(-5);
  });

  it('sleep with a signal: abort rejects with CanceledError (cause = reason) long before ms', async () => {
    const ac = new AbortController();
    const start = Date.now();
    const p = sleep(60_000, { signal: ac.signal });
    setTimeout(() => ac.abort('wake'), 30);
    const e = await rejection(p);
    expect(e).toBeInstanceOf(CanceledError);
    expect(e.cause).toBe('wake');
    expect(Date.now() - start).toBeLessThan(LATE);
    // a CanceledError reason is passed through
    const r = new CanceledError('mine');
    expect(await rejection(sleep(60_000, { signal: AbortSignal.abort(r) }))).toBe(r);
  });

  it('sleep with an already-aborted signal rejects at once', async () => {
    const start = Date.now();
    await expect(sleep(0, { signal: AbortSignal.abort() })).rejects.toBeInstanceOf(CanceledError);
    await expect(sleep(10_000, { signal: AbortSignal.abort() })).rejects.toBeInstanceOf(CanceledError);
    expect(Date.now() - start).toBeLessThan(LATE);
  });

  it('sleep in a worker, with and without a signal', async () => {
    const a = await run('sleepHere', 50).done();
    expect(a.elapsed).toBeGreaterThanOrEqual(50 - EARLY);
    const b = await run('sleepHere', 60_000, 30).done();
    expect(b.error.kinds).toContain('CanceledError');
    expect(b.elapsed).toBeLessThan(LATE);
    const c = await run('sleepHere', 60_000, 0).done();
    expect(c.error.kinds).toContain('CanceledError');
  });

  it('sleepSync blocks the calling thread (main and worker)', async () => {
    const start = Date.now();
    sleepSync(50);
    expect(Date.now() - start).toBeGreaterThanOrEqual(50 - EARLY);
    sleepSync(0);
    sleepSync(-1);
    const el = await run('sleepSyncHere', 50).done();
    expect(el).toBeGreaterThanOrEqual(50 - EARLY);
    expect(el).toBeLessThan(LATE);
  });
});

describe('timer channels across threads (driven by the native timer thread)', () => {
  it('a worker blocked in recvSync on a main-created timer channel wakes', async () => {
    const t = new Timer(100);
    const w = run('recvTimer', t.c);
    const r = await w.done();
    expect(r.error).toBeUndefined();
    expect(typeof r.value).toBe('number');
    expect(r.now - r.value).toBeLessThan(LATE);
  });

  it('a worker blocked in selectSync on a timer channel wakes while the main thread is blocked too', async () => {
    const t = new Timer(150);
    const w = run('selectTimer', t.c, new Chan());
    await w.event('blocking');
    // block the main thread in a *Sync call on another timer: every thread is blocked now
    const start = Date.now();
    const mine = new Timer(80).c.recvSync({ timeout: 10_000 });
    expect(Date.now() - start).toBeGreaterThanOrEqual(80 - EARLY);
    expect(typeof mine).toBe('number');
    const r = await w.done();
    expect(r.r.index).toBe(1);
    expect(r.r.ok).toBe(true);
    expect(r.elapsed).toBeLessThan(LATE + 150);
  });

  it('a ticker channel passed to a worker delivers ticks there', async () => {
    const k = new Ticker(15);
    const ticks = await run('recvTicks', k.c, 4).done();
    k.stop();
    expect(ticks).toHaveLength(4);
    for (let i = 1; i < 4; i++) expect(ticks[i]).toBeGreaterThan(ticks[i - 1]);
  });

  it('a worker-created timer channel fires for main even after the worker has exited', async () => {
    const out = new Chan<{ c: RecvChan<number>; timer: Timer }>(1);
    const w = run('makeTimer', out, 200);
    const { c } = (await out.recv({ timeout: 10_000 }))!;
    await w.done();
    await w.exited;
    const v = await c.recv({ timeout: 10_000 });
    expect(typeof v).toBe('number');
  });

  it('a worker-created Timer received by main can be stopped from main', async () => {
    const out = new Chan<{ c: RecvChan<number>; timer: Timer }>(1);
    const w = run('makeTimer', out, 150);
    const { c, timer } = (await out.recv({ timeout: 10_000 }))!;
    await w.done();
    expect(timer).toBeInstanceOf(Timer);
    expect(timer.stop()).toBe(true);
    await expectNothing(c, 300);
  });

  it('a Timer passed to a worker: the worker stops it, or resets it, for everyone', async () => {
    const t = new Timer(150);
    const s = await run('useTimer', t, 'stop').done();
    expect(s).toEqual({ kind: 'Timer', result: true });
    await expectNothing(t.c, 300);
    const r = await run('useTimer', t, 'reset', 20).done();
    expect(r).toEqual({ kind: 'Timer', result: false });
    expect(typeof (await t.c.recv({ timeout: 10_000 }))).toBe('number');
  });

  it('a Ticker passed to a worker stays a Ticker (reset keeps it periodic)', async () => {
    const k = new Ticker(100_000);
    const r = await run('useTimer', k, 'reset', 15).done();
    const a = await k.c.recv({ timeout: 5000 });
    const b = await k.c.recv({ timeout: 5000 }); // a second tick: still periodic
    expect(b).toBeGreaterThan(a!);
    k.stop();
    expect(r.kind).toBe('Ticker');
  });
});

describe('huge finite delays (Go TestOverflowSleep): no early fire, no wedged timer thread', () => {
  const SCRIPT = fileURLToPath(fixture('time-overflow'));
  /** Runs the overflow script in a child process (a wedged timer thread cannot hang this file). */
  interface Overflow { hung: boolean; lines: { step: string; fired?: boolean; cpuShare: number }[]; last?: { step: string; fired?: boolean; cpuShare: number } }
  function overflow(ms: number, kind: string): Promise<Overflow> {
    return new Promise((resolve) => {
      execFile(process.execPath, [SCRIPT, String(ms), kind], { timeout: 6000, killSignal: 'SIGKILL' }, (err, stdout) => {
        const lines = stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l));
        resolve({ hung: Boolean(err && err.killed), lines, last: lines.at(-1) });
      });
    });
  }
  // 9.3e12 ms overflows int64 nanoseconds (the timer thread's wait); 1e15 and beyond overflow
  // uint64 nanoseconds (the deadline itself)
  const matrix: [number, string][] = [];
  for (const ms of [9.3e12, 1e15, 1e300]) for (const kind of ['timer', 'ctx', 'sleep']) matrix.push([ms, kind]);
  matrix.push([1e15, 'ticker'], [1e15, 'reset'], [Number.MAX_SAFE_INTEGER, 'deadline']);
  for (const [ms, kind] of matrix) {
    it(`${kind} with ${ms} ms`, async () => {
      const r = await overflow(ms, kind);
      expect({ hung: r.hung, last: r.last?.step }).toEqual({ hung: false, last: 'done' });
      expect(r.last?.fired).toBe(false);
      // an idle process: the timer thread must not spin (generous: half a core)
      expect(r.last?.cpuShare).toBeLessThan(0.5);
    });
  }
});
