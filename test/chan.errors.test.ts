// API.md §0/§1: bad input. Wrong types throw TypeError, out-of-range values RangeError,
// both synchronously (also from Promise-returning methods) with a message naming the
// parameter; non-cloneable values throw DataCloneError; numeric channels never coerce.
// After every refused call the channel's contents are unchanged.
import { describe, it, expect, afterEach } from 'vitest';
import * as weft from 'weft';
import type { ElemType } from 'weft';
import { spawn, cleanup, delay, thrown, failure, within, type Caught } from './helpers.js';

const { Chan, ClosedChannelError, DataCloneError } = weft;

afterEach(cleanup);

const ERRORS = {
  ClosedChannelError: 'ERR_WEFT_CLOSED',
  CanceledError: 'ERR_WEFT_CANCELED',
  DeadlineExceededError: 'ERR_WEFT_DEADLINE',
  TimeoutError: 'ERR_WEFT_TIMEOUT',
  BusyError: 'ERR_WEFT_BUSY',
  MisuseError: 'ERR_WEFT_MISUSE',
  DeadlockError: 'ERR_WEFT_DEADLOCK',
  DataCloneError: 'ERR_WEFT_CLONE',
};

/**
 * The channels of this file take bad input on purpose: their element type is left open so a
 * test can pass anything (the checks are at run time).
 */
type LooseChan = weft.Chan<any, ElemType>;

/** A buffered channel holding [1, 2]; check() asserts it still does (and drains it). */
function prefilled(elem?: ElemType, a: unknown = 1, b: unknown = 2): { ch: LooseChan; check(): void } {
  const ch: LooseChan = new Chan<any, ElemType>(4, elem ? { elem } : undefined);
  expect(ch.trySend(a)).toBe(true);
  expect(ch.trySend(b)).toBe(true);
  return {
    ch,
    check() {
      expect(ch.closed).toBe(false);
      expect(ch.length).toBe(2);
      expect(ch.tryRecv()).toEqual({ value: a, ok: true });
      expect(ch.tryRecv()).toEqual({ value: b, ok: true });
      expect(ch.tryRecv()).toEqual({ value: undefined, ok: false, closed: false });
    },
  };
}

function expectArgError(fn: () => unknown, Type: abstract new (...args: never[]) => Error, param?: RegExp): Error {
  const e = thrown(fn);
  expect(e).toBeInstanceOf(Type);
  if (param) expect(e.message).toMatch(param);
  return e;
}

describe('error classes', () => {
  for (const [name, code] of Object.entries(ERRORS)) {
    it(`${name} is exported, has name "${name}" and code ${code}`, () => {
      const C = (weft as unknown as Record<string, new () => Error & { code?: string }>)[name];
      expect(typeof C).toBe('function');
      const e = new C();
      expect(e).toBeInstanceOf(Error);
      expect(e).toBeInstanceOf(C);
      expect(e.name).toBe(name);
      expect(e.code).toBe(code);
      expect(Object.prototype.toString.call(e)).toBe('[object Error]');
    });
  }

  it('DataCloneError is a TypeError', () => {
    expect(new DataCloneError()).toBeInstanceOf(TypeError);
  });
});

describe('constructor arguments', () => {
  it('capacity: wrong type is a TypeError naming capacity', () => {
    for (const bad of ['3', null, {}, 1n, true]) expectArgError(() => new Chan(bad as never), TypeError, /capacity/);
  });

  it('capacity: negative, fractional, infinite or NaN is a RangeError naming capacity', () => {
    for (const bad of [-1, 1.5, Infinity, NaN, -0.5, 2 ** 53]) expectArgError(() => new Chan(bad), RangeError, /capacity/);
  });

  it('capacity undefined means 0', () => {
    expect(new Chan(undefined).capacity).toBe(0);
    expect(new Chan(undefined, { elem: 'f64' }).capacity).toBe(0);
  });

  it('elem: a non-string is a TypeError naming elem; an unknown name throws naming elem', () => {
    for (const bad of [5, {}, true]) expectArgError(() => new Chan(0, { elem: bad as never }), TypeError, /elem/);
    for (const bad of ['u8', 'int32', 'F64', '']) {
      const e = thrown(() => new Chan(0, { elem: bad as never }));
      expect(e instanceof TypeError || e instanceof RangeError).toBe(true);
      expect(e.message).toMatch(/elem/);
    }
  });

  it('opts must be an object; name must be a string', () => {
    expectArgError(() => new Chan(0, 'f64' as never), TypeError);
    expectArgError(() => new Chan(0, { name: 5 as never }), TypeError, /name/);
    expect(new Chan(1, { name: 'jobs', elem: 'structured' }).capacity).toBe(1);
  });
});

describe('wait options', () => {
  // Most options passed here are bad input on purpose, hence `as never`.
  const ops = (ch: LooseChan) => ({
    send: (o?: unknown) => ch.send(3, o as never),
    sendSync: (o?: unknown) => ch.sendSync(3, o as never),
    recv: (o?: unknown) => ch.recv(o as never),
    recvOk: (o?: unknown) => ch.recvOk(o as never),
    recvSync: (o?: unknown) => ch.recvSync(o as never),
    recvOkSync: (o?: unknown) => ch.recvOkSync(o as never),
  });

  it('timeout of the wrong type throws TypeError naming timeout, synchronously, in every flavour', () => {
    const { ch, check } = prefilled();
    for (const [name, op] of Object.entries(ops(ch))) {
      for (const bad of ['x', '10', {}, 1n, true]) {
        const e = thrown(() => op({ timeout: bad }));
        expect(e, `${name} timeout ${String(bad)}`).toBeInstanceOf(TypeError);
        expect(e.message).toMatch(/timeout/);
      }
    }
    check();
  });

  it('timeout NaN or negative: refused with RangeError naming timeout, or treated as already expired; never waits forever', async () => {
    for (const bad of [NaN, -1]) {
      const ch = new Chan();
      const ac = new AbortController();
      let e;
      try {
        e = await within(failure(() => ch.recv({ timeout: bad, signal: ac.signal })), 2000, `recv({ timeout: ${bad} })`);
      } finally {
        ac.abort();
      }
      if (e instanceof RangeError) expect(e.message).toMatch(/timeout/);
      else expect(e).toBeInstanceOf(weft.TimeoutError);
    }
  });

  it('signal that is not an AbortSignal throws TypeError naming signal, synchronously', () => {
    const { ch, check } = prefilled();
    for (const [name, op] of Object.entries(ops(ch))) {
      for (const bad of [{}, 'sig', 1, { aborted: false, addEventListener() {} }]) {
        const e = thrown(() => op({ signal: bad }));
        expect(e, `${name}`).toBeInstanceOf(TypeError);
        expect(e.message).toMatch(/signal/);
      }
    }
    check();
  });

  it('opts that is not an object throws TypeError synchronously', () => {
    const { ch, check } = prefilled();
    for (const [name, op] of Object.entries(ops(ch))) {
      for (const bad of ['x', 5, true]) {
        expect(thrown(() => op(bad)), name).toBeInstanceOf(TypeError);
      }
    }
    check();
  });

  it('undefined options and undefined fields are fine', async () => {
    const ch = new Chan(2);
    await ch.send(1, undefined);
    await ch.send(2, { timeout: undefined, signal: undefined });
    expect(await ch.recv(undefined)).toBe(1);
    expect(ch.recvSync({ timeout: undefined, signal: undefined })).toBe(2);
  });
});

describe('recvMany / sendMany arguments', () => {
  it('recvManyInto: dst must be the channel\'s typed array (TypeError naming dst) and not empty (RangeError); nothing is taken', async () => {
    const { ch, check } = prefilled('i32');
    for (const bad of [undefined, null, 3, [1, 2], new Float64Array(4), new Uint32Array(4), new DataView(new ArrayBuffer(8))]) {
      expectArgError(() => ch.recvManyIntoSync(bad as never), TypeError, /dst.*Int32Array/);
      expectArgError(() => ch.recvManyInto(bad as never), TypeError, /dst.*Int32Array/);
    }
    expectArgError(() => ch.recvManyIntoSync(new Int32Array(0)), RangeError, /dst/);
    expectArgError(() => ch.recvManyInto(new Int32Array(0)), RangeError, /dst/);
    check();
    const bools = prefilled('bool', true, false);
    expectArgError(() => bools.ch.recvManyIntoSync([] as never), TypeError, /dst.*Uint8Array/);
    bools.check();
    const big = prefilled('i64', 1n, 2n);
    expectArgError(() => big.ch.recvManyIntoSync(new Float64Array(2) as never), TypeError, /dst.*BigInt64Array/);
    big.check();
    const structured = prefilled();
    expectArgError(() => structured.ch.recvManyIntoSync(new Float64Array(2) as never), TypeError, /numeric/);
    expectArgError(() => structured.ch.recvManyInto(new Float64Array(2) as never), TypeError, /numeric/);
    structured.check();
  });

  it('max of the wrong type throws TypeError naming max, synchronously', () => {
    const { ch, check } = prefilled('i32');
    for (const bad of ['3', null, {}, 3n]) {
      expectArgError(() => ch.recvMany(bad as never), TypeError, /max/);
      expectArgError(() => ch.recvManySync(bad as never), TypeError, /max/);
    }
    check();
  });

  it('max out of range throws RangeError naming max, synchronously', () => {
    const { ch, check } = prefilled('f64');
    for (const bad of [-1, 1.5, NaN, Infinity]) {
      expectArgError(() => ch.recvMany(bad), RangeError, /max/);
      expectArgError(() => ch.recvManySync(bad), RangeError, /max/);
    }
    check();
  });

  it('max 0 is refused with RangeError: an empty result would mean closed and drained', () => {
    // recvMany "waits for >= 1, returns <= max; empty when closed+drained": with max 0 it can
    // keep neither promise, and a loop `if (got.length === 0) break` would stop on an open channel.
    const { ch, check } = prefilled('f64');
    expectArgError(() => ch.recvMany(0), RangeError, /max/);
    expectArgError(() => ch.recvManySync(0), RangeError, /max/);
    check();
  });

  it('values that is not array-like throws TypeError naming values', () => {
    const { ch, check } = prefilled('i32');
    for (const bad of [5, null, undefined, 'abc', {}]) {
      expectArgError(() => ch.sendMany(bad as never), TypeError, /values/);
      expectArgError(() => ch.sendManySync(bad as never), TypeError, /values/);
    }
    check();
  });
});

describe('numeric channels never coerce', () => {
  it("'i32' refuses out-of-range or fractional numbers with RangeError, other types with TypeError", async () => {
    const { ch, check } = prefilled('i32');
    for (const bad of [2 ** 31, -(2 ** 31) - 1, 1.5, NaN, Infinity, -0.1]) {
      for (const op of [() => ch.send(bad), () => ch.sendSync(bad), () => ch.trySend(bad)]) {
        expect(thrown(op), String(bad)).toBeInstanceOf(RangeError);
      }
    }
    for (const bad of ['1', 1n, true, null, undefined, {}, [1]]) {
      for (const op of [() => ch.send(bad), () => ch.sendSync(bad), () => ch.trySend(bad)]) {
        expect(thrown(op), String(bad)).toBeInstanceOf(TypeError);
      }
    }
    check();
  });

  it("'i64' refuses numbers (TypeError) and out-of-range bigints (RangeError)", () => {
    const { ch, check } = prefilled('i64', 1n, 2n);
    for (const bad of [1, 0, 1.5, '1', true, null, undefined]) {
      for (const op of [() => ch.send(bad), () => ch.sendSync(bad), () => ch.trySend(bad)]) {
        expect(thrown(op), String(bad)).toBeInstanceOf(TypeError);
      }
    }
    for (const bad of [2n ** 63n, -(2n ** 63n) - 1n]) {
      for (const op of [() => ch.send(bad), () => ch.sendSync(bad), () => ch.trySend(bad)]) {
        expect(thrown(op), String(bad)).toBeInstanceOf(RangeError);
      }
    }
    check();
  });

  it("'bool' refuses 0/1 and other non-booleans with TypeError", () => {
    const { ch, check } = prefilled('bool', true, false);
    for (const bad of [0, 1, 'true', null, undefined, 1n, new Boolean(true)]) {
      for (const op of [() => ch.send(bad), () => ch.sendSync(bad), () => ch.trySend(bad)]) {
        expect(thrown(op), String(bad)).toBeInstanceOf(TypeError);
      }
    }
    check();
  });

  it("'f64' refuses non-numbers with TypeError", () => {
    const { ch, check } = prefilled('f64');
    for (const bad of ['1', 1n, true, null, undefined, new Number(1)]) {
      for (const op of [() => ch.send(bad), () => ch.sendSync(bad), () => ch.trySend(bad)]) {
        expect(thrown(op), String(bad)).toBeInstanceOf(TypeError);
      }
    }
    check();
  });

  it('sendMany with one bad element throws and sends nothing', () => {
    const cases = [
      ['i32', [3, 4, 2 ** 31], RangeError],
      ['i32', [3, 4, 0.5], RangeError],
      ['i32', [3, '4'], TypeError],
      ['i64', [3n, 4], TypeError],
      ['i64', [3n, 2n ** 64n], RangeError],
      ['bool', [true, 1], TypeError],
      ['f64', [1.5, '2'], TypeError],
    ];
    for (const [elem, values, Type] of cases) {
      const first = elem === 'i64' ? 1n : elem === 'bool' ? true : 1;
      const second = elem === 'i64' ? 2n : elem === 'bool' ? false : 2;
      const { ch, check } = prefilled(elem as ElemType, first, second);
      expect(thrown(() => ch.sendMany(values as never)), `${elem} sendMany`).toBeInstanceOf(Type);
      expect(thrown(() => ch.sendManySync(values as never)), `${elem} sendManySync`).toBeInstanceOf(Type);
      check();
    }
  });

  it('sendMany with a bad element sends nothing to a worker waiting in recvManySync', async () => {
    const ch = new Chan(0, { elem: 'i32' });
    const w = spawn('recvManyAll', ch, 10);
    await w.event('blocking');
    await delay(100);
    expect(thrown(() => ch.sendMany([1, 2, 'three']))).toBeInstanceOf(TypeError);
    expect(thrown(() => ch.sendManySync([1, 2, 2 ** 40]))).toBeInstanceOf(RangeError);
    await ch.sendMany([7, 8]);
    ch.close();
    const calls = await w.done();
    expect(calls.flatMap((c: { values: number[] }) => c.values)).toEqual([7, 8]);
  });
});

describe('non-cloneable values', () => {
  const bad = () => [
    () => 1,
    Symbol('s'),
    { nested: [1, { fn() {} }] },
    new WeakMap(),
    [1, 2, Symbol.iterator],
    new Map([['k', () => 0]]),
  ];

  function expectClone(e: Caught) {
    expect(e).toBeInstanceOf(DataCloneError);
    expect(e).toBeInstanceOf(TypeError);
    expect(e.name).toBe('DataCloneError');
    expect(e.code).toBe('ERR_WEFT_CLONE');
  }

  it('throw DataCloneError synchronously from send, sendSync and trySend; nothing is sent', () => {
    const { ch, check } = prefilled();
    for (const v of bad()) {
      expectClone(thrown(() => ch.send(v)));
      expectClone(thrown(() => ch.sendSync(v)));
      expectClone(thrown(() => ch.trySend(v)));
    }
    check();
  });

  it('nothing reaches a worker blocked in recvSync; the next good value does', async () => {
    const ch = new Chan();
    const w = spawn('recvOne', ch, 'sync');
    await w.event('blocking');
    await delay(100);
    for (const v of bad()) {
      expectClone(thrown(() => ch.send(v)));
      expectClone(thrown(() => ch.trySend(v)));
      expectClone(thrown(() => ch.sendSync(v, { timeout: 1000 })));
    }
    await ch.send('good');
    expect(await w.done()).toEqual({ value: 'good', ok: true });
  });

  it('in a worker: DataCloneError, and the channel stays empty', async () => {
    const ch = new Chan(2);
    const r = await spawn('sendFunction', ch).done();
    expect(r.map((e: { name: string }) => e.name)).toEqual(['DataCloneError', 'DataCloneError', 'DataCloneError']);
    expect(r.every((e: { code: string; kinds: string|string[]; }) => e.code === 'ERR_WEFT_CLONE' && e.kinds.includes('TypeError'))).toBe(true);
    expect(ch.length).toBe(0);
  });

  it('a non-cloneable value sent on a closed channel throws (either error) and does not close twice', () => {
    const ch = new Chan(1);
    ch.close();
    const e = thrown(() => ch.sendSync(() => 1));
    expect(e instanceof DataCloneError || e instanceof ClosedChannelError).toBe(true);
    expect(ch.closed).toBe(true);
  });
});

describe('closed channels', () => {
  it('double close throws ClosedChannelError (ERR_WEFT_CLOSED) and keeps the buffered values', async () => {
    const { ch } = prefilled();
    ch.close();
    const e = thrown(() => ch.close());
    expect(e).toBeInstanceOf(ClosedChannelError);
    expect(e.name).toBe('ClosedChannelError');
    expect(e.code).toBe('ERR_WEFT_CLOSED');
    expect(ch.length).toBe(2);
    expect(await ch.recvOk()).toEqual({ value: 1, ok: true });
    expect(ch.recvOkSync()).toEqual({ value: 2, ok: true });
    expect(ch.tryRecv()).toEqual({ value: undefined, ok: false, closed: true });
  });

  it('send, sendSync, trySend, sendMany and sendManySync on a closed channel throw ClosedChannelError; contents unchanged', async () => {
    const { ch } = prefilled();
    ch.close();
    for (const op of [() => ch.send(3), () => ch.sendSync(3), () => ch.trySend(3)]) {
      const e = await failure(op);
      expect(e).toBeInstanceOf(ClosedChannelError);
      expect(e.code).toBe('ERR_WEFT_CLOSED');
    }
    expect(ch.length).toBe(2);
    const n = new Chan(4, { elem: 'i32' });
    n.trySend(1);
    n.close();
    for (const op of [() => n.sendMany([2, 3]), () => n.sendManySync([2, 3])]) {
      expect(await failure(op)).toBeInstanceOf(ClosedChannelError);
    }
    expect(n.length).toBe(1);
    expect(Array.from(await n.recvMany(10))).toEqual([1]);
    expect(Array.from(await n.recvMany(10))).toEqual([]);
  });

  it('bad arguments on a closed channel are still reported as bad arguments', () => {
    const ch = new Chan(1);
    ch.close();
    expect(thrown(() => ch.recv({ timeout: 'x' as never }))).toBeInstanceOf(TypeError);
    const n = new Chan(1, { elem: 'i32' });
    n.close();
    expect(thrown(() => n.recvMany(-1))).toBeInstanceOf(RangeError);
  });
});
