// API.md §0/§1: abort signals and timeouts on channel operations, across threads.
// An operation that gave up has no effect: a send that timed out did not send,
// a receive that timed out consumed nothing and left no waiter behind.
import { describe, it, expect, afterEach } from 'vitest';
import { Chan, CanceledError, DeadlineExceededError, TimeoutError, AtomicInt64 } from 'weft';
import { spawn, cleanup, delay, track, failure, within, type Caught } from './helpers.js';

afterEach(cleanup);

function expectTimeout(e: Caught) {
  expect(e).toBeInstanceOf(TimeoutError);
  expect(e.name).toBe('TimeoutError');
  expect(e.code).toBe('ERR_WEFT_TIMEOUT');
}
function expectCanceled(e: Caught, cause: string|number|Error|{ why: string; }) {
  expect(e).toBeInstanceOf(CanceledError);
  expect(e.name).toBe('CanceledError');
  expect(e.code).toBe('ERR_WEFT_CANCELED');
  if (arguments.length > 1) expect(e.cause).toBe(cause);
}

describe('timeout', () => {
  it('recv({ timeout }) on an empty unbuffered channel rejects TimeoutError and leaves no waiter', async () => {
    const ch = new Chan();
    expectTimeout(await failure(() => ch.recv({ timeout: 100 })));
    expectTimeout(await failure(() => ch.recvOk({ timeout: 50 })));
    // a stale receiver would let this trySend succeed and the value would be lost
    expect(await spawn('trySendOnce', ch, 'lost?').done()).toBe(false);
    const s = spawn('sendOne', ch, 'real', 'sync');
    expect(await ch.recv()).toBe('real');
    expect(await s.done()).toEqual({ sent: true });
  });

  it('recv({ timeout }) on an empty buffered channel consumed nothing: a later value stays buffered', async () => {
    const ch = new Chan(2);
    expectTimeout(await failure(() => ch.recv({ timeout: 80 })));
    expect(await spawn('sendOne', ch, 'kept', 'sync').done()).toEqual({ sent: true });
    expect(ch.length).toBe(1);
    expect(ch.tryRecv()).toEqual({ value: 'kept', ok: true });
  });

  it('send({ timeout }) on an unbuffered channel nobody receives from did not send', async () => {
    const ch = new Chan();
    expectTimeout(await failure(() => ch.send('ghost', { timeout: 100 })));
    expect(await spawn('tryRecvOnce', ch).done()).toEqual({ value: undefined, ok: false, closed: false });
    const r = await spawn('recvSyncTimeout', ch, 150).done();
    expect(r).toMatchObject({ timedOut: true, error: { name: 'TimeoutError', code: 'ERR_WEFT_TIMEOUT' } });
  });

  it('send({ timeout }) on a full buffered channel leaves its contents unchanged', async () => {
    const ch = new Chan(2);
    await ch.send(1);
    await ch.send(2);
    expectTimeout(await failure(() => ch.send(3, { timeout: 80 })));
    expect(() => ch.sendSync(4, { timeout: 80 })).toThrow(TimeoutError);
    expect(ch.length).toBe(2);
    expect(await spawn('recvN', ch, 2).done()).toEqual([{ value: 1, ok: true }, { value: 2, ok: true }]);
    expect(ch.tryRecv()).toEqual({ value: undefined, ok: false, closed: false });
  });

  it('recvSync({ timeout }) in a worker throws TimeoutError and leaves no waiter', async () => {
    for (const capacity of [0, 1]) {
      const ch = new Chan(capacity);
      const r = await spawn('recvSyncTimeout', ch, 100).done();
      expect(r.timedOut).toBe(true);
      expect(r.error).toMatchObject({ name: 'TimeoutError', code: 'ERR_WEFT_TIMEOUT' });
      expect(r.error.kinds).toContain('TimeoutError');
      if (capacity === 0) {
        expect(ch.trySend('x')).toBe(false);
      } else {
        expect(ch.trySend('x')).toBe(true);
        expect(ch.length).toBe(1);
      }
    }
  });

  it('sendSync({ timeout }) in a worker throws TimeoutError and did not send', async () => {
    const ch = new Chan();
    const r = await spawn('sendSyncTimeout', ch, 'ghost', 100).done();
    expect(r).toMatchObject({ timedOut: true, error: { name: 'TimeoutError', code: 'ERR_WEFT_TIMEOUT' } });
    expect(ch.tryRecv()).toEqual({ value: undefined, ok: false, closed: false });
    expectTimeout(await failure(() => ch.recv({ timeout: 100 })));

    const full = new Chan(1);
    full.trySend('first');
    const r2 = await spawn('sendSyncTimeout', full, 'second', 100).done();
    expect(r2.timedOut).toBe(true);
    expect(full.length).toBe(1);
    expect(full.tryRecv()).toEqual({ value: 'first', ok: true });
    expect(full.tryRecv()).toEqual({ value: undefined, ok: false, closed: false });
  });

  it('main recvSync/sendSync with timeout throw TimeoutError', () => {
    const ch = new Chan();
    expect(() => ch.recvSync({ timeout: 50 })).toThrow(TimeoutError);
    expect(() => ch.recvOkSync({ timeout: 50 })).toThrow(TimeoutError);
    expect(() => ch.sendSync('x', { timeout: 50 })).toThrow(TimeoutError);
    expect(ch.tryRecv()).toEqual({ value: undefined, ok: false, closed: false });
  });

  it('a timeout that does not expire does not disturb the operation', async () => {
    const ch = new Chan();
    const w = spawn('sendOne', ch, 'in-time', 'sync');
    expect(await ch.recv({ timeout: 10_000 })).toBe('in-time');
    expect(await w.done()).toEqual({ sent: true });
    const r = spawn('recvOne', ch, 'sync', { timeout: 10_000 });
    await ch.send('also', { timeout: 10_000 });
    expect(await r.done()).toEqual({ value: 'also', ok: true });
  });

  it('timeout: 0 fails at once when the operation cannot proceed, and succeeds when it can', async () => {
    const ch = new Chan(1);
    expectTimeout(await failure(() => ch.recv({ timeout: 0 })));
    await ch.send('ready', { timeout: 0 });
    expect(await ch.recv({ timeout: 0 })).toBe('ready');
  });

  it('exactly once while timeouts race with arrivals (retrying sender and receiver in two workers)', async () => {
    const N = 1500;
    for (const capacity of [0, 2]) {
      const ch = new Chan(capacity);
      const s = spawn('sendRetrying', ch, N, 1);
      const r = spawn('recvRetrying', ch, N, 1);
      const { values } = await r.done(45_000);
      await s.done(45_000);
      expect(values.length).toBe(N);
      const wrong = values.findIndex((v: unknown, i: number) => v !== i);
      expect(wrong).toBe(-1);
      expect(ch.tryRecv()).toEqual({ value: undefined, ok: false, closed: false });
    }
  });

  it('exactly once while main async receives with short timeouts race a worker sender', async () => {
    const N = 600;
    const ch = new Chan();
    const s = spawn('sendRetrying', ch, N, 2);
    const values: unknown[] = [];
    let timeouts = 0;
    while (values.length < N) {
      try {
        values.push(await ch.recv({ timeout: 1 + (values.length % 3) }));
      } catch (e) {
        expect(e).toBeInstanceOf(TimeoutError);
        timeouts++;
      }
    }
    await s.done(30_000);
    expect(values).toEqual([...Array(N).keys()]);
    expect(ch.tryRecv()).toEqual({ value: undefined, ok: false, closed: false });
  });
});

describe('abort signal', () => {
  it('aborting a blocked recv rejects CanceledError with the reason as cause; nothing consumed', async () => {
    const ch = new Chan();
    const ac = new AbortController();
    const p = track(ch.recv({ signal: ac.signal }));
    await delay(50);
    expect(p.state).toBe('pending');
    ac.abort('why');
    expectCanceled(await failure(() => p.promise), 'why');
    expect(await spawn('trySendOnce', ch, 'lost?').done()).toBe(false);
    const w = spawn('sendOne', ch, 'after', 'sync');
    expect(await ch.recv()).toBe('after');
    await w.done();
  });

  it('aborting a blocked send rejects CanceledError; the value was not sent', async () => {
    for (const capacity of [0, 1]) {
      const ch = new Chan(capacity);
      if (capacity) ch.trySend('fill');
      const ac = new AbortController();
      const p = track(ch.send('ghost', { signal: ac.signal }));
      await delay(50);
      expect(p.state).toBe('pending');
      const reason = new Error('stop it');
      ac.abort(reason);
      expectCanceled(await failure(() => p.promise), reason);
      const drained = await spawn('recvSyncTimeout', ch, 100).done();
      if (capacity) {
        expect(drained).toEqual({ timedOut: false, r: { value: 'fill', ok: true } });
        expect(ch.tryRecv()).toEqual({ value: undefined, ok: false, closed: false });
      } else {
        expect(drained.timedOut).toBe(true);
      }
    }
  });

  it('abort() without a reason gives CanceledError whose cause is the signal reason (AbortError)', async () => {
    const ch = new Chan();
    const ac = new AbortController();
    const p = ch.recvOk({ signal: ac.signal });
    ac.abort();
    const e = await failure(() => p);
    expectCanceled(e, ac.signal.reason);
    expect((e.cause as Error).name).toBe('AbortError');
  });

  it('a CanceledError or DeadlineExceededError reason is rejected as is', async () => {
    const ch = new Chan();
    // obtain a genuine CanceledError from weft first
    const ac1 = new AbortController();
    const p1 = ch.recv({ signal: ac1.signal });
    ac1.abort('first');
    const canceled = await failure(() => p1);
    expect(canceled).toBeInstanceOf(CanceledError);

    const ac2 = new AbortController();
    const p2 = ch.recv({ signal: ac2.signal });
    ac2.abort(canceled);
    expect(await failure(() => p2)).toBe(canceled);

    const deadline = new DeadlineExceededError();
    expect(deadline.name).toBe('DeadlineExceededError');
    expect(deadline.code).toBe('ERR_WEFT_DEADLINE');
    const ac3 = new AbortController();
    const p3 = ch.send('x', { signal: ac3.signal });
    ac3.abort(deadline);
    expect(await failure(() => p3)).toBe(deadline);

    const ac4 = new AbortController();
    ac4.abort(deadline);
    let thrownSync;
    try { ch.recvSync({ signal: ac4.signal }); } catch (e) { thrownSync = e; }
    expect(thrownSync).toBe(deadline);
  });

  it('any other reason (TimeoutError, DOMException, plain values) becomes the cause of a CanceledError', async () => {
    const ch = new Chan();
    for (const reason of [new TimeoutError(), 42, { why: 'object' }, new TypeError('t')]) {
      const ac = new AbortController();
      const p = ch.recv({ signal: ac.signal });
      ac.abort(reason);
      expectCanceled(await failure(() => p), reason);
    }
    const sig = AbortSignal.timeout(30);
    const e = await failure(() => ch.recv({ signal: sig }));
    expectCanceled(e, sig.reason);
  });

  it('an already-aborted signal fails at once even when the operation could complete, changing nothing', async () => {
    const ac = new AbortController();
    ac.abort('early');
    const ch = new Chan(3);
    ch.trySend('v');
    const sig = ac.signal;
    expectCanceled(await failure(() => ch.recv({ signal: sig })), 'early');
    expectCanceled(await failure(() => ch.recvOk({ signal: sig })), 'early');
    expectCanceled(await failure(() => ch.recvSync({ signal: sig })), 'early');
    expectCanceled(await failure(() => ch.recvOkSync({ signal: sig })), 'early');
    expectCanceled(await failure(() => ch.send('w', { signal: sig })), 'early');
    expectCanceled(await failure(() => ch.sendSync('w', { signal: sig })), 'early');
    expect(ch.length).toBe(1);
    expect(ch.tryRecv()).toEqual({ value: 'v', ok: true });

    const nums = new Chan(4, { elem: 'i32' });
    nums.trySend(5);
    expectCanceled(await failure(() => nums.recvMany(4, { signal: sig })), 'early');
    expectCanceled(await failure(() => nums.recvManySync(4, { signal: sig })), 'early');
    expectCanceled(await failure(() => nums.recvManyInto(new Int32Array(4), { signal: sig })), 'early');
    expectCanceled(await failure(() => nums.recvManyIntoSync(new Int32Array(4), { signal: sig })), 'early');
    expectCanceled(await failure(() => nums.sendMany([1, 2], { signal: sig })), 'early');
    expectCanceled(await failure(() => nums.sendManySync([1, 2], { signal: sig })), 'early');
    expect(nums.length).toBe(1);
    expect(nums.tryRecv()).toEqual({ value: 5, ok: true });
  });

  it('an already-aborted signal does not hand a value to a worker blocked in recvSync', async () => {
    const ch = new Chan();
    const w = spawn('recvOne', ch, 'sync');
    await w.event('blocking');
    await delay(100);
    const ac = new AbortController();
    ac.abort('no');
    expectCanceled(await failure(() => ch.send('aborted', { signal: ac.signal })), 'no');
    expectCanceled(await failure(() => ch.sendSync('aborted', { signal: ac.signal })), 'no');
    await ch.send('real');
    expect(await w.done()).toEqual({ value: 'real', ok: true });
  });

  it('an already-aborted signal in a worker fails every flavour at once and changes nothing', async () => {
    const ch = new Chan(2);
    ch.trySend('stay');
    const r = await spawn('abortedInWorker', ch).done();
    for (const k of ['recvSync', 'recvOkSync', 'recv', 'sendSync', 'send']) {
      expect(r[k], k).toMatchObject({ name: 'CanceledError', code: 'ERR_WEFT_CANCELED', cause: 'stop' });
    }
    expect(r.length).toBe(1);
    expect(ch.tryRecv()).toEqual({ value: 'stay', ok: true });
  });

  it('an abort after the operation completed has no effect', async () => {
    const ch = new Chan(1);
    const ac = new AbortController();
    await ch.send('a', { signal: ac.signal });
    expect(await ch.recv({ signal: ac.signal })).toBe('a');
    ac.abort('late');
    await delay(10);
    expect(ch.length).toBe(0);
    expect(ch.trySend('b')).toBe(true);
  });

  it('both signal and timeout: whichever comes first decides', async () => {
    const ch = new Chan();
    const ac = new AbortController();
    expectTimeout(await failure(() => ch.recv({ signal: ac.signal, timeout: 50 })));
    const p = ch.recv({ signal: ac.signal, timeout: 10_000 });
    ac.abort('first');
    expectCanceled(await failure(() => p), 'first');
  });

  it('many aborted receivers then one real value: exactly one receiver gets it', async () => {
    const ch = new Chan();
    const acs = Array.from({ length: 20 }, () => new AbortController());
    const ps = acs.map((ac) => track(ch.recv({ signal: ac.signal })));
    const keeper = track(ch.recv());
    await delay(20);
    acs.forEach((ac) => ac.abort());
    await Promise.allSettled(ps.map((p) => p.promise));
    expect(ps.every((p) => p.state === 'rejected')).toBe(true);
    const w = spawn('sendOne', ch, 'only', 'sync');
    expect(await within(keeper.promise, 5000)).toBe('only');
    expect(await w.done()).toEqual({ sent: true });
  });
});

describe('an iterator withdrawn after a sender handed it a value', () => {
  it("return() gives that value back at once: the next receive gets it, before the sender's next value", async () => {
    // The worker's first sendSync hands 1 to the iterator's pending receive; its completion
    // waits in this thread's inbox (this thread does not return to the event loop before
    // return()). The worker then blocks sending 2. return() withdraws the receive: 1 must go
    // back to the front of the channel right then, so the next receive gets 1, then 2 (a
    // late give-back let it take 2 first: a stream destroyed mid-flow saw 0, 2, 1).
    for (let round = 0; round < 20; round++) {
      const ch = new Chan<number>(0);
      const done = new AtomicInt64(0);
      const it = ch[Symbol.asyncIterator]();
      const first = it.next();
      const w = spawn('sendCounting', ch, [1, 2], done);
      const t0 = Date.now();
      while (done.load() < 1) {
        if (Date.now() - t0 > 10_000) throw new Error('the worker never sent 1');
      }
      const ended = it.return!();
      const next = ch.recv(); // before this thread drains its inbox (no await in between)
      await ended;
      expect(await first).toEqual({ value: undefined, done: true });
      expect(await within(next, 10_000, 'the value given back')).toBe(1);
      expect(await within(ch.recv(), 10_000, "the sender's next value")).toBe(2);
      await w.done();
    }
  });
});
