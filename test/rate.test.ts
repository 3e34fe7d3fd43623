// API.md §8: RateLimiter, golang.org/x/time/rate's token bucket shared across threads. The
// deterministic cases of x/time/rate's rate_test.go run on an injected clock (a test-only hook:
// every call made through that wrapper uses the clock's time, like the Go tests' *At methods);
// the rest uses real time and real threads (go() tasks in test/fixtures/go/rate.mjs), with
// generous bounds.
import { describe, it, expect, beforeAll } from 'vitest';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import {
  RateLimiter,
  Chan,
  CanceledError,
  DeadlineExceededError,
  TimeoutError,
  background,
  configure,
  dump,
  go,
  withCancel,
  withTimeout,
} from 'weft';

const TASKS = new URL('./fixtures/go/rate.mjs', import.meta.url);
const ROOT = fileURLToPath(new URL('..', import.meta.url));

beforeAll(() => {
  configure({ threads: 2 });
});

async function rejection(p: Promise<unknown>): Promise<any> {
  try {
    await p;
  } catch (e) {
    return e;
  }
  throw new Error('expected a rejection');
}

function thrown(fn: () => unknown): any {
  try {
    fn();
  } catch (e) {
    return e;
  }
  throw new Error('expected a throw');
}

// ---- the injected clock -------------------------------------------------------------------

const D = 100; // ms: x/time/rate's test step `d`

interface Clocked {
  lim: RateLimiter;
  /** Sets the clock to t x D ms; returns the limiter. */
  at(t: number): RateLimiter;
}

function clocked(rate: number, burst: number): Clocked {
  const lim = new RateLimiter(rate, burst);
  let now = 0;
  (lim as unknown as { _setClock(c: () => number): void })._setClock(() => now);
  return {
    lim,
    at(t: number) {
      now = t * D;
      return lim;
    },
  };
}

/** x/time/rate's run(): allowN(t, n) must give ok, step by step. */
function run(c: Clocked, steps: [t: number, n: number, ok: boolean][]): void {
  steps.forEach(([t, n, ok], i) => {
    expect({ step: i, ok: c.at(t).allow(n) }).toEqual({ step: i, ok });
  });
}

/** x/time/rate's runReserve(): reserveN(t, n) must be ok with its time to act at `act` (in D). */
function reserve(c: Clocked, t: number, n: number, act: number) {
  const r = c.at(t).reserve(n);
  expect(r.ok).toBe(true);
  expect(Math.round((t * D + r.delayMs) / D)).toBe(act);
  return {
    cancelAt(when: number) {
      c.at(when);
      r.cancel();
    },
  };
}

describe('RateLimiter: x/time/rate allow cases (injected clock)', () => {
  it('TestLimiterBurst1', () => {
    run(clocked(10, 1), [
      [0, 1, true], [0, 1, false], [0, 1, false],
      [1, 1, true], [1, 1, false], [1, 1, false],
      [2, 1, true], [2, 1, false],
    ]);
  });

  it('TestLimiterBurst1: n > burst throws RangeError (x/time/rate: false)', () => {
    const c = clocked(10, 1);
    expect(thrown(() => c.at(2).allow(2))).toBeInstanceOf(RangeError);
    expect(c.at(2).allow(1)).toBe(true); // and took nothing
  });

  it('TestLimiterBurst3', () => {
    const c = clocked(10, 3);
    run(c, [[0, 2, true], [0, 2, false], [0, 1, true], [0, 1, false]]);
    expect(thrown(() => c.at(1).allow(4))).toBeInstanceOf(RangeError);
    run(c, [
      [2, 1, true], [3, 1, true], [4, 1, true], [4, 1, true], [4, 1, false], [4, 1, false],
      [9, 3, true], [9, 0, true],
    ]);
  });

  it('TestLimiterJumpBackwards', () => {
    run(clocked(10, 3), [
      [1, 1, true], // start at t1
      [0, 1, true], // jump back to t0, two tokens remain
      [0, 1, true], [0, 1, false], [0, 1, false],
      [1, 1, true], [1, 1, false], [1, 1, false],
      [2, 1, true], [2, 1, false], [2, 1, false],
    ]);
  });

  it('TestLimiter_noTruncationErrors', () => {
    expect(new RateLimiter(0.7692307692307693, 1).allow()).toBe(true);
  });

  it('TestZeroLimit / TestTinyLimit: the bucket starts full and never refills', () => {
    for (const rate of [0, 1e-10]) {
      const lim = new RateLimiter(rate, 1);
      expect(lim.allow()).toBe(true);
      expect(lim.allow()).toBe(false);
    }
  });

  it('TestSetAfterZeroLimit: rate 0 refuses a reservation; a rate set later refills', () => {
    const c = clocked(0, 1);
    reserve(c, 0, 1, 0);
    const r = c.at(0).reserve(1);
    expect(r).toMatchObject({ ok: false, delayMs: Infinity });
    r.cancel(); // a no-op
    c.at(0).setRate(10);
    reserve(c, 0, 1, 1); // a token in 100 ms
  });

  it('Inf: everything passes, burst ignored (also burst 0); back to a finite rate', () => {
    const c = clocked(Infinity, 0);
    expect(c.at(0).allow(1000)).toBe(true);
    expect(c.at(0).reserve(5)).toMatchObject({ ok: true, delayMs: 0 });
    expect(c.lim.rate).toBe(Infinity);
    c.at(0).setRate(10);
    expect(thrown(() => c.at(0).allow(1))).toBeInstanceOf(RangeError); // burst 0 counts again
    c.at(0).setBurst(2);
    expect(c.at(1).allow(1)).toBe(true);
  });

  it('zero burst: only n = 0 passes at a finite rate, until setRate(Infinity)', () => {
    const c = clocked(10, 0);
    expect(c.at(0).allow(0)).toBe(true);
    expect(thrown(() => c.at(5).allow(1))).toBeInstanceOf(RangeError);
    expect(thrown(() => c.at(5).reserve(1))).toBeInstanceOf(RangeError);
    expect(thrown(() => c.lim.waitSync(1))).toBeInstanceOf(RangeError);
    expect(thrown(() => c.lim.wait(1))).toBeInstanceOf(RangeError); // synchronously
    c.at(5).setRate(Infinity);
    expect(c.at(5).allow(1)).toBe(true);
  });

  it('tokens: starts at burst, goes negative while reservations are owed, capped at burst', () => {
    const c = clocked(10, 3);
    expect(c.at(0).tokens).toBe(3);
    c.at(0).allow(2);
    expect(c.at(0).tokens).toBeCloseTo(1, 9);
    expect(c.at(1).tokens).toBeCloseTo(2, 9);
    c.at(1).reserve(3);
    expect(c.at(1).tokens).toBeCloseTo(-1, 9);
    expect(c.at(50).tokens).toBe(3);
  });
});

describe('RateLimiter: x/time/rate reserve and cancel cases (injected clock)', () => {
  it('TestSimpleReserve', () => {
    const c = clocked(10, 2);
    reserve(c, 0, 2, 0);
    reserve(c, 0, 2, 2);
    reserve(c, 3, 2, 4);
  });

  it('TestMix', () => {
    const c = clocked(10, 2);
    expect(thrown(() => c.at(0).reserve(3))).toBeInstanceOf(RangeError); // n > burst
    reserve(c, 0, 2, 0);
    run(c, [[1, 2, false]]); // not enough tokens
    reserve(c, 1, 2, 2);
    run(c, [[1, 1, false]]); // negative tokens
    run(c, [[3, 1, true]]);
  });

  it('TestCancelInvalid', () => {
    const c = clocked(10, 2);
    reserve(c, 0, 2, 0);
    expect(thrown(() => c.at(0).reserve(3))).toBeInstanceOf(RangeError);
    reserve(c, 0, 2, 2); // did not get extra tokens
  });

  it('TestCancelLast', () => {
    const c = clocked(10, 2);
    reserve(c, 0, 2, 0);
    reserve(c, 0, 2, 2).cancelAt(1); // 2 tokens back
    reserve(c, 1, 2, 2);
  });

  it('TestCancelTooLate', () => {
    const c = clocked(10, 2);
    reserve(c, 0, 2, 0);
    reserve(c, 0, 2, 2).cancelAt(3); // too late: no effect
    reserve(c, 3, 2, 4);
  });

  it('TestCancel0Tokens', () => {
    const c = clocked(10, 2);
    reserve(c, 0, 2, 0);
    const r = reserve(c, 0, 1, 1);
    reserve(c, 0, 1, 2);
    r.cancelAt(0); // 0 tokens back
    reserve(c, 0, 1, 3);
  });

  it('TestCancel1Token', () => {
    const c = clocked(10, 2);
    reserve(c, 0, 2, 0);
    const r = reserve(c, 0, 2, 2);
    reserve(c, 0, 1, 3);
    r.cancelAt(2); // 1 token back
    reserve(c, 2, 2, 4);
  });

  it('TestCancelMulti', () => {
    const c = clocked(10, 4);
    reserve(c, 0, 4, 0);
    const a = reserve(c, 0, 3, 3);
    reserve(c, 0, 1, 4);
    const cc = reserve(c, 0, 1, 5);
    cc.cancelAt(1); // 1 token back
    a.cancelAt(1); // 2 tokens back, as if C was never reserved
    reserve(c, 1, 3, 5);
  });

  it('cancel() is idempotent', () => {
    const c = clocked(10, 2);
    reserve(c, 0, 2, 0);
    const r = c.at(0).reserve(2);
    r.cancel();
    r.cancel();
    expect(c.at(0).tokens).toBeCloseTo(0, 9); // not 2: given back once, and no more
  });

  it('TestReserveJumpBack', () => {
    const c = clocked(10, 2);
    reserve(c, 1, 2, 1); // start at t1
    reserve(c, 0, 1, 1); // should violate Limit, Burst
    reserve(c, 2, 2, 3);
  });

  it('TestReserveJumpBackCancel', () => {
    const c = clocked(10, 2);
    reserve(c, 1, 2, 1); // start at t1
    const r = reserve(c, 1, 2, 3);
    reserve(c, 1, 1, 4);
    r.cancelAt(0); // cancel at t0, get 1 token back
    reserve(c, 1, 2, 4); // should violate Limit, Burst
  });

  it('TestReserveSetLimit', () => {
    const c = clocked(5, 2);
    reserve(c, 0, 2, 0);
    reserve(c, 0, 2, 4);
    c.at(2).setRate(10);
    reserve(c, 2, 1, 4); // violates Limit and Burst
  });

  it('TestReserveSetBurst', () => {
    const c = clocked(5, 2);
    reserve(c, 0, 2, 0);
    reserve(c, 0, 2, 4);
    c.at(3).setBurst(4);
    reserve(c, 0, 4, 9); // violates Limit and Burst
  });

  it('TestReserveSetLimitCancel', () => {
    const c = clocked(5, 2);
    reserve(c, 0, 2, 0);
    const r = reserve(c, 0, 2, 4);
    c.at(2).setRate(10);
    r.cancelAt(2); // 2 tokens back
    reserve(c, 2, 2, 3);
  });

  it('TestReserveMax, through wait({ timeout }): too far in the future fails at once, taking nothing', async () => {
    const c = clocked(10, 2);
    await c.at(0).wait(2, { timeout: D });
    const t0 = Date.now();
    await c.at(0).wait(1, { timeout: D }); // reserve for the close future: sleeps ~100 ms
    expect(Date.now() - t0).toBeGreaterThanOrEqual(D - 20);
    const t1 = Date.now();
    const e = await rejection(c.at(0).wait(1, { timeout: D })); // time to act too far away
    expect(e).toBeInstanceOf(TimeoutError);
    expect(e.code).toBe('ERR_WEFT_TIMEOUT');
    expect(Date.now() - t1).toBeLessThan(2 * D);
    expect(c.at(0).tokens).toBeCloseTo(-1, 9); // nothing taken by the failed wait
    expect(thrown(() => c.at(0).waitSync(1, { timeout: D }))).toBeInstanceOf(TimeoutError);
    expect(c.at(0).tokens).toBeCloseTo(-1, 9);
  });
});

describe('RateLimiter: waits (real time)', () => {
  it('TestWaitSimple: already aborted, exceeding the burst, act now, act later', async () => {
    const lim = new RateLimiter(10, 3);
    const [ctx, cancel] = withCancel(background());
    cancel();
    const e = await rejection(lim.wait(1, { signal: ctx.signal }));
    expect(e).toBeInstanceOf(CanceledError);
    expect(lim.tokens).toBeCloseTo(3, 1); // took nothing
    expect(thrown(() => lim.wait(4))).toBeInstanceOf(RangeError);
    let t = Date.now();
    await lim.wait(2);
    expect(Date.now() - t).toBeLessThan(D);
    t = Date.now();
    await lim.wait(3); // 1 token left: 2 more take 200 ms
    const waited = Date.now() - t;
    expect(waited).toBeGreaterThanOrEqual(2 * D - 30);
    expect(waited).toBeLessThan(20 * D);
  });

  it('TestWaitCancel: an aborted wait gives its tokens back', async () => {
    const lim = new RateLimiter(10, 3);
    await lim.wait(2); // 1 token left
    const ac = new AbortController();
    setTimeout(() => ac.abort(new Error('enough')), D);
    const t = Date.now();
    const e = await rejection(lim.wait(3, { signal: ac.signal }));
    expect(Date.now() - t).toBeLessThan(2 * D + 150); // the abort, not the 200 ms wait plus slack
    expect(e).toBeInstanceOf(CanceledError);
    expect(e.cause).toEqual(new Error('enough'));
    expect(e.message).toContain('rate limiter');
    // 3 tokens back: about 2 now (1 + 100 ms of refill), so wait(2) acts at once.
    expect(lim.tokens).toBeGreaterThan(1.5);
    const t2 = Date.now();
    await lim.wait(2);
    expect(Date.now() - t2).toBeLessThan(D);
  });

  it('TestWaitTimeout: a timeout shorter than the delay fails at once and takes nothing', async () => {
    const lim = new RateLimiter(10, 3);
    await lim.wait(2, { timeout: D });
    const before = lim.tokens;
    const t = Date.now();
    const e = await rejection(lim.wait(3, { timeout: D }));
    expect(e).toBeInstanceOf(TimeoutError);
    expect(Date.now() - t).toBeLessThan(D);
    expect(lim.tokens).toBeGreaterThanOrEqual(before);
    expect(lim.tokens).toBeLessThan(before + 1);
  });

  it("a context's deadline bounds the wait like x/time/rate's WaitN: DeadlineExceededError at once", async () => {
    const lim = new RateLimiter(10, 1);
    lim.allow();
    const [ctx, cancel] = withTimeout(background(), 50);
    const t = Date.now();
    const e = await rejection(lim.wait(1, { signal: ctx.signal })); // needs ~100 ms
    expect(e).toBeInstanceOf(DeadlineExceededError);
    expect(Date.now() - t).toBeLessThan(50);
    expect(lim.tokens).toBeGreaterThan(-0.5); // nothing taken
    cancel();
  });

  it('rate 0 with an empty bucket: a wait fails at once (it could never be met)', async () => {
    const lim = new RateLimiter(0, 1);
    await lim.wait();
    expect(await rejection(lim.wait())).toBeInstanceOf(TimeoutError);
    expect(thrown(() => lim.waitSync())).toBeInstanceOf(TimeoutError);
  });

  it('TestWaitInf', async () => {
    const lim = new RateLimiter(Infinity, 0);
    await lim.wait(3);
    lim.waitSync(3);
  });

  it('waitSync blocks the thread until the token is due; timeout too short fails at once', () => {
    const lim = new RateLimiter(20, 1);
    expect(lim.allow()).toBe(true);
    let t = Date.now();
    lim.waitSync(1, { timeout: 1000 });
    expect(Date.now() - t).toBeGreaterThanOrEqual(30);
    t = Date.now();
    expect(thrown(() => lim.waitSync(1, { timeout: 5 }))).toBeInstanceOf(TimeoutError);
    expect(Date.now() - t).toBeLessThan(40);
  });

  it('the wait Promise settles even while no JavaScript timer is pending (native timer thread)', async () => {
    const lim = new RateLimiter(50, 1);
    lim.allow();
    await expect(lim.wait()).resolves.toBeUndefined();
  });
});

describe('RateLimiter across threads', () => {
  it('passes by reference: through a channel and as go() arguments, one bucket', async () => {
    const lim = new RateLimiter(0.001, 5, { name: 'shared' });
    const ch = new Chan<RateLimiter>(1);
    await ch.send(lim);
    const same = (await ch.recv())!;
    expect(same.allow(2)).toBe(true);
    expect(lim.tokens).toBeCloseTo(3, 2);
    expect(same.name).toBe('shared');
    expect(await go<number>(TASKS, 'allowMany', lim, 10)).toBe(3);
    expect(lim.allow()).toBe(false);
  });

  it('TestSimultaneousRequests: 3 threads x 5 requests, burst 5, slow refill: exactly 5 admitted', async () => {
    const lim = new RateLimiter(0.001, 5);
    const counts = await Promise.all([
      go<number>(TASKS, 'allowMany', lim, 5),
      go<number>(TASKS, 'allowMany', lim, 5),
      go<number>(TASKS, 'allowMany', lim, 5),
    ]);
    expect(counts.reduce((a, b) => a + b, 0)).toBe(5);
  });

  it('two workers calling allow() for a window: admitted ~ rate x window + burst, never more', async () => {
    const rate = 100;
    const burst = 10;
    const window = 500;
    const lim = new RateLimiter(rate, burst);
    const created = performance.now();
    const counts = await Promise.all([
      go<number>(TASKS, 'countAllowed', lim, window),
      go<number>(TASKS, 'countAllowed', lim, window),
    ]);
    const since = (performance.now() - created) / 1000;
    const total = counts[0]! + counts[1]!;
    expect(total).toBeLessThanOrEqual(burst + rate * since + 1); // the bucket's hard bound
    expect(total).toBeGreaterThanOrEqual(0.5 * (burst + (rate * window) / 1000));
    expect(counts[0]! > 0 && counts[1]! > 0).toBe(true);
  });

  it('two workers in waitSync: the second half of the tokens comes at the rate', async () => {
    const lim = new RateLimiter(50, 2);
    const [a, b] = await Promise.all([go<number[]>(TASKS, 'waitMany', lim, 6), go<number[]>(TASKS, 'waitMany', lim, 6)]);
    const all = [...a!, ...b!].sort((x, y) => x - y);
    // 12 tokens, 2 in the burst: the last 10 need >= 200 ms after the first.
    expect(all[11]! - all[0]!).toBeGreaterThanOrEqual(180);
  });

  it("dump() lists a worker's waitSync as a wait on the limiter, since about when it began", async () => {
    const lim = new RateLimiter(1, 3, { name: 'slow' });
    lim.allow(3); // empty: a wait for 3 needs 3 s
    const [ctx, cancel] = withCancel(background());
    const task = go(TASKS, 'waitSyncCtx', lim, 3, ctx);
    const t0 = Date.now();
    let entry: { op: string; object: string; sinceMs: number } | undefined;
    while (entry === undefined) {
      if (Date.now() - t0 > 20_000) throw new Error('the worker never blocked');
      await new Promise((r) => setTimeout(r, 5));
      entry = dump().find((e) => e.object === 'ratelimiter slow');
    }
    await new Promise((r) => setTimeout(r, 100));
    const again = dump().find((e) => e.object === 'ratelimiter slow');
    cancel();
    await task;
    expect(entry.op).toBe('wait');
    expect(again!.sinceMs).toBeGreaterThanOrEqual(90);
    expect(again!.sinceMs).toBeLessThan(Date.now() - t0 + 50); // not the machine's uptime
  });

  it("a worker's waitSync on a context signal wakes when the context is canceled, and gives the tokens back", async () => {
    const lim = new RateLimiter(1, 3);
    lim.allow(3); // empty: a wait for 3 needs 3 s
    const [ctx, cancel] = withCancel(background());
    const task = go<{ outcome: string; code?: string; ms: number }>(TASKS, 'waitSyncCtx', lim, 3, ctx);
    // The reservation is made when the worker blocks: tokens drop to about -3.
    const t0 = Date.now();
    while (lim.tokens > -2) {
      if (Date.now() - t0 > 20_000) throw new Error('the worker never reserved');
      await new Promise((r) => setTimeout(r, 5));
    }
    cancel();
    const r = await task;
    expect(r.outcome).toBe('CanceledError');
    expect(r.ms).toBeLessThan(2500);
    expect(lim.tokens).toBeGreaterThan(-0.5); // 3 tokens came back
  });
});

describe('RateLimiter: bad arguments', () => {
  it('constructor: TypeError / RangeError naming ratePerSec and burst', () => {
    const bad: [unknown[], ErrorConstructor, string][] = [
      [['10', 1], TypeError, 'ratePerSec'],
      [[NaN, 1], RangeError, 'ratePerSec'],
      [[-1, 1], RangeError, 'ratePerSec'],
      [[10, '1'], TypeError, 'burst'],
      [[10, -1], RangeError, 'burst'],
      [[10, 1.5], RangeError, 'burst'],
      [[10, Infinity], RangeError, 'burst'],
      [[10, 1, 'x'], TypeError, 'opts'],
    ];
    for (const [args, cls, name] of bad) {
      const e = thrown(() => new (RateLimiter as any)(...args));
      expect(e).toBeInstanceOf(cls);
      expect(e.message).toContain(name);
    }
  });

  it('methods: n, opts, setRate, setBurst checked synchronously', () => {
    const lim = new RateLimiter(10, 3);
    for (const f of [
      () => lim.allow('1' as any),
      () => lim.reserve(null as any),
      () => lim.wait({} as any),
      () => lim.waitSync('2' as any),
    ]) {
      const e = thrown(f);
      expect(e).toBeInstanceOf(TypeError);
      expect(e.message).toContain('n');
    }
    for (const f of [() => lim.allow(-1), () => lim.allow(1.5), () => lim.reserve(NaN), () => lim.wait(Infinity)]) {
      expect(thrown(f)).toBeInstanceOf(RangeError);
    }
    expect(thrown(() => lim.wait(1, { timeout: 'x' } as any))).toBeInstanceOf(TypeError);
    expect(thrown(() => lim.wait(1, { signal: {} } as any))).toBeInstanceOf(TypeError);
    expect(thrown(() => lim.waitSync(1, { timeout: -1 }))).toBeInstanceOf(RangeError);
    expect(thrown(() => lim.setRate('5' as any)).message).toContain('ratePerSec');
    expect(thrown(() => lim.setRate(-5))).toBeInstanceOf(RangeError);
    expect(thrown(() => lim.setBurst(2.5)).message).toContain('burst');
    expect(lim.rate).toBe(10);
    expect(lim.burst).toBe(3); // nothing changed
  });

  it('n > burst: RangeError from every method, also after an abort', () => {
    const lim = new RateLimiter(10, 2);
    const ac = new AbortController();
    ac.abort();
    for (const f of [
      () => lim.allow(3),
      () => lim.reserve(3),
      () => lim.wait(3),
      () => lim.waitSync(3),
      () => lim.wait(3, { signal: ac.signal }),
      () => lim.waitSync(3, { signal: ac.signal }),
    ]) {
      const e = thrown(f);
      expect(e).toBeInstanceOf(RangeError);
      expect(e.message).toMatch(/burst/);
    }
    expect(lim.tokens).toBeCloseTo(2, 1);
  });

  it('methods called on another object throw TypeError', () => {
    const lim = new RateLimiter(10, 2);
    expect(thrown(() => RateLimiter.prototype.allow.call({}))).toBeInstanceOf(TypeError);
    expect(thrown(() => Object.getOwnPropertyDescriptor(RateLimiter.prototype, 'tokens')!.get!.call({}))).toBeInstanceOf(TypeError);
    expect(lim.allow()).toBe(true);
  });
});

describe('examples/rate-limiter.js', () => {
  it('runs: workers share one bucket, the limit holds, allow() drops the excess', async () => {
    const out = await new Promise<string>((resolve, reject) => {
      execFile(process.execPath, ['examples/rate-limiter.js'], { cwd: ROOT, timeout: 60_000 }, (err, stdout, stderr) =>
        err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve(stdout),
      );
    });
    const lines = out.trim().split('\n');
    expect(lines[0]).toMatch(/^rate limiter: 20 requests\/s, bursts of 5, shared by 3 workers$/);
    const served = lines.filter((l) => /^ {2}\+\d+\.\d{3}s {2}worker [123] {2}request \d+$/.test(l));
    expect(served, out).toHaveLength(30);
    expect(lines).toContain('allow(): 10 requests at once after a pause: 5 admitted, 5 dropped');
    const m = /^summary: 30 requests served by 3 workers in (\d+\.\d+)s: a burst of 5, then [\d.]+\/s \(limit 20\/s: at most (\d+) requests in that time\)$/.exec(
      lines[lines.length - 1]!,
    );
    expect(m).not.toBeNull();
    // 25 requests after the burst at 20/s: at least 1.25 s (ms rounding of the printed times aside).
    expect(Number(m![1])).toBeGreaterThanOrEqual(1.2);
    expect(Number(m![2])).toBeGreaterThanOrEqual(30);
  }, 70_000);
});
