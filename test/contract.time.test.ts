// Issue 7, time (API.md §5) and the Infinity / expired-timer / this / inspect parts of the
// contract: Infinity means "no limit" everywhere, NaN stays an error; a timer with ms <= 0 has
// its value ready when the call returns; weft's own TypeError for a wrong `this`.
import { describe, it, expect, afterEach } from 'vitest';
import { fixture } from './fixture.js';
import { inspect } from 'node:util';
import {
  Chan, Timer, Ticker, after, afterFunc, sleep, background, withTimeout, withDeadline, CanceledError,
} from 'weft';
import { spawnWith, cleanup, within, rejection, thrown, delay, track } from './helpers.js';

const MODULE = fixture('contract-scenarios');
const run = (fn: string, ...args: unknown[]) => spawnWith({ module: MODULE }, fn, ...args);

afterEach(cleanup);

describe('Infinity means no limit; NaN is still refused', () => {
  it('sleep(Infinity) waits until its signal aborts', async () => {
    const ac = new AbortController();
    const p = track(sleep(Infinity, { signal: ac.signal }));
    await delay(50);
    expect(p.state).toBe('pending');
    ac.abort('enough');
    const e = await within(rejection(p.promise), 5000, 'sleep(Infinity) abort');
    expect(e).toBeInstanceOf(CanceledError);
    expect(e.cause).toBe('enough');
    expect(e.message).toBe('sleep canceled');
  });

  it('new Timer(Infinity), reset(Infinity) and after(Infinity) never fire; the timer counts as active', async () => {
    const t = new Timer(Infinity);
    const k = new Timer(1);
    expect(k.reset(Infinity)).toBe(true);
    const a = after(Infinity);
    await delay(60);
    expect(t.c.tryRecv().ok).toBe(false);
    expect(k.c.tryRecv().ok).toBe(false);
    expect(a.tryRecv().ok).toBe(false);
    expect(inspect(t)).toBe('Timer { active: true, ready: false }');
    expect(t.stop()).toBe(true); // it was armed
    expect(t.stop()).toBe(false);
    expect(k.reset(5)).toBe(true);
    expect(typeof (await within(k.c.recv(), 10_000, 'reset timer'))).toBe('number');
  });

  it('new Ticker(Infinity) / reset(Infinity) never tick; reset to a finite period ticks again', async () => {
    const k = new Ticker(Infinity);
    await delay(40);
    expect(k.c.tryRecv().ok).toBe(false);
    k.reset(5);
    expect(typeof (await within(k.c.recv(), 10_000, 'tick'))).toBe('number');
    k.reset(Infinity);
    k.c.tryRecv();
    await delay(40);
    expect(k.c.tryRecv().ok).toBe(false);
    k.stop();
  });

  it('withTimeout(ctx, Infinity) and withDeadline(ctx, Infinity) have no deadline; { timeout: Infinity } is no limit', async () => {
    const [a] = withTimeout(background(), Infinity);
    const [b] = withDeadline(background(), Infinity);
    expect(a.deadline()).toBeUndefined();
    expect(b.deadline()).toBeUndefined();
    expect(a.err()).toBeNull();
    const ch = new Chan(1);
    const p = ch.recv({ timeout: Infinity });
    await ch.send('x');
    expect(await p).toBe('x');
  });

  it('NaN throws RangeError everywhere it did', () => {
    expect(thrown(() => sleep(NaN))).toBeInstanceOf(RangeError);
    expect(thrown(() => new Timer(NaN))).toBeInstanceOf(RangeError);
    expect(thrown(() => new Ticker(NaN))).toBeInstanceOf(RangeError);
    expect(thrown(() => after(NaN))).toBeInstanceOf(RangeError);
    expect(thrown(() => withTimeout(background(), NaN))).toBeInstanceOf(RangeError);
    const t = new Timer(1e6);
    expect(thrown(() => t.reset(NaN))).toBeInstanceOf(RangeError);
    t.stop();
  });
});

describe('an expired timer (ms <= 0) has its value ready at once (Go 1.23)', () => {
  it('after(0), new Timer(-5), reset(0): tryRecv succeeds synchronously', () => {
    expect(after(0).tryRecv().ok).toBe(true);
    expect(after(-Infinity).tryRecv().ok).toBe(true);
    const t = new Timer(-5);
    const r = t.c.tryRecv();
    expect(r.ok).toBe(true);
    expect(Math.abs(r.value! - Date.now())).toBeLessThan(60_000);
    expect(t.stop()).toBe(false); // fired and received
    const k = new Timer(1e6);
    expect(k.reset(0)).toBe(true); // it was active
    expect(inspect(k)).toBe('Timer { active: false, ready: true }');
    expect(k.c.tryRecv().ok).toBe(true);
    expect(k.reset(-1)).toBe(false); // fired and received
    // an expired value nobody received is discarded by stop() and counts as stopped
    expect(k.stop()).toBe(true);
    expect(k.c.tryRecv().ok).toBe(false);
  });

  it('afterFunc(0, fn) runs fn soon; on a worker thread too the value is ready at once', async () => {
    let ran = false;
    afterFunc(0, () => { ran = true; });
    await within(new Promise((r) => setTimeout(r, 20)), 5000);
    expect(ran).toBe(true);
    const fromMain = new Timer(0);
    expect(await run('expiredInWorker', fromMain).done()).toEqual({ a: true, b: true, c: true, wasActive: true, main: true });
  });
});

describe("Timer / Ticker: weft's TypeError for a wrong this, and util.inspect", () => {
  it('every public method', () => {
    const cases: [typeof Timer | typeof Ticker, ('stop' | 'reset')[]][] = [[Timer, ['stop', 'reset']], [Ticker, ['stop', 'reset']]];
    for (const [cls, methods] of cases) {
      for (const m of methods) {
        for (const self of [{}, undefined, new Chan(1), cls === Timer ? new Ticker(1e6) : new Timer(1e6)]) {
          const e = thrown(() => (cls.prototype[m] as (this: unknown, d: number) => unknown).call(self, 5));
          expect(e, `${cls.name}.${m}`).toBeInstanceOf(TypeError);
          expect(e.message).toBe(`${cls.name}.${m} called on an object that is not a ${cls.name}`);
        }
      }
    }
    const { stop } = new Timer(1e6);
    expect(thrown(() => stop()).message).toBe('Timer.stop called on an object that is not a Timer');
  });

  it('inspect shows state, not internals', async () => {
    const k = new Ticker(60_000);
    expect(inspect(k)).toBe('Ticker { active: true, period: 60000, ready: false }');
    k.stop();
    expect(inspect(k)).toBe('Ticker { active: false, period: 60000, ready: false }');
    const t = new Timer(60_000);
    expect(inspect(t)).toBe('Timer { active: true, ready: false }');
    expect(inspect(t.c)).toBe('RecvChan<f64> { length: 0, capacity: 1, closed: false }');
    t.stop();
    expect(inspect(t)).toBe('Timer { active: false, ready: false }');
    for (const s of [inspect(t, { showHidden: true }), inspect(k, { showHidden: true })]) expect(s).not.toMatch(/_h|External/);
  });
});
