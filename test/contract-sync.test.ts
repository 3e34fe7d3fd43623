// Issue 7, "the contract enforced at run time", for the sync primitives (API.md §3), the atomics
// (§4) and dump() (§9): Once's self-waits and options, clone failures and thenables; argument
// checks of the atomics; the lock holder in dump(); RWMutex self-locks; a wrong `this`; error
// messages that name the object and the operation; util.inspect. Workers run
// test/fixtures/contract-sync-scenarios.ts.
import { inspect } from 'node:util';
import { describe, it, expect, afterEach } from 'vitest';
import { fixture } from './fixture.js';
import {
  Mutex, RWMutex, WaitGroup, Cond, Once, Semaphore,
  AtomicInt64, AtomicBool, AtomicValue, ProgressMeter,
  DeadlockError, DataCloneError, TimeoutError, CanceledError, MisuseError,
  dump, threadId, background, withCancel,
} from 'weft';
import type { WaitInfo } from 'weft';
import { spawnWith, cleanup, delay, flags, thrown, until, rejection, track, type Caught } from './helpers.js';

afterEach(cleanup);

const MODULE = fixture('contract-sync-scenarios');
const run = (fn: string, ...args: unknown[]) => spawnWith({ module: MODULE }, fn, ...args);
const setFlag = (fl: Int32Array, i = 0, v = 1) => { Atomics.store(fl, i, v); Atomics.notify(fl, i); };
const MAIN = threadId();

function expectDeadlock(e: Caught) {
  expect(e).toBeInstanceOf(DeadlockError);
  expect(e.code).toBe('ERR_WEFT_DEADLOCK');
}

// ---------------------------------------------------------------------------------------------
describe('Once: a wait that only the waiting thread could end is a DeadlockError', () => {
  it('main: do(async fn) pending, then doSync on the same thread throws at once; do() still resolves', async () => {
    const once = new Once({ name: 'cfg' });
    let release!: (v?: unknown) => void;
    const p = track(once.do(() => new Promise((r) => { release = r; }).then(() => 41)));
    const t0 = Date.now();
    const e = thrown(() => once.doSync(() => 'not run'));
    expectDeadlock(e);
    expect(Date.now() - t0).toBeLessThan(2000); // at once, not a hang cut short by a timeout
    expect(e.message).toMatch(/doSync/);
    expect(e.message).toMatch(/once 'cfg'/);
    expect(once.done).toBe(false); // the DeadlockError changed nothing
    release();
    expect(await p.promise).toBe(41);
    expect(once.doSync(() => 'not run')).toBe(41);
  });

  it('worker: do(async fn) then doSync on the worker thread; main and another worker get the result', async () => {
    const once = new Once();
    const r = await run('onceDoThenDoSync', once).done();
    expect(r.sync.ok).toBe(false);
    expect(r.sync.name).toBe('DeadlockError');
    expect(r.sync.code).toBe('ERR_WEFT_DEADLOCK');
    expect(r.sync.message).toContain(`thread ${r.tid}`);
    expect(r.first).toBe('async');
    expect(r.later).toMatchObject({ ok: true, value: 'async' });
    expect(once.doSync(() => 'main')).toBe('async');
    expect(await run('onceCall', once).done()).toMatchObject({ ok: true, value: 'async' });
  });

  it('recursive doSync inside its own fn throws DeadlockError (worker and main)', async () => {
    const r = await run('onceRecursive').done();
    expect(r.inner).toMatchObject({ ok: false, name: 'DeadlockError', code: 'ERR_WEFT_DEADLOCK' });
    expect(r.inner.message).toMatch(/once 'rec'/);
    expect(r.outer).toMatchObject({ ok: true, value: 'outer' });
    expect(r.done).toBe(true);

    const once = new Once();
    let inner: Caught | undefined;
    expect(once.doSync(() => { inner = thrown(() => once.doSync(() => 2)); return 1; })).toBe(1);
    expectDeadlock(inner!);
  });

  it('a doSync waiting for another thread is not a deadlock', async () => {
    const once = new Once();
    const fl = flags(4);
    const holder = run('onceHold', once, fl, 'held');
    await until(() => Atomics.load(fl, 0) === 1, 10_000, 'worker running fn');
    const waiter = run('onceCall', once);
    await until(() => dump().some((e) => e.op === 'do'), 10_000, 'waiter blocked in do');
    setFlag(fl, 1);
    expect(await holder.done()).toBe('held');
    expect(await waiter.done()).toMatchObject({ ok: true, value: 'held' });
  });
});

describe('Once: do/doSync take { signal, timeout } for the wait', () => {
  it('doSync and do time out while another thread runs fn, naming the once; nothing changes', async () => {
    const once = new Once({ name: 'slow' });
    const fl = flags(4);
    const holder = run('onceHold', once, fl, 'v');
    await until(() => Atomics.load(fl, 0) === 1, 10_000, 'worker running fn');
    const w = await run('onceWaitWith', once, { timeout: 30 }).done();
    expect(w).toMatchObject({ ok: false, name: 'TimeoutError', code: 'ERR_WEFT_TIMEOUT' });
    expect(w.message).toBe("do of once 'slow' timed out after 30 ms");
    const e = await rejection(once.do(() => 'main', { timeout: 30 }));
    expect(e).toBeInstanceOf(TimeoutError);
    expect(e.message).toBe("do of once 'slow' timed out after 30 ms");
    expect(once.done).toBe(false);
    expect(dump().filter((x) => x.op === 'do')).toEqual([]); // the timed-out waits left
    setFlag(fl, 1);
    expect(await holder.done()).toBe('v');
    expect(await once.do(() => 'main', { timeout: 30 })).toBe('v');
  });

  it('a context canceled on main ends a worker doSync with CanceledError; an abort ends do()', async () => {
    const once = new Once();
    const fl = flags(4);
    const holder = run('onceHold', once, fl, 1);
    await until(() => Atomics.load(fl, 0) === 1, 10_000, 'worker running fn');
    const [ctx, cancel] = withCancel(background());
    const waiter = run('onceWaitWith', once, { ctx }, fl);
    await until(() => dump().some((e) => e.op === 'do'), 10_000, 'waiter blocked in do');
    cancel();
    expect(await waiter.done()).toMatchObject({ ok: false, name: 'CanceledError' });
    const ac = new AbortController();
    const p = track(once.do(() => 2, { signal: ac.signal }));
    await delay(20);
    expect(p.state).toBe('pending');
    ac.abort('stop');
    const e = await rejection(p.promise);
    expect(e).toBeInstanceOf(CanceledError);
    expect(e.cause).toBe('stop');
    expect(e.message).toBe('do of once canceled');
    setFlag(fl, 1);
    expect(await holder.done()).toBe(1);
    expect(once.doSync(() => 3)).toBe(1);
  });

  it('an already aborted signal fails at once without running fn; bad options throw synchronously', async () => {
    const once = new Once();
    let ran = 0;
    const ac = new AbortController();
    ac.abort();
    expect(thrown(() => once.doSync(() => ran++, { signal: ac.signal }))).toBeInstanceOf(CanceledError);
    expect(await rejection(once.do(() => ran++, { signal: ac.signal }))).toBeInstanceOf(CanceledError);
    expect(ran).toBe(0);
    expect(once.done).toBe(false);
    // @ts-expect-error -- bad input on purpose
    expect(thrown(() => once.do(() => 1, { timeout: 'x' }))).toBeInstanceOf(TypeError);
    // @ts-expect-error -- bad input on purpose
    expect(thrown(() => once.doSync(() => 1, { signal: {} }))).toBeInstanceOf(TypeError);
    expect(thrown(() => once.doSync(() => 1, { timeout: -1 }))).toBeInstanceOf(RangeError);
    expect(ran).toBe(0);
    expect(once.doSync(() => ++ran)).toBe(1);
  });
});

describe('Once: results that cannot cross, and async fns given to doSync', () => {
  it('a non-cloneable result: the running caller gets it, every other caller (any thread) DataCloneError', async () => {
    const once = new Once({ name: 'fn' });
    const f = () => 'a function';
    let release!: (v?: unknown) => void;
    const running = once.do(() => new Promise((r) => { release = r; }).then(() => f));
    const concurrent = track(once.do(() => 'not run'));
    await delay(10);
    release();
    expect(await running).toBe(f);
    const ce = await rejection(concurrent.promise);
    expect(ce).toBeInstanceOf(DataCloneError);
    expect(ce.code).toBe('ERR_WEFT_CLONE');
    expect(ce.message).toMatch(/result of once 'fn' could not be cloned/);
    const later = thrown(() => once.doSync(() => 'not run'));
    expect(later).toBeInstanceOf(DataCloneError);
    expect(later).toBeInstanceOf(TypeError);
    const w = await run('onceCall', once).done();
    expect(w).toMatchObject({ ok: false, name: 'DataCloneError', code: 'ERR_WEFT_CLONE', isType: true });
    const wa = await run('onceCallAsync', once).done();
    expect(wa).toMatchObject({ ok: false, name: 'DataCloneError' });
  });

  it('a non-cloneable thrown value reaches the others as DataCloneError; a throwing getter does not leave it running', async () => {
    const once = new Once();
    const sym = Symbol('s');
    expect(thrown(() => once.doSync(() => { throw sym; }))).toBe(sym);
    expect(thrown(() => once.doSync(() => 1))).toBeInstanceOf(DataCloneError);

    const once2 = new Once();
    const bad = { get x() { throw new Error('getter'); } };
    expect(once2.doSync(() => bad)).toBe(bad);
    expect(once2.done).toBe(true);
    expect(thrown(() => once2.doSync(() => 1))).toBeInstanceOf(DataCloneError);
  });

  it('doSync(() => promise) is a TypeError; the Once is done with it for every caller, not stuck', async () => {
    const once = new Once({ name: 'p' });
    let calls = 0;
    // A rejecting promise: its rejection must not surface as an unhandled rejection.
    const e = thrown(() => once.doSync(() => { calls++; return Promise.reject(new Error('late')); }));
    expect(e).toBeInstanceOf(TypeError);
    expect(e.message).toMatch(/returned a Promise in doSync/);
    expect(e.message).toMatch(/once 'p'/);
    expect(once.done).toBe(true);
    const again = thrown(() => once.doSync(() => calls++));
    expect(again).toBeInstanceOf(TypeError);
    expect(again.message).toBe(e.message);
    expect((await rejection(once.do(() => calls++))).message).toBe(e.message);
    expect(await run('onceCall', once).done()).toMatchObject({ ok: false, name: 'TypeError', message: e.message });
    expect(calls).toBe(1);
    // Any thenable counts, not only native promises.
    const once2 = new Once();
    expect(thrown(() => once2.doSync(() => ({ then() {} })))).toBeInstanceOf(TypeError);
    // A `then` getter that throws: not a thenable, and the Once is not left running.
    const once3 = new Once();
    const odd = { get then() { throw new Error('then'); } };
    expect(once3.doSync(() => odd)).toBe(odd);
    expect(once3.done).toBe(true);
    expect(thrown(() => once3.doSync(() => 1))).toBeInstanceOf(DataCloneError);
    await delay(20); // let a (wrongly) unhandled rejection surface inside this test
  });
});

// ---------------------------------------------------------------------------------------------
describe('atomics and ProgressMeter reject bad arguments and change nothing', () => {
  it('ProgressMeter.progress: negative, fractional, NaN, Infinity, non-number, overflow', () => {
    const p = new ProgressMeter();
    for (const n of [-1, 1.5, NaN, Infinity, -Infinity, 2 ** 53]) {
      const e = thrown(() => p.progress(n));
      expect(e).toBeInstanceOf(RangeError);
      expect(e.message).toMatch(/\bn\b/);
    }
    for (const n of ['x', '1', 1n, null, {}]) {
      // @ts-expect-error -- bad input on purpose
      const e = thrown(() => p.progress(n));
      expect(e).toBeInstanceOf(TypeError);
      expect(e.message).toMatch(/\bn\b/);
    }
    expect(p.get()).toEqual({ count: 0, at: 0 });
    p.progress(0); // a heartbeat: the time only
    const g = p.get();
    expect(g.count).toBe(0);
    expect(g.at).toBeGreaterThan(0);
    p.progress(Number.MAX_SAFE_INTEGER);
    const e = thrown(() => p.progress(1));
    expect(e).toBeInstanceOf(RangeError);
    expect(p.get().count).toBe(Number.MAX_SAFE_INTEGER);
    p.progress(0);
    expect(p.get().count).toBe(Number.MAX_SAFE_INTEGER);
    expect(thrown(() => new ProgressMeter().progress(-0.5))).toBeInstanceOf(RangeError);
  });

  it('AtomicValue.compareAndSwap: version must be an integer >= 0; AtomicInt64/AtomicBool constructors', () => {
    const v = new AtomicValue(1);
    for (const ver of [-1, 0.5, NaN, Infinity]) expect(thrown(() => v.compareAndSwap(ver, 2))).toBeInstanceOf(RangeError);
    // @ts-expect-error -- bad input on purpose
    expect(thrown(() => v.compareAndSwap('0', 2))).toBeInstanceOf(TypeError);
    expect(v.load()).toEqual({ value: 1, version: 0 });
    expect(v.compareAndSwap(0, 2)).toBe(true);
    // @ts-expect-error -- bad input on purpose
    expect(thrown(() => new AtomicInt64('5'))).toBeInstanceOf(TypeError);
    // @ts-expect-error -- bad input on purpose
    expect(thrown(() => new AtomicInt64(null))).toBeInstanceOf(TypeError);
    expect(thrown(() => new AtomicInt64(1.5))).toBeInstanceOf(RangeError);
    expect(thrown(() => new AtomicInt64(2 ** 60))).toBeInstanceOf(RangeError);
    // @ts-expect-error -- bad input on purpose
    expect(thrown(() => new AtomicBool(1))).toBeInstanceOf(TypeError);
    const a = new AtomicInt64(5);
    expect(thrown(() => a.add(0.5))).toBeInstanceOf(RangeError);
    // @ts-expect-error -- bad input on purpose
    expect(thrown(() => a.add('1'))).toBeInstanceOf(TypeError);
    expect(thrown(() => a.compareAndSwap(5, 1.5))).toBeInstanceOf(RangeError);
    expect(a.load()).toBe(5);
  });

  it('the same checks in a worker, on objects created on main', async () => {
    const p = new ProgressMeter();
    const v = new AtomicValue('x');
    const a = new AtomicInt64(1);
    const m = new Mutex();
    const r = await run('badCalls', { p, v, a, m }).done();
    expect(r.progress.map((x: { name: string }) => x.name)).toEqual(['RangeError', 'RangeError', 'RangeError', 'TypeError']);
    expect(r.cas.name).toBe('RangeError');
    expect(r.add.name).toBe('TypeError');
    expect(r.wrongThis).toMatchObject({ ok: false, name: 'TypeError', message: 'Mutex.unlock called on an object that is not a Mutex' });
    expect(r.meter).toEqual({ count: 0, at: 0 });
    expect(p.get()).toEqual({ count: 0, at: 0 });
    expect(a.load()).toBe(1);
  });
});

// ---------------------------------------------------------------------------------------------
describe('dump() names the holder of the lock a waiter is blocked on', () => {
  const entry = (pred: (e: WaitInfo) => boolean) => dump().find(pred);

  it('Mutex held by a worker: holder is its thread; once it exits, holderExited; any thread may unlock', async () => {
    const m = new Mutex({ name: 'm' });
    const fl = flags(2);
    const w = run('lockUntil', m, fl);
    const wid = await w.event('locked');
    const p = m.lock();
    await until(() => entry((e) => e.thread === MAIN && e.op === 'lock'), 10_000, 'main in dump');
    const e1 = entry((e) => e.thread === MAIN && e.op === 'lock');
    expect(e1).toMatchObject({ object: 'mutex m', holder: wid, holderExited: false });
    setFlag(fl, 0);
    await w.done();
    await p; // main holds it now
    // A worker waiting for main's lock sees main as the holder.
    const w2 = run('lockSyncThenUnlock', m, 20_000);
    await until(() => dump().some((e) => e.op === 'lock' && e.thread !== MAIN), 10_000, 'worker in dump');
    const e2 = dump().find((e) => e.op === 'lock' && e.thread !== MAIN);
    expect(e2).toMatchObject({ holder: MAIN, holderExited: false });
    m.unlock();
    expect(await w2.done()).toMatchObject({ ok: true });

    // A worker that exits holding the lock.
    const w3 = run('lockAndExit', m);
    const gone = await w3.done();
    await w3.exited;
    const p3 = m.lock();
    await until(() => entry((e) => e.thread === MAIN && e.op === 'lock'), 10_000, 'main in dump');
    expect(entry((e) => e.thread === MAIN && e.op === 'lock')).toMatchObject({ holder: gone, holderExited: true });
    // Not owned: main unlocks the lock of the exited thread, and gets it.
    m.unlock();
    await p3;
    m.unlock();
    expect(dump().filter((e) => e.thread === MAIN)).toEqual([]);
  });

  it('RWMutex write lock: waiters (read and write) carry the holder; read-locked has none', async () => {
    const rw = new RWMutex({ name: 'rw' });
    const w = run('lockAndExit', rw);
    const gone = await w.done();
    await w.exited;
    const pr = rw.rlock();
    const pw = rw.lock();
    await until(() => dump().filter((e) => e.thread === MAIN).length === 2, 10_000, 'both in dump');
    for (const op of ['rlock', 'lock']) {
      expect(entry((e) => e.thread === MAIN && e.op === op)).toMatchObject({ object: 'rwmutex rw', holder: gone, holderExited: true });
    }
    rw.unlock(); // any thread may unlock; the reader goes first (FIFO)
    await pr;
    await until(() => dump().filter((e) => e.thread === MAIN).length === 1, 10_000, 'reader granted');
    const e = entry((x) => x.thread === MAIN && x.op === 'lock');
    expect(e?.holder).toBeUndefined();
    rw.runlock();
    await pw;
    rw.unlock();
  });
});

// ---------------------------------------------------------------------------------------------
describe('RWMutex: blocking on a lock the thread holds itself is a DeadlockError', () => {
  it('worker: rlockSync and lockSync while holding the write lock; lockSync while holding a read lock', async () => {
    const rw = new RWMutex({ name: 'cache' });
    const r = await run('rwSelfWrite', rw).done();
    for (const x of [r.r, r.w]) {
      expect(x).toMatchObject({ ok: false, name: 'DeadlockError', code: 'ERR_WEFT_DEADLOCK' });
      expect(x.ms).toBeLessThan(4000); // at once, not the 5 s timeout
      expect(x.message).toMatch(/rwmutex 'cache'/);
    }
    expect(r.r.message).toMatch(/rlockSync/);
    expect(r.stillWriteLocked).toBe(true);
    const s = await run('rwSelfRead', rw).done();
    expect(s.w).toMatchObject({ ok: false, name: 'DeadlockError' });
    expect(s.w.message).toMatch(/read lock/);
    expect(s.readers).toMatch(/readers: 1/);
    expect(rw.tryLock()).toBe(true); // nothing leaked
    rw.unlock();
  });

  it('main: the Sync flavours throw; the async rlock() just waits for the unlock', async () => {
    const rw = new RWMutex();
    rw.lockSync();
    expectDeadlock(thrown(() => rw.rlockSync()));
    expectDeadlock(thrown(() => rw.lockSync()));
    const p = track(rw.rlock());
    await delay(20);
    expect(p.state).toBe('pending');
    rw.unlock();
    await p.promise;
    expectDeadlock(thrown(() => rw.lockSync({ timeout: 5000 })));
    rw.runlock();
    rw.lockSync();
    rw.unlock();
  });

  it('no false deadlock: another thread holds the read lock, or runlocked ours for us', async () => {
    const rw = new RWMutex();
    await rw.rlock(); // main's read lock
    const w = run('lockSyncThenUnlock', rw, 20_000);
    await until(() => dump().some((e) => e.op === 'lock'), 10_000, 'worker waiting');
    rw.runlock();
    expect(await w.done()).toMatchObject({ ok: true });

    const fl = flags(2);
    const h = run('rwHandOff', rw, fl);
    await until(() => Atomics.load(fl, 0) === 1, 10_000, 'worker read-locked');
    rw.runlock(); // not owned: main releases the worker's read lock
    setFlag(fl, 1);
    expect(await h.done()).toMatchObject({ ok: true });
  });
});

describe('lock cycles through an RWMutex write lock are detected like Mutex cycles', () => {
  for (const how of ['lockSync', 'rlockSync']) {
    it(`worker A holds rw and waits for m; worker B holds m and calls rw.${how}`, async () => {
      const rw = new RWMutex({ name: 'rw' });
      const m = new Mutex({ name: 'm' });
      const fl = flags(2);
      const a = run('lockPairHow', rw, m, 'lockSync', fl, 0, 1);
      const b = run('lockPairHow', m, rw, how, fl, 1, 0);
      const [ra, rb] = await Promise.all([a.done(), b.done()]);
      const failed = [ra, rb].filter((r) => !r.ok);
      expect(failed.length).toBe(1); // one waiter fails; the other then gets its lock
      expect(failed[0]).toMatchObject({ name: 'DeadlockError', code: 'ERR_WEFT_DEADLOCK' });
      expect(failed[0].message).toMatch(/rwmutex 'rw'/);
      expect(failed[0].message).toMatch(/mutex 'm'/);
      expect(failed[0].ms).toBeLessThan(14_000); // not the 15 s timeout
      expect(rw.tryLock()).toBe(true); // everything released
      rw.unlock();
      expect(m.tryLock()).toBe(true);
      m.unlock();
    });
  }
});

// ---------------------------------------------------------------------------------------------
/** A class whose methods and getters a test calls by name with a wrong `this`. */
type Probed = abstract new (...args: never[]) => object;

describe("a wrong `this` gets weft's TypeError", () => {
  const cases: [Probed, string[], string[]][] = [
    [Mutex, ['tryLock', 'lock', 'lockSync', 'unlock', 'withLock'], ['name']],
    [RWMutex, ['tryLock', 'lock', 'lockSync', 'unlock', 'tryRLock', 'rlock', 'rlockSync', 'runlock'], ['name']],
    [WaitGroup, ['add', 'done', 'wait', 'waitSync'], ['count', 'name']],
    [Cond, ['wait', 'waitSync', 'signal', 'broadcast'], ['name']],
    [Once, ['do', 'doSync'], ['done', 'name']],
    [Semaphore, ['tryAcquire', 'acquire', 'acquireSync', 'release'], ['name']],
    [AtomicInt64, ['load', 'store', 'add', 'swap', 'compareAndSwap', 'loadBig'], []],
    [AtomicBool, ['load', 'store', 'swap', 'compareAndSwap'], []],
    [AtomicValue, ['load', 'store', 'compareAndSwap'], []],
    [ProgressMeter, ['progress', 'get'], []],
  ];
  for (const [C, methods, getters] of cases) {
    it(`${C.name}`, () => {
      const an = /^[AEIOU]/.test(C.name) ? 'an' : 'a';
      const others = [{}, Object.create(C.prototype), new (C === Mutex ? WaitGroup : Mutex)()];
      for (const m of methods) {
        for (const self of others) {
          const method = (C.prototype as Record<string, (this: unknown, ...args: unknown[]) => unknown>)[m]!;
          const e = thrown(() => method.call(self, () => 1));
          expect(e).toBeInstanceOf(TypeError);
          expect(e.message).toBe(`${C.name}.${m} called on an object that is not ${an} ${C.name}`);
        }
      }
      for (const g of getters) {
        const get = Object.getOwnPropertyDescriptor(C.prototype, g)!.get!;
        const e = thrown(() => get.call({}));
        expect(e.message).toBe(`${C.name}.${g} called on an object that is not ${an} ${C.name}`);
      }
    });
  }
});

// ---------------------------------------------------------------------------------------------
describe('error messages name the object and the operation', () => {
  it('timeouts and misuse on main', async () => {
    const m = new Mutex({ name: 'db' });
    await m.lock();
    expect((await rejection(m.lock({ timeout: 10 }))).message).toBe("lock of mutex 'db' timed out after 10 ms");
    let ran = false;
    const wl = await rejection(m.withLock(() => { ran = true; }, { timeout: 10 }));
    expect(wl).toBeInstanceOf(TimeoutError);
    expect(wl.message).toBe("lock of mutex 'db' timed out after 10 ms");
    expect(ran).toBe(false);
    // @ts-expect-error -- bad input on purpose
    expect(thrown(() => m.withLock(() => 1, { timeout: 'x' }))).toBeInstanceOf(TypeError);
    m.unlock();
    expect(thrown(() => m.unlock()).message).toBe("unlock of unlocked mutex 'db'");
    expect(thrown(() => new Mutex().unlock()).message).toBe('unlock of unlocked mutex');
    const wg = new WaitGroup({ name: 'wg' });
    const neg = thrown(() => wg.add(-1));
    expect(neg).toBeInstanceOf(MisuseError);
    expect(neg.message).toBe("negative WaitGroup counter 'wg'");
    const s = new Semaphore(2, { name: 's' });
    expect(thrown(() => s.release()).message).toBe("release of more than acquired on semaphore 's'");
    const rw = new RWMutex({ name: 'rw' });
    expect(thrown(() => rw.runlock()).message).toBe("runlock of rwmutex 'rw' without a read lock");
    expect(thrown(() => rw.unlock()).message).toBe("unlock of rwmutex 'rw' that is not write-locked");
    const c = new Cond(new Mutex(), { name: 'c' });
    expect(thrown(() => c.wait()).message).toBe("wait on cond 'c' without its mutex locked");
    wg.add(1);
    expect((await rejection(wg.wait({ timeout: 5 }))).message).toBe("wait of waitgroup 'wg' timed out after 5 ms");
    await s.acquire(2);
    expect((await rejection(s.acquire(1, { timeout: 5 }))).message).toBe("acquire of semaphore 's' timed out after 5 ms");
    await c.mu.lock();
    expect((await rejection(c.wait({ timeout: 5 }))).message).toBe("wait of cond 'c' timed out after 5 ms");
    expect(c.mu.tryLock()).toBe(false); // re-locked
    c.mu.unlock();

    // Aborts: a CanceledError naming the operation, the reason as its cause.
    const ac = new AbortController();
    ac.abort('why');
    for (const [f, msg] of [
      [() => m.lock({ signal: ac.signal }), "lock of mutex 'db' canceled"],
      [() => rw.rlock({ signal: ac.signal }), "rlock of rwmutex 'rw' canceled"],
      [() => s.acquire(1, { signal: ac.signal }), "acquire of semaphore 's' canceled"],
    ]) {
      const e = await rejection((f as () => Promise<unknown>)());
      expect(e).toBeInstanceOf(CanceledError);
      expect(e.message).toBe(msg);
      expect(e.cause).toBe('why');
    }
    const e = thrown(() => wg.waitSync({ signal: ac.signal }));
    expect(e.message).toBe("wait of waitgroup 'wg' canceled");
    const ac2 = new AbortController();
    const p = m.lock();
    await p;
    const pending = m.lock({ signal: ac2.signal });
    ac2.abort(new Error('later'));
    const e2 = await rejection(pending);
    expect(e2.message).toBe("lock of mutex 'db' canceled");
    expect((e2.cause as Error).message).toBe('later');
    // A context's own error is kept as is.
    const [ctx, cancel] = withCancel(background());
    cancel();
    const e3 = await rejection(m.lock({ signal: ctx.signal }));
    expect(e3).toBeInstanceOf(CanceledError);
    expect(e3.message).not.toMatch(/mutex/);
    m.unlock();
  });

  it('a worker sees the names given on main (in messages, name and inspect)', async () => {
    const m = new Mutex({ name: 'db' });
    const rw = new RWMutex({ name: 'table' });
    const wg = new WaitGroup({ name: 'jobs' });
    const s = new Semaphore(1, { name: 'slots' });
    const c = new Cond(new Mutex(), { name: 'ready' });
    const once = new Once({ name: 'init' });
    await m.lock();
    await rw.lock();
    wg.add(1);
    await s.acquire();
    let release!: (v?: unknown) => void;
    const running = once.do(() => new Promise((r) => { release = r; }));
    const r = await run('namedFailures', { m, rw, wg, s, c, once }).done();
    expect(r.names).toEqual(['db', 'table', 'jobs', 'slots', 'ready', 'init']);
    expect(r.lockTimeout.message).toBe("lock of mutex 'db' timed out after 20 ms");
    expect(r.rlockTimeout.message).toBe("rlock of rwmutex 'table' timed out after 20 ms");
    expect(r.wgTimeout.message).toBe("wait of waitgroup 'jobs' timed out after 20 ms");
    expect(r.semTimeout.message).toBe("acquire of semaphore 'slots' timed out after 20 ms");
    expect(r.condUnlocked.message).toBe("wait on cond 'ready' without its mutex locked");
    expect(r.onceTimeout.message).toBe("do of once 'init' timed out after 20 ms");
    expect(r.wgNegative.message).toBe("negative WaitGroup counter 'jobs'");
    expect(r.semRelease).toMatchObject({ name: 'MisuseError', message: "release of more than acquired on semaphore 'slots'" });
    expect(r.inspect).toEqual([
      "Mutex 'db' { locked: true, waiters: 0 }",
      "RWMutex 'table' { readers: 0, writer: true, waiters: 0 }",
      "WaitGroup 'jobs' { count: 1, waiters: 0 }",
      "Semaphore 'slots' { size: 1, available: 0, waiters: 0 }",
      "Cond 'ready' { waiters: 0 }",
      "Once 'init' { done: false }",
    ]);
    release(1);
    await running;
    m.unlock();
    rw.unlock();
  });
});

// ---------------------------------------------------------------------------------------------
describe('util.inspect shows kind, name and live state, nothing internal', () => {
  const clean = (s: string) => {
    expect(s).not.toMatch(/_h|Int32Array|ArrayBuffer|External|#/);
    return s;
  };

  it('sync primitives', async () => {
    const m = new Mutex({ name: 'm' });
    expect(clean(inspect(m))).toBe("Mutex 'm' { locked: false, waiters: 0 }");
    await m.lock();
    const p = m.lock();
    await until(() => inspect(m).includes('waiters: 1'), 10_000, 'a waiter');
    expect(clean(inspect(m))).toBe("Mutex 'm' { locked: true, waiters: 1 }");
    m.unlock();
    await p;
    m.unlock();
    expect(clean(inspect(new Mutex()))).toBe('Mutex { locked: false, waiters: 0 }');

    const rw = new RWMutex();
    await rw.rlock();
    await rw.rlock();
    expect(clean(inspect(rw))).toBe('RWMutex { readers: 2, writer: false, waiters: 0 }');
    const wl = rw.lock();
    expect(clean(inspect(rw))).toBe('RWMutex { readers: 2, writer: false, waiters: 1 }');
    rw.runlock();
    rw.runlock();
    await wl;
    expect(clean(inspect(rw))).toBe('RWMutex { readers: 0, writer: true, waiters: 0 }');
    rw.unlock();

    const wg = new WaitGroup({ name: 'wg' });
    wg.add(3);
    expect(clean(inspect(wg))).toBe("WaitGroup 'wg' { count: 3, waiters: 0 }");
    const c = new Cond(new Mutex());
    await c.mu.lock();
    const cw = c.wait();
    expect(clean(inspect(c))).toBe('Cond { waiters: 1 }');
    c.signal();
    await cw;
    const once = new Once();
    expect(clean(inspect(once))).toBe('Once { done: false }');
    once.doSync(() => 1);
    expect(clean(inspect(once))).toBe('Once { done: true }');
    const s = new Semaphore(5, { name: 's' });
    await s.acquire(2);
    expect(clean(inspect(s))).toBe("Semaphore 's' { size: 5, available: 3, waiters: 0 }");
    expect(clean(inspect({ list: [m, s] }))).toBe(
      "{\n  list: [\n    Mutex 'm' { locked: false, waiters: 0 },\n    Semaphore 's' { size: 5, available: 3, waiters: 0 }\n  ]\n}",
    );
  });

  it('atomics and ProgressMeter', () => {
    const a = new AtomicInt64(-7);
    expect(clean(inspect(a))).toBe('AtomicInt64 { value: -7 }');
    a.store(Number.MAX_SAFE_INTEGER);
    a.add(0);
    expect(clean(inspect(new AtomicInt64(2n ** 62n)))).toBe('AtomicInt64 { value: 4611686018427387904n }');
    expect(clean(inspect(new AtomicBool(true)))).toBe('AtomicBool { value: true }');
    const v = new AtomicValue({ a: [1] });
    v.store({ a: [2] });
    expect(clean(inspect(v))).toBe('AtomicValue { value: { a: [ 2 ] }, version: 1 }');
    const p = new ProgressMeter();
    expect(clean(inspect(p))).toBe('ProgressMeter { count: 0, at: 0 }');
    p.progress(4);
    expect(clean(inspect(p))).toMatch(/^ProgressMeter \{ count: 4, at: \d+(\.\d+)? \}$/);
  });
});
