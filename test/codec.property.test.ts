// API.md §0 "Values", property-based: random structured values (primitives incl. -0/NaN/
// bigint and lone surrogates, arrays with holes and named properties, plain/null-prototype/
// class-instance objects, Map/Set, Date, RegExp, boxed primitives, Errors with cause, typed
// arrays and DataViews sharing buffers, resizable and (growable) shared buffers, shared
// references, cycles, 100+ level nesting and weft objects anywhere) go main -> worker -> main
// through structured channels and must equal what structuredClone gives for the same value:
// same graph shape (identity), prototypes, own properties in order, holes, buffer sharing,
// SharedArrayBuffer memory shared. WEFT_FC_RUNS sets the number of values (default 20 000).
import { describe, it, expect, afterEach } from 'vitest';
import { fixture } from './fixture.js';
import fc from 'fast-check';
import { Chan, DataCloneError } from 'weft';
import { spawnWith, cleanup, within } from './helpers.js';
import { sameClone, checkShared } from './fixtures/codec-compare.js';
import { recipe, build, makeBuffers, markers, poison } from './fixtures/codec-gen.js';

afterEach(cleanup);

const MODULE = fixture('codec-scenarios');
const TOTAL = Number(process.env.WEFT_FC_RUNS ?? 20_000);
const BATCH = 50;

describe('codec property: channel round trip equals structuredClone', () => {
  it(`${TOTAL} random values, ${BATCH} per message, through a worker and back`, async () => {
    const input = new Chan(4);
    const output = new Chan(4);
    const w = spawnWith({ module: MODULE }, 'echoAll', input, output);
    const wefts = [new Chan(5), new Chan(6), new Chan(7)];
    const marks = markers(wefts.length);
    const weftCheck = (g: unknown, k: number, path: string) => {
      if (!(g instanceof Chan) || g.capacity !== 5 + k) throw new Error(`${path}: expected weft object #${k}, got ${String(g)}`);
    };
    let values = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(recipe, { minLength: BATCH, maxLength: BATCH }), async (recipes) => {
        const bufs = makeBuffers();
        const real = recipes.map((r) => build(r, wefts, bufs));
        const expected = structuredClone(recipes.map((r) => build(r, marks, bufs)));
        await input.send(real);
        const got = await within(output.recv(), 30_000, 'echo');
        checkShared(sameClone(got, expected, { weftCheck }));
        values += recipes.length;
      }),
      { numRuns: Math.ceil(TOTAL / BATCH), endOnFailure: true },
    );
    input.close();
    expect(await w.done(60_000)).toBe(Math.ceil(TOTAL / BATCH));
    expect(values).toBe(Math.ceil(TOTAL / BATCH) * BATCH);
  }, 600_000);

  it('a value with something postMessage refuses anywhere inside throws DataCloneError and sends nothing', async () => {
    const ch = new Chan(1);
    const wefts = [new Chan(5), new Chan(6), new Chan(7)];
    await fc.assert(
      fc.property(recipe, poison, fc.nat(), (r, mk, where) => {
        const bufs = makeBuffers();
        const v = build(r, wefts, bufs);
        // put the poison into a random container of the value (or wrap the value with it)
        const holders: Record<string, unknown>[] = [];
        const seen = new Set();
        const walk = (x: unknown) => {
          if (typeof x !== 'object' || x === null || seen.has(x) || ArrayBuffer.isView(x)) return;
          seen.add(x);
          if (Array.isArray(x) || Object.getPrototypeOf(x) === Object.prototype || Object.getPrototypeOf(x) === null) holders.push(x as Record<string, unknown>);
          if (x instanceof Map) for (const [k, y] of x) { walk(k); walk(y); }
          else if (x instanceof Set) for (const y of x) walk(y);
          else if (!(x instanceof Chan)) for (const k of Object.keys(x)) walk((x as Record<string, unknown>)[k]);
        };
        walk(v);
        const bad = mk();
        let value = v;
        if (holders.length === 0) value = [v, bad];
        else holders[where % holders.length].poisoned = bad;
        expect(() => structuredClone(value)).toThrow();
        expect(() => ch.trySend(value)).toThrow(DataCloneError);
        expect(ch.length).toBe(0);
      }),
      { numRuns: 300 },
    );
  });
});
