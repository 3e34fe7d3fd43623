// Issue 7, contexts (API.md §6): withValue refuses a value that cannot cross threads, the
// context's signal takes any number of listeners, weft's TypeError for a wrong `this`, and
// util.inspect shows err/deadline only.
import { describe, it, expect, afterEach } from 'vitest';
import { fixture } from './fixture.js';
import { inspect } from 'node:util';
import {
  Chan, background, withCancel, withTimeout, withValue, sleep, select, recv, DataCloneError, CanceledError,
} from 'weft';
import { spawnWith, cleanup, within, rejection, thrown, delay } from './helpers.js';

const MODULE = fixture('contract-scenarios');
const run = (fn: string, ...args: unknown[]) => spawnWith({ module: MODULE }, fn, ...args);

afterEach(cleanup);

describe('withValue: a value that cannot cross threads throws DataCloneError at withValue', () => {
  it('string and Symbol.for keys: functions, symbols and other non-cloneables are refused synchronously', () => {
    const parent = withValue(background(), 'ok', 1);
    for (const key of ['k', Symbol.for('weft.contract.k')]) {
      for (const bad of [() => 1, Symbol('s'), { nested: [() => 2] }, new WeakMap()]) {
        const e = thrown(() => withValue(parent, key, bad));
        expect(e).toBeInstanceOf(DataCloneError);
        expect(e).toBeInstanceOf(TypeError);
        expect(e.code).toBe('ERR_WEFT_CLONE');
        expect(e.message).toMatch(/withValue/);
      }
    }
    expect(parent.value('k')).toBeUndefined();
  });

  it('keys that never leave this thread (objects, numbers, local symbols) still take any value', () => {
    const fn = () => 1;
    const key = {};
    const ctx = withValue(withValue(background(), key, fn), Symbol('local'), fn);
    expect(ctx.value(key)).toBe(fn);
  });

  it('a cloneable value under a string key is read in a worker; nothing is silently undefined', async () => {
    const ctx = withValue(background(), 'cfg', { retries: 3, tags: ['a'] });
    expect(await run('readValue', ctx, 'cfg').done()).toEqual({ type: 'object', value: { retries: 3, tags: ['a'] } });
  });
});

describe('ctx.signal takes any number of listeners', () => {
  it('50 waits on one ctx.signal print no MaxListenersExceededWarning, and all end on cancel', async () => {
    const warnings: Error[] = [];
    const onWarning = (w: Error) => warnings.push(w);
    process.on('warning', onWarning);
    try {
      const [ctx, cancel] = withCancel(background());
      const ch = new Chan();
      const waits: Promise<unknown>[] = [];
      for (let i = 0; i < 20; i++) waits.push(ch.recv({ signal: ctx.signal }));
      for (let i = 0; i < 15; i++) waits.push(sleep(60_000, { signal: ctx.signal }));
      for (let i = 0; i < 15; i++) waits.push(select([recv(ch)], { signal: ctx.signal }));
      await delay(20);
      cancel();
      const errors = await within(Promise.all(waits.map((p) => rejection(p))), 10_000, '50 waits');
      for (const e of errors) expect(e).toBe(ctx.err());
      expect(ctx.err()).toBeInstanceOf(CanceledError);
      await delay(20); // warnings are emitted on next tick
    } finally {
      process.off('warning', onWarning);
    }
    expect(warnings.map((w) => `${w.name}: ${w.message}`)).toEqual([]);
  });
});

describe("contexts: weft's TypeError for a wrong this, and util.inspect", () => {
  it('every public method and the signal getter', () => {
    const proto = Object.getPrototypeOf(background());
    for (const m of ['done', 'err', 'deadline', 'value']) {
      for (const self of [{}, undefined, new Chan(1)]) {
        const e = thrown(() => (proto[m] as (this: unknown, k: string) => unknown).call(self, 'k'));
        expect(e, m).toBeInstanceOf(TypeError);
        expect(e.message).toBe(`Context.${m} called on an object that is not a Context`);
      }
    }
    const get = Object.getOwnPropertyDescriptor(proto, 'signal')!.get!;
    expect(thrown(() => get.call({})).message).toBe('Context.signal called on an object that is not a Context');
    const { err } = withCancel(background())[0];
    expect(thrown(() => err()).message).toBe('Context.err called on an object that is not a Context');
  });

  it('inspect shows err and deadline, nothing internal', () => {
    expect(inspect(background())).toBe('Context.background { err: null }');
    const [c, cancel] = withCancel(background());
    expect(inspect(c)).toBe('Context { err: null }');
    cancel();
    expect(inspect(c)).toBe("Context { err: 'context canceled' }");
    const [t, stop] = withTimeout(background(), 3_600_000);
    expect(inspect(t)).toMatch(/^Context \{ err: null, deadline: '\d{4}-\d\d-\d\dT[\d:.]+Z' \}$/);
    stop();
    const v = withValue(background(), 'k', 1);
    for (const s of [inspect(v), inspect(v, { showHidden: true }), inspect(t, { showHidden: true })]) {
      expect(s).not.toMatch(/_h|External|_parent|_id|_cause/);
    }
  });
});
