// API.md §8: fanIn and orderedFanIn with producers on pool threads — each input's order kept,
// nothing lost or duplicated, closing when every input closed or ctx ends, sequence order with
// inputs that run ahead (paused), a gap left by a closed input.
import { describe, it, expect, afterAll } from 'vitest';
import { Chan, background, fanIn, go, orderedFanIn, shutdown, sleep, stage, withCancel, type RecvChan } from 'weft';

const M = new URL('./fixtures/go/stage.mjs', import.meta.url);

afterAll(() => shutdown({ timeout: 5000 }));

async function drain<T>(ch: RecvChan<T>): Promise<T[]> {
  const got: T[] = [];
  for await (const v of ch) got.push(v);
  return got;
}

type Tagged = { seq: number; from: number };

describe('fanIn', () => {
  it('merges inputs fed from pool threads: each input keeps its order, nothing lost or duplicated', async () => {
    const inputs = [0, 1, 2].map(() => new Chan<number>(0));
    inputs.forEach((ch, k) => void go(M, 'produce', ch, k * 1000, 300));
    const got = await drain(fanIn(background(), ...inputs));
    expect(got.length).toBe(900);
    for (let k = 0; k < 3; k++) {
      const mine = got.filter((v) => Math.floor(v / 1000) === k);
      expect(mine).toEqual(Array.from({ length: 300 }, (_, i) => k * 1000 + i));
    }
  });

  it('closes only once every input is closed', async () => {
    const a = new Chan<number>(1);
    const b = new Chan<number>(1);
    const out = fanIn(background(), a, b);
    a.close();
    await b.send(1);
    expect(await out.recv()).toBe(1);
    await sleep(20);
    expect(out.closed).toBe(false);
    b.close();
    expect(await out.recvOk()).toEqual({ value: undefined, ok: false });
  });

  it('with no inputs it closes at once', async () => {
    expect(await fanIn(background()).recvOk()).toEqual({ value: undefined, ok: false });
  });

  it('ctx ending closes the output; values not yet taken stay in the inputs', async () => {
    const [ctx, cancel] = withCancel(background());
    const a = new Chan<number>(0);
    const out = fanIn(ctx, a);
    cancel();
    expect(await out.recvOk()).toEqual({ value: undefined, ok: false });
    await sleep(10);
    // the merge withdrew its receive: a value sent now reaches a receiver on a pool thread
    const t = go<number[]>(M, 'consumeAll', a);
    await a.send(5);
    a.close();
    expect(await t).toEqual([5]);
  });

  it('merges the outputs of stages (fan-out / fan-in)', async () => {
    const src = new Chan<number>(0);
    void go(M, 'produce', src, 0, 200);
    const ctx = background();
    const workers = [1, 2, 3].map(() => stage<number, number>(ctx, src, { module: M, export: 'double' }));
    const got = await drain(fanIn(ctx, ...workers));
    expect(got.sort((x, y) => x - y)).toEqual(Array.from({ length: 200 }, (_, i) => i * 2));
  });

  it('rejects bad arguments synchronously', () => {
    expect(() => fanIn({} as never)).toThrow(TypeError);
    expect(() => fanIn(background(), {} as never)).toThrow(/inputs\[0\]/);
  });
});

describe('orderedFanIn', () => {
  it('merges inputs from pool threads in sequence order under random delays', async () => {
    const N = 300;
    const inputs = [0, 1, 2].map(() => new Chan<Tagged>(0));
    // input k carries the sequence numbers i with i % 3 === k
    inputs.forEach((ch, k) => void go(M, 'produceSeq', ch, Array.from({ length: N / 3 }, (_, j) => j * 3 + k)));
    const got = await drain(orderedFanIn(background(), (v: Tagged) => v.seq, ...inputs));
    expect(got.map((v) => v.seq)).toEqual(Array.from({ length: N }, (_, i) => i));
  });

  it('uneven inputs: one input carries long runs of consecutive numbers', async () => {
    const a = new Chan<Tagged>(0);
    const b = new Chan<Tagged>(0);
    const seqA: number[] = [];
    const seqB: number[] = [];
    for (let i = 0; i < 200; i++) (i % 50 < 40 ? seqA : seqB).push(i);
    void go(M, 'produceSeq', a, seqA);
    void go(M, 'produceSeq', b, seqB);
    const got = await drain(orderedFanIn(background(), (v: Tagged) => v.seq, a, b));
    expect(got.map((v) => v.seq)).toEqual(Array.from({ length: 200 }, (_, i) => i));
  });

  it('pauses an input that runs ahead: nothing more is taken from it until its turn', async () => {
    const ahead = new Chan<number>(10);
    const behind = new Chan<number>(0);
    for (const s of [1, 3, 5, 7]) ahead.trySend(s);
    ahead.close();
    const out = orderedFanIn(background(), (v: number) => v, ahead, behind);
    await sleep(30);
    expect(ahead.length).toBe(3); // 1 taken and waiting for 0; 3, 5, 7 untouched
    const got: number[] = [];
    const reader = (async () => {
      for await (const v of out) got.push(v);
    })();
    // the numbers it waits for come from a pool thread
    void go(M, 'produceSeqPlain', behind, [0, 2, 4, 6]);
    await reader;
    expect(got).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
  });

  it('goes on past a number that never comes (its input closed without it)', async () => {
    const a = new Chan<number>(10);
    const b = new Chan<number>(10);
    for (const s of [0, 1, 3]) a.trySend(s);
    for (const s of [4, 5]) b.trySend(s);
    a.close();
    b.close();
    expect(await drain(orderedFanIn(background(), (v: number) => v, a, b))).toEqual([0, 1, 3, 4, 5]);
  });

  it('ctx ending closes the output and releases inputs waiting for their turn', async () => {
    const [ctx, cancel] = withCancel(background());
    const a = new Chan<number>(4);
    const b = new Chan<number>(0);
    a.trySend(2);
    const out = orderedFanIn(ctx, (v: number) => v, a, b);
    await sleep(10);
    cancel();
    expect(await out.recvOk()).toEqual({ value: undefined, ok: false });
  });

  it('rejects bad arguments synchronously', () => {
    expect(() => orderedFanIn(background(), 'x' as never)).toThrow(/seq/);
    expect(() => orderedFanIn(background(), (v: number) => v, 1 as never)).toThrow(TypeError);
  });
});
