// weft/nats across a nats-server restart (file storage) and a closed connection: nothing stored
// is lost, failures are RemoteError with the NATS error as `cause`. Skipped without nats-server.
import { afterAll, describe, expect, it } from 'vitest';
import { connect, RemoteError } from 'weft/nats';
import { hasNatsServer, SKIP_MESSAGE, startNatsServer, type NatsServer } from './nats-server.js';

if (!hasNatsServer) console.warn(SKIP_MESSAGE);

describe.skipIf(!hasNatsServer)('weft/nats: server restart, lost connection', () => {
  let server: NatsServer | undefined;
  afterAll(async () => {
    await server?.stop();
  });

  it('a server restart mid-stream loses nothing stored; a send during the outage is stored once', async () => {
    server = await startNatsServer();
    const remote = await connect({ servers: server.url });
    try {
      const ch = await remote.chan<number>('durable', { capacity: 100 });
      for (let i = 0; i < 50; i++) await ch.send(i);
      const got: number[] = [];
      for (let i = 0; i < 10; i++) got.push((await ch.recv())!);
      const { port, dir } = server;
      await server.stop(true); // keep its storage
      const during = ch.send(50); // waits for the reconnect, then stores the value once
      await new Promise((r) => setTimeout(r, 300));
      server = await startNatsServer({ port, dir });
      await during;
      await ch.close();
      for (;;) {
        const r = await ch.recvOk({ timeout: 20_000 });
        if (!r.ok) break;
        got.push(r.value);
      }
      expect(got.sort((a, b) => a - b)).toEqual(Array.from({ length: 51 }, (_, i) => i));
    } finally {
      await remote.close();
    }
  });

  it('operations on a closed connection reject with RemoteError whose cause is the NATS error', async () => {
    server ??= await startNatsServer();
    const remote = await connect({ servers: server.url });
    const ch = await remote.chan<number>('gone', { capacity: 4 });
    const waiting = ch.recv().catch((x: unknown) => x);
    await remote.close();
    expect(await waiting).toBeInstanceOf(RemoteError);
    const e = (await ch.send(1).catch((x: unknown) => x)) as RemoteError;
    expect(e).toBeInstanceOf(RemoteError);
    expect(e.code).toBe('ERR_WEFT_REMOTE');
    expect(e.cause).toBeInstanceOf(Error);
    await expect(connect({ servers: 'nats://127.0.0.1:1' })).rejects.toBeInstanceOf(RemoteError);
  });
});
