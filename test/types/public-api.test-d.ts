// Type tests of the public declarations (dist/index.d.ts, reached through the package's own
// "exports"): run by `npm test` through vitest's typecheck mode (tsc on this file, compiled
// with exactOptionalPropertyTypes). Build with `tsc -p tsconfig.json` first.
import { describe, expectTypeOf, test } from 'vitest';
import {
  Chan,
  Mutex,
  WaitGroup,
  recv,
  select,
  selectSync,
  send,
  sleep,
  withCancel,
  background,
  type Case,
  type RecvChan,
  type RecvResult,
  type Selected,
  type SendChan,
  type TryRecvResult,
} from 'weft';

describe('Chan<T>', () => {
  test('T flows through send, recv, recvOk, tryRecv and the iterators', async () => {
    const ch = new Chan<string>(4);
    expectTypeOf(ch.send).parameter(0).toEqualTypeOf<string>();
    expectTypeOf(ch.sendSync).parameter(0).toEqualTypeOf<string>();
    expectTypeOf(ch.trySend).parameter(0).toEqualTypeOf<string>();
    expectTypeOf(ch.recv()).resolves.toEqualTypeOf<string | undefined>();
    expectTypeOf(ch.recvSync()).toEqualTypeOf<string | undefined>();
    expectTypeOf(ch.recvOk()).resolves.toEqualTypeOf<RecvResult<string>>();
    expectTypeOf(ch.recvOkSync()).toEqualTypeOf<RecvResult<string>>();
    expectTypeOf(ch.tryRecv()).toEqualTypeOf<TryRecvResult<string>>();
    const r = await ch.recvOk();
    if (r.ok) expectTypeOf(r.value).toEqualTypeOf<string>();
    else expectTypeOf(r.value).toEqualTypeOf<undefined>();
    for await (const v of ch) expectTypeOf(v).toEqualTypeOf<string>();
    for (const v of ch) expectTypeOf(v).toEqualTypeOf<string>();
    // @ts-expect-error a number is not a string
    await ch.send(1);
    // @ts-expect-error nor is undefined
    ch.trySend(undefined);
  });

  test('views keep T and narrow the direction', () => {
    const ch = new Chan<number>();
    expectTypeOf(ch.sendOnly()).toMatchTypeOf<SendChan<number>>();
    expectTypeOf(ch.recvOnly()).toMatchTypeOf<RecvChan<number>>();
    // @ts-expect-error a send-only view has no recv
    ch.sendOnly().recv();
    // @ts-expect-error a receive-only view has no send
    ch.recvOnly().send(1);
    // @ts-expect-error nor close
    ch.recvOnly().close();
  });

  test('recvMany on a numeric channel returns its typed array', async () => {
    const f = new Chan<number, 'f64'>(8, { elem: 'f64' });
    expectTypeOf(f.recvMany(4)).resolves.toEqualTypeOf<Float64Array>();
    expectTypeOf(f.recvManySync(4)).toEqualTypeOf<Float64Array>();
    // The element type is inferred from the options when T is not given.
    expectTypeOf(new Chan(8, { elem: 'f64' }).recvManySync(4)).toEqualTypeOf<Float64Array>();
    expectTypeOf(new Chan(8, { elem: 'i32' }).recvManySync(4)).toEqualTypeOf<Int32Array>();
    expectTypeOf(new Chan<bigint, 'i64'>(8, { elem: 'i64' }).recvManySync(4)).toEqualTypeOf<BigInt64Array>();
    expectTypeOf(new Chan<boolean, 'bool'>(8, { elem: 'bool' }).recvManySync(4)).toEqualTypeOf<boolean[]>();
    expectTypeOf(f.elem).toEqualTypeOf<'f64'>();
    // A Chan<number> may be 'f64' or 'i32': either array.
    expectTypeOf(new Chan<number>(8, { elem: 'f64' }).recvManySync(4)).toEqualTypeOf<Float64Array | Int32Array>();
    expectTypeOf(f.sendMany).parameter(0).toEqualTypeOf<ArrayLike<number>>();
    await f.sendMany(new Float64Array(2));
    await f.sendMany([1, 2]);
  });

  test('recvManyInto takes the typed array of the element type and gives a count', async () => {
    const f = new Chan<number, 'f64'>(8, { elem: 'f64' });
    expectTypeOf(f.recvManyInto(new Float64Array(4))).resolves.toEqualTypeOf<number>();
    expectTypeOf(f.recvManyIntoSync(new Float64Array(4))).toEqualTypeOf<number>();
    // @ts-expect-error an f64 channel fills a Float64Array
    f.recvManyIntoSync(new Int32Array(4));
    new Chan(8, { elem: 'i32' }).recvManyIntoSync(new Int32Array(4));
    new Chan<bigint, 'i64'>(8, { elem: 'i64' }).recvManyIntoSync(new BigInt64Array(4));
    new Chan<boolean, 'bool'>(8, { elem: 'bool' }).recvManyIntoSync(new Uint8Array(4));
    expectTypeOf(f.recvOnly().recvManyIntoSync).parameter(0).toEqualTypeOf<Float64Array>();
    const s = new Chan<string>(4);
    // @ts-expect-error no batch receive on a structured channel
    s.recvManyIntoSync(new Float64Array(4));
  });

  test('an element type that cannot carry T is a compile error', () => {
    // @ts-expect-error strings are not f64
    new Chan<string>(1, { elem: 'f64' });
    // @ts-expect-error numbers are not i64
    new Chan<number>(1, { elem: 'i64' });
    // @ts-expect-error nor can the type argument say so
    new Chan<string, 'f64'>(1);
    // @ts-expect-error bigints are not bool
    new Chan<bigint>(1, { elem: 'bool' });
    new Chan<string>(1, { elem: 'structured' });
    new Chan<number>(1, { elem: 'i32' });
    new Chan<bigint>(1, { elem: 'i64' });
    new Chan<boolean>(1, { elem: 'bool' });
  });

  test('sendMany and recvMany on a structured channel are compile errors', async () => {
    const s = new Chan<string>(4);
    // @ts-expect-error no batch transfer on a structured channel
    await s.sendMany(['a', 'b']);
    // @ts-expect-error same for the blocking form
    s.sendManySync(['a']);
    expectTypeOf(s.recvMany(4)).resolves.toBeNever();
    const o = new Chan<{ id: number }>(4);
    // @ts-expect-error objects go one at a time
    await o.sendMany([{ id: 1 }]);
  });

  test('SendChan is contravariant, RecvChan covariant', () => {
    expectTypeOf<SendChan<string>>().not.toMatchTypeOf<SendChan<string | number>>();
    expectTypeOf<SendChan<string | number>>().toMatchTypeOf<SendChan<string>>();
    expectTypeOf<RecvChan<string>>().toMatchTypeOf<RecvChan<string | number>>();
    expectTypeOf<RecvChan<string | number>>().not.toMatchTypeOf<RecvChan<string>>();
    const s = new Chan<string>().sendOnly();
    // @ts-expect-error a SendChan<string> cannot take numbers
    const wide: SendChan<string | number> = s;
    void wide;
    // @ts-expect-error a Chan<string> neither
    const wide2: SendChan<string | number> = new Chan<string>();
    void wide2;
    const narrow: RecvChan<string | number> = new Chan<string>();
    void narrow;
  });

  test('no internal member is visible', () => {
    const ch = new Chan<number>();
    // @ts-expect-error the native handle is internal
    void ch._h;
    // @ts-expect-error so is the encoder
    ch._enc(1);
    // @ts-expect-error and adopting a handle
    Chan._adopt(0);
    const mu = new Mutex();
    // @ts-expect-error the handle of every weft object is internal
    void mu._h;
  });
});

describe('select', () => {
  test('the result is a union discriminated by index, each value typed as its case', async () => {
    const a = new Chan<string>();
    const b = new Chan<number>();
    const c = new Chan<boolean>();
    const r = await select([recv(a), recv(b), send(c, true)]);
    expectTypeOf(r.index).toEqualTypeOf<0 | 1 | 2>();
    if (r.index === 0) {
      if (r.ok) expectTypeOf(r.value).toEqualTypeOf<string>();
      else expectTypeOf(r.value).toEqualTypeOf<undefined>();
    } else if (r.index === 1) {
      expectTypeOf(r.value).toEqualTypeOf<number | undefined>();
      if (r.ok) expectTypeOf(r.value).toEqualTypeOf<number>();
    } else {
      expectTypeOf(r.index).toEqualTypeOf<2>();
      expectTypeOf(r.ok).toEqualTypeOf<true>();
    }
    // Every result is still a Selected.
    expectTypeOf(r).toMatchTypeOf<Selected>();
    const s = selectSync([recv(a), null, recv(b)]);
    expectTypeOf(s.index).toEqualTypeOf<0 | 2>();
    if (s.index === 2 && s.ok) expectTypeOf(s.value).toEqualTypeOf<number>();
  });

  test('default adds index -1 only when it may be set', async () => {
    const a = new Chan<string>();
    const d = await select([recv(a)], { default: true });
    expectTypeOf(d.index).toEqualTypeOf<-1 | 0>();
    if (d.index === -1) expectTypeOf(d.ok).toEqualTypeOf<false>();
    const t = await select([recv(a)], { timeout: 10 });
    expectTypeOf(t.index).toEqualTypeOf<0>();
    const opts: { default?: boolean } = {};
    expectTypeOf((await select([recv(a)], opts)).index).toEqualTypeOf<-1 | 0>();
  });

  test('the old call forms still compile', async () => {
    const a = new Chan<string>();
    const cases: Case[] = [recv(a), null];
    const r: Selected = await select(cases);
    expectTypeOf(r.index).toEqualTypeOf<number>();
    const s: Selected = selectSync(cases, { default: true });
    void s;
    // @ts-expect-error a send case must carry the channel's type
    send(a, 1);
  });
});

describe('options under exactOptionalPropertyTypes', () => {
  test('every optional option accepts undefined', async () => {
    const ch = new Chan<number>(1, { elem: undefined, name: undefined });
    await ch.send(1, { signal: undefined, timeout: undefined });
    ch.recvSync({ timeout: undefined });
    await select([recv(ch)], { default: undefined, timeout: undefined, signal: undefined });
    new Mutex({ name: undefined });
    new WaitGroup({ name: undefined });
    await sleep(1, { signal: undefined });
  });

  test('contexts cancel and expose a done channel', () => {
    const [ctx, cancel] = withCancel(background());
    expectTypeOf(cancel).toBeFunction();
    expectTypeOf(ctx.done()).toMatchTypeOf<RecvChan<unknown>>();
    void select([recv(ctx.done())]);
  });
});
