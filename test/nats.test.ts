// weft/nats remote channels against a real nats-server (test/nats-server.ts), with child
// processes standing in for other machines (test/nats-peers.ts). Skipped without nats-server.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import { connect as natsConnect, type NatsConnection } from '@nats-io/transport-node';
import { Chan, ClosedChannelError, DataCloneError, MisuseError, TimeoutError, CanceledError, recv, select } from 'weft';
import { bridge, connect, RemoteError, type Remote } from 'weft/nats';
import { hasNatsServer, SKIP_MESSAGE, startNatsServer, type NatsServer } from './nats-server.js';
import { killPeers, peer } from './nats-peers.js';

if (!hasNatsServer) console.warn(SKIP_MESSAGE);

describe.skipIf(!hasNatsServer)('weft/nats RemoteChan', () => {
  let server: NatsServer;
  let remote: Remote;
  let nc: NatsConnection;
  let jsm: JetStreamManager;

  beforeAll(async () => {
    server = await startNatsServer();
    remote = await connect({ servers: server.url, name: 'test' });
    nc = await natsConnect({ servers: server.url });
    jsm = await jetstreamManager(nc);
    const info = await jsm.getAccountInfo();
    expect(info.limits).toBeDefined(); // JetStream is on
  });
  afterAll(async () => {
    killPeers();
    await remote?.close();
    await nc?.close();
    await server?.stop();
  });

  const stored = async (name: string): Promise<number> => (await jsm.streams.info(`weft_chan_${name}`)).state.messages;

  it('carries structured-clone values; refuses weft objects and functions (nothing stored)', async () => {
    const ch = await remote.chan<unknown>('values', { capacity: 8 });
    expect(ch.capacity).toBe(8);
    expect(ch.name).toBe('values');
    const shared = { k: 1 };
    const v = { m: new Map([[1, 'a']]), s: new Set([2]), d: new Date(5), b: 7n, u: undefined, a: new Float64Array([1.5]), two: [shared, shared] };
    await ch.send(v);
    await ch.send(undefined);
    const got = (await ch.recv()) as typeof v;
    expect(got.m.get(1)).toBe('a');
    expect(got.s.has(2)).toBe(true);
    expect(got.d.getTime()).toBe(5);
    expect(got.b).toBe(7n);
    expect('u' in got).toBe(true);
    expect(got.a).toBeInstanceOf(Float64Array);
    expect(got.two[0]).toBe(got.two[1]);
    expect(await ch.recvOk()).toEqual({ value: undefined, ok: true });
    expect(() => ch.send(new Chan(1))).toThrow(DataCloneError);
    expect(() => ch.send({ deep: [new Chan(1)] })).toThrow(/cannot be sent to another machine/);
    expect(() => ch.send(() => 1)).toThrow(DataCloneError);
    expect(() => ch.send(1, { timeout: -1 })).toThrow(RangeError);
    expect(() => ch.recv({ signal: {} as AbortSignal })).toThrow(TypeError);
    expect(await stored('values')).toBe(0);
  });

  it('opens an existing channel as it is; a different capacity throws RangeError naming both', async () => {
    await remote.chan('cap', { capacity: 3 });
    const again = await remote.chan('cap');
    expect(again.capacity).toBe(3);
    await expect(remote.chan('cap', { capacity: 5 })).rejects.toThrow(/capacity 5 .*capacity 3/);
    expect(() => remote.chan('cap', { capacity: 0 })).toThrow(RangeError);
    expect(() => remote.chan('bad.name')).toThrow(RangeError);
    await jsm.streams.add({ name: 'weft_chan_plain', subjects: ['weft.chan.plain'] });
    const e = await remote.chan('plain').catch((x: unknown) => x);
    expect(e).toBeInstanceOf(RemoteError);
    expect(String((e as Error).message)).toMatch(/not a weft channel/);
  });

  it('timeouts and aborts are weft\'s (well under JetStream\'s 1 s minimum) and take nothing', async () => {
    const ch = await remote.chan<number>('timeouts', { capacity: 2 });
    let t0 = Date.now();
    await expect(ch.recv({ timeout: 30 })).rejects.toBeInstanceOf(TimeoutError);
    expect(Date.now() - t0).toBeLessThan(900);
    const ac = new AbortController();
    const p = ch.recvOk({ signal: ac.signal });
    setTimeout(() => ac.abort(new Error('stop')), 20);
    t0 = Date.now();
    await expect(p).rejects.toBeInstanceOf(CanceledError);
    expect(Date.now() - t0).toBeLessThan(900);
    await expect(ch.recv({ signal: AbortSignal.abort() })).rejects.toBeInstanceOf(CanceledError);
    // the receives that gave up still have pull requests at the server: a value sent now goes
    // back at once (NAK) and reaches the next receiver
    await ch.send(41);
    t0 = Date.now();
    expect(await ch.recv({ timeout: 5_000 })).toBe(41);
    expect(Date.now() - t0).toBeLessThan(4_000);
  });

  it('close: later sends throw ClosedChannelError, receivers drain then get undefined / ok:false, for await ends', async () => {
    const ch = await remote.chan<number>('closing', { capacity: 8 });
    const other = await connect({ servers: server.url });
    try {
      const waiting = (await other.chan<number>('closing')).recvOk(); // waits in another connection
      const consumer = peer('consume', { url: server.url, chan: 'closing', loops: 2 });
      for (let i = 1; i <= 5; i++) await ch.send(i);
      await ch.close();
      await expect(ch.send(6)).rejects.toBeInstanceOf(ClosedChannelError);
      await expect(ch.close()).rejects.toBeInstanceOf(ClosedChannelError);
      const res = await consumer.done();
      const w = await waiting;
      const all = [...res.values, ...(w.ok ? [w.value] : [])].sort();
      expect(all).toEqual([1, 2, 3, 4, 5]);
      expect(await ch.recv()).toBeUndefined();
      expect(await ch.recvOk()).toEqual({ value: undefined, ok: false });
      const rest: number[] = [];
      for await (const v of ch) rest.push(v);
      expect(rest).toEqual([]);
      // a closed channel can still be opened and drained
      const reopened = await remote.chan<number>('closing');
      expect(await reopened.recvOk()).toEqual({ value: undefined, ok: false });
    } finally {
      await other.close();
    }
  });

  // The size: 100,000 values (12 s on 2 quiet cores since the acker and puller fixes;
  // WEFT_NATS_VALUES=N for another size).
  const N = Number(process.env.WEFT_NATS_VALUES ?? 100_000);
  it(`4 producer processes x 4 consumer processes: ${N} values, each received exactly once, capacity never exceeded`, async () => {
    const P = 4;
    const capacity = 512;
    const ch = await remote.chan<number>('many', { capacity });
    const consumers = Array.from({ length: 4 }, () => peer('consume', { url: server.url, chan: 'many', loops: 32 }));
    const producers = Array.from({ length: P }, (_, i) =>
      peer('produce', { url: server.url, chan: 'many', from: (i * N) / P, count: N / P, inflight: 32, waitGo: true }),
    );
    await Promise.all(producers.map((p) => p.next((m) => m.ready)));
    const t0 = Date.now();
    for (const p of producers) p.proc.send('go');
    let maxSeen = 0;
    let watching = true;
    const watcher = (async () => {
      while (watching) {
        maxSeen = Math.max(maxSeen, await stored('many'));
        await new Promise((r) => setTimeout(r, 25));
      }
    })();
    const prod = await Promise.all(producers.map((p) => p.done()));
    await ch.close();
    const cons = await Promise.all(consumers.map((c) => c.done()));
    watching = false;
    await watcher;
    const ms = Date.now() - t0;
    const seen = new Set<number>();
    let count = 0;
    let sum = 0;
    for (const c of cons) {
      count += c.count;
      sum += c.sum;
      for (const v of c.values) seen.add(v);
    }
    const published = prod.reduce((a, p) => a + p.published, 0);
    const rejected = prod.reduce((a, p) => a + p.rejected, 0);
    console.log(`nats 4x4: ${N} values in ${ms} ms (${Math.round((N / ms) * 1000)} values/s), max stored ${maxSeen}/${capacity}, rejected publishes ${rejected}`);
    expect(published).toBe(N);
    expect(count).toBe(N);
    expect(seen.size).toBe(N);
    expect(sum).toBe((N * (N - 1)) / 2);
    expect(maxSeen).toBeLessThanOrEqual(capacity);
    expect(maxSeen).toBeGreaterThan(0);
    expect(await stored('many')).toBe(0);
  }, 300_000);

  it('at least once: a consumer killed between recvMsg and ack has its value redelivered to another', async () => {
    const ch = await remote.chan<number>('redeliver', { capacity: 16, ackWait: 500 });
    for (let i = 0; i < 10; i++) await ch.send(i);
    const holder = peer('hold', { url: server.url, chan: 'redeliver' });
    const { held } = await holder.next((m) => 'held' in m);
    expect(held).toBeTypeOf('number');
    holder.kill('SIGKILL');
    await new Promise((r) => holder.proc.once('exit', r));
    await ch.close();
    const got: number[] = [];
    for (;;) {
      const m = await ch.recvMsg({ timeout: 10_000 });
      if (m === undefined) break;
      got.push(m.value);
      await m.ack();
    }
    expect(got.sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });

  it('recvMsg: nak(delay) gives the value back, term drops it, working keeps it', async () => {
    const ch = await remote.chan<string>('msgs', { capacity: 4, ackWait: 400 });
    await ch.send('a');
    await ch.send('b');
    const a = (await ch.recvMsg())!;
    expect(a.value).toBe('a');
    a.nak(50);
    const b = (await ch.recvMsg())!;
    expect(b.value).toBe('b');
    b.term();
    const a2 = (await ch.recvMsg({ timeout: 5_000 }))!;
    expect(a2.value).toBe('a');
    for (let i = 0; i < 3; i++) {
      await new Promise((r) => setTimeout(r, 200));
      a2.working(); // 600 ms > ackWait: still ours
    }
    await expect(ch.recv({ timeout: 100 })).rejects.toBeInstanceOf(TimeoutError);
    await a2.ack();
    await expect(a2.ack()).rejects.toBeInstanceOf(MisuseError);
    expect(() => a2.nak()).toThrow(MisuseError);
    expect(await stored('msgs')).toBe(0);
  });

  it('backpressure: a full channel makes send wait (few rejected publishes); send({ timeout }) on full stores nothing', async () => {
    const ch = await remote.chan<number>('full', { capacity: 4 });
    for (let i = 0; i < 4; i++) await ch.send(i);
    const t0 = Date.now();
    await expect(ch.send(-1, { timeout: 100 })).rejects.toBeInstanceOf(TimeoutError);
    expect(Date.now() - t0).toBeLessThan(2_000);
    expect(await stored('full')).toBe(4);
    const base = { ...ch.stats };
    // a slow consumer in another process; this one sends 200 more (2 in flight)
    const consumer = peer('consume', { url: server.url, chan: 'full', loops: 1, delay: 3 });
    let next = 4;
    const send = async (): Promise<void> => {
      while (next < 204) await ch.send(next++);
    };
    await Promise.all([send(), send()]);
    await ch.close();
    const res = await consumer.done();
    const accepted = ch.stats.published - base.published;
    const rejected = ch.stats.rejected - base.rejected;
    console.log(`nats backpressure: ${accepted} accepted, ${rejected} rejected publishes`);
    expect(accepted).toBe(200);
    expect(rejected).toBeGreaterThan(0); // it did wait
    expect(rejected).toBeLessThan(2 * accepted);
    expect(res.count).toBe(204);
    expect(res.values.includes(-1)).toBe(false);
  });

  it('bridge both ways: select over a remote channel bridged into a local Chan', async () => {
    const remoteIn = await remote.chan<number>('bridge-in', { capacity: 4 });
    const remoteOut = await remote.chan<number>('bridge-out', { capacity: 4 });
    const local = new Chan<number>(2);
    const quit = new Chan<number>(0);
    const inbound = bridge(remoteIn, local);
    const localSrc = new Chan<number>(4);
    const outbound = bridge(localSrc, remoteOut);
    for (let i = 0; i < 5; i++) await remoteIn.send(i);
    const got: number[] = [];
    for (let i = 0; i < 5; i++) {
      const r = await select([recv(local), recv(quit)], { timeout: 10_000 });
      expect(r.index).toBe(0);
      got.push(r.value as number);
    }
    expect(got).toEqual([0, 1, 2, 3, 4]);
    await remoteIn.close();
    expect(await inbound).toBe(5);
    expect(local.closed).toBe(true);
    await localSrc.send(7);
    await localSrc.send(8);
    localSrc.close();
    expect(await outbound).toBe(2);
    const out: number[] = [];
    for await (const v of remoteOut) out.push(v);
    expect(out).toEqual([7, 8]);
  });
});
