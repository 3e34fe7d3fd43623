// API.md §1: core channel semantics, with a worker thread on at least one side,
// in the three flavours (async / Sync / try).
import { describe, it, expect, afterEach } from 'vitest';
import { Chan, ClosedChannelError } from 'weft';
import type { RecvResult } from 'weft';
import { spawn, cleanup, delay, track, flags, until, within, failure } from './helpers.js';

afterEach(cleanup);

const go = (fl: Int32Array, i = 0) => { Atomics.store(fl, i, 1); Atomics.notify(fl, i); };

// main-thread receive / send in each flavour (sync ones carry a timeout so a bug cannot hang the test file)
type Flavour = 'async' | 'sync' | 'try';
const mainRecvOk: Record<Flavour, <T>(ch: Chan<T>) => Promise<RecvResult<T>>> = {
  async: (ch) => ch.recvOk(),
  sync: async (ch) => ch.recvOkSync({ timeout: 10_000 }),
  try: async (ch) => {
    for (const end = Date.now() + 10_000; Date.now() < end; await delay(1)) {
      const r = ch.tryRecv();
      if (r.ok || r.closed) return r;
    }
    throw new Error('tryRecv never succeeded');
  },
};
const mainSend: Record<Flavour, <T>(ch: Chan<T>, v: T) => Promise<void>> = {
  async: (ch, v) => ch.send(v),
  sync: async (ch, v) => ch.sendSync(v, { timeout: 10_000 }),
  try: async (ch, v) => {
    for (const end = Date.now() + 10_000; Date.now() < end; await delay(1)) {
      if (ch.trySend(v)) return;
    }
    throw new Error('trySend never succeeded');
  },
};

describe('properties', () => {
  it('capacity, length and closed are the same in every thread', async () => {
    const ch = new Chan(3);
    expect(ch.capacity).toBe(3);
    expect(ch.length).toBe(0);
    expect(ch.closed).toBe(false);
    await ch.send('a');
    ch.sendSync('b');
    expect(ch.length).toBe(2);
    expect(await spawn('props', ch).done()).toEqual({ capacity: 3, length: 2, closed: false });
    expect(await spawn('closeIt', ch).done()).toEqual({ capacity: 3, length: 2, closed: true });
    expect(ch.closed).toBe(true);
    expect(ch.length).toBe(2);
  });

  it('capacity, elem and name are read-only: assigning throws TypeError and changes nothing', () => {
    const ch = new Chan<number, 'i32'>(1, { elem: 'i32', name: 'ro' });
    for (const key of ['capacity', 'elem', 'name', 'length', 'closed']) {
      expect(() => { (ch as unknown as Record<string, unknown>)[key] = 99; }, key).toThrow(TypeError);
    }
    expect([ch.capacity, ch.elem, ch.name]).toEqual([1, 'i32', 'ro']);
    const [r, w] = [ch.recvOnly() as unknown as Chan<number, 'i32'>, ch.sendOnly() as unknown as Chan<number, 'i32'>];
    expect([r.capacity, w.elem, r.name]).toEqual([1, 'i32', 'ro']);
    expect(ch.trySend(1)).toBe(true);
    expect(ch.trySend(2)).toBe(false);
  });

  it('an unbuffered channel has capacity 0 and length 0, even with a sender blocked in a worker', async () => {
    const ch = new Chan();
    expect(ch.capacity).toBe(0);
    const fl = flags();
    const w = spawn('sendValues', ch, ['x'], fl);
    await w.event('start');
    await delay(100);
    expect(ch.length).toBe(0);
    expect(Atomics.load(fl, 0)).toBe(0);
    expect(await ch.recv()).toBe('x');
    expect(await w.done()).toEqual({ sent: 1 });
    expect(new Chan(0).capacity).toBe(0);
  });
});

describe('rendezvous: an unbuffered send completes only when a receiver takes the value', () => {
  for (const workerFlavour of ['async', 'sync', 'try']) {
    it(`main send() waits for a worker receiving with ${workerFlavour}`, async () => {
      const ch = new Chan();
      const fl = flags();
      const w = spawn('recvAfterGo', ch, fl, workerFlavour);
      await w.event('ready');
      const s = track(ch.send({ hello: 'world' }));
      await delay(200);
      expect(s.state).toBe('pending');
      go(fl);
      await within(s.promise, 10_000, 'send to complete');
      expect(s.state).toBe('fulfilled');
      expect(await w.done()).toMatchObject({ ok: true, value: { hello: 'world' } });
    });
  }

  for (const workerFlavour of ['async', 'sync', 'try']) {
    it(`main sendSync() waits for a worker receiving with ${workerFlavour}`, async () => {
      const ch = new Chan();
      const fl = flags();
      const w = spawn('recvAfterGo', ch, fl, workerFlavour);
      await w.event('ready');
      // a second worker sets the flag after ~200 ms while main is blocked in sendSync
      const setter = spawn('setFlagLater', fl, 0, 200);
      await setter.event('armed');
      expect(Atomics.load(fl, 0)).toBe(0);
      ch.sendSync(42, { timeout: 10_000 });
      // the receiver could not take the value before the flag was set, so sendSync cannot have returned earlier
      expect(Atomics.load(fl, 0)).toBe(1);
      expect(await w.done()).toMatchObject({ ok: true, value: 42 });
      await setter.done();
    });
  }

  for (const mainFlavour of ['async', 'sync', 'try'] as const) {
    it(`a worker's sendSync() waits until main receives with ${mainFlavour}`, async () => {
      const ch = new Chan();
      const fl = flags();
      const w = spawn('sendThenFlag', ch, fl, 'v1', 'sync');
      await w.event('sending');
      await delay(200);
      expect(Atomics.load(fl, 1)).toBe(0);
      const r = await mainRecvOk[mainFlavour](ch);
      expect(r).toMatchObject({ ok: true, value: 'v1' });
      await until(() => Atomics.load(fl, 1) === 1, 10_000, 'sender to complete');
      expect(await w.done()).toBe('sent');
    });
  }

  it("a worker's async send() waits until main receives", async () => {
    const ch = new Chan();
    const fl = flags();
    const w = spawn('sendThenFlag', ch, fl, 'v2', 'async');
    await w.event('sending');
    await delay(200);
    expect(Atomics.load(fl, 1)).toBe(0);
    expect(await ch.recv()).toBe('v2');
    expect(await w.done()).toBe('sent');
  });

  it('trySend/tryRecv never wait: false / ok:false with nobody on the other side', async () => {
    const ch = new Chan();
    expect(ch.trySend(1)).toBe(false);
    expect(ch.tryRecv()).toEqual({ value: undefined, ok: false, closed: false });
    expect(await spawn('trySendOnce', ch, 1).done()).toBe(false);
    expect(await spawn('tryRecvOnce', ch).done()).toEqual({ value: undefined, ok: false, closed: false });
  });

  it('trySend succeeds against a worker blocked in recvSync; tryRecv against one blocked in sendSync', async () => {
    const ch = new Chan();
    const r = spawn('recvOne', ch, 'sync');
    await r.event('blocking');
    await mainSend.try(ch, 'via-try');
    expect(await r.done()).toMatchObject({ ok: true, value: 'via-try' });
    expect(ch.trySend('nobody')).toBe(false);

    const s = spawn('sendOne', ch, 'from-worker', 'sync');
    await s.event('blocking');
    expect(await mainRecvOk.try(ch)).toMatchObject({ ok: true, value: 'from-worker' });
    expect(await s.done()).toEqual({ sent: true });
    expect(ch.tryRecv()).toEqual({ value: undefined, ok: false, closed: false });
  });

  it('two workers meet on an unbuffered channel without the main thread (sync/async)', async () => {
    const ch = new Chan();
    const s = spawn('sendSeq', ch, 's', 100, 'async');
    const r = spawn('recvN', ch, 100);
    const got = await r.done();
    expect(got.map((x: { value: { i: number } }) => x.value.i)).toEqual([...Array(100).keys()]);
    expect(await s.done()).toBe(100);
  });
});

describe('main awaiting a worker that answers at once', () => {
  // A ping-pong: after the first fast answers, main's async send and recv poll the channel
  // briefly instead of registering (bind_chan.cc spin_then_try), so values meet there too.
  for (const cap of [0, 1]) {
    it(`await send / await recv against a worker echo, 5,000 rounds (capacity ${cap}): each reply is the value sent; close ends it`, async () => {
      const input = new Chan(cap);
      const output = new Chan(cap);
      const w = spawn('echoAll', input, output);
      // A tight loop (no timer per round), as a ping-pong runs; the checks are collected.
      const bad: string[] = [];
      await within((async () => {
        for (let i = 0; i < 5_000; i++) {
          const v = i % 3 === 0 ? { i, s: `v${i}` } : i;
          await input.send(v);
          const got = await output.recv();
          if (JSON.stringify(got) !== JSON.stringify(v) && bad.length < 5) bad.push(`round ${i}: sent ${JSON.stringify(v)}, got ${JSON.stringify(got)}`);
        }
      })(), 60_000, 'ping-pong');
      expect(bad).toEqual([]);
      input.close();
      expect(await within(output.recvOk(), 20_000, 'close')).toEqual({ value: undefined, ok: false });
      expect(await w.done()).toBe(5_000);
    });
  }
});

describe('FIFO per sender with several senders', () => {
  for (const capacity of [0, 8]) {
    for (const mainFlavour of ['async', 'sync'] as const) {
      it(`capacity ${capacity}, 3 worker senders (async/sync/try), main receives with ${mainFlavour}`, async () => {
        const ch = new Chan<{ tag: 'a' | 's' | 't'; i: number }>(capacity);
        const N = 1500;
        const senders = [
          spawn('sendSeq', ch, 'a', N, 'async'),
          spawn('sendSeq', ch, 's', N, 'sync'),
          spawn('sendSeq', ch, 't', N, 'try'),
        ];
        const next = { a: 0, s: 0, t: 0 };
        for (let k = 0; k < 3 * N; k++) {
          const r = await mainRecvOk[mainFlavour](ch);
          expect(r.ok).toBe(true);
          const { tag, i } = r.value!;
          if (i !== next[tag]) expect(`${tag}:${i}`).toBe(`${tag}:${next[tag]}`);
          next[tag]++;
        }
        expect(next).toEqual({ a: N, s: N, t: N });
        expect(await Promise.all(senders.map((s) => s.done()))).toEqual([N, N, N]);
        expect(ch.tryRecv()).toEqual({ value: undefined, ok: false, closed: false });
      });
    }
  }
});

describe('buffered channels', () => {
  it('a worker fills the buffer without waiting; the next trySend is false; main drains in order', async () => {
    const ch = new Chan(4);
    expect(await spawn('trySendAll', ch, [0, 1, 2, 3, 4, 5]).done()).toEqual([true, true, true, true, false, false]);
    expect(ch.length).toBe(4);
    expect(ch.trySend(99)).toBe(false);
    expect(await ch.recv()).toBe(0);
    expect(ch.length).toBe(3);
    expect(ch.recvSync()).toBe(1);
    expect(ch.tryRecv()).toEqual({ value: 2, ok: true });
    expect(await ch.recvOk()).toEqual({ value: 3, ok: true });
    expect(ch.length).toBe(0);
  });

  it('sendSync into a buffer with room returns at once; the send after it waits for room', async () => {
    const ch = new Chan(4);
    const fl = flags();
    const w = spawn('sendValues', ch, [10, 11, 12, 13, 14], fl);
    await until(() => Atomics.load(fl, 0) === 4, 10_000, 'four buffered sends');
    await delay(150);
    expect(Atomics.load(fl, 0)).toBe(4);
    expect(ch.length).toBe(4);
    expect(await ch.recv()).toBe(10);
    await until(() => Atomics.load(fl, 0) === 5, 10_000, 'fifth send');
    expect(await w.done()).toEqual({ sent: 5 });
    expect(ch.length).toBe(4);
    const rest: unknown[] = [];
    for (let i = 0; i < 4; i++) rest.push(ch.recvSync({ timeout: 1000 }));
    expect(rest).toEqual([11, 12, 13, 14]);
  });

  for (const flavour of ['async', 'sync', 'try']) {
    it(`a worker receiving with ${flavour} waits for main to send into an empty buffer`, async () => {
      const ch = new Chan(2);
      const w = spawn('recvOne', ch, flavour);
      await w.event('blocking');
      await delay(100);
      expect(ch.length).toBe(0);
      await mainSend.async(ch, 'late');
      expect(await w.done()).toMatchObject({ ok: true, value: 'late' });
      expect(ch.length).toBe(0);
    });
  }
});

describe('close', () => {
  it('wakes every blocked async receiver in main with ok:false (closed by a worker)', async () => {
    const ch = new Chan();
    const a = track(ch.recv());
    const b = track(ch.recvOk());
    const c = track(ch.recvOk());
    await delay(50);
    expect([a.state, b.state, c.state]).toEqual(['pending', 'pending', 'pending']);
    await spawn('closeIt', ch).done();
    expect(await within(a.promise, 5000)).toBeUndefined();
    expect(await within(b.promise, 5000)).toEqual({ value: undefined, ok: false });
    expect(await within(c.promise, 5000)).toEqual({ value: undefined, ok: false });
  });

  it('wakes receivers blocked in workers (recvSync, recvOkSync, async recvOk, for-of) with ok:false', async () => {
    for (const capacity of [0, 3]) {
      const ch = new Chan(capacity);
      const ws = [
        spawn('recvOne', ch, 'sync'),
        spawn('recvOne', ch, 'async'),
        spawn('iterate', ch),
        spawn('drain', ch, 'sync'),
      ];
      await Promise.all(ws.map((w) => w.event('blocking')));
      await delay(150);
      ch.close();
      const [r1, r2, it, dr] = await Promise.all(ws.map((w) => w.done(5000)));
      expect(r1).toEqual({ value: undefined, ok: false });
      expect(r2).toEqual({ value: undefined, ok: false });
      expect(it).toEqual({ values: [], closed: true, length: 0 });
      expect(dr).toEqual({ values: [], last: { value: undefined, ok: false } });
    }
  });

  it('wakes a main thread blocked in recvOkSync / recvSync when a worker closes', () => {
    const ch = new Chan();
    spawn('closeIt', ch, 200);
    const t0 = Date.now();
    expect(ch.recvOkSync({ timeout: 10_000 })).toEqual({ value: undefined, ok: false });
    expect(Date.now() - t0).toBeLessThan(9000);
    expect(ch.recvSync({ timeout: 1000 })).toBeUndefined();
  });

  it('wakes senders blocked in workers (sendSync, async send) with ClosedChannelError', async () => {
    for (const capacity of [0, 2]) {
      const ch = new Chan(capacity);
      for (let i = 0; i < capacity; i++) ch.trySend(`buf${i}`);
      const ws = [spawn('sendOne', ch, 'x', 'sync'), spawn('sendOne', ch, 'y', 'async')];
      await Promise.all(ws.map((w) => w.event('blocking')));
      await delay(150);
      ch.close();
      for (const r of await Promise.all(ws.map((w) => w.done(5000)))) {
        expect(r.sent).toBe(false);
        expect(r.error).toMatchObject({ name: 'ClosedChannelError', code: 'ERR_WEFT_CLOSED' });
        expect(r.error.kinds).toContain('ClosedChannelError');
      }
      // the buffered values are still there, the blocked ones never entered
      const got: unknown[] = [];
      for (;;) {
        const r = ch.tryRecv();
        if (!r.ok) { expect(r.closed).toBe(true); break; }
        got.push(r.value);
      }
      expect(got).toEqual(Array.from({ length: capacity }, (_, i) => `buf${i}`));
    }
  });

  it('rejects a main async send blocked on an unbuffered channel when a worker closes it', async () => {
    const ch = new Chan();
    const s = track(ch.send('never'));
    await delay(50);
    expect(s.state).toBe('pending');
    await spawn('closeIt', ch).done();
    const e = await failure(() => s.promise);
    expect(e).toBeInstanceOf(ClosedChannelError);
    expect(e.code).toBe('ERR_WEFT_CLOSED');
  });

  it('wakes a main thread blocked in sendSync with ClosedChannelError (not a timeout)', () => {
    const ch = new Chan();
    spawn('closeIt', ch, 200);
    let err;
    try {
      ch.sendSync('never', { timeout: 10_000 });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ClosedChannelError);
    expect(ch.tryRecv()).toEqual({ value: undefined, ok: false, closed: true });
  });
});

describe('receive on a closed channel', () => {
  it('returns buffered values first, then ok:false forever, in every flavour and thread', async () => {
    const ch = new Chan(5);
    expect(await spawn('sendValues', ch, [1, 2, 3], null, true).done()).toEqual({ sent: 3 });
    expect(ch.closed).toBe(true);
    expect(ch.length).toBe(3);
    expect(await ch.recvOk()).toEqual({ value: 1, ok: true });
    expect(ch.recvOkSync()).toEqual({ value: 2, ok: true });
    expect(ch.tryRecv()).toEqual({ value: 3, ok: true });
    for (let i = 0; i < 3; i++) {
      expect(await ch.recvOk()).toEqual({ value: undefined, ok: false });
      expect(await ch.recv()).toBeUndefined();
      expect(ch.recvSync()).toBeUndefined();
      expect(ch.recvOkSync()).toEqual({ value: undefined, ok: false });
      expect(ch.tryRecv()).toEqual({ value: undefined, ok: false, closed: true });
    }
    expect(await spawn('recvOne', ch, 'sync').done()).toEqual({ value: undefined, ok: false });
    expect(await spawn('recvOne', ch, 'async').done()).toEqual({ value: undefined, ok: false });
    expect(await spawn('recvOne', ch, 'try').done()).toMatchObject({ value: undefined, ok: false, closed: true });
  });

  it('a worker drains what main buffered before closing', async () => {
    const ch = new Chan(4);
    await ch.send('a');
    await ch.send(undefined);
    await ch.send('c');
    ch.close();
    expect(await spawn('drain', ch, 'sync').done()).toEqual({ values: ['a', undefined, 'c'], last: { value: undefined, ok: false } });
    expect(await spawn('drain', ch, 'async').done()).toEqual({ values: [], last: { value: undefined, ok: false } });
  });

  it('send on a closed channel throws ClosedChannelError in every flavour, in main and in a worker', async () => {
    const ch = new Chan(2);
    ch.close();
    for (const op of [() => ch.send(1), () => ch.sendSync(1), () => ch.trySend(1)]) {
      const e = await failure(op);
      expect(e).toBeInstanceOf(ClosedChannelError);
      expect(e.name).toBe('ClosedChannelError');
      expect(e.code).toBe('ERR_WEFT_CLOSED');
    }
    for (const flavour of ['sync', 'async']) {
      const r = await spawn('sendOne', ch, 1, flavour).done();
      expect(r).toMatchObject({ sent: false, error: { name: 'ClosedChannelError', code: 'ERR_WEFT_CLOSED' } });
    }
    let tryErr;
    try { await spawn('trySendOnce', ch, 1).done(); } catch (e) { tryErr = e; }
    expect(tryErr).toMatchObject({ name: 'ClosedChannelError', code: 'ERR_WEFT_CLOSED' });
    expect(ch.length).toBe(0);
  });

  it('close by a worker after close by main throws ClosedChannelError there', async () => {
    const ch = new Chan();
    const r = await spawn('closeTwice', ch).done();
    expect(r).toMatchObject({ threw: true, error: { name: 'ClosedChannelError', code: 'ERR_WEFT_CLOSED' } });
    const e = await failure(() => ch.close());
    expect(e).toBeInstanceOf(ClosedChannelError);
  });
});

describe('iteration', () => {
  it('for await over a channel a worker fills and closes yields every value in order and ends', async () => {
    for (const capacity of [0, 7]) {
      const ch = new Chan(capacity);
      const values = [...Array(100).keys()];
      const w = spawn('sendValues', ch, values, null, true);
      const got: unknown[] = [];
      for await (const v of ch) got.push(v);
      expect(got).toEqual(values);
      expect(await w.done()).toEqual({ sent: 100 });
    }
  });

  it('blocking for-of in a worker yields what main sends and ends on close', async () => {
    for (const capacity of [0, 5]) {
      const ch = new Chan(capacity);
      const w = spawn('iterate', ch);
      for (let i = 0; i < 50; i++) await ch.send(i * 2);
      ch.close();
      expect(await w.done()).toEqual({ values: Array.from({ length: 50 }, (_, i) => i * 2), closed: true, length: 0 });
    }
  });

  it('async iteration in a worker', async () => {
    const ch = new Chan(3);
    const w = spawn('iterateAsync', ch);
    for (const v of ['x', 'y', 'z', 'w']) ch.sendSync(v, { timeout: 10_000 });
    ch.close();
    expect(await w.done()).toEqual({ values: ['x', 'y', 'z', 'w'], closed: true, length: 0 });
  });

  it('leaving for await early neither closes nor consumes more (unbuffered, worker sender)', async () => {
    const ch = new Chan();
    const fl = flags();
    const w = spawn('sendValues', ch, [0, 1, 2, 3, 4], fl);
    const got: unknown[] = [];
    for await (const v of ch) {
      got.push(v);
      if (v === 2) break;
    }
    expect(got).toEqual([0, 1, 2]);
    await delay(200);
    expect(ch.closed).toBe(false);
    expect(Atomics.load(fl, 0)).toBe(3); // the sender of 3 is still blocked: nobody took it
    expect(await ch.recv()).toBe(3);
    const again: unknown[] = [];
    for await (const v of ch) {
      again.push(v);
      break;
    }
    expect(again).toEqual([4]);
    expect(await w.done()).toEqual({ sent: 5 });
    expect(ch.closed).toBe(false);
  });

  it('leaving for await early on a buffered channel leaves the rest buffered', async () => {
    const ch = new Chan(10);
    await spawn('sendValues', ch, [...Array(10).keys()]).done();
    for await (const v of ch) if (v === 2) break;
    await delay(50);
    expect(ch.length).toBe(7);
    expect(ch.closed).toBe(false);
    expect(await ch.recv()).toBe(3);
  });

  it('leaving a blocking for-of early in a worker neither closes nor consumes more', async () => {
    const ch = new Chan(10);
    for (let i = 0; i < 10; i++) ch.trySend(i);
    expect(await spawn('iterate', ch, 2).done()).toEqual({ values: [0, 1, 2], closed: false, length: 7 });
    expect(ch.length).toBe(7);
    expect(ch.closed).toBe(false);
    expect(ch.recvSync()).toBe(3);
  });

  it('leaving for await early with an unbuffered channel and a worker blocked in a later send', async () => {
    // a prefetching iterator would take the next value and lose it
    const ch = new Chan();
    const fl = flags();
    const w = spawn('sendValues', ch, ['a', 'b', 'c'], fl);
    const it = ch[Symbol.asyncIterator]();
    expect(await it.next()).toEqual({ value: 'a', done: false });
    if (it.return) await it.return();
    await delay(200);
    expect(Atomics.load(fl, 0)).toBe(1);
    expect(await ch.recv()).toBe('b');
    expect(await ch.recv()).toBe('c');
    expect(await w.done()).toEqual({ sent: 3 });
  });
});

describe('sendOnly() / recvOnly()', () => {
  it('are views of the same channel, usable across threads', async () => {
    const ch = new Chan(2);
    const s = ch.sendOnly();
    const r = ch.recvOnly();
    expect(s.capacity).toBe(2);
    expect(r.capacity).toBe(2);
    const w = spawn('sendValues', s, ['p', 'q', 'r']);
    expect(await r.recv()).toBe('p');
    expect(await ch.recv()).toBe('q');
    expect(r.recvSync({ timeout: 5000 })).toBe('r');
    expect(await w.done()).toEqual({ sent: 3 });

    const d = spawn('drain', r, 'sync');
    await s.send('to-worker');
    ch.sendSync('also', { timeout: 5000 });
    ch.close();
    expect(s.closed).toBe(true);
    expect(r.closed).toBe(true);
    expect(await d.done()).toEqual({ values: ['to-worker', 'also'], last: { value: undefined, ok: false } });
  });
});

describe('channels of channels', () => {
  it('request/reply: reply channels sent to a worker through a channel', async () => {
    const reqs = new Chan();
    const server = spawn('squareServer', reqs);
    for (let n = 1; n <= 20; n++) {
      const reply = new Chan(n % 2); // mix unbuffered and buffered reply channels
      await reqs.send({ n, reply: n % 3 === 0 ? reply.sendOnly() : reply });
      expect(await within(reply.recv(), 5000, `reply ${n}`)).toBe(n * n);
    }
    reqs.close();
    expect(await server.done()).toBe(20);
  });

  it('a channel created in a worker, sent to main, outlives the worker', async () => {
    const out = new Chan<{ ch: Chan<string> }>(1);
    const w = spawn('makeAndSend', out, ['m1', 'm2', 'm3']);
    const { ch } = (await out.recv())!;
    expect(await w.done()).toBe('done');
    await w.exited;
    expect(ch.capacity).toBe(4);
    expect([await ch.recv(), ch.recvSync(), ch.tryRecv().value]).toEqual(['m1', 'm2', 'm3']);
    await ch.send('mine');
    expect(await ch.recv()).toBe('mine');
  });

  it('a channel relayed main -> worker A -> worker B is used by B and seen by main', async () => {
    const target = new Chan(4);
    const toA = new Chan();
    const toB = new Chan();
    const a = spawn('relayChan', toA, toB);
    const b = spawn('useReceivedChan', toB, ['b1', 'b2']);
    await toA.send({ ch: target });
    expect(await a.done()).toBe('relayed');
    expect(await b.done()).toBe('relay');
    expect([await target.recv(), await target.recv()]).toEqual(['b1', 'b2']);
  });

  it('channels at any depth of arrays and plain objects keep their identity', async () => {
    const inbox = new Chan(1);
    const deep = new Chan(1);
    const l1 = new Chan(1);
    const same = new Chan(2);
    await inbox.send({ n: 7, a: [{ b: { c: deep } }], list: [null, l1], same1: same, same2: same });
    expect(await spawn('deepChans', inbox).done()).toBe(7);
    expect(await deep.recv()).toBe('deep');
    expect(await l1.recv()).toBe('list');
    expect(same.length).toBe(2);
    expect([await same.recv(), await same.recv()]).toEqual(['same1', 'same2']);
  });

  it('a channel sent through itself', async () => {
    const ch = new Chan<Chan<string> | string>(1);
    expect(await spawn('chanThroughItself', ch).done()).toBe('ok');
    const got = (await ch.recv()) as Chan<string>;
    expect(got.capacity).toBe(1);
    await got.send('loop');
    expect(await ch.recv()).toBe('loop');
  });
});
