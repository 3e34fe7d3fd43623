// The JavaScript fast path of buffered numeric channels (lib/chan/ring.ts): sends and receives
// that the ring can serve run as Atomics operations over the channel's native memory, and
// native code is entered only to wait or to wake. These tests drive that path across threads:
// exactly once and in order per producer (4 x 4 workers, every entry point), close while values
// are moving, workers terminated mid-send and mid-receive, and the values of every numeric
// element type crossing between the JavaScript and the native paths.
import { describe, it, expect, afterEach } from 'vitest';
import { Chan, ClosedChannelError } from 'weft';
import { fixture } from './fixture.js';
import { spawnWith, cleanup, delay, within } from './helpers.js';

afterEach(cleanup);

const MODULE = fixture('ring-scenarios');
const run = (fn: string, ...args: unknown[]) => spawnWith({ module: MODULE }, fn, ...args);
const BASE = 1_000_000; // producer p sends p * BASE + i

/** head, tail, waiter counts and stamps of a channel's ring, for a failure message. */
function ringWords(ch: Chan<any, any>): string {
  const r = (ch as unknown as { _ring: { w: Int32Array; s: Int32Array; cap: number } | null })._ring;
  if (r === null) return 'none';
  const stamps = Array.from({ length: r.cap }, (_, i) => r.s[i * 4]);
  const words = (r as unknown as { o: Int32Array }).o;
  const owners = Array.from({ length: r.cap }, (_, i) => [i, words[i]]).filter(([, o]) => o !== 0);
  return `head ${r.w[0]} tail ${r.w[32]} recvWaiting ${r.w[64]} sendWaiting ${r.w[65]} stamps ${stamps.join(',')}` +
    (owners.length > 0 ? ` owned ${owners.map(([i, o]) => `${i}:${o}`).join(',')}` : '');
}

/** Checks that `got` (all consumers' values) is exactly the ids each producer sent, in order per consumer. */
function checkExactlyOnce(got: number[][], sent: number[]) {
  const seen = new Set<number>();
  // Plain checks per value (an expect per value is slow); the first failures are reported.
  const bad: string[] = [];
  for (const list of got) {
    const last = new Map<number, number>();
    for (const v of list) {
      if (bad.length >= 10) break;
      if (seen.has(v)) bad.push(`value ${v} received twice`);
      seen.add(v);
      const p = Math.floor(v / BASE);
      const i = v % BASE;
      if (!(i < sent[p]!)) bad.push(`value ${v} was never sent`);
      // FIFO: a consumer sees each producer's values in increasing order.
      if (!(i > (last.get(p) ?? -1))) bad.push(`producer ${p}: ${i} after ${last.get(p)}`);
      last.set(p, i);
    }
  }
  expect(bad).toEqual([]);
  const total = sent.reduce((a, b) => a + b, 0);
  expect(seen.size).toBe(total);
}

describe('ring fast path: values and entry points on one thread', () => {
  it('every numeric element type round-trips through the JavaScript and the native paths', async () => {
    const cases: [string, unknown[]][] = [
      ['f64', [1.5, -0, NaN, Infinity, -Infinity, Number.MIN_VALUE, 2 ** 53 + 2]],
      ['i32', [0, 1, -1, 2 ** 31 - 1, -(2 ** 31), 12345]],
      ['i64', [0n, 1n, -1n, 2n ** 63n - 1n, -(2n ** 63n), 1n << 40n]],
      ['bool', [true, false, false, true, true]],
    ];
    for (const [elem, values] of cases) {
      const ch = new Chan<any>(3, { elem: elem as 'f64' });
      const out: unknown[] = [];
      // Mix of entry points: sync/try/async sends, batches (native) and single receives (JavaScript).
      for (let i = 0; i < values.length; i++) {
        const v = values[i];
        if (i % 3 === 0) ch.sendSync(v);
        else if (i % 3 === 1) expect(ch.trySend(v)).toBe(true);
        else await ch.send(v);
        if (ch.length === 3 || i === values.length - 1) {
          if (i % 2) out.push(...ch.recvManySync(10));
          else while (ch.length > 0) out.push(i % 4 === 0 ? ch.recvSync() : (await ch.recvOk()).value);
        }
      }
      expect(out.map(String), elem).toEqual(values.map(String));
      expect(Object.is(out[1], -0) || elem !== 'f64').toBe(true);
      // Full: trySend says false without sending; closed: send throws, receive drains then ends.
      for (let i = 0; i < 3; i++) ch.sendSync(values[0]);
      expect(ch.trySend(values[0])).toBe(false);
      expect(ch.length).toBe(3);
      ch.close();
      expect(() => ch.trySend(values[0])).toThrow(ClosedChannelError);
      expect(() => ch.sendSync(values[0])).toThrow(ClosedChannelError);
      await expect(ch.send(values[0])).rejects.toBeInstanceOf(ClosedChannelError);
      expect([ch.recvSync(), ch.tryRecv().value, await ch.recv()].map(String)).toEqual([values[0], values[0], values[0]].map(String));
      expect(ch.tryRecv()).toEqual({ value: undefined, ok: false, closed: true });
      expect(ch.recvSync()).toBeUndefined();
    }
  });

  it('positions wrap around: a capacity-1 ring runs 300,000 laps with every value in order', () => {
    const ch = new Chan<number, 'f64'>(1, { elem: 'f64' });
    for (let i = 0; i < 300_000; i++) {
      ch.sendSync(i);
      expect(ch.trySend(-1)).toBe(false);
      const v = ch.recvSync();
      if (v !== i) expect(v).toBe(i);
    }
    expect(ch.length).toBe(0);
  });

  it('a view shares the ring and keeps its direction rules', () => {
    const ch = new Chan<number, 'f64'>(4, { elem: 'f64' });
    const tx = ch.sendOnly();
    const rx = ch.recvOnly();
    tx.sendSync(1);
    expect(() => (rx as unknown as Chan<number>).sendSync(2)).toThrow(/receive-only/);
    expect(() => (tx as unknown as Chan<number>).recvSync()).toThrow(/send-only/);
    expect(() => (tx as unknown as Chan<number>).tryRecv()).toThrow(/send-only/);
    expect(() => (tx as unknown as Chan<number>).recv()).toThrow(/send-only/);
    expect(rx.recvSync()).toBe(1);
  });
});

describe('ring fast path across threads', () => {
  for (const [send, recvHow] of [['sync', 'sync'], ['async', 'async'], ['try', 'try'], ['sync', 'select']] as const) {
    it(`4 producers x 4 consumers (send ${send}, receive ${recvHow}): exactly once, FIFO per producer`, async () => {
      const n = 20_000;
      const ch = new Chan<number, 'f64'>(recvHow === 'select' ? 64 : 16, { elem: 'f64' });
      const other = new Chan<number, 'f64'>(64, { elem: 'f64' }); // select: a second channel, fed by producer 3
      const producers = [0, 1, 2, 3].map((p) => run('produce', recvHow === 'select' && p === 3 ? other : ch, p * BASE, n, send));
      const consumers = [0, 1, 2, 3].map(() => run('consume', recvHow === 'select' ? [ch, other] : [ch], recvHow));
      const sent = (await Promise.all(producers.map((w) => w.done(120_000)))).map((r) => r.sent as number);
      ch.close();
      other.close();
      const got = await Promise.all(consumers.map((w) => w.done(120_000)));
      expect(sent).toEqual([n, n, n, n]);
      checkExactlyOnce(got, sent);
    }, 240_000);
  }

  it('a receiver parked on an empty ring wakes for a value the JavaScript path sent, a sender parked on a full one for a value it took', async () => {
    for (let round = 0; round < 20; round++) {
      const ch = new Chan<number, 'f64'>(1, { elem: 'f64' });
      const rx = run('recvOne', ch);
      await rx.event('start');
      await delay(20); // parked in recvSync (no timed retry: only a wake-up gets it out)
      ch.sendSync(round); // the ring had room: JavaScript only, then chanNotify
      expect(await rx.done(5_000)).toBe(round);

      const full = new Chan<number, 'f64'>(1, { elem: 'f64' });
      full.sendSync(-1);
      const tx = run('produce', full, 0, 1, 'sync');
      await tx.event('start');
      await delay(20); // parked in sendSync on the full ring
      expect(full.recvSync()).toBe(-1); // JavaScript pop, then chanNotify wakes the sender
      expect(await tx.done(5_000)).toEqual({ sent: 1, closed: false });
      expect(full.recvSync()).toBe(0);
    }
  }, 120_000);

  it('structured values: small ones inline, long or object-carrying ones as native messages, 4 x 4 exactly once in order', async () => {
    const marker = new Chan<number, 'f64'>(3, { elem: 'f64' });
    for (const cap of [4, 256]) {
      const ch = new Chan<unknown>(cap);
      const n = 6_000;
      const producers = [0, 1, 2, 3].map((p) => run('produceStructured', ch, marker, p * BASE, n, p % 2 ? 'async' : 'sync'));
      const consumers = [0, 1, 2, 3].map((c) => run('consumeStructured', ch, marker, c % 2 ? 'async' : 'sync'));
      const sent = (await Promise.all(producers.map((w) => w.done(120_000)))).map((r) => r.sent as number);
      ch.close();
      const got = await Promise.all(consumers.map((w) => w.done(120_000)));
      checkExactlyOnce(got, sent);
    }
  }, 240_000);

  it('structured values: close mid-stream, and a consumer on this thread taking inline and native ones alike', async () => {
    const marker = new Chan<number, 'f64'>(3, { elem: 'f64' });
    const ch = new Chan<unknown>(16);
    const producers = [0, 1].map((p) => run('produceStructured', ch, marker, p * BASE, 100_000, 'sync'));
    await Promise.all(producers.map((w) => w.event('start')));
    const { checkStructured } = await import('./fixtures/ring-scenarios.js');
    const ids: number[] = [];
    for (let i = 0; i < 3_000; i++) ids.push(checkStructured(i % 2 ? ch.recvSync() : await ch.recv(), marker));
    ch.close();
    const results = await Promise.all(producers.map((w) => w.done(60_000)));
    for (;;) {
      const r = ch.tryRecv();
      if (!r.ok) break;
      ids.push(checkStructured(r.value, marker));
    }
    checkExactlyOnce([ids], results.map((r) => r.sent));
  }, 120_000);

  it('close while 4 producers send and 4 consumers receive: what was sent arrives once, nothing else', async () => {
    for (let round = 0; round < 3; round++) {
      const ch = new Chan<number, 'f64'>(8, { elem: 'f64' });
      const producers = [0, 1, 2, 3].map((p) => run('produce', ch, p * BASE, 200_000, p % 2 ? 'async' : 'sync'));
      const consumers = [0, 1, 2, 3].map((c) => run('consume', [ch], c % 2 ? 'async' : 'sync'));
      await Promise.all(producers.map((w) => w.event('start')));
      await delay(50 + round * 50);
      ch.close();
      const results = await Promise.all(producers.map((w) => w.done(60_000)));
      const got = await Promise.all(consumers.map((w) => w.done(60_000)));
      for (const r of results) expect(r.closed, 'the close stopped every producer').toBe(true);
      checkExactlyOnce(got, results.map((r) => r.sent));
    }
  }, 240_000);

  it('workers terminated mid-send and mid-receive leave no slot stuck: the channel keeps working', async () => {
    const ch = new Chan<number, 'f64'>(4, { elem: 'f64' });
    for (let round = 0; round < 6; round++) {
      const senders = [0, 1].map((p) => run('sendForever', ch, (round * 2 + p) * BASE));
      const receivers = [0, 1].map(() => run('recvForever', ch));
      await Promise.all([...senders.map((w) => w.event('sending')), ...receivers.map((w) => w.event('receiving'))]);
      await delay(5 + round * 7);
      // Terminate while values are moving: a sender may be anywhere in sendSync, a receiver in recvSync.
      // (A thread that cannot be stopped would be one spinning in native code on a slot a
      // terminated peer claimed and never published: the ring's words say which.)
      await within(Promise.all([...senders, ...receivers].map((w) => w.terminate())), 30_000,
        `terminate (round ${round}; ring words ${ringWords(ch)})`);
      // Whatever is buffered can be taken, and the ring then carries new values in order, from
      // this thread and through a fresh worker pair: no claimed-but-unpublished slot is left.
      while (ch.tryRecv().ok);
      for (let i = 0; i < 100; i++) {
        ch.sendSync(i);
        expect(ch.recvSync()).toBe(i);
      }
      const tx = run('produce', ch, 9 * BASE, 2_000, 'sync');
      const got: number[] = [];
      while (got.length < 2_000) {
        const v = await within(ch.recv(), 10_000, 'a value from the fresh producer');
        got.push(v!);
      }
      expect(got).toEqual(Array.from({ length: 2_000 }, (_, i) => 9 * BASE + i));
      await tx.done();
    }
  }, 240_000);

  it.each([
    ['f64', 32, 2],
    // Structured sends spend most of their time encoding, so a terminate seldom lands inside
    // the claim (disabling finish_send for structured rings did not fail 2 runs of this case):
    // here it checks exactly-once and order under terminations; each stop point of the
    // structured steps is driven by the C++ mirror (native/test/test_ring_js_inline.cc).
    ['structured', 8, 1],
  ] as const)('senders terminated inside their JavaScript send (%s): the value they claimed is published, exactly once', async (elem, ROUNDS, SENDERS) => {
    // Senders spin on trySend (never parking) and are terminated at random moments, 32 rounds
    // (without finish_send an f64 ring got stuck at round 7, and at round 19, in two runs);
    // two receivers (batches for f64) collect everything until the close. A terminate
    // often lands between a sender's claim of a slot and its publish, and the stopped thread's
    // cleanup must publish the recorded value (ring.cc finish_send). Without that, the slot
    // stays claimed and the ring is stuck for good: the next round's senders never get going.
    // Every value arrives exactly once and in order: each sender's ids 0 .. its last all arrive
    // (its send stopped before a claim sent nothing).
    // (structured: small numbers travel inline in the slot's block, their bytes recorded)
    const ch = new Chan<number, any>(64, { elem });
    // Workers send numeric values through native code unless told otherwise (ring.ts
    // NUMERIC_SEND_IN_JS): these senders use the JavaScript steps.
    process.env.WEFT_INTERNAL_RING_SEND = 'js';
    const receivers = [0, 1].map(() => run('recvCollect', ch, elem === 'f64'));
    await Promise.all(receivers.map((w) => w.event('receiving')));
    for (let round = 0; round < ROUNDS; round++) {
      // (one structured sender: the receivers, one value at a time, keep up with it, so the
      // ring is seldom full and a sender spends its time in trySend's claim-to-publish steps)
      const senders = Array.from({ length: SENDERS }, (_, p) => run('trySendForever', ch, (round * 2 + p) * BASE));
      const started = await Promise.race([
        Promise.all(senders.map((w) => w.event('sending'))).then(() => true),
        delay(20_000).then(() => false),
      ]);
      expect(started, `round ${round}: senders got going (ring words ${ringWords(ch)})`).toBe(true);
      await delay(1 + (round % 9));
      await within(Promise.all(senders.map((w) => w.terminate())), 30_000,
        `terminate (round ${round}; ring words ${ringWords(ch)})`);
    }
    delete process.env.WEFT_INTERNAL_RING_SEND;
    ch.close();
    const lists = (await Promise.all(receivers.map((w) => w.done(30_000)))) as number[][];
    // Over a million values: plain checks collecting the first failures, one expect at the
    // end (an expect per value cost most of this test's time: 70-126 s in CI).
    const bad: string[] = [];
    const fail = (why: string) => {
      if (bad.length < 10) bad.push(why);
    };
    for (const list of lists) {
      // FIFO: each receiver sees each sender's values in increasing order
      const last = new Map<number, number>();
      for (const v of list) {
        const p = Math.floor(v / BASE);
        if (!(v % BASE > (last.get(p) ?? -1))) fail(`sender ${p}: ${v % BASE} after ${last.get(p)}`);
        last.set(p, v % BASE);
      }
    }
    const got = lists.flat();
    const seen = new Set<number>();
    const high = new Map<number, number>();
    for (const v of got) {
      if (seen.has(v)) fail(`value ${v} received twice`);
      seen.add(v);
      const p = Math.floor(v / BASE);
      high.set(p, Math.max(high.get(p) ?? -1, v % BASE));
    }
    expect(high.size).toBe(ROUNDS * SENDERS);
    for (const [p, h] of high) {
      for (let i = 0; i <= h; i++) if (!seen.has(p * BASE + i)) fail(`sender ${p}: id ${i} of 0..${h} did not arrive`);
    }
    expect(bad).toEqual([]);
  }, 240_000);
});
