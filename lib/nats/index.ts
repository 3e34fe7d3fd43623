/**
 * `weft/nats`: weft's channels and `go()` beyond one machine, carried by NATS JetStream
 * (API.md §11). Needs the optional peer dependencies `@nats-io/transport-node` and
 * `@nats-io/jetstream`; the root entry `weft` never loads them.
 *
 * @example
 * import { connect } from 'weft/nats';
 * const remote = await connect({ servers: 'nats://127.0.0.1:4222' });
 * const jobs = await remote.chan<number>('jobs', { capacity: 100 });
 * await jobs.send(1);
 * console.log(await jobs.recv()); // 1
 * await remote.close();
 * @module
 */
export { connect } from './remote.js';
export { bridge } from './bridge.js';
export { RemoteError } from './errors.js';
export type {
  ConnectOptions,
  Remote,
  RemoteChan,
  RemoteChanOptions,
  RemoteChanStats,
  RemoteMsg,
  RemoteQueue,
  RemoteQueueOptions,
} from './types.js';
export type { RecvResult } from '../chan/types.js';
export type { WaitOpts } from '../internal/options.js';
export type { Task } from '../runtime/task.js';
