// Issue 7: the channel / select contract enforced at run time (API.md §0, §1, §2, §10):
// direction views and weft-owned channels, async iterator return(), wrong `this`, messages
// that name the channel, util.inspect, recvMany's max, and no internals in the .d.ts.
import { describe, it, expect, afterEach } from 'vitest';
import { fixture } from './fixture.js';
import { Readable } from 'node:stream';
import { inspect } from 'node:util';
import { readFileSync, readdirSync } from 'node:fs';
import { sep } from 'node:path';
import {
  Chan, Timer, Ticker, background, withCancel, select, selectSync, send, recv, share, attach,
  MisuseError, ClosedChannelError, TimeoutError, CanceledError,
} from 'weft';
import type { RecvChan, SendChan } from 'weft';
import { spawnWith, cleanup, flags, within, rejection, thrown, failure, delay } from './helpers.js';

const MODULE = fixture('contract-scenarios');
const run = (fn: string, ...args: unknown[]) => spawnWith({ module: MODULE }, fn, ...args);

afterEach(cleanup);

function setFlag(fl: Int32Array, i: number, value = 1) {
  Atomics.store(fl, i, value);
  Atomics.notify(fl, i);
}

/** Every send-side path on `ch`, each of which must throw MisuseError synchronously. */
// The paths below call every method on a view that lacks it (the types forbid it, the run time
// must too): the channel is taken untyped on purpose.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnyChan = any;

function sendPaths(ch: AnyChan): Record<string, () => unknown> {
  const paths: Record<string, () => unknown> = {
    close: () => ch.close(),
    send: () => ch.send(1),
    sendSync: () => ch.sendSync(1, { timeout: 0 }),
    trySend: () => ch.trySend(1),
    sendCase: () => send(ch, 1),
    sendOnly: () => ch.sendOnly(),
  };
  if (ch.elem !== 'structured') {
    paths.sendMany = () => ch.sendMany([1, 2]);
    paths.sendManySync = () => ch.sendManySync([1, 2]);
  }
  return paths;
}

function recvPaths(ch: AnyChan): Record<string, () => unknown> {
  return {
    recv: () => ch.recv(),
    recvOk: () => ch.recvOk(),
    recvSync: () => ch.recvSync({ timeout: 0 }),
    recvOkSync: () => ch.recvOkSync({ timeout: 0 }),
    tryRecv: () => ch.tryRecv(),
    recvMany: () => ch.recvMany(4),
    recvManySync: () => ch.recvManySync(4, { timeout: 0 }),
    recvManyInto: () => ch.recvManyInto(new Int32Array(4)),
    recvManyIntoSync: () => ch.recvManyIntoSync(new Int32Array(4), { timeout: 0 }),
    recvCase: () => recv(ch),
    asyncIterator: () => ch[Symbol.asyncIterator](),
    iterator: () => ch[Symbol.iterator](),
    recvOnly: () => ch.recvOnly(),
  };
}

function expectMisuse(paths: Record<string, () => unknown>, re?: RegExp) {
  for (const [what, f] of Object.entries(paths)) {
    const e = thrown(f);
    expect(e, what).toBeInstanceOf(MisuseError);
    expect(e.code, what).toBe('ERR_WEFT_MISUSE');
    if (re) expect(e.message, what).toMatch(re);
  }
}

describe('channels weft owns refuse send and close (MisuseError, nothing changes)', () => {
  it('background().done(), ctx.done(), timer.c, ticker.c: every send/close path, on this thread', async () => {
    const [ctx, cancel] = withCancel(background());
    const timer = new Timer(60_000);
    const ticker = new Ticker(60_000);
    const owned = { bg: background().done(), ctx: ctx.done(), timer: timer.c, ticker: ticker.c };
    for (const [name, ch] of Object.entries(owned)) {
      expectMisuse(sendPaths(ch), /receive-only channel.*owned by weft/);
      expect(ch.closed, name).toBe(false);
      expect(ch.length, name).toBe(0);
    }
    expect(ctx.err()).toBeNull();
    expect(background().err()).toBeNull();
    // the timer still works: it was not closed nor fed
    expect(timer.reset(1)).toBe(true);
    expect(typeof (await within(timer.c.recv(), 10_000, 'timer'))).toBe('number');
    ticker.stop();
    cancel();
    expect(ctx.done().closed).toBe(true);
  });

  it('also in a worker that received the objects (the owner tag is in the native channel)', async () => {
    const [ctx, cancel] = withCancel(background());
    const timer = new Timer(60_000);
    const ticker = new Ticker(60_000);
    const r = await run('ownedInWorker', ctx, timer, ticker).done();
    for (const name of ['ctx', 'bg', 'timer', 'ticker', 'local']) {
      expect(r[name].length, name).toBeGreaterThanOrEqual(6);
      for (const o of r[name]) expect(o, name).toMatch(/^MisuseError: .*receive-only channel.*owned by weft/);
    }
    expect(r.select).toMatch(/^MisuseError/);
    expect(r.selectAsync).toMatch(/^MisuseError/);
    expect(r.ctxErr).toBeNull();
    expect(r.doneClosed).toBe(false);
    expect(r.timerLen).toBe(0);
    expect(ctx.err()).toBeNull();
    expect(timer.stop()).toBe(true); // still armed: nothing was sent into it
    ticker.stop();
    cancel();
  });

  it('messages say what was refused', () => {
    // @ts-expect-error -- done() is receive-only in the types too
    expect(thrown(() => background().done().close()).message).toBe("close of receive-only channel (a Context's done(), owned by weft)");
    const t = new Timer(1e6);
    // @ts-expect-error -- a Timer's c is receive-only in the types too
    expect(thrown(() => t.c.trySend(5)).message).toBe("send on receive-only channel (a Timer's c, owned by weft)");
    t.stop();
  });
});

describe('sendOnly() / recvOnly() views are enforced at run time', () => {
  it('recvOnly(): every send/close path throws MisuseError and changes nothing', async () => {
    const ch = new Chan(4, { elem: 'f64', name: 'jobs' });
    await ch.send(1);
    const r = ch.recvOnly();
    expectMisuse(sendPaths(r), /^(send on|close of) receive-only channel 'jobs'$/);
    expect(ch.length).toBe(1);
    expect(ch.closed).toBe(false);
    expect(r.tryRecv()).toEqual({ value: 1, ok: true });
    // @ts-expect-error -- the RecvChan type has no recvOnly(); the run-time view keeps it (returns itself)
    expect(r.recvOnly()).toBe(r);
    expect(ch.recvOnly()).toBe(r); // one view per wrapper, not one per call
  });

  it('sendOnly(): every receive path throws MisuseError and takes nothing', async () => {
    const ch = new Chan(4, { elem: 'i32' });
    const s = ch.sendOnly();
    await s.send(7);
    expectMisuse(recvPaths(s), /^recv on send-only channel$/);
    expect(ch.length).toBe(1);
    // @ts-expect-error -- the SendChan type has no sendOnly(); the run-time view keeps it (returns itself)
    expect(s.sendOnly()).toBe(s);
    expect(await ch.recv()).toBe(7);
  });

  it('select cases: send(recvOnlyView, v) and recv(sendOnlyView) throw MisuseError before anything happens', async () => {
    const ch = new Chan(1);
    // @ts-expect-error -- a receive-only view is not a SendChan
    expect(thrown(() => select([send(ch.recvOnly(), 'x')]))).toBeInstanceOf(MisuseError);
    // @ts-expect-error -- a send-only view is not a RecvChan
    expect(thrown(() => selectSync([recv(ch.sendOnly())], { default: true }))).toBeInstanceOf(MisuseError);
    expect(ch.length).toBe(0);
    // the allowed directions work in select
    const r = await select([send(ch.sendOnly(), 'y')]);
    expect(r).toEqual({ index: 0, ok: true });
    expect(selectSync([recv(ch.recvOnly())])).toEqual({ index: 0, value: 'y', ok: true });
  });

  it('a view sent to a worker (channel payload and share()/attach()) keeps its direction', async () => {
    const ch = new Chan(4, { name: 'v' });
    await ch.send('from-main');
    const r = await run('viewsInWorker', ch.recvOnly(), ch.sendOnly()).done();
    for (const k of ['rSend', 'rTrySend', 'rClose', 'rSendCase']) expect(r[k], k).toMatch(/^MisuseError: (send on|close of) receive-only channel 'v'$/);
    for (const k of ['sRecv', 'sTryRecv', 'sRecvSync', 'sRecvCase', 'sIter']) expect(r[k], k).toBe("MisuseError: recv on send-only channel 'v'");
    expect(r.sTrySend).toBe(true);
    expect(r.rTryRecv).toEqual({ value: 'from-main', ok: true });
    expect(r.rClosed).toBe(false);
    expect(ch.tryRecv()).toEqual({ value: 'from-worker', ok: true });
    // through a channel payload and through share()/attach() on this thread
    const box = new Chan<{ r: RecvChan<unknown>; s: SendChan<unknown>; c: Chan }>(1);
    await box.send({ r: ch.recvOnly(), s: ch.sendOnly(), c: ch });
    const got = (await box.recv())!;
    // @ts-expect-error -- a receive-only view has no close()
    expect(thrown(() => got.r.close())).toBeInstanceOf(MisuseError);
    // @ts-expect-error -- a send-only view has no tryRecv()
    expect(thrown(() => got.s.tryRecv())).toBeInstanceOf(MisuseError);
    expect(got.c.trySend('still both ways')).toBe(true);
    expect(got.c.tryRecv().value).toBe('still both ways');
    const a = attach(structuredClone(share({ r: ch.recvOnly() })));
    // @ts-expect-error -- a receive-only view has no trySend()
    expect(thrown(() => a.r.trySend(1))).toBeInstanceOf(MisuseError);
    expect(ch.closed).toBe(false);
  });
});

describe("an async iterator's return() withdraws its pending receive", () => {
  it('Readable.from(ch) destroyed after one chunk: the next value, sent from a worker, reaches a later receiver', async () => {
    const ch = new Chan(0, { name: 'stream' });
    const fl = flags(1);
    const w = run('sendAfterFlag', fl, ch, ['second', 'third']);
    const rs = Readable.from(ch);
    const first = new Promise((resolve) => rs.once('data', resolve));
    // first value from this thread
    const s = ch.send('first');
    expect(await within(first, 10_000, 'first chunk')).toBe('first');
    await s;
    rs.destroy();
    await new Promise((resolve) => rs.once('close', resolve));
    await delay(20); // the stream has asked for its next chunk and left
    setFlag(fl, 0); // now the worker sends
    expect(await ch.recv({ timeout: 10_000 })).toBe('second');
    expect(await ch.recv({ timeout: 10_000 })).toBe('third');
    expect(await w.done()).toBe(2);
  });

  it('for await + break takes nothing more; a value sent later by a worker arrives intact', async () => {
    const ch = new Chan(0);
    const fl = flags(1);
    const w = run('sendAfterFlag', fl, ch, [{ n: 2, deep: [1, 2, 3] }]);
    const s = ch.send({ n: 1 });
    for await (const v of ch) {
      expect(v).toEqual({ n: 1 });
      break;
    }
    await s;
    setFlag(fl, 0);
    expect(await ch.recv({ timeout: 10_000 })).toEqual({ n: 2, deep: [1, 2, 3] });
    expect(await w.done()).toBe(1);
  });

  it('return() after a sender already handed its value to the pending next(): the value goes back to the channel', async () => {
    const ch = new Chan(0, { name: 'race' });
    const fl = flags(2);
    const w = run('sendThenFlag', fl, ch, 'handed');
    const it = ch[Symbol.asyncIterator]();
    const p = it.next(); // pending receive, registered in the channel
    setFlag(fl, 0);
    // Block this thread until the worker's sendSync has returned: the value now sits in our
    // pending receive, which this thread's event loop has not processed yet.
    expect(Atomics.wait(fl, 1, 0, 20_000)).not.toBe('timed-out');
    await it.return!();
    expect(await within(p, 10_000, 'withdrawn next()')).toEqual({ value: undefined, done: true });
    expect(await ch.recv({ timeout: 10_000 })).toBe('handed');
    expect(await w.done()).toBe(1);
  });

  it('return() while next() waits: next() resolves done, nothing is taken, and the iterator stays done', async () => {
    const ch = new Chan(1, { elem: 'f64' });
    const it = ch[Symbol.asyncIterator]();
    const pending = it.next();
    await delay(5);
    expect(await it.return!()).toEqual({ value: undefined, done: true });
    expect(await within(pending, 5000, 'withdrawn next()')).toEqual({ value: undefined, done: true });
    expect(ch.trySend(4.5)).toBe(true); // nobody is waiting any more: it stays buffered
    expect(await it.next()).toEqual({ value: undefined, done: true });
    expect(ch.length).toBe(1);
    expect(ch.tryRecv()).toEqual({ value: 4.5, ok: true });
  });
});

describe("a method called on something that is not one gives weft's TypeError", () => {
  it('every public method and getter of Chan', () => {
    const names = ['send', 'sendSync', 'trySend', 'recv', 'recvOk', 'recvSync', 'recvOkSync', 'tryRecv', 'close',
      'sendMany', 'sendManySync', 'recvMany', 'recvManySync', 'recvManyInto', 'recvManyIntoSync', 'sendOnly', 'recvOnly', Symbol.asyncIterator, Symbol.iterator];
    for (const name of names) {
      const label = typeof name === 'symbol' ? `[${name.description}]` : name;
      for (const self of [{}, undefined, null, 5, new Timer(1e6)]) {
        const e = thrown(() => (Chan.prototype[name as keyof Chan] as (this: unknown, ...a: unknown[]) => unknown).call(self, 1));
        expect(e, label).toBeInstanceOf(TypeError);
        expect(e.message, label).toMatch(/^Chan\..* called on an object that is not a Chan$/);
      }
    }
    for (const g of ['length', 'closed']) {
      const get = Object.getOwnPropertyDescriptor(Chan.prototype, g)!.get!;
      expect(thrown(() => get.call({})).message).toBe(`Chan.${g} called on an object that is not a Chan`);
    }
    // a detached method
    const { recvOk } = new Chan(1);
    expect(thrown(() => recvOk()).message).toBe('Chan.recvOk called on an object that is not a Chan');
  });
});

describe('messages name the channel and the operation (Go-like)', () => {
  it('named and unnamed: closed, close of closed, timeout, cancel, select', async () => {
    const named = new Chan(0, { name: 'jobs' });
    const anon = new Chan(0);
    let e = await rejection(named.recv({ timeout: 10 }));
    expect(e).toBeInstanceOf(TimeoutError);
    expect(e.message).toBe("recv on 'jobs' timed out after 10 ms");
    e = await rejection(anon.send(1, { timeout: 10 }));
    expect(e.message).toBe('send timed out after 10 ms');
    e = thrown(() => named.sendSync(1, { timeout: 5 }));
    expect(e.message).toBe("send on 'jobs' timed out after 5 ms");
    const ac = new AbortController();
    const p = named.recv({ signal: ac.signal });
    ac.abort('bye');
    e = await rejection(p);
    expect(e).toBeInstanceOf(CanceledError);
    expect(e.message).toBe("recv on 'jobs' canceled");
    expect(e.cause).toBe('bye');
    e = await rejection(select([recv(anon)], { timeout: 5 }));
    expect(e.message).toBe('select timed out after 5 ms');

    named.close();
    anon.close();
    for (const f of [() => named.trySend(1), () => named.sendSync(1), () => named.sendManySync?.([1])]) {
      e = await failure(f);
      if (e instanceof TypeError) continue; // sendManySync on a structured channel
      expect(e).toBeInstanceOf(ClosedChannelError);
      expect(e.message).toBe("send on closed channel 'jobs'");
    }
    expect((await rejection(named.send(1))).message).toBe("send on closed channel 'jobs'");
    expect(thrown(() => named.close()).message).toBe("close of closed channel 'jobs'");
    expect(thrown(() => anon.close()).message).toBe('close of closed channel');
    expect(thrown(() => anon.trySend(1)).message).toBe('send on closed channel');
    e = thrown(() => selectSync([null, send(named, 1)]));
    expect(e).toBeInstanceOf(ClosedChannelError);
    expect(e.message).toBe("send on closed channel 'jobs' (select case 1)");
    const num = new Chan(1, { elem: 'f64', name: 'nums' });
    num.close();
    e = await rejection(num.sendMany([1, 2]));
    expect(e.message).toBe("send on closed channel 'nums'");
    expect(e.sent).toBe(0);
  });

  it('a worker that received the channel knows its name', async () => {
    const ch = new Chan(0, { name: 'w' });
    const r = await run('messagesInWorker', ch).done();
    expect(r.name).toBe('w');
    expect(r.timeout).toBe("TimeoutError: recv on 'w' timed out after 1 ms");
    expect(r.close).toBeUndefined(); // the first close succeeded
    expect(r.send).toBe("ClosedChannelError: send on closed channel 'w'");
    expect(thrown(() => ch.close()).message).toBe("close of closed channel 'w'");
  });
});

describe('util.inspect shows kind, name and live state, nothing internal', () => {
  it('Chan and its views', async () => {
    const ch = new Chan(8, { elem: 'f64', name: 'jobs' });
    await ch.send(1);
    await ch.send(2);
    expect(inspect(ch)).toBe("Chan<f64> 'jobs' { length: 2, capacity: 8, closed: false }");
    expect(inspect(ch.recvOnly())).toBe("RecvChan<f64> 'jobs' { length: 2, capacity: 8, closed: false }");
    expect(inspect(ch.sendOnly())).toBe("SendChan<f64> 'jobs' { length: 2, capacity: 8, closed: false }");
    const anon = new Chan();
    anon.close();
    expect(inspect(anon)).toBe('Chan<structured> { length: 0, capacity: 0, closed: true }');
    expect(inspect({ nested: { deeper: { ch } } }, { depth: 0 })).not.toMatch(/_h|External/);
    expect(inspect([ch])).toBe("[ Chan<f64> 'jobs' { length: 2, capacity: 8, closed: false } ]");
    for (const s of [inspect(ch), inspect(ch, { showHidden: true })]) expect(s).not.toMatch(/_h|External|#code/);
  });
});

describe('recvMany / recvManySync accept any positive safe integer max', () => {
  it('huge max returns what is there; bad max still throws', async () => {
    const ch = new Chan(4, { elem: 'i32' });
    ch.sendManySync([1, 2, 3]);
    expect(Array.from(ch.recvManySync(2 ** 31))).toEqual([1, 2, 3]);
    ch.sendManySync([4]);
    expect(Array.from(await ch.recvMany(Number.MAX_SAFE_INTEGER))).toEqual([4]);
    for (const bad of [0, -1, 1.5, NaN, Infinity, 2 ** 53]) {
      expect(thrown(() => ch.recvManySync(bad))).toBeInstanceOf(RangeError);
      expect(thrown(() => ch.recvMany(bad))).toBeInstanceOf(RangeError);
    }
    const w = run('recvManyHuge', ch);
    await ch.send(9);
    expect(await w.done()).toEqual([9]);
  });
});

describe('the published .d.ts has no internals', () => {
  it('every dist/**/*.d.ts (but the codec wire types in dist/internal/codec*.d.ts)', () => {
    const dist = new URL('../dist/', import.meta.url);
    const files = readdirSync(dist, { recursive: true })
      .map((f) => String(f).split(sep).join('/'))
      .filter((f) => f.endsWith('.d.ts') && !/^internal\/codec/.test(f));
    expect(files).toContain('index.d.ts');
    expect(files).toContain('chan/chan.d.ts');
    for (const f of files) {
      const text = readFileSync(new URL(f, dist), 'utf8');
      for (const bad of [/\b_h\b/, /_adopt/, /_enc\b/, /_dec\b/, /_elemCode/, /_checkSend/, /_tag\b/, /\b_is\b/, /_parent/, /_cause/,
        /lastEncRefs/, /decodeScratch/, /registerKind/, /wrapHandle/, /fromHandle/, /\bADOPT\b/, /timerStats/, /signalSources/,
        /contextOf/, /selectUntilDone/, /throwForCode/, /\bnative\b:/, /payload:/]) {
        expect(text, `${f} ${bad}`).not.toMatch(bad);
      }
    }
    const index = readFileSync(new URL('index.d.ts', dist), 'utf8');
    for (const name of ['Chan', 'select', 'selectSync', 'recv', 'send', 'Timer', 'Ticker', 'after', 'afterFunc', 'sleep', 'sleepSync',
      'background', 'withCancel', 'withTimeout', 'withDeadline', 'withValue', 'cause', 'MisuseError']) {
      expect(index, name).toMatch(new RegExp(`\\b${name}\\b`));
    }
  });
});
