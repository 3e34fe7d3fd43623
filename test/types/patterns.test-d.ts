// Type tests of stage / fanIn / orderedFanIn and the stream helpers (API.md §8, §10) against the
// built declarations: element types flow from input through work to the output.
import { describe, expectTypeOf, test } from 'vitest';
import type { Readable, Writable } from 'node:stream';
import { Chan, background, fanIn, orderedFanIn, pipeFrom, stage, toReadable, toWritable, type RecvChan, type Stage } from 'weft';

describe('stage', () => {
  test('a function target carries its input and output types', () => {
    const ctx = background();
    const lines = new Chan<string>();
    const lens = stage(ctx, lines, (l) => {
      expectTypeOf(l).toEqualTypeOf<string>();
      return l.length;
    });
    expectTypeOf(lens).toEqualTypeOf<Stage<number>>();
    expectTypeOf(lens).toMatchTypeOf<RecvChan<number>>();
    expectTypeOf(lens.done).toEqualTypeOf<Promise<void>>();
    const asyncOut = stage(ctx, lens, async (n) => [n], { workers: 2, capacity: 1, ordered: true });
    expectTypeOf(asyncOut).toEqualTypeOf<Stage<number[]>>();
    // @ts-expect-error work takes the input's element type
    stage(ctx, lines, (n: number) => n);
  });
  test('a module target takes its types as arguments', () => {
    const out = stage<string, number>(background(), new Chan<string>(), { module: new URL('file:///w.js'), export: 'f' });
    expectTypeOf(out).toEqualTypeOf<Stage<number>>();
    // @ts-expect-error export is required
    stage(background(), new Chan<string>(), { module: '/w.js' });
  });
});

describe('fanIn', () => {
  test('merges channels of one element type', () => {
    const a = new Chan<number>();
    const b = stage(background(), a, (x) => x + 1);
    expectTypeOf(fanIn(background(), a, b)).toEqualTypeOf<RecvChan<number>>();
    expectTypeOf(orderedFanIn(background(), (v: { seq: number }) => v.seq, new Chan<{ seq: number }>())).toEqualTypeOf<
      RecvChan<{ seq: number }>
    >();
  });
});

describe('streams', () => {
  test('toReadable / toWritable / pipeFrom', () => {
    const ch = new Chan<string>();
    expectTypeOf(toReadable(ch, { highWaterMark: 4 })).toEqualTypeOf<Readable>();
    expectTypeOf(toWritable(ch, { close: false })).toEqualTypeOf<Writable>();
    expectTypeOf(pipeFrom(['a'], ch, { timeout: 10, close: true })).toEqualTypeOf<Promise<number>>();
    // @ts-expect-error the values must fit the channel
    pipeFrom([1], ch);
  });
});
