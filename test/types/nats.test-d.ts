// Type tests of weft/nats (API.md §11) against the built declarations (dist/nats/index.d.ts):
// element types flow through RemoteChan, recvMsg, bridge and RemoteQueue.go.
import { describe, expectTypeOf, test } from 'vitest';
import { Chan, type RecvResult, type Task } from 'weft';
import { bridge, connect, RemoteError, type Remote, type RemoteChan, type RemoteMsg, type RemoteQueue } from 'weft/nats';

describe('weft/nats', () => {
  test('connect, chan, queue', async () => {
    const remote = await connect({ servers: 'nats://127.0.0.1:4222', name: 'x', prefix: 'app' });
    expectTypeOf(remote).toEqualTypeOf<Remote>();
    const ch = await remote.chan<number>('jobs', { capacity: 10 });
    expectTypeOf(ch).toEqualTypeOf<RemoteChan<number>>();
    expectTypeOf(ch.send(1, { timeout: 5 })).toEqualTypeOf<Promise<void>>();
    expectTypeOf(await ch.recv()).toEqualTypeOf<number | undefined>();
    expectTypeOf(await ch.recvOk()).toEqualTypeOf<RecvResult<number>>();
    expectTypeOf(await ch.recvMsg()).toEqualTypeOf<RemoteMsg<number> | undefined>();
    expectTypeOf(ch.capacity).toEqualTypeOf<number>();
    for await (const v of ch) expectTypeOf(v).toEqualTypeOf<number>();
    // @ts-expect-error a number channel
    void ch.send('x');
    const q = remote.queue('work');
    expectTypeOf(q).toEqualTypeOf<RemoteQueue>();
    expectTypeOf(q.go<string>('/abs/m.js', 'f', 1)).toEqualTypeOf<Task<string>>();
    expectTypeOf(q.serve({ concurrency: 2, signal: AbortSignal.timeout(1) })).toEqualTypeOf<Promise<void>>();
    expectTypeOf(bridge(ch, new Chan<number>(1))).toEqualTypeOf<Promise<number>>();
    expectTypeOf(new RemoteError('x')).toMatchTypeOf<Error>();
    await remote.close();
  });
});
