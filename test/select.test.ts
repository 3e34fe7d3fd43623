// API.md §2: select / selectSync / recv / send, with a worker thread on at least one side.
// Ports the ideas of Go's test/chan/select*.go and runtime/chan_test.go select tests and of
// crossbeam-channel's select tests, at sizes that suit a 2-core machine.
import { describe, it, expect, afterEach } from 'vitest';
import { fixture } from './fixture.js';
import {
  Chan, select, selectSync, recv, send,
  ClosedChannelError, CanceledError, TimeoutError, DataCloneError,
} from 'weft';
import { spawnWith, cleanup, delay, track, flags, within, rejection, thrown } from './helpers.js';

afterEach(cleanup);

const MODULE = fixture('select-scenarios');
const run = (fn: string, ...args: unknown[]) => spawnWith({ module: MODULE }, fn, ...args);
const go = (fl: Int32Array, i = 0) => { Atomics.store(fl, i, 1); Atomics.notify(fl, i); };

/** Pearson's chi-square statistic of counts against a uniform distribution. */
function chi2(counts: number[]) {
  const total = counts.reduce((a, b) => a + b, 0);
  const e = total / counts.length;
  return counts.reduce((s: number, o: number) => s + ((o - e) ** 2) / e, 0);
}
// p ≈ 1e-6 critical values are 23.9 (1 dof), 27.6 (2 dof), 30.7 (3 dof): anything above 35 is not
// bad luck.
const CHI2_BOUND = 35;

describe('argument checks (synchronous TypeError/RangeError)', () => {
  it('select/selectSync reject a non-array and anything that is not a case or null', () => {
    const ch = new Chan(1);
    for (const bad of ['x', 42, undefined, null, {}, new Set()]) {
      const e1 = thrown(() => select(bad as never));
      expect(e1).toBeInstanceOf(TypeError);
      expect(e1.message).toMatch(/cases/);
      expect(thrown(() => selectSync(bad as never))).toBeInstanceOf(TypeError);
    }
    for (const badCase of [42, 'x', undefined, {}, { ch }, [recv(ch)], ch]) {
      const e = thrown(() => select([recv(ch), badCase as never]));
      expect(e).toBeInstanceOf(TypeError);
      expect(e.message).toMatch(/cases/);
      expect(thrown(() => selectSync([badCase as never, recv(ch)]))).toBeInstanceOf(TypeError);
    }
    // nothing happened on the channel
    expect(ch.length).toBe(0);
  });

  it('recv()/send() need a Chan', () => {
    for (const bad of [null, undefined, {}, 'ch', 1]) {
      expect(thrown(() => recv(bad as never))).toBeInstanceOf(TypeError);
      expect(thrown(() => send(bad as never, 1))).toBeInstanceOf(TypeError);
    }
  });

  it('bad options throw synchronously', () => {
    const ch = new Chan();
    expect(thrown(() => select([recv(ch)], { default: 'yes' as never }))).toBeInstanceOf(TypeError);
    expect(thrown(() => select([recv(ch)], { timeout: 'x' as never }))).toBeInstanceOf(TypeError);
    expect(thrown(() => select([recv(ch)], { timeout: -1 }))).toBeInstanceOf(RangeError);
    expect(thrown(() => select([recv(ch)], { signal: {} as never }))).toBeInstanceOf(TypeError);
    expect(thrown(() => select([recv(ch)], 'opts' as never))).toBeInstanceOf(TypeError);
    expect(thrown(() => selectSync([recv(ch)], { timeout: NaN }))).toBeInstanceOf(RangeError);
    expect(thrown(() => selectSync([recv(ch)], { signal: 'x' as never }))).toBeInstanceOf(TypeError);
  });

  it('a send case checks its value at once: DataCloneError / TypeError, and nothing is sent', () => {
    const ch = new Chan(4);
    const e = thrown(() => send(ch, () => 1));
    expect(e).toBeInstanceOf(DataCloneError);
    expect(e).toBeInstanceOf(TypeError);
    expect(e.code).toBe('ERR_WEFT_CLONE');
    expect(thrown(() => send(ch, { f: Symbol('s') }))).toBeInstanceOf(DataCloneError);
    expect(ch.length).toBe(0);
    const f = new Chan(4, { elem: 'f64' });
    expect(thrown(() => send(f, 'x'))).toBeInstanceOf(TypeError);
    const i = new Chan(4, { elem: 'i32' });
    expect(thrown(() => send(i, 2 ** 40))).toBeInstanceOf(RangeError);
    const b = new Chan(4, { elem: 'i64' });
    expect(thrown(() => send(b, 1))).toBeInstanceOf(TypeError);
    expect(f.length + i.length + b.length).toBe(0);
  });

  it('the same checks apply in a worker', async () => {
    const ch = new Chan(1);
    const a = await run('badSelect', 'notArray', ch).done();
    expect(a.threw).toBe(true);
    expect(a.error.kinds).toContain('TypeError');
    const b = await run('badSelect', 'badCase', ch).done();
    expect(b.threw).toBe(true);
    expect(b.error.kinds).toContain('TypeError');
  });
});

describe('ready cases, default, nil cases, empty select', () => {
  it('picks the ready case and reports index/value/ok', async () => {
    const a = new Chan(1);
    const b = new Chan(1);
    a.trySend('A');
    expect(await select([recv(b), recv(a)])).toEqual({ index: 1, value: 'A', ok: true });
    b.trySend({ deep: [1, 2] });
    expect(selectSync([recv(a), recv(b)])).toEqual({ index: 1, value: { deep: [1, 2] }, ok: true });
    const r = await select([recv(a), send(b, 'sent')]);
    expect(r).toEqual({ index: 1, ok: true });
    expect(b.tryRecv()).toEqual({ value: 'sent', ok: true });
  });

  it('undefined is a value like any other', async () => {
    const a = new Chan(1);
    a.trySend(undefined);
    const r = await select([recv(a)]);
    expect(r.index).toBe(0);
    expect(r.ok).toBe(true);
    expect(r.value).toBeUndefined();
  });

  it('default: true returns { index: -1, ok: false } when nothing is ready, and never waits', async () => {
    const u = new Chan();
    const full = new Chan(1);
    full.trySend(1);
    expect(await select([recv(u), send(u, 1), send(full, 2)], { default: true })).toEqual({ index: -1, ok: false });
    expect(selectSync([recv(u), send(full, 2)], { default: true })).toEqual({ index: -1, ok: false });
    // nothing took effect
    expect(full.length).toBe(1);
    expect(u.trySend(1)).toBe(false);
    // a ready case wins over default
    expect(await select([recv(u), recv(full)], { default: true })).toEqual({ index: 1, value: 1, ok: true });
    // default: false is the same as no default
    await expect(select([recv(u)], { default: false, timeout: 30 })).rejects.toBeInstanceOf(TimeoutError);
  });

  it('default in a worker: -1 on empty channels, the value when main made one ready', async () => {
    const a = new Chan(1);
    const b = new Chan(1);
    expect(await run('selectDefault', [a, b]).done()).toEqual({ index: -1, ok: false });
    b.trySend(7);
    expect(await run('selectDefault', [a, b]).done()).toEqual({ index: 1, value: 7, ok: true });
  });

  it('null is a nil case that never proceeds', async () => {
    const a = new Chan(1);
    a.trySend('x');
    expect(await select([null, recv(a), null])).toEqual({ index: 1, value: 'x', ok: true });
    expect(await select([null, null], { default: true })).toEqual({ index: -1, ok: false });
    await expect(select([null], { timeout: 30 })).rejects.toBeInstanceOf(TimeoutError);
    expect(() => selectSync([null, null], { timeout: 30 })).toThrow(TimeoutError);
  });

  it('select([]) waits until timeout or signal; with default it returns -1', async () => {
    const t0 = Date.now();
    const e = await rejection(select([], { timeout: 50 }));
    expect(e).toBeInstanceOf(TimeoutError);
    expect(e.code).toBe('ERR_WEFT_TIMEOUT');
    expect(Date.now() - t0).toBeGreaterThanOrEqual(40);
    const t1 = Date.now();
    expect(() => selectSync([], { timeout: 50 })).toThrow(TimeoutError);
    expect(Date.now() - t1).toBeGreaterThanOrEqual(40);
    expect(await select([], { default: true })).toEqual({ index: -1, ok: false });
    expect(selectSync([], { default: true })).toEqual({ index: -1, ok: false });
    const ac = new AbortController();
    const p = track(select([], { signal: ac.signal }));
    await delay(30);
    expect(p.state).toBe('pending');
    ac.abort('stop');
    const c = await rejection(p.promise);
    expect(c).toBeInstanceOf(CanceledError);
    expect(c.cause).toBe('stop');
  });

  it('a huge timeout on async select is not a short one (beyond setTimeout\'s 2^31-1 ms)', async () => {
    for (const timeout of [2 ** 31, 1e15, Number.MAX_SAFE_INTEGER]) {
      const ac = new AbortController();
      const p = track(select([recv(new Chan())], { timeout, signal: ac.signal }));
      await delay(100);
      const state = p.state;
      ac.abort();
      await p.promise.catch(() => {});
      expect({ timeout, state }).toEqual({ timeout, state: 'pending' });
    }
  });

  it('a huge timeout on selectSync in a worker is not a short one (beyond 64-bit ns)', async () => {
    const a = new Chan();
    for (const timeout of [2e13, 1e300]) {
      const w = spawnWith({ module: MODULE }, 'selectRecvOnce', [a], { timeout });
      await w.event('blocking');
      await delay(300);
      await a.send('late', { timeout: 2000 }).catch(() => {});
      const r = await w.done();
      expect({ timeout, r }).toEqual({ timeout, r: { r: { index: 0, value: 'late', ok: true } } });
    }
  });

  it('select([]) in a worker with a timeout', async () => {
    const r = await run('selectRecvOnce', [], { timeout: 50 }).done();
    expect(r.error.kinds).toContain('TimeoutError');
  });
});

describe('exactly one case takes effect when several are ready', () => {
  it('recv cases on several ready buffered channels consume exactly one value', async () => {
    const chans = [new Chan(4), new Chan(4), new Chan(4)];
    for (let i = 0; i < 200; i++) {
      for (const c of chans) while (c.length < 2) c.trySend(i);
      const before = chans.map((c) => c.length);
      const r = i % 2 ? await select(chans.map(recv)) : selectSync(chans.map(recv));
      expect(r.ok).toBe(true);
      const after = chans.map((c) => c.length);
      after.forEach((n, k) => expect(n).toBe(before[k] - (k === r.index ? 1 : 0)));
    }
  });

  it('send cases on several channels with room deliver exactly one value', async () => {
    const chans = [new Chan<number>(300), new Chan<number>(300), new Chan<number>(300), new Chan<number>(300)];
    for (let i = 0; i < 200; i++) {
      const before = chans.map((c) => c.length);
      const r = i % 2 ? await select(chans.map((c) => send(c, i))) : selectSync(chans.map((c) => send(c, i)));
      expect(r).toEqual({ index: r.index, ok: true });
      chans.forEach((c, k) => expect(c.length).toBe(before[k] + (k === r.index ? 1 : 0)));
    }
    const all: number[] = [];
    for (const c of chans) for (let r = c.tryRecv(); r.ok; r = c.tryRecv()) all.push(r.value!);
    expect(all.sort((x, y) => x - y)).toEqual([...Array(200).keys()]);
  });

  it('the same channel in several cases: still exactly one effect', async () => {
    const ch = new Chan(10);
    ch.trySend('a');
    ch.trySend('b');
    const r = await select([recv(ch), recv(ch), recv(ch)]);
    expect(r.value).toBe('a');
    expect(ch.length).toBe(1);
    const s = selectSync([send(ch, 'x'), send(ch, 'y'), recv(ch)]);
    expect(s.ok).toBe(true);
    expect(ch.length).toBe(s.index === 2 ? 0 : 2);
  });

  it('mixed ready send and recv cases: exactly one of them happens', async () => {
    for (let i = 0; i < 100; i++) {
      const a = new Chan(1);
      const b = new Chan(1);
      a.trySend('in');
      const r = await select([recv(a), send(b, 'out')]);
      // recv chosen: a emptied, b untouched; send chosen: a untouched, b filled
      expect([a.length, b.length]).toEqual(r.index === 0 ? [0, 0] : [1, 1]);
    }
  });

  it('many threads racing selects on shared channels (buffered and unbuffered, send and recv cases): nothing lost or duplicated', async () => {
    const chans = [new Chan<number>(0), new Chan<number>(0), new Chan<number>(8), new Chan<number>(8)];
    const PER = 2500;
    const MAIN = 800;
    const total = 2 * PER + MAIN;
    const seen = new Int32Array(new SharedArrayBuffer(4 * total));
    const fl = flags();
    const producers = [
      run('selectProducer', chans, 0, PER, fl),
      run('selectProducer', chans, PER, PER, fl),
    ];
    const consumers = [run('selectConsumer', chans, seen, fl), run('selectConsumer', chans, seen, fl)];
    go(fl);
    // the main thread produces on one unbuffered channel with plain send and consumes with
    // async select, concurrently
    const mainProduce = (async () => {
      for (let i = 0; i < MAIN; i++) await chans[i % 2].send(2 * PER + i, { timeout: 20_000 });
    })();
    let mainGot = 0;
    const stop = new Chan();
    const mainConsume = (async () => {
      for (;;) {
        const r = await select([...chans.map(recv), recv(stop)], { timeout: 20_000 });
        if (r.index === 4 || !r.ok) return;
        Atomics.add(seen, r.value as number, 1); // index 0-3: the number channels
        mainGot++;
      }
    })();
    const perChan = await within(Promise.all(producers.map((p) => p.done(40_000))), 45_000, 'producers');
    await mainProduce;
    stop.close();
    await mainConsume;
    for (const c of chans) c.close();
    const got = await Promise.all(consumers.map((c) => c.done(20_000)));
    expect(got[0] + got[1] + mainGot).toBe(total);
    const bad: unknown[] = [];
    for (let v = 0; v < total; v++) if (seen[v] !== 1) bad.push([v, seen[v]]);
    expect(bad).toEqual([]);
    // each producer's selects used every channel (random choice among the ready ones)
    for (const pc of perChan) {
      expect(pc.reduce((a: number, b: number) => a + b, 0)).toBe(PER);
      for (const n of pc) expect(n).toBeGreaterThan(0);
    }
  }, 60_000);

  it('a relay selecting on recv(input) and send(output) (nil while idle) keeps every value, in order', async () => {
    const input = new Chan();
    const output = new Chan(4);
    const fl = flags();
    const r = run('relay', input, output, fl);
    const c = run('drainAll', output);
    go(fl);
    const N = 1500;
    for (let i = 0; i < N; i++) await input.send(i);
    input.close();
    expect(await r.done()).toBe(N);
    expect(await c.done()).toEqual([...Array(N).keys()]);
  });
});

describe('send and recv cases on the same shared channel, several threads', () => {
  it('buffered: each select either sends or receives; every value ends up received once or still buffered', async () => {
    const ch = new Chan<number>(4);
    const fl = flags();
    const N = 3000;
    const ws = [run('sendRecvShuffle', ch, 0, N, fl), run('sendRecvShuffle', ch, N, N, fl)];
    go(fl);
    const mine: { pushed: number[]; popped: number[] } = { pushed: [], popped: [] };
    for (let i = 0; i < 1000; i++) {
      const v = 2 * N + i;
      const r = await select([send(ch, v), recv(ch)], { timeout: 20_000 });
      if (r.index === 0) mine.pushed.push(v);
      else mine.popped.push(r.value!);
    }
    const res = [...(await Promise.all(ws.map((w) => w.done(30_000)))), mine];
    const pushed = res.flatMap((r) => r.pushed).sort((a, b) => a - b);
    const rest: unknown[] = [];
    for (let r = ch.tryRecv(); r.ok; r = ch.tryRecv()) rest.push(r.value);
    const popped = [...res.flatMap((r) => r.popped), ...rest].sort((a, b) => a - b);
    expect(popped).toEqual(pushed);
    expect(new Set(pushed).size).toBe(pushed.length);
    // every select did exactly one thing
    expect(res[0].pushed.length + res[0].popped.length).toBe(N);
    expect(res[1].pushed.length + res[1].popped.length).toBe(N);
  }, 60_000);

  it('unbuffered: two threads pair up with each other, never with themselves', async () => {
    const ch = new Chan();
    const fl = flags();
    const N = 1500;
    const a = run('sendRecvShuffle', ch, 0, N, fl);
    const b = run('sendRecvShuffle', ch, 100_000, N, fl);
    go(fl);
    const [ra, rb] = await Promise.all([a.done(40_000), b.done(40_000)]);
    for (const v of ra.popped) expect(v).toBeGreaterThanOrEqual(100_000);
    for (const v of rb.popped) expect(v).toBeLessThan(100_000);
    expect([...ra.popped].sort((x, y) => x - y)).toEqual([...rb.pushed].sort((x, y) => x - y));
    expect([...rb.popped].sort((x, y) => x - y)).toEqual([...ra.pushed].sort((x, y) => x - y));
    expect(ra.pushed.length + ra.popped.length).toBe(N);
    // both directions happen (the choice is random)
    expect(ra.pushed.length).toBeGreaterThan(0);
    expect(ra.popped.length).toBeGreaterThan(0);
  }, 60_000);

  it('two relays racing on one input and one output (select with a recv and a send case each)', async () => {
    const input = new Chan();
    const output = new Chan(2);
    const fl = flags();
    const seen = new Int32Array(new SharedArrayBuffer(4 * 2000));
    const rs = [run('relayNoClose', input, output, fl), run('relayNoClose', input, output, fl)];
    const c = run('selectConsumer', [output], seen, fl);
    go(fl);
    for (let i = 0; i < 2000; i++) await input.send(i, { timeout: 20_000 });
    input.close();
    const moved = await Promise.all(rs.map((r) => r.done(30_000)));
    expect(moved[0] + moved[1]).toBe(2000);
    output.close();
    expect(await c.done()).toBe(2000);
    expect([...seen].every((x) => x === 1)).toBe(true);
  }, 60_000);
});

describe('the choice is uniformly random among ready cases', () => {
  it('async select on the main thread over 4 ready channels (4000 selects)', async () => {
    const chans = [new Chan(1), new Chan(1), new Chan(1), new Chan(1)];
    chans.forEach((c, k) => c.trySend(k));
    const counts = [0, 0, 0, 0];
    const cases = chans.map(recv);
    for (let i = 0; i < 4000; i++) {
      const r = await select(cases);
      expect(r.value).toBe(r.index);
      counts[r.index]++;
      chans[r.index].trySend(r.value);
    }
    expect(chi2(counts)).toBeLessThan(CHI2_BOUND);
  });

  it('two cases on buffered numeric channels (the allocation-free path): recv/recv, recv/send, with a nil case', async () => {
    const a = new Chan<number>(4, { elem: 'f64' });
    const b = new Chan<number>(4, { elem: 'i32' });
    a.trySend(1.5);
    b.trySend(7);
    const counts = [0, 0];
    for (let i = 0; i < 4000; i++) {
      const r = i % 2 === 0 ? selectSync([recv(a), recv(b)]) : await select([recv(a), recv(b)]);
      expect(r.ok).toBe(true);
      expect(r.value).toBe(r.index === 0 ? 1.5 : 7);
      counts[r.index]++;
      (r.index === 0 ? a : b).trySend(r.value as number);
    }
    expect(chi2(counts)).toBeLessThan(CHI2_BOUND);
    // a recv case and a send case both ready; the value sent lands exactly once
    const mixed = [0, 0];
    for (let i = 0; i < 2000; i++) {
      const r = selectSync([recv(a), send(b, 100 + i)]);
      mixed[r.index]++;
      if (r.index === 0) a.trySend(r.value as number);
      else expect(b.tryRecv()).toEqual({ ok: true, value: 7 }), b.trySend(7), expect(b.tryRecv()).toEqual({ ok: true, value: 100 + i });
    }
    expect(chi2(mixed)).toBeLessThan(CHI2_BOUND);
    // a nil case is never chosen; a full channel's send case is not ready
    for (let i = 0; i < 200; i++) expect(selectSync([null, recv(a)])).toEqual({ index: 1, value: 1.5, ok: true }), a.trySend(1.5);
    while (b.trySend(1));
    expect(selectSync([send(b, 2), recv(a)]).index).toBe(1);
    // closed: the recv case proceeds with ok false once drained (decided natively)
    const c = new Chan<number>(2, { elem: 'f64' });
    c.close();
    expect(selectSync([recv(c), null])).toEqual({ index: 0, value: undefined, ok: false });
  });

  it('selectSync in a worker: 2 ready among 4 cases, and 3 ready among 3', async () => {
    const chans = [new Chan(1), new Chan(1), new Chan(1), new Chan(1)];
    chans[1].trySend('b');
    chans[3].trySend('d');
    const counts = await run('countChoices', chans, 4000).done();
    expect(counts[0]).toBe(0);
    expect(counts[2]).toBe(0);
    expect(counts[1] + counts[3]).toBe(4000);
    expect(chi2([counts[1], counts[3]])).toBeLessThan(CHI2_BOUND);

    const three = [new Chan(1), new Chan(1), new Chan(1)];
    three.forEach((c) => c.trySend(0));
    const c3 = await run('countChoices', three, 3000).done();
    expect(chi2(c3)).toBeLessThan(CHI2_BOUND);
  });

  it('send cases: 4 channels with room (main thread, selectSync)', () => {
    const chans = [new Chan(1), new Chan(1), new Chan(1), new Chan(1)];
    const counts = [0, 0, 0, 0];
    const cases = chans.map((c) => send(c, 1));
    for (let i = 0; i < 4000; i++) {
      const r = selectSync(cases);
      counts[r.index]++;
      chans[r.index].tryRecv();
    }
    expect(chi2(counts)).toBeLessThan(CHI2_BOUND);
  });

  it('a blocked select with two send cases on one unbuffered channel: the receiver arriving later does not always take the first', async () => {
    const ch = new Chan<number>();
    const N = 200;
    const w = run('blockedSendPair', ch, N);
    await w.event('ready');
    const got = [0, 0];
    for (let i = 0; i < N; i++) {
      await delay(2); // let the worker's select queue up first
      got[(await ch.recv({ timeout: 20_000 }))!]++;
    }
    const counts = await w.done();
    expect(counts).toEqual(got);
    expect(counts[0] / N).toBeGreaterThan(0.25);
    expect(counts[0] / N).toBeLessThan(0.75);
  });

  it('a blocked select with two recv cases on one channel: the sender arriving later does not always fill the first', async () => {
    const ch = new Chan();
    const N = 200;
    const w = run('blockedRecvPair', ch, N);
    await w.event('ready');
    for (let i = 0; i < N; i++) {
      await delay(2);
      await ch.send(i, { timeout: 20_000 });
    }
    const counts = await w.done();
    expect(counts[0] + counts[1]).toBe(N);
    expect(counts[0] / N).toBeGreaterThan(0.25);
    expect(counts[0] / N).toBeLessThan(0.75);
  });
});

describe('closed channels', () => {
  it('a recv case on a closed channel proceeds with ok: false (after the buffered values)', async () => {
    const a = new Chan(2);
    const never = new Chan();
    a.trySend(1);
    a.close();
    expect(await select([recv(never), recv(a)])).toEqual({ index: 1, value: 1, ok: true });
    expect(await select([recv(never), recv(a)])).toEqual({ index: 1, value: undefined, ok: false });
    expect(selectSync([recv(never), recv(a)])).toEqual({ index: 1, value: undefined, ok: false });
    expect(selectSync([recv(a)], { default: true })).toEqual({ index: 0, value: undefined, ok: false });
  });

  it('a send case on a closed channel throws ClosedChannelError (select rejects, selectSync throws)', async () => {
    const a = new Chan(2);
    const never = new Chan();
    a.close();
    const e = await rejection(select([recv(never), send(a, 1)]));
    expect(e).toBeInstanceOf(ClosedChannelError);
    expect(e.code).toBe('ERR_WEFT_CLOSED');
    expect(() => selectSync([send(a, 1)])).toThrow(ClosedChannelError);
    expect(() => selectSync([send(a, 1)], { default: true })).toThrow(ClosedChannelError);
    const w = await run('badSelect', 'sendClosed', a).done();
    expect(w.error.kinds).toContain('ClosedChannelError');
  });

  it('a send case on a closed channel counts as ready: chosen at random against a ready recv case', async () => {
    const a = new Chan(1);
    const b = new Chan(1);
    b.close();
    let threw = 0;
    let received = 0;
    for (let i = 0; i < 400; i++) {
      a.trySend(i);
      try {
        const r = i % 2 ? await select([recv(a), send(b, 1)]) : selectSync([send(b, 1), recv(a)]);
        expect(r.value).toBe(i);
        received++;
      } catch (e) {
        expect(e).toBeInstanceOf(ClosedChannelError);
        expect(a.tryRecv()).toEqual({ value: i, ok: true }); // the recv case did not happen
        threw++;
      }
    }
    expect(threw).toBeGreaterThan(100);
    expect(received).toBeGreaterThan(100);
  });

  it('numeric channels (the JavaScript fast path): a closed case counts as ready, chosen at random against a ready one', async () => {
    // lib/chan/select.ts tryOne reads a ring's closed bit only after its case could not
    // proceed: a closed, drained recv case (Go's `done`) must still win about half the time
    // against a channel that always has a value, and a send case on a closed channel must throw.
    const data = new Chan<number>(64, { elem: 'f64' });
    const done = new Chan<number>(4, { elem: 'f64' });
    const shut = new Chan<number>(4, { elem: 'f64' });
    done.trySend(7);
    done.close();
    shut.close();
    expect(await select([recv(done)])).toEqual({ index: 0, value: 7, ok: true }); // buffered first
    let quit = 0;
    let threw = 0;
    let got = 0;
    for (let i = 0; i < 600; i++) {
      data.trySend(i);
      try {
        const r =
          i % 3 === 0 ? await select([recv(data), recv(done)])
          : i % 3 === 1 ? selectSync([recv(done), recv(data)])
          : selectSync([send(shut, 1), recv(data)]);
        const doneIndex = i % 3 === 0 ? 1 : 0;
        if (i % 3 !== 2 && r.index === doneIndex) {
          expect(r).toEqual({ index: doneIndex, value: undefined, ok: false });
          expect(data.tryRecv()).toEqual({ value: i, ok: true }); // the data case did not happen
          quit++;
        } else {
          expect(r.value).toBe(i);
          got++;
        }
      } catch (e) {
        expect(i % 3).toBe(2);
        expect(e).toBeInstanceOf(ClosedChannelError);
        expect(data.tryRecv()).toEqual({ value: i, ok: true });
        threw++;
      }
    }
    expect(quit).toBeGreaterThan(100);
    expect(threw).toBeGreaterThan(50);
    expect(got).toBeGreaterThan(150);
    // The async form rejects (it never throws) when the closed send case is the one taken.
    const pending = select([send(shut, 2)]);
    expect(pending).toBeInstanceOf(Promise);
    const e = await rejection(pending);
    expect(e).toBeInstanceOf(ClosedChannelError);
    expect(e.message).toContain('(select case 0)');
  });

  it('close wakes a worker blocked in selectSync: recv case gets ok: false, send case throws', async () => {
    const a = new Chan();
    const b = new Chan();
    const r = run('selectRecvOnce', [b, a], { timeout: 20_000 });
    await r.event('blocking');
    await delay(50);
    a.close();
    expect(await r.done()).toEqual({ r: { index: 1, value: undefined, ok: false } });

    const c = new Chan();
    const s = run('selectSendOnce', [null, [c, 'v']], { timeout: 20_000 });
    await s.event('blocking');
    await delay(50);
    c.close();
    const out = await s.done();
    expect(out.error.kinds).toContain('ClosedChannelError');
  });

  it('close wakes a main-thread async select blocked on a worker-closed channel', async () => {
    const a = new Chan();
    const p = select([recv(new Chan()), recv(a)], { timeout: 20_000 });
    const closer = run('closeAfter', a, 50);
    expect(await p).toEqual({ index: 1, value: undefined, ok: false });
    await closer.done();
  });
});

describe('a select never pairs with itself', () => {
  it('send(ch) and recv(ch) on an unbuffered channel with nobody else time out (main async and sync)', async () => {
    const ch = new Chan();
    await expect(select([send(ch, 1), recv(ch)], { timeout: 80 })).rejects.toBeInstanceOf(TimeoutError);
    expect(() => selectSync([recv(ch), send(ch, 1)], { timeout: 80 })).toThrow(TimeoutError);
    expect(ch.trySend(2)).toBe(false);
    expect(ch.tryRecv().ok).toBe(false);
  });

  it('the same in a worker, then a real partner is matched', async () => {
    const ch = new Chan();
    const r = await run('selfPair', ch, 80).done();
    expect(r.error?.kinds).toContain('TimeoutError');
    // with a receiver on the main thread, the worker's send case is chosen
    const w = run('selfPair', ch, 20_000);
    expect(await ch.recv({ timeout: 20_000 })).toBe('self');
    expect(await w.done()).toEqual({ r: { index: 0, ok: true } });
  });
});

describe('no waiter is left behind after select returns', () => {
  it('worker selectSync picked case A: B (recv case) has no receiver, C (send case) has no sender', async () => {
    const a = new Chan();
    const b = new Chan();
    const w = run('selectRecvOnce', [a, b], { timeout: 20_000 });
    await w.event('blocking');
    await delay(50);
    await a.send('A', { timeout: 20_000 });
    expect(await w.done()).toEqual({ r: { index: 0, value: 'A', ok: true } });
    expect(b.trySend('B')).toBe(false);

    const c = new Chan();
    const d = new Chan();
    const s = run('selectSendOnce', [[c, 'c'], [d, 'd']], { timeout: 20_000 });
    await s.event('blocking');
    await delay(50);
    expect(await c.recv({ timeout: 20_000 })).toBe('c');
    expect(await s.done()).toEqual({ r: { index: 0, ok: true } });
    expect(d.tryRecv().ok).toBe(false);
  });

  it('main async select picked case A from a worker: the other cases are withdrawn', async () => {
    const a = new Chan();
    const b = new Chan();
    const c = new Chan();
    const p = select([recv(a), recv(b), send(c, 'z')], { timeout: 20_000 });
    const w = run('sendOn', a, 'A');
    expect(await p).toEqual({ index: 0, value: 'A', ok: true });
    await w.done();
    expect(b.trySend('B')).toBe(false);
    expect(c.tryRecv().ok).toBe(false);
    // and from a worker's point of view too
    expect(await run('selectSendOnce', [[b, 'B']], { default: true }).done()).toEqual({ r: { index: -1, ok: false } });
    expect(await run('selectRecvOnce', [c], { default: true }).done()).toEqual({ r: { index: -1, ok: false } });
  });
});

describe('abort and timeout while blocked leave channels unchanged', () => {
  it('timeout: no send happened, no receive happened, later values stay in the buffer', async () => {
    const u = new Chan();
    const empty = new Chan(1);
    const full = new Chan(1);
    full.trySend('keep');
    const e = await rejection(select([send(u, 'x'), recv(empty), send(full, 'y')], { timeout: 50 }));
    expect(e).toBeInstanceOf(TimeoutError);
    expect(u.tryRecv().ok).toBe(false);
    expect(full.length).toBe(1);
    expect(full.tryRecv()).toEqual({ value: 'keep', ok: true });
    await run('sendOn', empty, 'later').done();
    expect(empty.length).toBe(1);
    expect(u.trySend(1)).toBe(false);
  });

  it('abort: rejects CanceledError with the reason as cause, and nothing happened', async () => {
    const u = new Chan();
    const empty = new Chan(1);
    const ac = new AbortController();
    const p = track(select([send(u, 'x'), recv(empty), recv(u)], { signal: ac.signal }));
    await delay(30);
    expect(p.state).toBe('pending');
    const reason = new Error('enough');
    ac.abort(reason);
    const e = await rejection(p.promise);
    expect(e).toBeInstanceOf(CanceledError);
    expect(e.code).toBe('ERR_WEFT_CANCELED');
    expect(e.cause).toBe(reason);
    expect(u.tryRecv().ok).toBe(false);
    expect(u.trySend(1)).toBe(false);
    await run('sendOn', empty, 'later').done();
    expect(empty.length).toBe(1);
  });

  it('a CanceledError reason is passed through as is', async () => {
    const ac = new AbortController();
    const p = select([recv(new Chan())], { signal: ac.signal });
    const reason = new CanceledError('mine');
    ac.abort(reason);
    expect(await rejection(p)).toBe(reason);
  });

  it('a worker selectSync timing out leaves channels unchanged', async () => {
    const u = new Chan();
    const full = new Chan(1);
    full.trySend('keep');
    const r = await run('selectSendOnce', [[u, 1], [full, 2]], { timeout: 50 }).done();
    expect(r.error.kinds).toContain('TimeoutError');
    expect(full.length).toBe(1);
    expect(u.tryRecv().ok).toBe(false);
    const q = await run('selectRecvOnce', [u, new Chan(1)], { timeout: 50 }).done();
    expect(q.error.kinds).toContain('TimeoutError');
    expect(u.trySend(1)).toBe(false);
  });

  it('an already-aborted signal fails at once even when a case is ready; nothing taken', async () => {
    const a = new Chan(1);
    a.trySend('v');
    const e = await rejection(select([recv(a)], { signal: AbortSignal.abort('now') }));
    expect(e).toBeInstanceOf(CanceledError);
    expect(e.cause).toBe('now');
    expect(() => selectSync([recv(a)], { signal: AbortSignal.abort() })).toThrow(CanceledError);
    expect(() => selectSync([recv(a)], { signal: AbortSignal.abort(), default: true })).toThrow(CanceledError);
    const b = new Chan(1);
    await expect(select([send(b, 1)], { signal: AbortSignal.abort() })).rejects.toBeInstanceOf(CanceledError);
    expect(a.length).toBe(1);
    expect(b.length).toBe(0);
    const w = await run('badSelect', 'aborted', new Chan(1)).done();
    expect(w.error.kinds).toContain('CanceledError');
    expect(w.bufferedAfter).toBe(1);
  });

  it('timeouts racing completions lose nothing: a worker retries selectSync with 1 ms timeouts', async () => {
    const u = new Chan();
    const b = new Chan(2);
    const N = 400;
    const w = run('selectRecvRetry', [u, b], N, 1);
    for (let i = 0; i < N; i++) {
      if (i % 3 === 0) await delay(Math.random() < 0.1 ? 2 : 0);
      await (i % 2 ? u : b).send(i, { timeout: 20_000 });
    }
    const { out } = await w.done();
    expect([...out].sort((x, y) => x - y)).toEqual([...Array(N).keys()]);
    expect(u.length + b.length).toBe(0);
  });

  it('aborts racing completions lose nothing: main async select with short timeouts against a worker sender', async () => {
    const u = new Chan();
    const N = 300;
    const order = [...Array(N)].map(() => 0);
    const w = run('sendEach', [u], order);
    let got = 0;
    let timeouts = 0;
    const end = Date.now() + 30_000;
    while (got < N && Date.now() < end) {
      const ac = new AbortController();
      const t = setTimeout(() => ac.abort(), Math.random() < 0.5 ? 0 : 1);
      try {
        const r = await select([recv(u)], { signal: ac.signal, timeout: 1 + (got % 2) });
        expect(r.value).toBe(0);
        got++;
      } catch (e) {
        if (!(e instanceof CanceledError) && !(e instanceof TimeoutError)) throw e;
        timeouts++;
      } finally {
        clearTimeout(t);
      }
    }
    expect(got).toBe(N);
    expect(await w.done()).toBe(N);
    expect(u.trySend(0)).toBe(false);
  });
});

describe('many cases (64+)', () => {
  it('100 unbuffered recv cases on the main thread, sends from a worker', async () => {
    const chans = Array.from({ length: 100 }, () => new Chan());
    const order = [99, 0, 63, 64, 65, 17, 42, 98, 1, 50];
    const w = run('sendEach', chans, order);
    const cases = chans.map(recv);
    for (const k of order) {
      const r = await select(cases, { timeout: 20_000 });
      expect(r).toEqual({ index: k, value: k, ok: true });
    }
    expect(await w.done()).toBe(order.length);
  });

  it('a worker selectSync over 130 cases (70 buffered channels, 60 nil)', async () => {
    const cases: (Chan<number> | null)[] = [];
    const chans: [number, Chan<number>][] = [];
    for (let i = 0; i < 130; i++) {
      if (i % 13 < 7) {
        const c = new Chan<number>(1);
        cases.push(c);
        chans.push([i, c]);
      } else cases.push(null);
    }
    const picks = [chans[0], chans[69], chans[35], chans[36]];
    const w = run('wideSelect', cases, picks.length);
    for (const [i, c] of picks) {
      await delay(10);
      await c.send(i);
    }
    const out = await w.done();
    // the worker may start after several values were buffered: then it chooses among them
    const key = ([i]: number[]) => i!;
    expect(out.sort((x: number[], y: number[]) => key(x) - key(y))).toEqual(picks.map(([i]) => [i, i]).sort((x, y) => key(x) - key(y)));
  });

  it('70 recv cases on the same unbuffered channel: each value taken once, no record left queued', async () => {
    const ch = new Chan();
    const w = run('sendEach', [ch], [0, 0, 0, 0, 0], 5);
    const cases = Array.from({ length: 70 }, () => recv(ch));
    const idx = new Set();
    for (let i = 0; i < 5; i++) {
      const r = await select(cases, { timeout: 20_000 });
      expect(r.value).toBe(0);
      idx.add(r.index);
    }
    expect(await w.done()).toBe(5);
    expect(ch.trySend(1)).toBe(false);
    expect(idx.size).toBeGreaterThan(0);
  });

  it('80 send cases: exactly one delivers', async () => {
    const chans = Array.from({ length: 80 }, () => new Chan(1));
    const r = await select(chans.map((c, i) => send(c, i)));
    expect(r.ok).toBe(true);
    expect(chans.reduce((s, c) => s + c.length, 0)).toBe(1);
    expect(chans[r.index].tryRecv()).toEqual({ value: r.index, ok: true });
    // 80 send cases of which only the last can proceed (the others full)
    chans.forEach((c, i) => i < 79 && c.trySend('full'));
    expect(selectSync(chans.map((c) => send(c, 'x')), { default: true }).index).toBe(79);
  });
});

describe('values and channels through select', () => {
  it('a structured value sent by a send case arrives intact in a worker', async () => {
    const ch = new Chan();
    const w = run('recvN', ch, 2);
    const v = { a: [1, 'two', { three: 3n }], m: new Map([[1, 2]]), d: new Date(5), u: undefined };
    await select([send(ch, v)]);
    await select([recv(new Chan()), send(ch, new Uint8Array([1, 2, 3]))]);
    const [x, y] = await w.done();
    expect(x).toEqual(v);
    expect(y).toEqual(new Uint8Array([1, 2, 3]));
  });

  it('a send case can be reused: each select sends the same value again', async () => {
    const ch = new Chan(3);
    const c = send(ch, { obj: [1, 2, 3], s: 'x'.repeat(100) });
    for (let i = 0; i < 3; i++) expect((await select([c])).ok).toBe(true);
    const w = run('recvN', ch, 3);
    expect(await w.done()).toEqual(Array(3).fill({ obj: [1, 2, 3], s: 'x'.repeat(100) }));
    const big = send(ch, new Float64Array(1000).fill(2.5));
    selectSync([big]);
    selectSync([big]);
    expect(ch.tryRecv().value).toEqual(new Float64Array(1000).fill(2.5));
    expect(ch.tryRecv().value).toEqual(new Float64Array(1000).fill(2.5));
  });

  it('a channel sent through a send case is the same channel in the worker (channels of channels)', async () => {
    const ch = new Chan();
    const inner = new Chan();
    const w = run('replyOnReceivedChan', ch, 'pong');
    await select([send(ch, inner)], { timeout: 20_000 });
    const r = await select([recv(inner)], { timeout: 20_000 });
    expect(r).toEqual({ index: 0, value: 'pong', ok: true });
    expect(await w.done()).toEqual({ isChan: true });
  });

  it('numeric channels in select', async () => {
    const i64 = new Chan(0, { elem: 'i64' });
    const f64 = new Chan(1, { elem: 'f64' });
    const w = run('recvN', i64, 1);
    await select([send(i64, 5n ** 20n)], { timeout: 20_000 });
    expect(await w.done()).toEqual([5n ** 20n]);
    f64.trySend(0.5);
    expect(await select([recv(i64), recv(f64)])).toEqual({ index: 1, value: 0.5, ok: true });
  });

  it('async select inside a worker receives from main', async () => {
    const a = new Chan();
    const w = run('selectRecvOnceAsync', [new Chan(), a], { timeout: 20_000 });
    await w.event('blocking');
    await a.send('hi', { timeout: 20_000 });
    expect(await w.done()).toEqual({ r: { index: 1, value: 'hi', ok: true } });
  });
});
