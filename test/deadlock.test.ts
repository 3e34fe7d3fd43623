// API.md §9: dump() lists every blocked operation in every thread, and lock cycles among
// threads blocked in lockSync are reported with DeadlockError instead of hanging (workers in
// test/fixtures/sync-deadlock.ts). Includes the book's dining philosophers.
import { describe, it, expect, afterEach } from 'vitest';
import { fixture } from './fixture.js';
import {
  Mutex, RWMutex, WaitGroup, Cond, Once, Semaphore, DeadlockError, dump, threadId,
} from 'weft';
import { spawnWith, cleanup, delay, flags, within, until, track } from './helpers.js';
import type { Caught, Runner } from './helpers.js';

afterEach(cleanup);

const MODULE = fixture('sync-deadlock');
const run = (fn: string, ...args: unknown[]): Runner => spawnWith({ module: MODULE }, fn, ...args);
const setFlag = (fl: Int32Array, i = 0, v = 1): void => { Atomics.store(fl, i, v); Atomics.notify(fl, i); };
const MAIN = threadId();
const entriesOf = (tid: number) => dump().filter((e) => e.thread === tid);
const blockedNow = (tid: number, op: string) => until(() => entriesOf(tid).some((e) => e.op === op), 10_000, `thread ${tid} blocked in ${op}`);

// ---------------------------------------------------------------------------------------
describe('dump()', () => {
  it('lists a worker blocked in lockSync on a named Mutex and main waiting async on a WaitGroup', async () => {
    const m = new Mutex({ name: 'db' });
    const wg = new WaitGroup({ name: 'jobs' });
    await m.lock();
    wg.add(1);
    const w = run('blockIn', m, 'lockSync');
    const wtid = await w.event('tid');
    expect(wtid).not.toBe(MAIN);
    const p = track(wg.wait());
    await blockedNow(wtid, 'lock');
    await delay(100);
    const list = dump();
    for (const e of list) {
      expect(typeof e.thread).toBe('number');
      expect(typeof e.op).toBe('string');
      expect(typeof e.object).toBe('string');
      expect(typeof e.sinceMs).toBe('number');
    }
    const lockE = list.filter((e) => e.thread === wtid);
    expect(lockE).toHaveLength(1);
    expect(lockE[0].op).toBe('lock');
    expect(lockE[0].object).toMatch(/mutex/i);
    expect(lockE[0].object).toMatch(/\bdb\b/);
    expect(lockE[0].object).not.toMatch(/rwmutex/i);
    expect(lockE[0].sinceMs).toBeGreaterThanOrEqual(80);
    expect(lockE[0].sinceMs).toBeLessThan(60_000);
    const waitE = list.filter((e) => e.thread === MAIN);
    expect(waitE).toHaveLength(1);
    expect(waitE[0].op).toBe('wait');
    expect(waitE[0].object).toMatch(/waitgroup/i);
    expect(waitE[0].object).toMatch(/\bjobs\b/);
    expect(waitE[0].sinceMs).toBeGreaterThanOrEqual(80);
    // sinceMs grows
    await delay(50);
    const later = entriesOf(wtid)[0];
    expect(later.sinceMs).toBeGreaterThan(lockE[0].sinceMs);
    // the same view from the worker side would be identical: dump() is process-wide
    m.unlock();
    wg.done();
    await within(p.promise, 5000, 'wg.wait');
    expect(await w.done()).toBe('ok');
    await until(() => entriesOf(wtid).length === 0 && entriesOf(MAIN).length === 0, 5000, 'entries gone');
  });

  it('covers every primitive, Sync in workers and async on main, with kind and name', async () => {
    const mu = new Mutex({ name: 'mu1' });
    const rw = new RWMutex({ name: 'cfg' });
    const wg = new WaitGroup({ name: 'grp' });
    const sem = new Semaphore(2, { name: 'pool' });
    const cm = new Mutex({ name: 'cm' });
    const cond = new Cond(cm);
    const once = new Once();
    const onceFl = flags(1);

    await mu.lock();
    await rw.lock();
    wg.add(1);
    await sem.acquire(2);
    const slow = run('onceSlow', once, onceFl);
    await slow.event('running');

    const specs: [Runner, string, RegExp, RegExp | null][] = [
      [run('blockIn', mu, 'lockSync'), 'lock', /mutex/i, /mu1/],
      [run('blockIn', rw, 'rlockSync'), 'rlock', /rwmutex/i, /cfg/],
      [run('blockIn', wg, 'waitSync'), 'wait', /waitgroup/i, /grp/],
      [run('blockIn', sem, 'acquireSync', 1), 'acquire', /semaphore/i, /pool/],
      [run('blockIn', cond, 'condWaitSync'), 'wait', /cond/i, null],
      [run('blockIn', once, 'doSync'), 'do', /once/i, null],
    ];
    const tids: number[] = [];
    for (const [w, op, kind, name] of specs) {
      const tid = await w.event('tid');
      tids.push(tid);
      await blockedNow(tid, op);
      const [e] = entriesOf(tid);
      expect(e.op).toBe(op);
      expect(e.object).toMatch(kind);
      if (name) expect(e.object).toMatch(name);
    }
    // async waits on main
    const asyncOps = [track(mu.lock()), track(rw.rlock()), track(sem.acquire(1))];
    const mine = entriesOf(MAIN);
    expect(mine.map((e) => e.op).sort()).toEqual(['acquire', 'lock', 'rlock']);
    expect(mine.find((e) => e.op === 'lock')?.object).toMatch(/mu1/);
    expect(mine.find((e) => e.op === 'rlock')?.object).toMatch(/rwmutex.*cfg|cfg.*rwmutex/i);
    expect(mine.find((e) => e.op === 'acquire')?.object).toMatch(/pool/);

    // let everything go
    mu.unlock();
    rw.unlock();
    wg.done();
    sem.release(2);
    await cm.lock();
    cond.broadcast();
    cm.unlock();
    setFlag(onceFl);
    for (const [w] of specs) await w.done();
    expect(await slow.done()).toBe('slow');
    await within(Promise.all(asyncOps.map((o) => o.promise)), 10_000, 'main async ops');
    mu.unlock();
    rw.runlock();
    sem.release(1);
    for (const tid of [...tids, MAIN]) expect(entriesOf(tid)).toEqual([]);
  });
});

// ---------------------------------------------------------------------------------------
describe('lock cycles', () => {
  it('two workers locking m1/m2 in opposite order: one gets DeadlockError naming the cycle, the other proceeds', async () => {
    for (let rep = 0; rep < 3; rep++) {
      const m1 = new Mutex({ name: 'm1' });
      const m2 = new Mutex({ name: 'm2' });
      const fl = flags(2);
      const a = run('lockPair', m1, m2, fl, 0, 1);
      const b = run('lockPair', m2, m1, fl, 1, 0);
      const rs = await within(Promise.all([a.done(), b.done()]), 20_000, 'both sides');
      const dead = rs.filter((r) => r.result === 'DeadlockError');
      const ok = rs.filter((r) => r.result === 'ok');
      expect(dead).toHaveLength(1);
      expect(ok).toHaveLength(1);
      const d = dead[0];
      expect(d.code).toBe('ERR_WEFT_DEADLOCK');
      expect(d.stillMine).toBe(true); // the failed lockSync did not take anything away
      expect(d.message).toMatch(/m1/);
      expect(d.message).toMatch(/m2/);
      expect(d.message).toMatch(new RegExp(`\\b${d.tid}\\b`));
      expect(d.message).toMatch(new RegExp(`\\b${ok[0].tid}\\b`));
      // both free afterwards
      expect(m1.tryLock()).toBe(true);
      expect(m2.tryLock()).toBe(true);
      m1.unlock();
      m2.unlock();
    }
  });

  it('a three-worker ring: one DeadlockError naming all three mutexes', async () => {
    const ms = ['ra', 'rb', 'rc'].map((name) => new Mutex({ name }));
    const fl = flags(3);
    const ws = [0, 1, 2].map((i) => run('lockPair', ms[i], ms[(i + 1) % 3], fl, i, (i + 1) % 3));
    // each waits for its successor's first lock; then all three lockSync their second
    const rs = await within(Promise.all(ws.map((w) => w.done())), 20_000, 'ring');
    const dead = rs.filter((r) => r.result === 'DeadlockError');
    expect(dead.length).toBeGreaterThanOrEqual(1);
    expect(rs.filter((r) => r.result !== 'DeadlockError' && r.result !== 'ok')).toEqual([]);
    for (const d of dead) for (const n of ['ra', 'rb', 'rc']) expect(d.message).toContain(n);
    for (const m of ms) {
      expect(m.tryLock()).toBe(true);
      m.unlock();
    }
  });

  it('lockSync on a Mutex the calling thread holds: DeadlockError at once (worker, any way it was locked)', async () => {
    for (const how of ['sync', 'async', 'try']) {
      const m = new Mutex({ name: `self-${how}` });
      const r = await run('selfLock', m, how).done();
      expect(r.name).toBe('DeadlockError');
      expect(r.code).toBe('ERR_WEFT_DEADLOCK');
      expect(r.message).toContain(`self-${how}`);
      expect(r.elapsed).toBeLessThan(4000); // not the 5 s timeout
      expect(r.stillLocked).toBe(true);
      expect(m.tryLock()).toBe(true);
      m.unlock();
    }
  });

  it('lockSync on a Mutex main holds, from main: DeadlockError, not a hang', async () => {
    const m = new Mutex({ name: 'mainself' });
    await m.lock();
    let err: Caught | undefined;
    const t0 = Date.now();
    try {
      m.lockSync({ timeout: 3000 });
    } catch (e) {
      err = e as Caught;
    }
    expect(err).toBeInstanceOf(DeadlockError);
    expect(err!.name).toBe('DeadlockError');
    expect(err!.message).toMatch(/mainself/);
    expect(Date.now() - t0).toBeLessThan(2500);
    expect(m.tryLock()).toBe(false); // still ours
    m.unlock();
  });

  it('a cycle between main (lockSync) and a worker (lockSync) is broken on one side', async () => {
    const m1 = new Mutex({ name: 'x1' });
    const m2 = new Mutex({ name: 'x2' });
    const fl = flags(2);
    await m1.lock();
    const w = run('holdThenLock', m2, m1, fl); // worker: holds x2, then lockSync(x1)
    await until(() => Atomics.load(fl, 0) === 1, 10_000, 'worker holds x2');
    setFlag(fl, 1);
    let mainErr: unknown = null;
    try {
      m2.lockSync({ timeout: 10_000 }); // main blocks; one of us must fail
    } catch (e) {
      mainErr = e;
    }
    if (mainErr) {
      expect(mainErr).toBeInstanceOf(DeadlockError);
      m1.unlock(); // let the worker through
      expect((await w.done()).name).toBe('ok');
    } else {
      m2.unlock();
      m1.unlock();
      const r = await w.done();
      expect(r.name).toBe('DeadlockError');
    }
    expect(m1.tryLock()).toBe(true);
    expect(m2.tryLock()).toBe(true);
    m1.unlock();
    m2.unlock();
  });

  it('no false deadlock: a worker lockSync on a mutex held by main, which only waits async for the worker', async () => {
    // main holds y1 and waits (async, not blocked) for y2, which the worker holds; the worker
    // lockSync(y1) must just wait: main unlocks y1 from a timer.
    const y1 = new Mutex({ name: 'y1' });
    const y2 = new Mutex({ name: 'y2' });
    const fl = flags(2);
    await y1.lock();
    const w = run('holdThenLock', y2, y1, fl);
    await until(() => Atomics.load(fl, 0) === 1, 10_000, 'worker holds y2');
    const p = track(y2.lock());
    await until(() => entriesOf(MAIN).length === 1, 5000, 'main waits for y2');
    setFlag(fl, 1);
    await delay(200);
    y1.unlock();
    const r = await w.done();
    expect(r.name).toBe('ok');
    await within(p.promise, 5000, 'main gets y2');
    y2.unlock();
  });
});

// ---------------------------------------------------------------------------------------
describe('dining philosophers (five workers, five Mutex forks, left then right)', () => {
  const N = 5;
  const table = (barrier: boolean, meals: unknown, retry: unknown) => {
    const forks = Array.from({ length: N }, (_, i) => new Mutex({ name: `fork${i}` }));
    const bar = barrier ? flags(1) : null;
    const ws = forks.map((_, i) => run('philosopher', forks, i, meals, bar, retry));
    return { forks, ws };
  };
  const check = (forks: Mutex[]) => {
    for (const f of forks) {
      expect(f.tryLock()).toBe(true);
      f.unlock();
    }
  };

  it('forced cycle (all hold the left fork first), leave on DeadlockError: somebody reports it, nobody hangs', async () => {
    for (let rep = 0; rep < 2; rep++) {
      const { forks, ws } = table(true, 3, false);
      const rs = await within(Promise.all(ws.map((w) => w.done(30_000))), 30_000, 'the table');
      const left = rs.filter((r) => r.left);
      expect(left.length).toBeGreaterThanOrEqual(1);
      expect(left.length).toBeLessThan(N);
      for (const r of left) {
        expect(r.errors).toHaveLength(1);
        expect(r.errors[0]).toMatch(/fork\d/);
      }
      for (const r of rs.filter((x) => !x.left)) expect(r.eaten).toBe(3);
      check(forks);
    }
  });

  it('forced cycle with retry: every philosopher eventually eats all meals', async () => {
    const { forks, ws } = table(true, 20, true);
    const rs = await within(Promise.all(ws.map((w) => w.done(30_000))), 30_000, 'the table');
    expect(rs.map((r) => r.eaten)).toEqual([20, 20, 20, 20, 20]);
    expect(rs.reduce((k, r) => k + r.errors.length, 0)).toBeGreaterThanOrEqual(1);
    check(forks);
  });

  it('the book version, run several times: each run finishes or reports DeadlockError, never hangs', async () => {
    let deadlocks = 0;
    for (let rep = 0; rep < 3; rep++) {
      const { forks, ws } = table(false, 30, false);
      const rs = await within(Promise.all(ws.map((w) => w.done(30_000))), 30_000, `run ${rep}`);
      for (const r of rs) {
        if (r.left) {
          deadlocks++;
          expect(r.errors[0]).toMatch(/fork\d/);
        } else {
          expect(r.eaten).toBe(30);
        }
      }
      check(forks);
    }
    expect(deadlocks).toBeGreaterThanOrEqual(0);
  });
});
