// API.md §0/§1: values carried across threads. Structured channels follow the
// structured clone algorithm; numeric channels ('f64' | 'i32' | 'i64' | 'bool')
// store values inline and batch with sendMany/recvMany.
import { describe, it, expect, afterEach } from 'vitest';
import { Chan, TimeoutError } from 'weft';
import { spawn, cleanup, delay, failure, thrown, track, within } from './helpers.js';
import type { Received } from './helpers.js';

afterEach(cleanup);

class Point {
  x: number;
  y: number;
  constructor(x: number, y: number) { this.x = x; this.y = y; }
  norm() { return Math.hypot(this.x, this.y); }
}

function sample() {
  const circular: { name: string; self?: unknown } = { name: 'loop' };
  circular.self = circular;
  const shared = { k: 1 };
  const sparse = [1, , 3]; // eslint-disable-line no-sparse-arrays
  const ab = new ArrayBuffer(8);
  new Uint8Array(ab).set([1, 2, 3, 4, 5, 6, 7, 8]);
  const backing = new Int16Array([10, 20, 30, 40, 50]);
  return {
    number: 42,
    negZero: -0,
    nan: NaN,
    inf: -Infinity,
    unicode: 'héllo wörld 🌍 中文 ✓ \u0000 end',
    loneSurrogate: 'a\uD800b\uDFFFc',
    empty: '',
    bools: [true, false],
    nul: null,
    undef: undefined,
    big: 12345678901234567890123n,
    negBig: -1n,
    plain: { a: 1, b: 'two', c: [1, 2, { d: null, e: undefined }] },
    nested: [[1, [2, [3, [4, [5]]]]]],
    sparse,
    map: new Map<unknown, unknown>([[1, 'a'], ['k', { x: 1 }], [{ o: 1 }, [2]]]),
    set: new Set([1, 'a', { z: 2 }]),
    date: new Date(1_700_000_000_123),
    badDate: new Date(NaN),
    regexp: /ab+c/gi,
    u8: new Uint8Array([0, 1, 255]),
    f32: new Float32Array([1.5, -2.25]),
    b64: new BigInt64Array([1n, -(2n ** 63n)]),
    sub: backing.subarray(1, 3),
    dataView: new DataView(ab, 2, 4),
    arrayBuffer: ab,
    error: new RangeError('boom'),
    boxed: [new Number(3), new String('s'), new Boolean(false)],
    instance: new Point(3, 4),
    numericKeys: { 1: 'one', 10: 'ten' },
    circular,
    sameTwice: [shared, shared],
    bigString: 'x'.repeat(1 << 20) + '🌍',
    bigArray: Array.from({ length: 100_000 }, (_, i) => i * 0.5),
  };
}

/** The value sample() builds. */
type Sample = ReturnType<typeof sample>;

function checkClone(got: Sample, original: Sample) {
  const ref = structuredClone(original);
  expect(Object.keys(got)).toEqual(Object.keys(ref));
  for (const k of Object.keys(ref) as (keyof Sample)[]) expect(got[k], k).toStrictEqual(ref[k]);
  // things toStrictEqual does not see
  expect(Object.is(got.negZero, -0)).toBe(true);
  expect(Number.isNaN(got.nan)).toBe(true);
  expect(got.loneSurrogate).toBe(original.loneSurrogate);
  expect(got.loneSurrogate.length).toBe(5);
  expect(got.unicode).toBe(original.unicode);
  expect('undef' in got).toBe(true);
  expect(got.undef).toBeUndefined();
  expect(1 in got.sparse).toBe(false);
  expect(got.sparse.length).toBe(3);
  expect(got.map).toBeInstanceOf(Map);
  expect([...got.map.keys()][2]).toEqual({ o: 1 });
  expect(got.set).toBeInstanceOf(Set);
  expect(got.date).toBeInstanceOf(Date);
  expect(got.date.getTime()).toBe(1_700_000_000_123);
  expect(Number.isNaN(got.badDate.getTime())).toBe(true);
  expect(got.regexp).toBeInstanceOf(RegExp);
  expect(got.regexp.flags).toBe('gi');
  expect(got.u8).toBeInstanceOf(Uint8Array);
  expect(got.f32).toBeInstanceOf(Float32Array);
  expect(got.b64).toBeInstanceOf(BigInt64Array);
  expect(Array.from(got.sub)).toEqual([20, 30]);
  expect(got.sub).toBeInstanceOf(Int16Array);
  expect(got.dataView).toBeInstanceOf(DataView);
  expect(got.dataView.getUint8(0)).toBe(3);
  expect(got.dataView.byteLength).toBe(4);
  expect(got.arrayBuffer).toBeInstanceOf(ArrayBuffer);
  expect(got.error).toBeInstanceOf(RangeError);
  expect(got.error.message).toBe('boom');
  expect(got.boxed[0]).toBeInstanceOf(Number);
  expect(got.instance).not.toBeInstanceOf(Point);
  expect(got.instance).toEqual({ x: 3, y: 4 });
  expect(got.circular.self).toBe(got.circular);
  expect(got.sameTwice[0]).toBe(got.sameTwice[1]);
  expect(typeof got.big).toBe('bigint');
  expect(got.big).toBe(12345678901234567890123n);
  expect(got.bigString.length).toBe((1 << 20) + 2);
  expect(got.bigArray.length).toBe(100_000);
  expect(got.bigArray[99_999]).toBe(49_999.5);
}

describe('structured values', () => {
  for (const capacity of [0, 4]) {
    it(`round trip main -> worker -> main follows structured clone (capacity ${capacity})`, async () => {
      const input = new Chan<Sample>(capacity);
      const output = new Chan<Sample>(capacity);
      const w = spawn('echo', input, output, 1);
      const original = sample();
      await input.send(original);
      const got = await within(output.recv(), 20_000, 'echo');
      checkClone(got!, original);
      expect(await w.done()).toBe(1);
    });
  }

  it('received typed arrays, DataViews and ArrayBuffers own their memory (later messages do not change them)', async () => {
    const ch = new Chan(1);
    const ab = new ArrayBuffer(8);
    new Uint8Array(ab).set([1, 2, 3, 4, 5, 6, 7, 8]);
    const cyclic: { u8: Uint8Array; f64: Float64Array; self?: unknown } = { u8: new Uint8Array([0, 1, 255]), f64: new Float64Array([0.25]) };
    cyclic.self = cyclic; // cycles and exotic values need the full structured clone algorithm
    const values = [
      cyclic,
      { dv: new DataView(ab, 2, 4) },
      { u8: new Uint8Array([9, 8, 7]), re: /x/ },
      [new Int32Array([-5, 6]), new Number(1)],
      { ab, err: new Error('e') },
    ];
    const got: Received[] = [];
    for (const v of values) {
      await ch.send(v);
      got.push(await ch.recv());
    }
    // more traffic through this thread's codec, same thread and cross-thread
    for (let i = 0; i < 50; i++) {
      await ch.send({ filler: 'z'.repeat(500 + i), m: new Map([[i, /re/]]), t: new Uint8Array(64).fill(0xee) });
      await ch.recv();
    }
    const input = new Chan(1);
    const output = new Chan(1);
    const e = spawn('echo', input, output, 20);
    for (let i = 0; i < 20; i++) {
      const o: { i: number; filler: string; d: DataView; self?: unknown } = { i, filler: 'q'.repeat(1000), d: new DataView(new ArrayBuffer(16)) };
      o.self = o;
      await input.send(o);
      await output.recv();
    }
    await e.done();
    expect(Array.from(got[0].u8)).toEqual([0, 1, 255]);
    expect(got[0].u8.buffer.byteLength).toBe(3);
    expect(Array.from(got[0].f64)).toEqual([0.25]);
    expect(got[0].self).toBe(got[0]);
    expect(got[1].dv.byteLength).toBe(4);
    expect([0, 1, 2, 3].map((i) => got[1].dv.getUint8(i))).toEqual([3, 4, 5, 6]);
    expect(got[1].dv.buffer.byteLength).toBeLessThanOrEqual(8);
    expect(Array.from(got[2].u8)).toEqual([9, 8, 7]);
    expect(got[2].u8.buffer.byteLength).toBe(3);
    expect(Array.from(got[3][0])).toEqual([-5, 6]);
    expect(got[3][0].buffer.byteLength).toBe(8);
    expect(Array.from(new Uint8Array(got[4].ab))).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
  });

  it('views keep their whole buffer and their offset, as structured clone does', async () => {
    const ab = new ArrayBuffer(8);
    new Uint8Array(ab).set([1, 2, 3, 4, 5, 6, 7, 8]);
    const whole = new Uint8Array(new ArrayBuffer(4));
    const value = {
      dv: new DataView(ab, 2, 4),
      sub: new Int16Array(ab, 2, 2),
      shared: [new Uint8Array(ab, 0, 1), new Uint8Array(ab, 4, 1)],
      viewAndBuffer: [whole, whole.buffer],
    };
    const ref = structuredClone(value);
    const input = new Chan(1);
    const output = new Chan(1);
    const w = spawn('echo', input, output, 1);
    await input.send(value);
    const got: Received = await output.recv();
    await w.done();
    for (const k of ['dv', 'sub'] as const) {
      expect(got[k].byteOffset, k).toBe(ref[k].byteOffset);
      expect(got[k].buffer.byteLength, k).toBe(ref[k].buffer.byteLength);
    }
    expect(Array.from(got.sub)).toEqual(Array.from(ref.sub));
    // two views of one buffer stay views of one buffer
    expect(got.shared[0].buffer).toBe(got.shared[1].buffer);
    expect(got.shared[1][0]).toBe(5);
    expect(got.viewAndBuffer[0].buffer).toBe(got.viewAndBuffer[1]);
  });

  it('scalars one by one keep their type and value (sync flavours in both threads)', async () => {
    const values = [0, -0, 1.5, NaN, Infinity, 'str', '', true, false, null, undefined, 7n, -(2n ** 70n), '🌍'];
    const input = new Chan(2);
    const output = new Chan(2);
    const w = spawn('echo', input, output, values.length);
    for (const v of values) {
      input.sendSync(v, { timeout: 10_000 });
      const r = output.recvOkSync({ timeout: 10_000 });
      expect(r.ok).toBe(true);
      expect(Object.is(r.value, v)).toBe(true);
    }
    expect(await w.done()).toBe(values.length);
  });

  it('undefined is a value: recvOk and tryRecv report ok:true', async () => {
    const ch = new Chan(2);
    expect(await spawn('sendValues', ch, [undefined, undefined]).done()).toEqual({ sent: 2 });
    expect(ch.length).toBe(2);
    expect(await ch.recvOk()).toEqual({ value: undefined, ok: true });
    expect(ch.tryRecv()).toEqual({ value: undefined, ok: true });
    expect(ch.tryRecv()).toEqual({ value: undefined, ok: false, closed: false });
    const w = spawn('recvOne', ch, 'sync');
    await ch.send(undefined);
    expect(await w.done()).toEqual({ value: undefined, ok: true });
  });

  it('the receiver gets a copy: mutating after send changes nothing received', async () => {
    const ch = new Chan(1);
    const obj = { list: [1, 2], inner: { v: 'before' }, map: new Map([['k', 1]]) };
    await ch.send(obj);
    obj.list.push(3);
    obj.inner.v = 'after';
    obj.map.set('k', 2);
    const [d] = await spawn('recvDescribe', ch, 1).done();
    expect(d.ok).toBe(true);
    expect(d.value.list).toEqual([1, 2]);
    expect(d.value.inner.v).toBe('before');
    expect(d.value.map.get('k')).toBe(1);
    expect(d.ctor).toBe('Object');
  });

  it('a worker sees the right types (Map, Set, Date, typed arrays, bigint)', async () => {
    const ch = new Chan(8);
    const vals = [new Map([[1, 2]]), new Set([3]), new Date(5), new Float64Array([1.25]), 99n, [1, [2]], 'ü'];
    for (const v of vals) await ch.send(v);
    const d = await spawn('recvDescribe', ch, vals.length).done();
    expect(d.map((x: { ctor: string }) => x.ctor)).toEqual(['Map', 'Set', 'Date', 'Float64Array', 'BigInt', 'Array', 'String']);
    expect(d[4].type).toBe('bigint');
    expect(d[4].value).toBe(99n);
    expect(d[0].value.get(1)).toBe(2);
    expect(d[2].value.getTime()).toBe(5);
    expect(d[6].value).toBe('ü');
  });

  it('many values of mixed kinds through an echo worker keep order and content', async () => {
    const input = new Chan(16);
    const output = new Chan(16);
    const w = spawn('echoAll', input, output);
    const make = (i: number) => (i % 4 === 0 ? { i, s: `v${i}`, a: [i, { n: i }] }
      : i % 4 === 1 ? [i, `é${i}`] : i % 4 === 2 ? new Map([[i, i]]) : i);
    const N = 3000;
    const sender = (async () => {
      for (let i = 0; i < N; i++) await input.send(make(i));
      input.close();
    })();
    let i = 0;
    for await (const v of output) {
      expect(v).toStrictEqual(make(i));
      i++;
    }
    await sender;
    expect(i).toBe(N);
    expect(await w.done()).toBe(N);
  });
});

describe("element type 'f64'", () => {
  it('carries any number exactly; recvMany gives a Float64Array', async () => {
    const values = [0, -0, 1.5, -2.75, NaN, Infinity, -Infinity, Number.MAX_VALUE, Number.MIN_VALUE, 2 ** 53 + 2, Math.PI];
    const ch = new Chan(64, { elem: 'f64' });
    const w = spawn('sendManySyncScenario', ch, values, true);
    expect(await w.done()).toEqual({ n: values.length });
    const got = await ch.recvMany(100);
    expect(got).toBeInstanceOf(Float64Array);
    expect(got.length).toBe(values.length);
    values.forEach((v, i) => expect(Object.is(got[i], v), `index ${i}`).toBe(true));
    const rest = await ch.recvMany(10);
    expect(rest).toBeInstanceOf(Float64Array);
    expect(rest.length).toBe(0);
  });

  it('single values cross threads with each flavour', async () => {
    const ch = new Chan(0, { elem: 'f64' });
    const w = spawn('recvDescribe', ch, 3);
    await ch.send(-0);
    ch.sendSync(0.1, { timeout: 10_000 });
    while (!ch.trySend(NaN)) await delay(1);
    const d = await w.done();
    expect(d.map((x: { type: string }) => x.type)).toEqual(['number', 'number', 'number']);
    expect(Object.is(d[0].value, -0)).toBe(true);
    expect(d[1].value).toBe(0.1);
    expect(Number.isNaN(d[2].value)).toBe(true);
  });
});

describe("element type 'i32'", () => {
  it('carries the whole int32 range; recvManySync gives Int32Array in a worker', async () => {
    const values = [-(2 ** 31), 2 ** 31 - 1, 0, -1, 1, 42, -0];
    const ch = new Chan(16, { elem: 'i32' });
    expect(await ch.sendMany(values)).toBe(values.length);
    ch.close();
    const calls = await spawn('recvManyAll', ch, 100).done();
    expect(calls[0].ctor).toBe('Int32Array');
    expect(calls[0].values).toEqual([-(2 ** 31), 2 ** 31 - 1, 0, -1, 1, 42, 0]);
    expect(calls.at(-1)).toEqual({ ctor: 'Int32Array', isArray: false, values: [] });
    expect(calls.length).toBe(2);
  });

  it('recv of an i32 value gives a number', async () => {
    const ch = new Chan(1, { elem: 'i32' });
    await spawn('sendOne', ch, -123456, 'sync').done();
    const v = await ch.recv();
    expect(typeof v).toBe('number');
    expect(v).toBe(-123456);
  });
});

describe("element type 'i64'", () => {
  it('carries the whole int64 range as bigints; recvMany gives BigInt64Array', async () => {
    const values = [-(2n ** 63n), 2n ** 63n - 1n, 0n, -1n, 1n, 9007199254740993n];
    const ch = new Chan(8, { elem: 'i64' });
    const w = spawn('sendManySyncScenario', ch, values, true);
    expect(await w.done()).toEqual({ n: values.length });
    const got = ch.recvManySync(3, { timeout: 5000 });
    expect(got).toBeInstanceOf(BigInt64Array);
    expect(Array.from(got)).toEqual(values.slice(0, 3));
    expect(await ch.recv()).toBe(-1n);
    expect(Array.from(await ch.recvMany(10))).toEqual([1n, 9007199254740993n]);
    expect((await ch.recvMany(10)).length).toBe(0);
  });

  it('sendMany accepts a BigInt64Array; single recv in a worker gives bigint', async () => {
    const ch = new Chan(4, { elem: 'i64' });
    expect(ch.sendManySync(new BigInt64Array([5n, -6n]))).toBe(2);
    const d = await spawn('recvDescribe', ch, 2).done();
    expect(d.map((x: { type: string; value: unknown }) => [x.type, x.value])).toEqual([['bigint', 5n], ['bigint', -6n]]);
  });
});

describe("element type 'bool'", () => {
  it('carries booleans; recvMany gives boolean[]', async () => {
    const values = [true, false, false, true, true];
    const ch = new Chan(8, { elem: 'bool' });
    const w = spawn('sendManySyncScenario', ch, values, true);
    expect(await w.done()).toEqual({ n: 5 });
    const got = await ch.recvMany(8);
    expect(Array.isArray(got)).toBe(true);
    expect(got).toEqual(values);
    expect(await ch.recvMany(8)).toEqual([]);
    expect(await ch.recvOk()).toEqual({ value: undefined, ok: false });
  });

  it('single bool values keep their type across threads', async () => {
    const ch = new Chan(0, { elem: 'bool' });
    const w = spawn('recvDescribe', ch, 2);
    await ch.send(false);
    await ch.send(true);
    expect((await w.done()).map((d: { type: string; value: unknown }) => [d.type, d.value])).toEqual([['boolean', false], ['boolean', true]]);
  });
});

describe('sendMany / recvMany', () => {
  it('recvMany waits for at least one value, then returns at most max', async () => {
    const ch = new Chan(8, { elem: 'i32' });
    const p = track(ch.recvMany(3));
    await delay(100);
    expect(p.state).toBe('pending');
    await spawn('sendManySyncScenario', ch, [1, 2, 3, 4, 5]).done();
    const first = await within(p.promise, 5000);
    expect(first.length).toBeGreaterThanOrEqual(1);
    expect(first.length).toBeLessThanOrEqual(3);
    const all = Array.from(first);
    while (all.length < 5) {
      const more = await ch.recvMany(3);
      expect(more.length).toBeGreaterThanOrEqual(1);
      expect(more.length).toBeLessThanOrEqual(3);
      all.push(...more);
    }
    expect(all).toEqual([1, 2, 3, 4, 5]);
    expect(ch.length).toBe(0);
  });

  it('recvMany(max) with more buffered returns exactly max', async () => {
    const ch = new Chan(8, { elem: 'f64' });
    ch.sendManySync([1, 2, 3, 4, 5]);
    expect(Array.from(ch.recvManySync(3))).toEqual([1, 2, 3]);
    expect(ch.length).toBe(2);
    expect(Array.from(await ch.recvMany(10))).toEqual([4, 5]);
  });

  it('an unbuffered channel: a worker blocked in sendManySync, main collects with recvMany', async () => {
    const ch = new Chan(0, { elem: 'i32' });
    const values = Array.from({ length: 10 }, (_, i) => i * 7);
    const w = spawn('sendManySyncScenario', ch, values, true);
    const got: unknown[] = [];
    for (;;) {
      const part = await ch.recvMany(4);
      expect(part).toBeInstanceOf(Int32Array);
      if (part.length === 0) break;
      expect(part.length).toBeLessThanOrEqual(4);
      got.push(...part);
    }
    expect(got).toEqual(values);
    expect(await w.done()).toEqual({ n: 10 });
  });

  it('sendMany larger than the capacity resolves once a worker has taken everything', async () => {
    const ch = new Chan(4, { elem: 'i32' });
    const N = 5000;
    const values = new Int32Array(N).map((_, i) => i);
    const r = spawn('recvManyAll', ch, 64);
    expect(await ch.sendMany(values)).toBe(N);
    ch.close();
    const calls = await r.done();
    const flat = calls.flatMap((c: { values: number[] }) => c.values);
    expect(flat.length).toBe(N);
    expect(flat.every((v: number, i: number) => v === i)).toBe(true);
    expect(calls.every((c: { ctor: string; values: string|any[]; }) => c.ctor === 'Int32Array' && c.values.length <= 64)).toBe(true);
  });

  it('async sendMany in a worker, recvManySync in main', async () => {
    const ch = new Chan(3, { elem: 'f64' });
    const values = Array.from({ length: 100 }, (_, i) => i + 0.5);
    const w = spawn('sendManyAsyncScenario', ch, values, true);
    const got: unknown[] = [];
    for (;;) {
      const part = ch.recvManySync(7, { timeout: 10_000 });
      if (part.length === 0) break;
      got.push(...part);
    }
    expect(got).toEqual(values);
    expect(await w.done()).toEqual({ n: 100 });
  });

  it('sendMany accepts array-likes and typed arrays', async () => {
    const ch = new Chan(16, { elem: 'i32' });
    expect(await ch.sendMany({ length: 2, 0: 10, 1: 11 })).toBe(2);
    expect(ch.sendManySync(new Int32Array([12, 13]))).toBe(2);
    expect(await ch.sendMany([])).toBe(0);
    expect(Array.from(ch.recvManySync(16))).toEqual([10, 11, 12, 13]);
  });

  it('a channel closed while a worker is in sendManySync: it gets ClosedChannelError, main got a prefix in order', async () => {
    const ch = new Chan(2, { elem: 'i32' });
    const values = Array.from({ length: 50 }, (_, i) => i + 1);
    const w = spawn('sendManySyncScenario', ch, values);
    await w.event('blocking');
    const got = [await ch.recv(), await ch.recv(), await ch.recv()];
    ch.close();
    const r = await w.done();
    expect(r.error).toMatchObject({ name: 'ClosedChannelError', code: 'ERR_WEFT_CLOSED' });
    for (;;) {
      const part = await ch.recvMany(10);
      if (part.length === 0) break;
      got.push(...part);
    }
    expect(got).toEqual(values.slice(0, got.length));
    expect(got.length).toBeLessThan(values.length);
  });
});

describe('recvManyInto / recvManyIntoSync (numeric channels, into the caller\'s typed array)', () => {
  it('every element type: writes what is ready from index 0 and returns how many; the rest of dst is untouched', async () => {
    const cases = [
      { elem: 'f64', vals: [0.5, -1e300, Number.MIN_VALUE], dst: () => new Float64Array(5).fill(9) },
      { elem: 'i32', vals: [-(2 ** 31), 0, 2 ** 31 - 1], dst: () => new Int32Array(5).fill(9) },
      { elem: 'i64', vals: [-(2n ** 63n), 1n, 2n ** 63n - 1n], dst: () => new BigInt64Array(5).fill(9n) },
      { elem: 'bool', vals: [true, false, true], dst: () => new Uint8Array(5).fill(9) },
    ] as const;
    for (const c of cases) {
      const ch = new Chan<any, any>(8, { elem: c.elem });
      ch.sendManySync(c.vals as never);
      const dst = c.dst();
      expect(ch.recvManyIntoSync(dst as never), c.elem).toBe(3);
      const want = c.elem === 'bool' ? [1, 0, 1] : c.vals;
      expect(Array.from(dst.subarray(0, 3) as ArrayLike<unknown>), c.elem).toEqual(want);
      expect(Array.from(dst.subarray(3) as ArrayLike<unknown>).map(String), c.elem).toEqual(['9', '9']);
      ch.sendManySync(c.vals as never);
      const small = c.dst().subarray(0, 2);
      expect(await ch.recvManyInto(small as never), c.elem).toBe(2);
      expect(Array.from(small as ArrayLike<unknown>), c.elem).toEqual(want.slice(0, 2));
      expect(ch.length, c.elem).toBe(1);
      ch.close();
      expect(ch.recvManyIntoSync(dst as never), c.elem).toBe(1);
      expect(ch.recvManyIntoSync(dst as never), `${c.elem}: closed and drained`).toBe(0);
      expect(await ch.recvManyInto(dst as never), `${c.elem}: closed and drained`).toBe(0);
    }
  });

  it('a view into a larger buffer is filled at its own offset', () => {
    const ch = new Chan(8, { elem: 'f64' });
    ch.sendManySync([1, 2, 3]);
    const backing = new Float64Array(8);
    expect(ch.recvManyIntoSync(backing.subarray(4, 6))).toBe(2);
    expect(Array.from(backing)).toEqual([0, 0, 0, 0, 1, 2, 0, 0]);
  });

  it('recvManyInto waits for at least one value from a worker, then every value arrives once, in order', async () => {
    for (const [elem, Ctor] of [['i32', Int32Array], ['f64', Float64Array]] as const) {
      const ch = new Chan<number, typeof elem>(0, { elem });
      const dst = new Ctor(4);
      const p = track(ch.recvManyInto(dst as never));
      await delay(100);
      expect(p.state, elem).toBe('pending');
      const values = Array.from({ length: 50 }, (_, i) => i * 3);
      const w = spawn('sendManySyncScenario', ch, values, true);
      const got: number[] = [];
      let n = await within(p.promise, 5000);
      while (n > 0) {
        expect(n, elem).toBeLessThanOrEqual(4);
        got.push(...dst.subarray(0, n));
        n = await ch.recvManyInto(dst as never);
      }
      expect(got, elem).toEqual(values);
      expect(await w.done(), elem).toEqual({ n: 50 });
    }
  });

  it('recvManyIntoSync on the main thread collects a worker\'s async sendMany', async () => {
    const ch = new Chan(3, { elem: 'f64' });
    const values = Array.from({ length: 100 }, (_, i) => i + 0.25);
    const w = spawn('sendManyAsyncScenario', ch, values, true);
    const dst = new Float64Array(7);
    const got: number[] = [];
    for (let n; (n = ch.recvManyIntoSync(dst, { timeout: 10_000 })) > 0;) got.push(...dst.subarray(0, n));
    expect(got).toEqual(values);
    expect(await w.done()).toEqual({ n: 100 });
  });

  it('timeouts: TimeoutError from both forms on an open, empty channel; nothing is lost', async () => {
    const ch = new Chan(4, { elem: 'i32' });
    const dst = new Int32Array(4);
    expect(thrown(() => ch.recvManyIntoSync(dst, { timeout: 30 }))).toBeInstanceOf(TimeoutError);
    expect(await failure(() => ch.recvManyInto(dst, { timeout: 30 }))).toBeInstanceOf(TimeoutError);
    ch.trySend(5);
    expect(ch.recvManyIntoSync(dst, { timeout: 30 })).toBe(1);
    expect(dst[0]).toBe(5);
  });
});
