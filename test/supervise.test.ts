// API.md §8: supervise() — a thread of its own per run, terminated and restarted when beats
// stop (a busy loop, a recvSync), backoff, maxRestarts, restarts, result (values and errors as
// go() carries them), stop(), process lifetime, bad arguments. Timeouts are ms-scale; bounds
// are generous (a loaded machine starts a thread in tens to hundreds of ms).
import { describe, it, expect } from 'vitest';
import { fileURLToPath } from 'node:url';
import { AtomicInt64, CanceledError, Chan, DataCloneError, TimeoutError, supervise, type Restart } from 'weft';
import { rejection, runNode, thrown } from './helpers.js';

const T = new URL('./fixtures/supervise/tasks.mjs', import.meta.url);

async function drain<V>(ch: { recv(o?: { timeout?: number }): Promise<V | undefined>; closed: boolean }): Promise<V[]> {
  const out: V[] = [];
  for (;;) {
    const v = await ch.recv({ timeout: 30_000 });
    if (v === undefined && ch.closed) return out;
    out.push(v as V);
  }
}

describe('supervise', () => {
  it('result settles with the first run that returns; no restart; restarts closes', async () => {
    const sup = supervise(T, 'beatThenReturn', [3, 5, { v: [1, 2] }], { heartbeatTimeout: 2_000 });
    expect(await sup.result).toEqual({ v: [1, 2] });
    expect(await drain(sup.restarts)).toEqual([]);
    await sup.stop(); // after the result: a no-op that resolves
  });

  it('restarts a run stuck in while (true) {}', async () => {
    const runs = new AtomicInt64(0);
    const sup = supervise(T, 'stuckThenOk', [runs, 1, 'spin'], { heartbeatTimeout: 150 });
    // Run k returns k; a healthy run starved past heartbeatTimeout on a loaded machine is
    // restarted too, so: at least one restart, and exactly one per run before the last.
    const k = (await sup.result) as number;
    expect(k).toBeGreaterThanOrEqual(2);
    const restarts = await drain(sup.restarts);
    expect(restarts.length).toBe(k - 1);
    expect(restarts[0]!.reason).toMatch(/heartbeat/);
    expect(Math.abs(restarts[0]!.at - Date.now())).toBeLessThan(60_000);
    expect(runs.load()).toBe(k);
  });

  it('restarts a run blocked in recvSync, twice (without a standby thread too)', async () => {
    const runs = new AtomicInt64(0);
    const sup = supervise(T, 'stuckThenOk', [runs, 2, 'recv'], { heartbeatTimeout: 150, standby: false });
    const k = (await sup.result) as number;
    expect(k).toBeGreaterThanOrEqual(3);
    expect((await drain(sup.restarts)).length).toBe(k - 1);
  });

  it('waits backoff ms before each restart; past maxRestarts result rejects with TimeoutError', async () => {
    const runs = new AtomicInt64(0);
    const t0 = performance.timeOrigin + performance.now();
    const sup = supervise(T, 'alwaysStuck', [runs], { heartbeatTimeout: 40, maxRestarts: 2, backoff: 150 });
    const e = await rejection(sup.result);
    expect(e).toBeInstanceOf(TimeoutError);
    expect(e.code).toBe('ERR_WEFT_TIMEOUT');
    expect(e.message).toMatch(/maxRestarts 2/);
    const restarts: Restart[] = await drain(sup.restarts);
    expect(restarts.length).toBe(2);
    expect(runs.load()).toBe(3);
    // A restart comes at least heartbeatTimeout + backoff after the previous start.
    expect(restarts[0]!.at - t0).toBeGreaterThanOrEqual(40 + 150 - 5);
    expect(restarts[1]!.at - restarts[0]!.at).toBeGreaterThanOrEqual(40 + 150 - 5);
  });

  it('maxRestarts: 0 rejects at the first miss', async () => {
    const runs = new AtomicInt64(0);
    const sup = supervise(T, 'stuckThenOk', [runs, 5, 'sleep'], { heartbeatTimeout: 40, maxRestarts: 0 });
    const e = await rejection(sup.result);
    expect(e).toBeInstanceOf(TimeoutError);
    expect(e.message).toMatch(/no heartbeat for 40 ms/);
    expect(runs.load()).toBe(1);
    expect(await drain(sup.restarts)).toEqual([]);
  });

  it('carries errors as go() does: class, message, code, cause, extra fields, both stacks', async () => {
    const e1 = await rejection(supervise(T, 'throwsRange', [], { heartbeatTimeout: 1_000 }).result);
    expect(e1).toBeInstanceOf(RangeError);
    expect(e1.message).toBe('bad range');
    expect(e1.code).toBe('E_RANGE');
    expect(e1.stack).toMatch(/throwsRange/);
    expect(e1.stack).toMatch(/supervise\.test/);
    const e2 = await rejection(supervise(T, 'rejectsCustom', [], { heartbeatTimeout: 1_000 }).result);
    expect(e2.name).toBe('MyError');
    expect(e2.message).toBe('mine');
    expect(e2.extra).toBe(42);
    expect(e2.cause).toBeInstanceOf(TypeError);
    const e3 = await rejection(supervise(T, 'notCloneable', [], { heartbeatTimeout: 1_000 }).result);
    expect(e3).toBeInstanceOf(DataCloneError);
  });

  it('a missing export, a non-function export, a missing module, a thread that exits: TypeError/Error naming them', async () => {
    const e1 = await rejection(supervise(T, 'nope', [], { heartbeatTimeout: 1_000 }).result);
    expect(e1).toBeInstanceOf(TypeError);
    expect(e1.message).toMatch(/tasks\.mjs/);
    expect(e1.message).toMatch(/nope/);
    const e2 = await rejection(supervise(T, 'notAFunction', [], { heartbeatTimeout: 1_000 }).result);
    expect(e2).toBeInstanceOf(TypeError);
    expect(e2.message).toMatch(/notAFunction/);
    const missing = new URL('./fixtures/supervise/missing.mjs', import.meta.url);
    const e3 = await rejection(supervise(missing, 'f', [], { heartbeatTimeout: 1_000 }).result);
    expect(e3).toBeInstanceOf(TypeError);
    expect(e3.message).toMatch(/missing\.mjs/);
    const e4 = await rejection(supervise(T, 'exits', [], { heartbeatTimeout: 1_000 }).result);
    expect(e4.message).toMatch(/exited \(code 3\)/);
  });

  it('passes weft objects in args by reference and a Heartbeat last', async () => {
    const out = new Chan<unknown>(1);
    const sup = supervise(fileURLToPath(T), 'echo', [out, { deep: [new Map([[1, 'a']])] }], { heartbeatTimeout: 2_000 });
    expect(await sup.result).toBe(true);
    expect(out.tryRecv()).toEqual({ ok: true, value: { deep: [new Map([[1, 'a']])] } });
  });

  it('stop() terminates the running thread, rejects result with CanceledError and closes restarts', async () => {
    const sup = supervise(T, 'beatForever', [], { heartbeatTimeout: 2_000 });
    await new Promise((r) => setTimeout(r, 150));
    await sup.stop();
    const e = await rejection(sup.result);
    expect(e).toBeInstanceOf(CanceledError);
    expect(await drain(sup.restarts)).toEqual([]);
    await sup.stop(); // idempotent
    // stop() during a backoff: no restart is made.
    const runs = new AtomicInt64(0);
    const s2 = supervise(T, 'alwaysStuck', [runs], { heartbeatTimeout: 30, backoff: 5_000 });
    while (runs.load() < 1) await new Promise((r) => setTimeout(r, 10));
    await new Promise((r) => setTimeout(r, 200));
    await s2.stop();
    expect(await rejection(s2.result)).toBeInstanceOf(CanceledError);
    expect(runs.load()).toBe(1);
  });

  it('does not keep the process alive once the result settled or stop() was called', async () => {
    const r = await runNode([fileURLToPath(new URL('./fixtures/supervise/exit.mjs', import.meta.url))], 30_000);
    expect(r.timedOut).toBe(false);
    expect(r.stderr).toBe('');
    expect(r.lines).toEqual(['ok', 'CanceledError', 'TimeoutError']);
    expect(r.code).toBe(0);
  });

  it('refuses bad arguments synchronously, naming them', () => {
    const o = { heartbeatTimeout: 100 };
    const bad: [() => unknown, abstract new (...a: never[]) => Error, RegExp][] = [
      [() => supervise('./x.mjs', 'f', [], o), TypeError, /new URL/],
      [() => supervise(42 as unknown as string, 'f', [], o), TypeError, /module/],
      [() => supervise(T, '', [], o), TypeError, /exportName/],
      [() => supervise(T, 5 as unknown as string, [], o), TypeError, /exportName/],
      [() => supervise(T, 'f', 'x' as unknown as unknown[], o), TypeError, /args/],
      [() => supervise(T, 'f', [], undefined as unknown as typeof o), TypeError, /opts/],
      [() => supervise(T, 'f', [], {} as typeof o), TypeError, /heartbeatTimeout/],
      [() => supervise(T, 'f', [], { heartbeatTimeout: 0 }), RangeError, /heartbeatTimeout/],
      [() => supervise(T, 'f', [], { heartbeatTimeout: 10, maxRestarts: -1 }), RangeError, /maxRestarts/],
      [() => supervise(T, 'f', [], { heartbeatTimeout: 10, maxRestarts: 1.5 }), RangeError, /maxRestarts/],
      [() => supervise(T, 'f', [], { heartbeatTimeout: 10, maxRestarts: '1' as unknown as number }), TypeError, /maxRestarts/],
      [() => supervise(T, 'f', [], { heartbeatTimeout: 10, backoff: -1 }), RangeError, /backoff/],
      [() => supervise(T, 'f', [], { heartbeatTimeout: 10, standby: 1 as unknown as boolean }), TypeError, /standby/],
      [() => supervise(T, 'f', [() => 1], o), DataCloneError, /./],
    ];
    for (const [fn, cls, msg] of bad) {
      const e = thrown(fn);
      expect(e).toBeInstanceOf(cls);
      expect(e.message).toMatch(msg);
    }
  });
});
