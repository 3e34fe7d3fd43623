// weft/nats RemoteQueue: go() calls served by other processes (children standing in for
// machines) against a real nats-server. Skipped without nats-server.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ClosedChannelError, DataCloneError, Chan } from 'weft';
import { connect, type Remote } from 'weft/nats';
import { hasNatsServer, SKIP_MESSAGE, startNatsServer, type NatsServer } from './nats-server.js';
import { killPeers, peer } from './nats-peers.js';

if (!hasNatsServer) console.warn(SKIP_MESSAGE);

const TASKS = new URL('./fixtures/go/nats-tasks.mjs', import.meta.url).href;

describe.skipIf(!hasNatsServer)('weft/nats RemoteQueue', () => {
  let server: NatsServer;
  let remote: Remote;

  beforeAll(async () => {
    server = await startNatsServer();
    remote = await connect({ servers: server.url, name: 'queue-test' });
  });
  afterAll(async () => {
    killPeers();
    await remote?.close();
    await server?.stop();
  });

  it('1,000 tasks from this process, served by two serving processes; results and errors come back', async () => {
    const q = remote.queue('work', { ackWait: 2_000 });
    const servers = [0, 1].map(() => peer('serve', { url: server.url, queue: 'work', concurrency: 8, ackWait: 2_000 }));
    await Promise.all(servers.map((s) => s.next((m) => m.serving)));
    const t0 = Date.now();
    const tasks = Array.from({ length: 1000 }, (_, i) => q.go<{ i: number; twice: number; pid: number }>(TASKS, 'double', i));
    expect(tasks[0]!.id).toBeTypeOf('number');
    const results = await Promise.all(tasks);
    const ms = Date.now() - t0;
    const pids = new Set(results.map((r) => r.pid));
    console.log(`nats queue: 1000 tasks in ${ms} ms (${Math.round((1000 / ms) * 1000)} tasks/s) on ${pids.size} serving processes`);
    results.forEach((r, i) => expect(r).toMatchObject({ i, twice: 2 * i }));
    expect(pids.size).toBe(2);
    expect(pids.has(process.pid)).toBe(false);

    const e = await q.go(TASKS, 'fail', 3).catch((x: unknown) => x as Error & { code?: string });
    expect(e).toBeInstanceOf(RangeError);
    expect(e).toMatchObject({ name: 'RangeError', message: 'bad 3', code: 'E_BAD' });
    expect((e as Error).cause).toBeInstanceOf(Error);
    await expect(q.go(TASKS, 'failWeft')).rejects.toBeInstanceOf(ClosedChannelError);
    await expect(q.go(TASKS, 'missing')).rejects.toThrow(TypeError);
    expect(() => q.go(TASKS, 'double', () => 1)).toThrow(DataCloneError);
    expect(() => q.go(TASKS, 'double', new Chan(1))).toThrow(DataCloneError);
    expect(() => q.go('./x.mjs', 'double')).toThrow(TypeError);

    for (const s of servers) s.proc.send('stop');
    await Promise.all(servers.map((s) => s.done()));
  });

  it('a serving process killed mid-task: its tasks are redelivered and every task settles exactly once', async () => {
    const ackWait = 1_000;
    const q = remote.queue('crash', { ackWait });
    const doomed = peer('serve', { url: server.url, queue: 'crash', concurrency: 16, ackWait });
    await doomed.next((m) => m.serving);
    const N = 300;
    const settled = new Map<number, number>();
    const tasks = Array.from({ length: N }, (_, i) =>
      q.go<{ i: number; twice: number; pid: number }>(TASKS, 'double', i, 30).then((r) => {
        settled.set(i, (settled.get(i) ?? 0) + 1);
        return r;
      }),
    );
    // kill it while it has tasks running, then let a second server take over
    while (settled.size < 40) await new Promise((r) => setTimeout(r, 5));
    doomed.kill('SIGKILL');
    await new Promise((r) => doomed.proc.once('exit', r));
    const before = settled.size;
    expect(before).toBeLessThan(N);
    const rescuer = peer('serve', { url: server.url, queue: 'crash', concurrency: 16, ackWait });
    const results = await Promise.all(tasks);
    results.forEach((r, i) => expect(r).toMatchObject({ i, twice: 2 * i }));
    expect(settled.size).toBe(N);
    for (const n of settled.values()) expect(n).toBe(1);
    expect(results.some((r) => r.pid === rescuer.proc.pid)).toBe(true);
    rescuer.proc.send('stop');
    await rescuer.done();
  });
});
