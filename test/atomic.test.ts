// API.md §4: AtomicInt64, AtomicBool, AtomicValue, ProgressMeter shared across threads
// (workers in test/fixtures/sync-atomic.ts), including the memory-model guarantee that plain
// writes made before an atomic store are visible to the thread whose load sees that store.
import { describe, it, expect, afterEach } from 'vitest';
import { fixture } from './fixture.js';
import {
  AtomicInt64, AtomicBool, AtomicValue, ProgressMeter, Chan, DataCloneError, threadId,
} from 'weft';
import { spawnWith, cleanup, flags, thrown, delay } from './helpers.js';

afterEach(cleanup);

const MODULE = fixture('sync-atomic');
const run = (fn: string, ...args: unknown[]) => spawnWith({ module: MODULE }, fn, ...args);
const setFlag = (fl: Int32Array, i = 0, v = 1) => { Atomics.store(fl, i, v); Atomics.notify(fl, i); };
const ints = (n: number) => new Int32Array(new SharedArrayBuffer(4 * n));
const MAX = Number.MAX_SAFE_INTEGER;

describe('AtomicInt64', () => {
  it('4 workers x 250 000 adds give exactly 1 000 000; every new value is returned once', async () => {
    const a = new AtomicInt64();
    const N = 250_000;
    const bits = ints((4 * N) / 32 + 2);
    const go = flags(1);
    const ws = [0, 1, 2, 3].map(() => run('addMany', a, N, bits, go));
    setFlag(go);
    const rs = await Promise.all(ws.map((w) => w.done(40_000)));
    for (const r of rs) expect(r).toEqual({ dups: 0, nonIncreasing: 0 });
    expect(a.load()).toBe(1_000_000);
    expect(a.loadBig()).toBe(1_000_000n);
    // every value 1..1e6 was returned by exactly one add
    let missing = 0;
    for (let v = 1; v <= 4 * N; v++) if (!(bits[v >>> 5] & (1 << (v & 31)))) missing++;
    expect(missing).toBe(0);
  });

  it('compareAndSwap increments from 4 workers are exact; swap hands every value on once', async () => {
    const a = new AtomicInt64(0);
    const go = flags(1);
    const N = 20_000;
    const ws = [0, 1, 2, 3].map(() => run('casIncrement', a, N, go));
    setFlag(go);
    await Promise.all(ws.map((w) => w.done(40_000)));
    expect(a.load()).toBe(4 * N);

    const s = new AtomicInt64(0);
    const go2 = flags(1);
    const M = 20_000;
    const sw = [1, 2, 3].map((id) => run('swapMany', s, id, M, go2));
    setFlag(go2);
    const sums = await Promise.all(sw.map((w) => w.done(40_000)));
    // the old values seen plus the final value are exactly the initial value and all stored ones
    let stored = 0;
    for (const id of [1, 2, 3]) for (let i = 1; i <= M; i++) stored += id * 1_000_000 + i;
    expect(sums.reduce((x, y) => x + y, 0) + s.load()).toBe(stored);
  });

  it('swap / compareAndSwap / add / store semantics', () => {
    const a = new AtomicInt64(5);
    expect(a.load()).toBe(5);
    expect(a.swap(9)).toBe(5);
    expect(a.load()).toBe(9);
    expect(a.compareAndSwap(5, 1)).toBe(false);
    expect(a.load()).toBe(9);
    expect(a.compareAndSwap(9, -3)).toBe(true);
    expect(a.load()).toBe(-3);
    expect(a.add(10)).toBe(7);
    expect(a.add(-7)).toBe(0);
    a.store(MAX);
    expect(a.load()).toBe(MAX);
    a.store(-MAX);
    expect(a.load()).toBe(-MAX);
    expect(new AtomicInt64().load()).toBe(0);
    expect(new AtomicInt64(-42n).load()).toBe(-42);
  });

  it('non-number arguments throw TypeError; out-of-safe-range throws RangeError with no effect', () => {
    const a = new AtomicInt64(1);
    // @ts-expect-error -- wrong argument types on purpose
    for (const f of [() => a.store('1'), () => a.add(1n), () => a.swap(null), () => a.compareAndSwap('1', 2), () => a.compareAndSwap(1, undefined), () => new AtomicInt64('3'), () => new AtomicInt64(null)]) {
      expect(thrown(f)).toBeInstanceOf(TypeError);
    }
    for (const f of [() => a.store(2 ** 53), () => a.store(1.5), () => a.store(NaN), () => a.add(Infinity), () => a.swap(-(2 ** 53)), () => a.compareAndSwap(1, 2 ** 60), () => new AtomicInt64(2 ** 53), () => new AtomicInt64(2n ** 63n), () => new AtomicInt64(-(2n ** 63n) - 1n)]) {
      expect(thrown(f)).toBeInstanceOf(RangeError);
    }
    expect(a.load()).toBe(1); // none of those changed it
    a.store(MAX - 1);
    expect(a.add(1)).toBe(MAX);
    let e = thrown(() => a.add(1));
    expect(e).toBeInstanceOf(RangeError);
    expect(a.load()).toBe(MAX); // the refused add had no effect
    a.store(-MAX);
    expect(thrown(() => a.add(-1))).toBeInstanceOf(RangeError);
    expect(a.loadBig()).toBe(BigInt(-MAX));
  });

  it('loadBig reads any int64; the number API refuses (and leaves) values outside the safe range', () => {
    const top = 2n ** 63n - 1n;
    const bottom = -(2n ** 63n);
    const a = new AtomicInt64(top);
    expect(a.loadBig()).toBe(top);
    expect(thrown(() => a.load())).toBeInstanceOf(RangeError);
    expect(thrown(() => a.add(0))).toBeInstanceOf(RangeError);
    expect(thrown(() => a.add(-1))).toBeInstanceOf(RangeError); // result still unsafe
    expect(a.loadBig()).toBe(top);
    expect(thrown(() => a.swap(1))).toBeInstanceOf(RangeError); // the old value is not safe
    expect(a.loadBig()).toBe(top); // and nothing was stored
    expect(a.compareAndSwap(1, 2)).toBe(false);
    expect(a.loadBig()).toBe(top);
    const b = new AtomicInt64(bottom);
    expect(b.loadBig()).toBe(bottom);
    expect(thrown(() => b.load())).toBeInstanceOf(RangeError);
    b.store(3); // store of a safe value is always fine
    expect(b.load()).toBe(3);
    expect(new AtomicInt64(2n ** 53n).loadBig()).toBe(2n ** 53n);
  });

  it('values, bad arguments and stores cross threads', async () => {
    const a = new AtomicInt64(2n ** 60n);
    const b = new AtomicBool(true);
    const info = await run('atomicInfo', new AtomicInt64(-7), b).done();
    expect(info).toEqual({ int: -7, big: -7n, bool: true, tid: info.tid });
    expect(info.tid).not.toBe(threadId());
    const w = await run('badArgs', new AtomicInt64(MAX)).done();
    expect(w).toEqual(['TypeError', 'RangeError', 'RangeError', MAX]);
    expect(await run('storeFromWorker', a, new AtomicBool(false), 123).done()).toBe('ok');
    expect(a.load()).toBe(123);
  });
});

describe('AtomicBool', () => {
  it('load / store / swap / compareAndSwap; TypeError for non-booleans', () => {
    const b = new AtomicBool();
    expect(b.load()).toBe(false);
    expect(new AtomicBool(true).load()).toBe(true);
    b.store(true);
    expect(b.load()).toBe(true);
    expect(b.swap(false)).toBe(true);
    expect(b.swap(false)).toBe(false);
    expect(b.compareAndSwap(true, false)).toBe(false);
    expect(b.compareAndSwap(false, true)).toBe(true);
    expect(b.load()).toBe(true);
    // @ts-expect-error -- wrong argument types on purpose
    for (const f of [() => new AtomicBool(1), () => new AtomicBool('true'), () => b.store(1), () => b.swap(null), () => b.compareAndSwap(1, true), () => b.compareAndSwap(true, 'x')]) {
      expect(thrown(f)).toBeInstanceOf(TypeError);
    }
    expect(b.load()).toBe(true);
  });

  it('a spin lock on compareAndSwap keeps a plain counter exact across 3 workers', async () => {
    const b = new AtomicBool(false);
    const data = ints(1);
    const go = flags(1);
    const N = 20_000;
    const ws = [0, 1, 2].map(() => run('boolSpinLock', b, data, N, go));
    setFlag(go);
    await Promise.all(ws.map((w) => w.done(40_000)));
    expect(b.load()).toBe(false);
    expect(data[0]).toBe(3 * N);
  });
});

describe('AtomicValue', () => {
  it('load gives value and version; store always advances the version, even for an equal value', () => {
    const v = new AtomicValue({ a: 1 });
    const first = v.load();
    expect(first.value).toEqual({ a: 1 });
    expect(typeof first.version).toBe('number');
    v.store({ a: 1 });
    const second = v.load();
    expect(second.value).toEqual({ a: 1 });
    expect(second.version).toBeGreaterThan(first.version);
    v.store({ a: 1 });
    expect(v.load().version).toBeGreaterThan(second.version);
    // each load is a copy (structured clone)
    const x = v.load().value;
    x.a = 99;
    expect(v.load().value).toEqual({ a: 1 });
    // undefined and rich values
    const u = new AtomicValue<unknown>(undefined);
    expect(u.load().value).toBeUndefined();
    const rich = { m: new Map([[1, 'x']]), d: new Date(3), s: new Set([2]), big: 5n, arr: new Uint8Array([1, 2]) };
    u.store(rich);
    expect(u.load().value).toEqual(rich);
  });

  it('compareAndSwap by version: succeeds on the current version only, then advances it', () => {
    const v = new AtomicValue('a');
    const { version } = v.load();
    expect(v.compareAndSwap(version, 'b')).toBe(true);
    const now = v.load();
    expect(now.value).toBe('b');
    expect(now.version).toBeGreaterThan(version);
    expect(v.compareAndSwap(version, 'c')).toBe(false); // stale
    expect(v.load()).toEqual(now);
    v.store('b'); // equal value, new version: an old version no longer matches
    expect(v.compareAndSwap(now.version, 'd')).toBe(false);
    expect(v.load().value).toBe('b');
    // @ts-expect-error -- wrong argument type on purpose
    expect(thrown(() => v.compareAndSwap('1', 'x'))).toBeInstanceOf(TypeError);
  });

  it('a non-cloneable value throws DataCloneError and changes nothing', () => {
    const v = new AtomicValue(1);
    const before = v.load();
    // @ts-expect-error -- a function cannot be stored on purpose
    expect(thrown(() => v.store(() => 1))).toBeInstanceOf(DataCloneError);
    // @ts-expect-error -- a symbol cannot be cloned on purpose
    expect(thrown(() => v.compareAndSwap(before.version, { f: Symbol('s') }))).toBeInstanceOf(DataCloneError);
    expect(thrown(() => new AtomicValue({ f() {} }))).toBeInstanceOf(DataCloneError);
    expect(v.load()).toEqual(before);
  });

  it('version-CAS counter across 4 workers is exact; versions never go backwards', async () => {
    const v = new AtomicValue({ n: 0, by: 0 });
    const v0 = v.load().version;
    const go = flags(1);
    const N = 400;
    const ws = [0, 1, 2, 3].map(() => run('valueIncrement', v, N, go));
    setFlag(go);
    const rs = await Promise.all(ws.map((w) => w.done(40_000)));
    for (const r of rs) expect(r.backwards).toBe(0);
    const end = v.load();
    expect(end.value.n).toBe(4 * N);
    expect(end.version).toBeGreaterThanOrEqual(v0 + 4 * N);
    expect(await run('valueInfo', v).done()).toEqual(end);
  });

  it('carries weft objects by reference', async () => {
    const counter = new AtomicInt64(10);
    const v = new AtomicValue({ counter, ch: new Chan(1) });
    expect(await run('valueRef', v, 5).done()).toBe(15);
    expect(counter.load()).toBe(15);
  });
});

describe('memory model: an atomic store publishes the plain writes before it', () => {
  it('producer/consumer workers: a load that sees round r sees the whole buffer of round r', async () => {
    const a = new AtomicInt64(0);
    const ack = new AtomicInt64(0);
    const buf = ints(2048);
    const ROUNDS = 500;
    const c = run('consumer', a, ack, buf, ROUNDS);
    const p = run('producer', a, ack, buf, ROUNDS);
    expect(await p.done(40_000)).toBe('ok');
    expect(await c.done(40_000)).toBe(0);
  });

  it('a worker store seen by main carries the worker plain writes', async () => {
    const a = new AtomicInt64(0);
    const ack = new AtomicInt64(0);
    const buf = ints(4096);
    const ROUNDS = 100;
    const p = run('producer', a, ack, buf, ROUNDS);
    let bad = 0;
    for (let r = 1; r <= ROUNDS; r++) {
      const end = Date.now() + 20_000;
      while (a.load() !== r) {
        if (Date.now() > end) throw new Error(`round ${r} never came`);
        await delay(0);
      }
      for (let i = 0; i < buf.length; i++) if (buf[i] !== r * 1000 + i) bad++;
      ack.store(r);
    }
    expect(bad).toBe(0);
    await p.done();
  });
});

describe('ProgressMeter', () => {
  it('starts at { count: 0, at: 0 }; progress(n) adds n and stamps the time', () => {
    const p = new ProgressMeter();
    expect(p.get()).toEqual({ count: 0, at: 0 });
    const t0 = Date.now();
    p.progress();
    const g1 = p.get();
    expect(g1.count).toBe(1);
    expect(g1.at).toBeGreaterThanOrEqual(t0 - 1);
    expect(g1.at).toBeLessThanOrEqual(Date.now() + 1);
    p.progress(5);
    expect(p.get().count).toBe(6);
    expect(p.get().at).toBeGreaterThanOrEqual(g1.at);
    for (const bad of ['1', null, {}]) expect(thrown(() => p.progress(bad as never))).toBeInstanceOf(TypeError);
    for (const bad of [NaN, Infinity]) expect(thrown(() => p.progress(bad))).toBeInstanceOf(RangeError);
    expect(p.get().count).toBe(6);
  });

  it('counts exactly while 2 workers make progress', async () => {
    const p = new ProgressMeter();
    const go = flags(2);
    const N = 20_000;
    const ws = [run('progressMany', p, N, null, go, 0), run('progressMany', p, N, null, go, 0)];
    setFlag(go);
    await Promise.all(ws.map((w) => w.done(40_000)));
    expect(p.get().count).toBe(2 * N);
    expect(p.get().at).toBeGreaterThan(0);
  });

  it('get() is a consistent snapshot: never a new count with a stale time', async () => {
    const p = new ProgressMeter();
    const N = 300;
    const ts = new Float64Array(new SharedArrayBuffer(8 * (N + 1)));
    const fl = flags(2);
    const w = run('progressMany', p, N, ts, fl, 1);
    expect(p.get()).toEqual({ count: 0, at: 0 });
    setFlag(fl);
    // poll synchronously (as fast as possible) while the worker makes progress every ~1 ms
    let prev = { count: 0, at: 0 };
    let bad: unknown[] = [];
    let samples = 0;
    const end = Date.now() + 30_000;
    while (Atomics.load(fl, 1) === 0 && Date.now() < end) {
      const s = p.get();
      const now = Date.now();
      samples++;
      if (s.count < prev.count || s.at < prev.at) bad.push(['backwards', prev, s]);
      if (s.count > 0 && s.at === 0) bad.push(['count without time', s]);
      if (s.count === 0 && s.at !== 0) bad.push(['time without count', s]);
      if (s.count > 0 && s.at + 1 < ts[s.count]) bad.push(['stale time', s, ts[s.count]]);
      if (s.at > now + 1) bad.push(['future time', s, now]);
      if (bad.length > 5) break;
      prev = s;
    }
    await w.done();
    expect(bad).toEqual([]);
    expect(samples).toBeGreaterThan(N);
    expect(p.get().count).toBe(N);
  });
});
