// Type tests of go() / Task / ErrGroup / configure / shutdown (API.md §7) against the built
// declarations (dist/index.d.ts): the result type of go<R> flows through await.
import { describe, expectTypeOf, test } from 'vitest';
import { ErrGroup, configure, go, shutdown, type Context, type GoConfig, type Task, type TaskDumpInfo, dump } from 'weft';

describe('go', () => {
  test('go<R> returns Task<R>: a Promise<R> with a readonly id', async () => {
    const t = go<number>(new URL('file:///m.js'), 'f', 1, 'a', { b: 2 });
    expectTypeOf(t).toEqualTypeOf<Task<number>>();
    expectTypeOf(t).toMatchTypeOf<Promise<number>>();
    expectTypeOf(t.id).toEqualTypeOf<number>();
    expectTypeOf(await t).toEqualTypeOf<number>();
    expectTypeOf(go('/abs/m.js', 'f')).toEqualTypeOf<Task<unknown>>();
    // @ts-expect-error the module is a string or a URL
    go(42, 'f');
  });
  test('configure and shutdown', () => {
    expectTypeOf(configure).parameter(0).toEqualTypeOf<GoConfig>();
    configure({ threads: 2, maxThreads: 8, idleTimeout: 1000, execArgv: [], resourceLimits: { maxOldGenerationSizeMb: 64 } });
    expectTypeOf(shutdown({ timeout: 10 })).toEqualTypeOf<Promise<void>>();
  });
  test('ErrGroup', () => {
    const g = new ErrGroup();
    expectTypeOf(g.ctx).toEqualTypeOf<Context>();
    expectTypeOf(g.go(new URL('file:///m.js'), 'f', g.ctx)).toEqualTypeOf<void>();
    g.goLocal(async (ctx) => {
      expectTypeOf(ctx).toEqualTypeOf<Context>();
    });
    expectTypeOf(g.wait()).toEqualTypeOf<Promise<void>>();
  });
  test('dump() entries may describe a task', () => {
    expectTypeOf(dump()[0]!.task).toEqualTypeOf<TaskDumpInfo | undefined>();
  });
});
