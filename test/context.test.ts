// API.md §6: background / withCancel / withTimeout / withDeadline / withValue / cause, with the
// context tree shared across threads. Ports the ideas of Go's context/context_test.go.
import { describe, it, expect, afterEach } from 'vitest';
import { fixture } from './fixture.js';
import {
  Chan, share, select, recv, sleep,
  background, withCancel, withTimeout, withDeadline, withValue, cause,
  CanceledError, DeadlineExceededError, TimeoutError,
} from 'weft';
import type { Context } from 'weft';
import { spawnWith, cleanup, delay, flags, within, rejection, thrown, until, track } from './helpers.js';

afterEach(cleanup);

const MODULE = fixture('ctx-scenarios');
const run = (fn: string, ...args: unknown[]) => spawnWith({ module: MODULE }, fn, ...args);
const setFlag = (fl: Int32Array, i = 0, v = 1) => { Atomics.store(fl, i, v); Atomics.notify(fl, i); };
/** Blocks the main thread until fl[i] >= v (bounded). */
function waitFlagSync(fl: Int32Array, i: number, v = 1, ms = 20_000) {
  const end = Date.now() + ms;
  while (Atomics.load(fl, i) < v) {
    if (Date.now() > end) throw new Error(`flag ${i} never set`);
    Atomics.wait(fl, i, Atomics.load(fl, i), 20);
  }
}
const doneState = (ctx: Context) => {
  const r = ctx.done().tryRecv();
  return r.ok ? 'value?!' : r.closed ? 'closed' : 'open';
};
const LATE = 2000;
const EARLY = 5;

describe('argument checks', () => {
  it('TypeError for a parent that is not a Context, naming `parent`', () => {
    for (const bad of [null, undefined, {}, 'ctx', 1, new Chan()]) {
      for (const f of [
        () => withCancel(bad as never),
        () => withTimeout(bad as never, 10),
        () => withDeadline(bad as never, Date.now() + 10),
        () => withValue(bad as never, 'k', 1),
      ]) {
        const e = thrown(f);
        expect(e).toBeInstanceOf(TypeError);
        expect(e.message).toMatch(/parent/);
      }
      expect(thrown(() => cause(bad as never))).toBeInstanceOf(TypeError);
    }
    // a duck-typed object is not a Context
    const fake = { done: () => new Chan(), err: () => null, deadline: () => undefined, value: () => undefined, signal: new AbortController().signal };
    expect(thrown(() => withCancel(fake as never))).toBeInstanceOf(TypeError);
  });

  it('TypeError / RangeError for bad ms and deadlines', () => {
    const bg = background();
    expect(thrown(() => withTimeout(bg, '10' as never))).toBeInstanceOf(TypeError);
    expect(thrown(() => withTimeout(bg, undefined as never))).toBeInstanceOf(TypeError);
    expect(thrown(() => withTimeout(bg, NaN))).toBeInstanceOf(RangeError);
    expect(thrown(() => withDeadline(bg, '1' as never))).toBeInstanceOf(TypeError);
    expect(thrown(() => withDeadline(bg, new Date() as never))).toBeInstanceOf(TypeError);
    expect(thrown(() => withDeadline(bg, NaN))).toBeInstanceOf(RangeError);
  });

  it('the same in a worker', async () => {
    expect(await run('badArgs').done()).toEqual(['TypeError', 'TypeError', 'TypeError']);
  });
});

describe('background', () => {
  it('is never done, has no deadline, no values, no error, no cause', async () => {
    const bg = background();
    expect(bg.err()).toBeNull();
    expect(bg.deadline()).toBeUndefined();
    expect(bg.value('x')).toBeUndefined();
    expect(bg.value(Symbol.for('x'))).toBeUndefined();
    expect(cause(bg)).toBeNull();
    expect(bg.signal.aborted).toBe(false);
    expect(doneState(bg)).toBe('open');
    await expect(bg.done().recv({ timeout: 50 })).rejects.toBeInstanceOf(TimeoutError);
    expect(bg.done().closed).toBe(false);
  });

  it('is never done in a worker either', async () => {
    const r = await run('info', background(), ['x']).done();
    expect(r).toMatchObject({ isCtx: true, err: null, done: 'open', deadline: undefined, values: [undefined], cause: null, aborted: false });
  });
});

describe('withCancel', () => {
  it('cancel closes done(), sets err() to CanceledError, aborts the signal; idempotent', async () => {
    const [ctx, cancel] = withCancel(background());
    expect(ctx.err()).toBeNull();
    expect(cause(ctx)).toBeNull();
    expect(doneState(ctx)).toBe('open');
    expect(ctx.deadline()).toBeUndefined();
    const sig = ctx.signal;
    cancel();
    const e = ctx.err();
    expect(e).toBeInstanceOf(CanceledError);
    expect(e?.code).toBe('ERR_WEFT_CANCELED');
    expect(e?.name).toBe('CanceledError');
    expect(doneState(ctx)).toBe('closed');
    expect(await ctx.done().recvOk()).toEqual({ value: undefined, ok: false });
    expect(sig.aborted).toBe(true);
    expect(sig.reason).toBe(ctx.err());
    expect(cause(ctx)).toBe(ctx.err()); // no cause given: cause is err()
    cancel();
    cancel('late');
    expect(ctx.err()).toBeInstanceOf(CanceledError);
    expect(cause(ctx)).toBe(ctx.err());
  });

  it('cancel keeps the first cause; cause() returns it (same object in this thread)', () => {
    const [ctx, cancel] = withCancel(background());
    const why = new Error('first');
    cancel(why);
    cancel(new Error('second'));
    expect(cause(ctx)).toBe(why);
    expect(ctx.err()).toBeInstanceOf(CanceledError);
    // a non-cloneable cause is fine in-thread
    const [c2, cancel2] = withCancel(background());
    const fn = () => 1;
    cancel2(fn);
    expect(cause(c2)).toBe(fn);
  });

  it('children are canceled with their parents, synchronously, down a deep chain and a wide fan', () => {
    const [root, cancel] = withCancel(background());
    let leaf = root;
    for (let i = 0; i < 300; i++) leaf = i % 3 === 1 ? withValue(leaf, 'k', i) : withCancel(leaf)[0];
    const fan = Array.from({ length: 300 }, () => withCancel(root)[0]);
    const sig = leaf.signal;
    const why = { reason: 'shutdown' };
    cancel(why);
    // right after cancel() returned, with no event loop turn
    expect(leaf.err()).toBeInstanceOf(CanceledError);
    expect(doneState(leaf)).toBe('closed');
    expect(sig.aborted).toBe(true);
    expect(sig.reason).toBe(leaf.err());
    expect(cause(leaf)).toBe(why); // descendants inherit the cause
    for (const c of fan) expect(c.err()).not.toBeNull();
  });

  it('canceling a child does not affect the parent or siblings', () => {
    const [p, cancelP] = withCancel(background());
    const [a, cancelA] = withCancel(p);
    const [b] = withCancel(p);
    const [aa] = withCancel(a);
    cancelA('a');
    expect(a.err()).toBeInstanceOf(CanceledError);
    expect(aa.err()).toBeInstanceOf(CanceledError);
    expect(cause(aa)).toBe('a');
    expect(p.err()).toBeNull();
    expect(b.err()).toBeNull();
    cancelP('p');
    expect(cause(b)).toBe('p');
    expect(cause(a)).toBe('a'); // the first cancel stays
  });

  it('a child of an already-canceled parent is canceled at once (Go TestWithCancelCanceledParent)', () => {
    const [p, cancel] = withCancel(background());
    cancel('gone');
    const [c] = withCancel(p);
    expect(c.err()).toBeInstanceOf(CanceledError);
    expect(doneState(c)).toBe('closed');
    expect(cause(c)).toBe('gone');
    const [d] = withTimeout(p, 10_000);
    expect(d.err()).toBeInstanceOf(CanceledError);
    const v = withValue(p, 'k', 1);
    expect(v.err()).toBeInstanceOf(CanceledError);
    expect(v.signal.aborted).toBe(true);
  });

  it('layers of value/cancel/timeout contexts (Go TestLayersCancel): a cancel in the middle cancels only below', () => {
    const k1 = {};
    const c1 = withValue(background(), k1, 'v1');
    const [c2, cancel2] = withCancel(c1);
    const [c3] = withTimeout(c2, 10_000);
    const c4 = withValue(c3, 'k4', 'v4');
    const [c5] = withCancel(c4);
    expect(c5.value(k1)).toBe('v1');
    expect(c5.value('k4')).toBe('v4');
    expect(c2.value('k4')).toBeUndefined();
    cancel2();
    for (const c of [c2, c3, c4, c5]) expect(c.err()).toBeInstanceOf(CanceledError);
    expect(c1.err()).toBeNull();
    expect(c5.value(k1)).toBe('v1'); // values survive cancellation
  });
});

describe('withTimeout / withDeadline', () => {
  it('withTimeout: done after about ms with DeadlineExceededError; deadline() is the ms epoch', async () => {
    const start = Date.now();
    const [ctx] = withTimeout(background(), 60);
    const d = ctx.deadline();
    expect(d).toBeGreaterThanOrEqual(start + 60 - EARLY);
    expect(d).toBeLessThanOrEqual(Date.now() + 60 + EARLY);
    expect(ctx.err()).toBeNull();
    const sig = ctx.signal;
    const r = await ctx.done().recvOk({ timeout: 10_000 });
    expect(r.ok).toBe(false);
    expect(Date.now() - start).toBeGreaterThanOrEqual(60 - EARLY);
    expect(Date.now() - start).toBeLessThan(LATE);
    const e = ctx.err();
    expect(e).toBeInstanceOf(DeadlineExceededError);
    expect(e?.code).toBe('ERR_WEFT_DEADLINE');
    expect(e?.name).toBe('DeadlineExceededError');
    expect(cause(ctx)).toBe(e);
    await until(() => sig.aborted, 5000, 'signal');
    expect(sig.reason).toBe(e);
  });

  it('withDeadline: the given deadline; a past deadline is exceeded at once', () => {
    const at = Date.now() + 10_000;
    const [ctx, cancel] = withDeadline(background(), at);
    expect(ctx.deadline()).toBe(at);
    cancel();
    expect(ctx.err()).toBeInstanceOf(CanceledError);
  });

  it('a deadline already past is exceeded at once, synchronously (Go: WithDeadline cancels before returning)', () => {
    // 200 tries so that a native timer thread racing the check cannot hide the bug
    const late: unknown[] = [];
    for (let i = 0; i < 200; i++) {
      const [past] = i % 3 === 0 ? withDeadline(background(), Date.now() - 10)
        : i % 3 === 1 ? withTimeout(background(), 0) : withTimeout(background(), -5);
      if (!(past.err() instanceof DeadlineExceededError) || doneState(past) !== 'closed') late.push(i);
    }
    expect(late).toEqual([]);
  });

  it('a child deadline is never later than its parent\'s; an earlier child deadline fires alone', async () => {
    const [p] = withTimeout(background(), 150);
    const [later] = withTimeout(p, 60_000);
    const [laterAbs] = withDeadline(p, Date.now() + 60_000);
    expect(later.deadline()).toBe(p.deadline());
    expect(laterAbs.deadline()).toBe(p.deadline());
    const [child] = withCancel(p);
    const [earlier] = withTimeout(p, 30);
    expect(earlier.deadline()!).toBeLessThan(p.deadline()!);
    await earlier.done().recvOk({ timeout: 10_000 });
    expect(earlier.err()).toBeInstanceOf(DeadlineExceededError);
    expect(p.err()).toBeNull();
    for (const c of [p, later, laterAbs, child]) {
      await c.done().recvOk({ timeout: 10_000 });
      expect(c.err()).toBeInstanceOf(DeadlineExceededError);
    }
    expect(cause(child)).toBeInstanceOf(DeadlineExceededError);
  });

  it('deadline() of a withCancel / withValue child is the inherited deadline (Go: ctx.Deadline() of a child)', async () => {
    const [p, cancel] = withTimeout(background(), 60_000);
    const [child] = withCancel(p);
    const v = withValue(p, 'k', 1);
    const [grand] = withCancel(v);
    expect(child.deadline()).toBe(p.deadline());
    expect(v.deadline()).toBe(p.deadline());
    expect(grand.deadline()).toBe(p.deadline());
    expect((await run('info', grand).done()).deadline).toBe(p.deadline());
    cancel();
  });

  it('cancel before the deadline: CanceledError, and it stays so after the deadline passes', async () => {
    const [ctx, cancel] = withTimeout(background(), 40);
    cancel('early');
    expect(ctx.err()).toBeInstanceOf(CanceledError);
    await delay(80);
    expect(ctx.err()).toBeInstanceOf(CanceledError);
    expect(cause(ctx)).toBe('early');
    // and cancel after the deadline keeps DeadlineExceededError
    const [d, cancelD] = withTimeout(background(), 1);
    await d.done().recvOk({ timeout: 10_000 });
    cancelD('too late');
    expect(d.err()).toBeInstanceOf(DeadlineExceededError);
    expect(cause(d)).toBeInstanceOf(DeadlineExceededError);
  });

  it('deadline() is the same number in a worker', async () => {
    const [ctx, cancel] = withTimeout(background(), 30_000);
    const r = await run('info', ctx).done();
    expect(r.deadline).toBe(ctx.deadline());
    expect(r.err).toBeNull();
    cancel();
  });
});

describe('withValue', () => {
  it('identity keys within a thread; distinct objects never collide', () => {
    const k1 = {};
    const k2 = {};
    const sym = Symbol('local');
    const obj = { big: 'object' };
    const ctx = withValue(withValue(withValue(background(), k1, obj), k2, 'two'), sym, 'sym');
    expect(ctx.value(k1)).toBe(obj); // the very object, not a copy
    expect(ctx.value(k2)).toBe('two');
    expect(ctx.value(sym)).toBe('sym');
    expect(ctx.value({})).toBeUndefined();
    expect(ctx.value(Symbol('local'))).toBeUndefined();
    expect(ctx.value('k1')).toBeUndefined();
    // any value works as a key in-thread, and any value as a value (even non-cloneable)
    const fn = () => 'f';
    const c2 = withValue(ctx, 1, fn);
    expect(c2.value(1)).toBe(fn);
    expect(c2.value('1')).toBeUndefined();
  });

  it('shadowing: the nearest value wins; the parent keeps its own', () => {
    const c1 = withValue(background(), 'k', 1);
    const c2 = withValue(c1, 'k', 2);
    const [c3] = withCancel(c2);
    expect(c1.value('k')).toBe(1);
    expect(c2.value('k')).toBe(2);
    expect(c3.value('k')).toBe(2);
    const s = Symbol.for('weft.test.shadow');
    const c4 = withValue(withValue(c3, s, 'a'), s, 'b');
    expect(c4.value(s)).toBe('b');
    expect(c4.value('k')).toBe(2);
    expect(withValue(c4, 'k', undefined).value('k')).toBeUndefined();
  });

  it('across threads: string and Symbol.for keys find structured clones; object and local-symbol keys do not', async () => {
    const objKey = {};
    const local = Symbol('nope');
    const value = { deep: [1, { two: 2n }], when: new Date(7), m: new Map([['a', 1]]) };
    let ctx = withValue(background(), 'str', value);
    ctx = withValue(ctx, Symbol.for('weft.test.sym'), 'symval');
    ctx = withValue(ctx, objKey, 'obj');
    ctx = withValue(ctx, local, 'local');
    ctx = withValue(withValue(ctx, 'shadow', 'old'), 'shadow', 'new');
    const [leaf] = withCancel(ctx);
    const r = await run('lookup', leaf, ['str', { y: 'weft.test.sym' }, 'shadow', 'missing', { y: 'nope' }], 'str').done();
    expect(r).toEqual([value, 'symval', 'new', undefined, undefined]);
    // the worker mutated its copy only
    expect((leaf.value('str') as { mutated?: unknown }).mutated).toBeUndefined();
    expect(leaf.value(objKey)).toBe('obj');
    expect(leaf.value(local)).toBe('local');
  });

  it('a weft object as a value passes by reference', async () => {
    const ch = new Chan(1);
    const ctx = withValue(background(), 'results', ch);
    expect(ctx.value('results')).toBe(ch);
    expect(await run('sendOnValueChan', ctx, 'results', 'hello').done()).toEqual({ isChan: true });
    expect(await ch.recv({ timeout: 10_000 })).toBe('hello');
  });

  it('a context made in a worker: main sees its values, its cancel and its cause', async () => {
    const out = new Chan<Context>();
    const w = run('makeValueCtx', out);
    const ctx = (await out.recv({ timeout: 10_000 }))!;
    await w.done();
    expect(ctx.value('str')).toEqual({ deep: [1, 'x'] });
    expect(ctx.value(Symbol.for('weft.test.sym'))).toBe(42);
    expect(ctx.value('ch')).toBeInstanceOf(Chan);
    expect(ctx.value('missing')).toBeUndefined();
    expect(ctx.err()).toBeInstanceOf(CanceledError);
    expect(cause(ctx)).toBe('from worker');
  });
});

describe('ctx.signal', () => {
  it('aborts synchronously after a local cancel, with err() as reason (also for a child)', () => {
    const [p, cancel] = withCancel(background());
    const [c] = withCancel(p);
    const ps = p.signal;
    const cs = c.signal;
    expect(ps).toBe(p.signal);
    expect(ps.aborted).toBe(false);
    let fired = 0;
    cs.addEventListener('abort', () => fired++);
    cancel();
    expect(ps.aborted).toBe(true);
    expect(ps.reason).toBe(p.err());
    expect(cs.aborted).toBe(true);
    expect(cs.reason).toBe(c.err());
    expect(fired).toBe(1);
    // asked for after the cancel: already aborted
    const [d] = withCancel(p);
    expect(d.signal.aborted).toBe(true);
  });

  it('a cancel from another thread aborts it once the event loop runs', async () => {
    const [p] = withCancel(background());
    const out = new Chan<Context>();
    const fl = flags();
    const w = run('childThenCancel', p, out, fl, 'remote');
    const ctx = (await out.recv({ timeout: 10_000 }))!;
    const [mine] = withCancel(ctx);
    const s = ctx.signal;
    const ms = mine.signal;
    setFlag(fl, 0);
    await until(() => s.aborted && ms.aborted, 10_000, 'signals to abort');
    expect(s.reason).toBeInstanceOf(CanceledError);
    expect(s.reason).toBe(ctx.err());
    expect(ms.reason).toBe(mine.err());
    expect(cause(mine)).toBe('remote');
    expect(p.err()).toBeNull();
    await w.done();
  });

  it('a deadline aborts it with DeadlineExceededError', async () => {
    const [ctx] = withTimeout(background(), 30);
    const s = ctx.signal;
    await within(new Promise((r) => s.addEventListener('abort', r)), 10_000, 'abort');
    expect(s.reason).toBeInstanceOf(DeadlineExceededError);
    expect(s.reason).toBe(ctx.err());
  });

  it('{ signal: ctx.signal } makes weft waits fail with the context error (recv, send, select, sleep)', async () => {
    const [ctx, cancel] = withCancel(background());
    const ch = new Chan();
    const out = new Chan();
    const ops = [
      track(ch.recv({ signal: ctx.signal })),
      track(out.send(1, { signal: ctx.signal })),
      track(select([recv(ch), recv(new Chan())], { signal: ctx.signal })),
      track(sleep(60_000, { signal: ctx.signal })),
    ];
    await delay(20);
    for (const o of ops) expect(o.state).toBe('pending');
    cancel('stop');
    for (const o of ops) {
      const e = await rejection(o.promise);
      expect(e).toBeInstanceOf(CanceledError);
      expect(e).toBe(ctx.err());
    }
    expect(ch.trySend(1)).toBe(false); // nobody left waiting
    expect(out.tryRecv().ok).toBe(false);
    // already canceled: fails at once even if it could complete
    const b = new Chan(1);
    b.trySend('x');
    await expect(b.recv({ signal: ctx.signal })).rejects.toBe(ctx.err());
    expect(b.length).toBe(1);
  });

  it('{ signal: ctx.signal } with a deadline reports DeadlineExceededError', async () => {
    const [ctx] = withTimeout(background(), 40);
    const e = await rejection(new Chan().recv({ signal: ctx.signal }));
    expect(e).toBeInstanceOf(DeadlineExceededError);
    expect(e).toBe(ctx.err());
    const e2 = await rejection(select([recv(new Chan())], { signal: ctx.signal }));
    expect(e2).toBeInstanceOf(DeadlineExceededError);
  });

  it('in a worker: its signal aborts, and its async waits fail, when main cancels', async () => {
    const [ctx, cancel] = withCancel(background());
    const a = run('awaitSignal', ctx);
    const b = run('recvWithSignal', ctx, new Chan());
    await a.event('listening');
    await b.event('waiting');
    await delay(30);
    cancel();
    expect(await a.done()).toEqual({ reason: 'CanceledError', same: true });
    const r = await b.done();
    expect(r.error.kinds).toContain('CanceledError');
    expect(r.same).toBe(true);
  });

  it('in a worker: recvManySync, recvManyIntoSync and sendManySync blocked with { signal: ctx.signal } fail when main cancels', async () => {
    for (const op of ['recvManySync', 'recvManyIntoSync', 'sendManySync']) {
      const [ctx, cancel] = withCancel(background());
      const ch = new Chan<number, 'f64'>(2, { elem: 'f64' });
      if (op === 'sendManySync') ch.trySend(0); // room for one of the three values
      const w = run('batchSyncWithSignal', ctx, ch, op);
      await w.event('waiting');
      await delay(50);
      cancel();
      const r = await within(w.done(), 10_000, op);
      expect(r.error?.kinds, op).toContain('CanceledError');
      expect(r.error?.kinds, op).not.toContain('TimeoutError'); // the cancel ended it, not its own 20 s timeout
      if (op === 'sendManySync') {
        expect(r.sent).toBe(1);
        expect(r.same).toBe(false); // a copy carries `sent`, the context's error stays as it was
        expect((ctx.err() as { sent?: number }).sent).toBeUndefined();
        expect([ch.tryRecv().value, ch.tryRecv().value, ch.tryRecv().ok]).toEqual([0, 1, false]);
      } else {
        expect(r.same).toBe(true);
      }
    }
  });

  it('blocking batch calls on main with a context deadline fail with DeadlineExceededError', () => {
    const ch = new Chan<number, 'f64'>(1, { elem: 'f64' });
    for (const call of [
      (s: AbortSignal) => ch.recvManySync(4, { signal: s, timeout: 20_000 }),
      (s: AbortSignal) => ch.recvManyIntoSync(new Float64Array(4), { signal: s, timeout: 20_000 }),
    ]) {
      const [ctx] = withTimeout(background(), 30);
      let e: unknown;
      try { call(ctx.signal); } catch (x) { e = x; }
      expect(e).toBe(ctx.err()); // the deadline ended it, not its own 20 s timeout
      expect(e).toBeInstanceOf(DeadlineExceededError);
    }
    ch.trySend(1);
    const [ctx] = withTimeout(background(), 30);
    let e: unknown;
    try { ch.sendManySync([2, 3], { signal: ctx.signal, timeout: 20_000 }); } catch (x) { e = x; }
    expect(e).toBeInstanceOf(DeadlineExceededError);
    expect((e as { sent?: number }).sent).toBe(0);
    // values that are ready come back at once, as without a signal
    const [live] = withTimeout(background(), 20_000);
    expect(Array.from(ch.recvManySync(4, { signal: live.signal }))).toEqual([1]);
  });

  it('sendMany that gives up on a shared context error reports its own `sent`', async () => {
    const [ctx, cancel] = withCancel(background());
    const a = new Chan<number, 'f64'>(2, { elem: 'f64' });
    const b = new Chan<number, 'f64'>(0, { elem: 'f64' });
    const pa = rejection(a.sendMany([1, 2, 3, 4], { signal: ctx.signal }));
    const pb = rejection(b.sendMany([1, 2], { signal: ctx.signal }));
    await delay(20);
    cancel();
    const [ea, eb] = (await Promise.all([pa, pb])) as (Error & { sent?: number })[];
    expect(ea).toBeInstanceOf(CanceledError);
    expect(eb).toBeInstanceOf(CanceledError);
    expect([ea!.sent, eb!.sent]).toEqual([2, 0]);
    expect((ea as { code?: string }).code).toBe((ctx.err() as { code?: string }).code);
    expect(ea!.message).toBe(ctx.err()!.message);
    expect((ctx.err() as { sent?: number }).sent).toBeUndefined();
    // already canceled: nothing sent, and `sent` says so
    const late = rejection(a.sendMany([9], { signal: ctx.signal }));
    expect(((await late) as { sent?: number }).sent).toBe(0);
  });

  it('a never-canceled context\'s signal does not keep a worker alive', async () => {
    const base = run('nothing');
    await base.done();
    await within(base.exited, 10_000, 'baseline worker exit');
    const [ctx, cancel] = withCancel(background());
    const w = run('touchSignal', ctx);
    expect(await w.done()).toEqual([false, false, false]);
    await within(w.exited, 10_000, 'worker exit with live context signals');
    cancel();
  });
});

describe('across threads', () => {
  it('a worker blocked in selectSync on ctx.done() wakes when main cancels; it sees err() and the cloned cause', async () => {
    const [ctx, cancel] = withCancel(background());
    const w = run('blockOnDone', ctx, 'select');
    await w.event('blocking');
    await delay(50);
    cancel({ code: 42, msg: 'bye' });
    const r = await w.done();
    expect(r.r).toEqual({ index: 1, value: undefined, ok: false });
    expect(r.err).toBe('CanceledError');
    const info = await run('info', ctx).done();
    expect(info).toMatchObject({ err: 'CanceledError', done: 'closed', cause: { code: 42, msg: 'bye' }, aborted: true });
  });

  it('a worker blocked in recvSync/selectSync on done() wakes when the deadline passes, while main is blocked too', async () => {
    const [ctx] = withTimeout(background(), 150);
    const a = run('blockOnDone', ctx, 'select');
    const b = run('blockOnDone', ctx, 'recv');
    await a.event('blocking');
    await b.event('blocking');
    // main blocks too: every thread is in a *Sync call when the deadline passes
    const [mine] = withTimeout(ctx, 60_000);
    const r = mine.done().recvOkSync({ timeout: 10_000 });
    expect(r.ok).toBe(false);
    expect(mine.err()).toBeInstanceOf(DeadlineExceededError);
    for (const w of [a, b]) {
      const x = await w.done();
      expect(x.err).toBe('DeadlineExceededError');
      expect(x.elapsed).toBeLessThan(LATE + 150);
    }
  });

  it('a context sent through a channel shares its done channel', async () => {
    const [ctx, cancel] = withCancel(background());
    const inbox = new Chan(1);
    const w = run('ctxFromChan', inbox);
    await inbox.send(ctx);
    await w.event('got');
    await delay(30);
    cancel('via chan');
    expect(await w.done()).toEqual({ ok: false, err: 'CanceledError', cause: 'via chan' });
  });

  it('contexts inside share()d structures', async () => {
    const [a, cancelA] = withCancel(background());
    const b = withValue(a, 'k', 'v');
    const [c] = withTimeout(b, 60_000);
    cancelA();
    const r = await run('allDone', [a, b, c, background()]).done();
    expect(r).toEqual([['CanceledError', 'closed'], ['CanceledError', 'closed'], ['CanceledError', 'closed'], [null, 'open']]);
    // share() itself walks plain objects and arrays
    const s = share({ list: [a, { c }] });
    expect(s.list).toHaveLength(2);
  });

  it('a cancel in another thread is visible synchronously: right after it returns, descendants in this thread are canceled', async () => {
    const [p] = withCancel(background());
    const out = new Chan<Context>();
    const fl = flags();
    const w = run('childThenCancel', p, out, fl, { why: 'x' });
    const ctx = (await out.recv({ timeout: 10_000 }))!;
    const [child] = withCancel(ctx);
    const grand = withValue(child, 'k', 1);
    setFlag(fl, 0);
    waitFlagSync(fl, 1); // the worker's cancel() has returned; no event loop turn here
    expect(grand.err()).toBeInstanceOf(CanceledError);
    expect(doneState(grand)).toBe('closed');
    expect(cause(grand)).toEqual({ why: 'x' });
    expect(await w.done()).toMatchObject({ err: 'CanceledError', cause: { why: 'x' } });
  });

  it('a cancel on main is visible synchronously in a worker\'s descendants', async () => {
    const [p, cancel] = withCancel(background());
    const fl = flags();
    const w = run('childSeesCancelSync', p, fl);
    await within((async () => { while (Atomics.load(fl, 0) === 0) await delay(2); })(), 10_000, 'child');
    cancel();
    setFlag(fl, 1);
    expect(await w.done()).toEqual({ child: 'CanceledError', grand: 'CanceledError', done: 'closed' });
  });

  it('a thread that sees the parent canceled (done() closed) also sees every descendant canceled', async () => {
    const [p, cancel] = withCancel(background());
    const kids: Context[] = [];
    // a wide fan makes the window between "parent is done" and "last child is done" visible
    for (let i = 0; i < 10_000; i++) kids.push(withCancel(i % 10 === 9 ? kids[i - 1] : p)[0]);
    const w = run('observeParentThenKids', p, kids);
    await w.event('blocking');
    await delay(50);
    cancel();
    expect(await w.done()).toEqual({ ok: false, parentErr: 'CanceledError', errNull: 0, open: 0 });
  });

  it('a tree of hundreds of contexts, built in three threads, canceled from all of them at once: every done() closes', async () => {
    const [root, cancelRoot] = withCancel(background());
    const out = new Chan<Context[]>(2);
    const go = flags();
    const N = 250;
    const ws = [run('cancelTree', root, N, out, go, 7), run('cancelTree', root, N, out, go, 11)];
    // main's own part of the tree
    const mine: [Context, (cause?: unknown) => void][] = [];
    for (let i = 0; i < N; i++) {
      const parent = i === 0 || i % 4 === 0 ? root : mine[(i * 7) % mine.length][0];
      mine.push(withCancel(parent));
    }
    const theirs = [...(await out.recv({ timeout: 20_000 }))!, ...(await out.recv({ timeout: 20_000 }))!];
    // grandchildren on main under the workers' contexts
    const extra = theirs.filter((_, i) => i % 5 === 0).map((c) => withCancel(c)[0]);
    setFlag(go);
    for (let i = 0; i < mine.length; i++) {
      if (i === 60) cancelRoot('root');
      if (i % 2) mine[i][1]('main');
    }
    const results = await Promise.all(ws.map((w) => w.done(30_000)));
    for (const r of results) expect(r).toEqual({ notDone: [], n: N });
    const all = [...mine.map((m) => m[0]), ...theirs, ...extra];
    const open = all.filter((c) => c.err() === null || doneState(c) !== 'closed');
    expect(open).toHaveLength(0);
    expect(all.length).toBe(3 * N + extra.length);
  }, 60_000);

  it('children created in a worker while main cancels their parent all end canceled', async () => {
    for (let round = 0; round < 3; round++) {
      const [p, cancel] = withCancel(background());
      const fl = flags();
      const w = run('createWhileCanceled', p, 3000, fl);
      await within((async () => { while (Atomics.load(fl, 0) === 0) await delay(1); })(), 10_000, 'start');
      cancel();
      setFlag(fl, 1);
      const r = await w.done();
      expect(r).toEqual({ pending: [], n: 3000 });
    }
  });

  it('cause across threads: first cause wins; non-cloneable causes fall back to err() elsewhere', async () => {
    const [p, cancelP] = withCancel(background());
    const [c, cancelC] = withCancel(p);
    cancelC('child first');
    cancelP('parent second');
    const r = await run('info', c).done();
    expect(r.cause).toBe('child first');
    const rp = await run('info', p).done();
    expect(rp.cause).toBe('parent second');
    const [f, cancelF] = withCancel(background());
    cancelF(() => 'not cloneable');
    expect(typeof cause(f)).toBe('function');
    const rf = await run('info', f).done();
    expect(rf.err).toBe('CanceledError');
    expect(rf.cause).toEqual({ errorName: 'CanceledError' });
  });
});
