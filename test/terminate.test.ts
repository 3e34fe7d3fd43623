// worker.terminate() while the worker is blocked in a *Sync channel operation resolves
// promptly, and no value is lost or invented: a dead receiver takes nothing, a dead sender
// delivers nothing. Threads may exit in any order without crashing the process.
import { describe, it, expect, afterEach } from 'vitest';
import { fixture } from './fixture.js';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Chan, TimeoutError, attach } from 'weft';
import { spawn, cleanup, delay, within, failure, track } from './helpers.js';

afterEach(cleanup);

// generous bound to avoid flakiness on a loaded 2-core machine; the bench measures the 100 ms target
const PROMPT_MS = 1000;

const here = fileURLToPath(new URL('.', import.meta.url));
const script = fileURLToPath(fixture('exit-orders'));
/** Run test/fixtures/exit-orders.ts in a child process. */
function runMode(mode: string, timeout = 20_000) {
  return spawnSync(process.execPath, ['--expose-gc', script, mode], { cwd: here, encoding: 'utf8', timeout });
}

async function blockAndTerminate(ch: unknown, op: unknown) {
  const w = spawn('blockIn', ch, op);
  await w.event('blocking');
  await delay(150); // let it really block in native code
  const t0 = performance.now();
  const code = await within(w.terminate(), 10_000, `terminate() of a worker blocked in ${op}`);
  const elapsed = performance.now() - t0;
  expect(elapsed, `terminate() took ${elapsed.toFixed(0)} ms`).toBeLessThan(PROMPT_MS);
  expect(typeof code).toBe('number');
  await w.exited;
  return elapsed;
}

describe('terminate() of a worker blocked in a receive', () => {
  for (const op of ['recvSync', 'recvOkSync', 'recvSyncTimeout', 'iterate']) {
    it(`unbuffered, ${op}: prompt; the dead receiver takes nothing; a later value reaches main`, async () => {
      const ch = new Chan();
      await blockAndTerminate(ch, op);
      // a waiter record left behind would accept this value and lose it
      expect(ch.trySend('lost?')).toBe(false);
      const s = spawn('sendOne', ch, 'after', 'sync');
      await s.event('blocking');
      expect(await within(ch.recv(), 5000, 'value sent after the terminate')).toBe('after');
      expect(await s.done()).toEqual({ sent: true });
    });

    it(`buffered, ${op}: prompt; a value sent afterwards stays in the channel`, async () => {
      const ch = new Chan(2);
      await blockAndTerminate(ch, op);
      await within(ch.send('kept'), 5000, 'send after terminate');
      expect(ch.length).toBe(1);
      expect(ch.tryRecv()).toEqual({ value: 'kept', ok: true });
    });
  }

  // run in a child process: a crash here would otherwise take the whole test file down
  for (const [elem, op] of [['i32', 'recvManySync'], ['f64', 'recvManySync'], ['i64', 'recvManySync'], ['bool', 'recvManySync'], ['f64', 'recvManyIntoSync'], ['i32', 'recvManyIntoSync']]) {
    it(`'${elem}' ${op}: prompt, no crash; values sent afterwards stay in the channel`, () => {
      const r = runMode(`terminate-${op}:${elem}`);
      expect(r.signal, r.stderr).toBeNull();
      expect(r.status, `exit status ${r.status}; stderr: ${r.stderr}`).toBe(0);
      const m = /OK elapsed=(\d+)/.exec(r.stdout);
      expect(m, r.stdout).not.toBeNull();
      expect(Number(m![1])).toBeLessThan(PROMPT_MS);
    });
  }

  it('a main-thread async receiver on the same channel still gets the next value', async () => {
    const ch = new Chan();
    const mainRecv = track(ch.recv());
    await blockAndTerminate(ch, 'recvSync');
    expect(mainRecv.state).toBe('pending');
    const s = spawn('sendOne', ch, 'for-main', 'sync');
    expect(await within(mainRecv.promise, 5000)).toBe('for-main');
    await s.done();
  });
});

describe('terminate() of a worker blocked in a send', () => {
  for (const op of ['sendSync', 'sendSyncTimeout']) {
    it(`unbuffered, ${op}: prompt; nothing phantom arrives`, async () => {
      const ch = new Chan();
      await blockAndTerminate(ch, op);
      expect(ch.tryRecv()).toEqual({ value: undefined, ok: false, closed: false });
      expect(await failure(() => ch.recv({ timeout: 200 }))).toBeInstanceOf(TimeoutError);
      const s = spawn('sendOne', ch, 'real', 'sync');
      expect(await within(ch.recv(), 5000)).toBe('real');
      await s.done();
      expect(ch.tryRecv()).toEqual({ value: undefined, ok: false, closed: false });
    });
  }

  it('buffered and full, sendSync: prompt; only the values buffered before remain', async () => {
    const ch = new Chan(2);
    ch.trySend('a');
    ch.trySend('b');
    await blockAndTerminate(ch, 'sendSync');
    expect(ch.length).toBe(2);
    expect(await ch.recv()).toBe('a');
    expect(await ch.recv()).toBe('b');
    expect(await failure(() => ch.recv({ timeout: 200 }))).toBeInstanceOf(TimeoutError);
    expect(ch.length).toBe(0);
  });

  it("unbuffered 'i32' sendManySync: prompt; nothing phantom arrives", async () => {
    const ch = new Chan(0, { elem: 'i32' });
    await blockAndTerminate(ch, 'sendManySync');
    expect(ch.tryRecv()).toEqual({ value: undefined, ok: false, closed: false });
    expect(await failure(() => ch.recvMany(4, { timeout: 200 }))).toBeInstanceOf(TimeoutError);
  });
});

describe('many threads terminated at once', () => {
  it('4 blocked receivers and 4 blocked senders terminated together; the channels still work', async () => {
    const a = new Chan();
    const b = new Chan(1);
    b.trySend('full');
    const ws = [
      ...Array.from({ length: 4 }, () => spawn('blockIn', a, 'recvSync')),
      ...Array.from({ length: 4 }, () => spawn('blockIn', b, 'sendSync')),
    ];
    await Promise.all(ws.map((w) => w.event('blocking')));
    await delay(200);
    const t0 = performance.now();
    await within(Promise.all(ws.map((w) => w.terminate())), 10_000, 'terminate all');
    expect(performance.now() - t0).toBeLessThan(2 * PROMPT_MS);
    expect(a.trySend('x')).toBe(false);
    expect(b.length).toBe(1);
    expect(await b.recv()).toBe('full');
    expect(b.tryRecv().ok).toBe(false);
    const r = spawn('recvOne', a, 'sync');
    await r.event('blocking');
    await a.send('works');
    expect(await r.done()).toEqual({ value: 'works', ok: true });
  });

  it('terminating workers that churn on a channel while others use it loses nothing among the survivors', async () => {
    const ch = new Chan<{ i: number }>(4);
    const churners = Array.from({ length: 3 }, () => spawn('churn', ch));
    await Promise.all(churners.map((w) => w.event('blocking')));
    await delay(100);
    await within(Promise.all(churners.map((w) => w.terminate())), 10_000, 'terminate churners');
    // whatever the churners left in the buffer, the channel must behave normally now
    while (ch.tryRecv().ok);
    const s = spawn('sendSeq', ch, 'z', 200, 'sync');
    const got: number[] = [];
    for (let i = 0; i < 200; i++) got.push((await within(ch.recv(), 5000))!.i);
    expect(got).toEqual([...Array(200).keys()]);
    await s.done();
  });
});

describe('threads exit in any order', () => {
  it('share() from a worker that exits before main attaches keeps the objects alive', async () => {
    const w = spawn('shareAndExit', ['s1', 's2']);
    const shared = await w.event('shared');
    expect(await w.done()).toBe('exiting');
    await w.exited;
    await delay(50);
    const { ch } = attach(shared);
    expect(ch.length).toBe(2);
    expect(await ch.recv()).toBe('s1');
    expect(ch.recvSync()).toBe('s2');
    await ch.send('mine');
    expect(await ch.recv()).toBe('mine');
  });

  it('a worker that exits after using a channel leaves it usable by main and other workers', async () => {
    const ch = new Chan(3);
    await spawn('sendValues', ch, [1, 2]).done();
    await delay(20);
    expect(await spawn('recvN', ch, 1).done()).toEqual([{ value: 1, ok: true }]);
    expect(await ch.recv()).toBe(2);
  });

  for (const variant of ['', ':many']) {
    const many = variant ? ' (one of them in recvManySync)' : '';
    it(`process.exit() while workers are blocked in recvSync/sendSync${many} exits with the requested code, no crash`, () => {
      const r = runMode(`exit-while-blocked${variant}`);
      expect(r.signal, r.stderr).toBeNull();
      expect(r.status, r.stderr).toBe(7);
    });

    it(`an uncaught error in main while workers are blocked${many} exits with code 1, no crash`, () => {
      const r = runMode(`throw-while-blocked${variant}`);
      expect(r.signal, r.stderr).toBeNull();
      expect(r.status).toBe(1);
      expect(r.stderr).toMatch(/deliberate/);
    });

    it(`main returns while unref()ed workers are blocked${many}: the process exits`, () => {
      const r = runMode(`unref-blocked${variant}`);
      expect(r.signal, r.stderr).toBeNull();
      expect(r.status, r.stderr).toBe(0);
      expect(r.stdout).toMatch(/main done/);
    });
  }

  it('workers exit first, in random order, while main keeps using their channels', () => {
    const r = runMode('workers-first');
    expect(r.signal, r.stderr).toBeNull();
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/OK/);
  });

  it('main drops its handles and finishes while workers go on using the channel', () => {
    const r = runMode('main-first');
    expect(r.signal, r.stderr).toBeNull();
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/OK 300/);
  });

  it('workers terminated in random order while blocked and while working', () => {
    const r = runMode('random-terminate', 40_000);
    expect(r.signal, r.stderr).toBeNull();
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/OK/);
  });

});
