// API.md §8: stage() — function and module targets, workers, capacity, ordered, done, errors,
// ctx cancel, chaining; producers and work on pool threads. Also runs the book's CSV pipeline
// examples (examples/csv-pipeline.js, examples/pipeline-errors.js) and checks their output.
import { describe, it, expect, afterAll } from 'vitest';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import {
  Chan,
  CanceledError,
  MisuseError,
  background,
  go,
  pipeFrom,
  shutdown,
  sleep,
  stage,
  threadId,
  withCancel,
  withTimeout,
  type Context,
  type RecvChan,
  type Stage,
} from 'weft';

const M = new URL('./fixtures/go/stage.mjs', import.meta.url);
const ROOT = fileURLToPath(new URL('..', import.meta.url));
const run = promisify(execFile);

afterAll(() => shutdown({ timeout: 5000 }));

/** A channel fed 0..n-1 by a task on a pool thread (closed at the end). */
function source(n: number, capacity = 0, ctx?: Context): Chan<number> {
  const ch = new Chan<number>(capacity);
  void go(M, 'produce', ch, 0, n, true, ctx);
  return ch;
}

async function drain<T>(ch: RecvChan<T>): Promise<T[]> {
  const got: T[] = [];
  for await (const v of ch) got.push(v);
  return got;
}

const sorted = (a: number[]): number[] => [...a].sort((x, y) => x - y);
function range(n: number): number[];
function range<T>(n: number, f: (i: number) => T): T[];
function range(n: number, f: (i: number) => unknown = (i) => i): unknown[] {
  return Array.from({ length: n }, (_, i) => f(i));
}

describe('stage with a function target', () => {
  it('applies work to every value, in order with one worker, and closes its output', async () => {
    const out: Stage<string> = stage(background(), source(200), (x: number) => `v${x}`);
    expect(await drain(out)).toEqual(range(200, (i) => `v${i}`));
    await expect(out.done).resolves.toBeUndefined();
    expect(out.closed).toBe(true);
  });

  it('runs async work on several workers: nothing lost or duplicated', async () => {
    const out = stage(background(), source(300), async (x: number) => {
      await sleep(Math.random() * 3);
      return x * 2;
    }, { workers: 8 });
    expect(sorted(await drain(out))).toEqual(range(300, (i) => i * 2));
    await out.done;
  });

  it('ordered: true keeps input order across workers under random per-item delays', async () => {
    const out = stage(background(), source(300), async (x: number) => {
      await sleep(Math.random() * 4);
      return x + 1;
    }, { workers: 6, ordered: true });
    expect(await drain(out)).toEqual(range(300, (i) => i + 1));
    await out.done;
  });

  it('the output has the capacity asked for and is receive-only', async () => {
    const src = new Chan<number>(10);
    for (let i = 0; i < 5; i++) src.trySend(i);
    src.close();
    const out = stage(background(), src, (x: number) => x, { capacity: 8 });
    expect(out.capacity).toBe(8);
    await out.done;
    expect(out.length).toBe(5);
    expect(() => (out as unknown as Chan<number>).close()).toThrow(/receive-only/);
    expect(await drain(out)).toEqual([0, 1, 2, 3, 4]);
  });

  it('an error thrown by work cancels the stage: output closes, done rejects with it, workers stop taking input', async () => {
    const src = new Chan<number>(0);
    const taken: number[] = [];
    const out = stage(background(), src, (x: number) => {
      taken.push(x);
      if (x === 5) throw new RangeError('five');
      return x;
    }, { workers: 3 });
    const producer = (async () => {
      let i = 0;
      try {
        for (; i < 100; i++) await src.send(i, { timeout: 500 });
      } catch {
        // nobody takes any more
      }
      return i;
    })();
    const got = await drain(out);
    const err = await out.done.then(() => null, (e: unknown) => e);
    expect(err).toBeInstanceOf(RangeError);
    expect((err as Error).message).toBe('five');
    expect(got.every((v) => v !== 5)).toBe(true);
    const sent = await producer;
    expect(sent).toBeLessThan(100);
    expect(taken.length).toBe(sent);
  });

  it('canceling ctx closes the output at once and done resolves', async () => {
    const [ctx, cancel] = withCancel(background());
    const src = new Chan<number>(0); // never fed, never closed
    const out = stage(ctx, src, (x: number) => x, { workers: 2 });
    setTimeout(() => cancel(), 20);
    const r = await out.recvOk();
    expect(r.ok).toBe(false);
    await expect(out.done).resolves.toBeUndefined();
    // the withdrawn receives took nothing: a later value goes to someone else
    const t = go<number[]>(M, 'consumeAll', src);
    await src.send(42);
    src.close();
    expect(await t).toEqual([42]);
  });

  it('a ctx deadline stops a stage blocked on its output', async () => {
    const [ctx] = withTimeout(background(), 50);
    const out = stage(ctx, source(1000, 0, ctx), (x: number) => x);
    expect(await out.recv()).toBe(0);
    await sleep(100); // nobody receives: the worker waits on its send until the deadline
    expect(await drain(out)).toEqual([]);
    await out.done;
  });

  it('rejects bad arguments synchronously', () => {
    const ch = new Chan<number>();
    expect(() => stage({} as never, ch, (x) => x)).toThrow(TypeError);
    expect(() => stage(background(), {} as never, (x) => x)).toThrow(/input/);
    expect(() => stage(background(), ch.sendOnly() as never, (x) => x)).toThrow(MisuseError);
    expect(() => stage(background(), ch, 42 as never)).toThrow(/work/);
    expect(() => stage(background(), ch, (x) => x, { workers: 0 })).toThrow(RangeError);
    expect(() => stage(background(), ch, (x) => x, { workers: 0 })).toThrow(/workers/);
    expect(() => stage(background(), ch, (x) => x, { capacity: -1 })).toThrow(RangeError);
    expect(() => stage(background(), ch, { module: './x.js', export: 'f' })).toThrow(/import\.meta\.url/);
    expect(() => stage(background(), ch, { module: M, export: '' })).toThrow(/export/);
  });
});

describe('stage with a module target (pool threads)', () => {
  it('runs work on pool threads; values never pass through the calling thread', async () => {
    const out = stage(background(), source(400), { module: M, export: 'tagThread' }, { workers: 2 });
    const got = (await drain(out)) as unknown as [number, number][];
    expect(sorted(got.map(([x]) => x))).toEqual(range(400));
    expect(got.every(([, tid]) => tid !== threadId())).toBe(true);
    await out.done;
  });

  it('several workers: nothing lost or duplicated, CPU-bound work', async () => {
    const out = stage<number, number>(background(), source(200), { module: M, export: 'busyDouble' }, { workers: 3, capacity: 4 });
    expect(sorted(await drain(out))).toEqual(range(200, (i) => i * 2));
    await out.done;
  });

  it('ordered: true keeps input order across pool workers under random delays', async () => {
    const out = stage(background(), source(300), { module: M, export: 'jitterDouble' }, { workers: 4, ordered: true });
    expect(await drain(out)).toEqual(range(300, (i) => i * 2));
    await out.done;
  });

  it('an error thrown on a pool thread rejects done with the same class and closes the output', async () => {
    const [ctx, cancel] = withCancel(background());
    const src = new Chan<number>(0);
    void pipeFrom(range(1000), src, { signal: ctx.signal }).catch(() => {});
    const out = stage(ctx, src, { module: M, export: 'failOn13' }, { workers: 2 });
    const got = await drain(out);
    const err = await out.done.then(() => null, (e: unknown) => e);
    cancel(); // the book's pattern: stop the rest of the pipeline
    expect(err).toBeInstanceOf(RangeError);
    expect((err as Error).message).toBe('13 is unlucky');
    expect(got.length).toBeLessThan(1000);
    expect(got).not.toContain(13);
  });

  it('an export that is not a function rejects done with a TypeError naming it', async () => {
    const src = new Chan<number>(1);
    src.trySend(1);
    const out = stage(background(), src, { module: M, export: 'notAFunction' });
    await expect(out.done).rejects.toThrow(/notAFunction/);
    expect(await out.recvOk()).toEqual({ value: undefined, ok: false });
  });

  it('canceling ctx stops pool workers waiting on input; nothing is taken from it afterwards', async () => {
    const [ctx, cancel] = withCancel(background());
    const src = new Chan<number>(0);
    const out = stage(ctx, src, { module: M, export: 'double' }, { workers: 2 });
    await src.send(1);
    expect(await out.recv()).toBe(2);
    cancel();
    await out.done;
    expect(out.closed).toBe(true);
    // wait until the pool workers let go of their receives, then a value goes to a new receiver
    const t = go<number[]>(M, 'consumeAll', src);
    await src.send(7);
    src.close();
    expect(await t).toEqual([7]);
  });

  it('stages chain: function → pool → pool (ordered) → function', async () => {
    const ctx = background();
    const a = stage(ctx, source(250), (x: number) => x + 1);
    const b = stage<number, number>(ctx, a, { module: M, export: 'double' }, { workers: 2 });
    const c = stage<number, number>(ctx, b, { module: M, export: 'jitterDouble' }, { workers: 3, ordered: true });
    const d = stage(ctx, c, (x: number) => x / 4, { workers: 2, capacity: 2 });
    expect(sorted(await drain(d))).toEqual(range(250, (i) => i + 1));
    await Promise.all([a.done, b.done, c.done, d.done]);
  });

  it('an error in the middle of a chain: the caller cancels the shared ctx and every stage ends', async () => {
    const [ctx, cancel] = withCancel(background());
    const src = new Chan<number>(0);
    void pipeFrom(range(10_000), src, { signal: ctx.signal }).catch(() => {});
    const a = stage(ctx, src, (x: number) => x);
    const b = stage<number, number>(ctx, a, { module: M, export: 'failOn13' }, { workers: 2 });
    const c = stage(ctx, b, (x: number) => x);
    b.done.catch((e: unknown) => cancel(e));
    await drain(c);
    await expect(b.done).rejects.toThrow(RangeError);
    await a.done;
    await c.done;
    expect(ctx.err()).toBeInstanceOf(CanceledError);
  });
});

describe('the book\'s CSV pipeline examples', () => {
  const modes = ['sync', 'async', 'fanout', 'ordered'];
  let reference: Promise<string> | undefined;
  for (const mode of modes) {
    it(`examples/csv-pipeline.js ${mode}`, async () => {
      const { stdout } = await run('node', ['examples/csv-pipeline.js', mode, '2000'], { cwd: ROOT, timeout: 60_000 });
      const last = stdout.trim().split('\n').at(-1)!;
      expect(last).toMatch(new RegExp(`^${mode}: 2000 rows, checksum \\d+, ordered (yes|no)`));
      if (mode !== 'fanout') expect(last).toContain('ordered yes');
      // every mode computes the same records: same checksum
      const sum = /checksum (\d+)/.exec(last)![1];
      reference ??= run('node', ['examples/csv-pipeline.js', 'sync', '2000'], { cwd: ROOT, timeout: 60_000 }).then((r) => r.stdout);
      expect(await reference).toContain(`checksum ${sum}`);
    }, 90_000);
  }

  it('examples/pipeline-errors.js reports the bad rows, then stops on the first error', async () => {
    const { stdout } = await run('node', ['examples/pipeline-errors.js'], { cwd: ROOT, timeout: 60_000 });
    expect(stdout).toMatch(/error channel: 197 good rows, 3 errors/);
    expect(stdout).toMatch(/row 17: bad height/);
    expect(stdout).toMatch(/stop on first error: .*row 17: bad height/);
    expect(stdout.trim().split('\n').at(-1)).toMatch(/^summary: /);
  }, 90_000);
});
