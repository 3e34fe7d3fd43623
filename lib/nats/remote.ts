/**
 * `connect()` and the Remote it returns: opening remote channels (streams) and queues.
 * @internal
 * @module
 */
import { connect as natsConnect } from '@nats-io/transport-node';
import {
  AckPolicy,
  DiscardPolicy,
  jetstream,
  jetstreamManager,
  RetentionPolicy,
  StorageType,
  type StreamInfo,
} from '@nats-io/jetstream';
import { apiCode, JsCode, RemoteError, remoteError } from './errors.js';
import { chanNames, RemoteChanImpl, type Core } from './chan.js';
import { RemoteQueueImpl } from './queue.js';
import type { ConnectOptions, Remote, RemoteChan, RemoteChanOptions, RemoteQueue, RemoteQueueOptions } from './types.js';

const DEFAULT_CAPACITY = 64;
const DEFAULT_ACK_WAIT = 30_000;
const NAME = /^[A-Za-z0-9_-]+$/;

/** @internal Checks a channel/queue/prefix name (it becomes part of stream names and subjects). */
export function checkName(name: unknown, param: string): string {
  if (typeof name !== 'string') throw new TypeError(`${param} must be a string`);
  if (!NAME.test(name)) {
    throw new RangeError(`${param} must be letters, digits, '-' or '_' (it names a JetStream stream), got '${name}'`);
  }
  return name;
}

/** @internal Checks an `ackWait` option (ms). */
export function checkAckWait(v: unknown): number {
  if (v === undefined) return DEFAULT_ACK_WAIT;
  if (typeof v !== 'number') throw new TypeError('ackWait must be a number');
  if (!(v >= 1) || !Number.isFinite(v)) throw new RangeError(`ackWait must be a positive number of ms, got ${v}`);
  return v;
}

/**
 * Connects to NATS (JetStream must be enabled on the server). Reconnecting after a lost
 * connection is the NATS client's job; operations that fail meanwhile reject with `RemoteError`.
 *
 * @example
 * const remote = await connect({ servers: 'nats://127.0.0.1:4222' });
 * const jobs = await remote.chan<number>('jobs', { capacity: 100 });
 * await jobs.send(42);
 */
export async function connect(opts: ConnectOptions): Promise<Remote> {
  if (opts === null || typeof opts !== 'object') throw new TypeError('opts must be an object');
  const { servers, name } = opts;
  if (typeof servers !== 'string' && !(Array.isArray(servers) && servers.every((s) => typeof s === 'string'))) {
    throw new TypeError('servers must be a string or an array of strings');
  }
  if (name !== undefined && typeof name !== 'string') throw new TypeError('name must be a string');
  const prefix = checkName(opts.prefix ?? 'weft', 'prefix');
  let nc;
  try {
    // noAsyncTraces: no Error (stack capture) per request in the client; weft's errors carry the stack.
    nc = await natsConnect({ servers, ...(name !== undefined ? { name } : {}), maxReconnectAttempts: -1, noAsyncTraces: true });
  } catch (e) {
    throw new RemoteError(`could not connect to NATS at ${String(servers)}: ${e instanceof Error ? e.message : e}`, { cause: e });
  }
  try {
    const jsm = await jetstreamManager(nc);
    return new RemoteImpl({ nc, js: jetstream(nc), jsm, prefix });
  } catch (e) {
    await nc.close().catch(() => {});
    throw new RemoteError(`NATS at ${String(servers)} has no JetStream (start nats-server with -js)`, { cause: e });
  }
}

class RemoteImpl implements Remote {
  private readonly chans = new Set<RemoteChanImpl<unknown>>();
  private readonly queues = new Set<RemoteQueueImpl>();
  constructor(private readonly core: Core) {}

  chan<T>(name: string, opts?: RemoteChanOptions): Promise<RemoteChan<T>> {
    checkName(name, 'name');
    if (opts !== undefined && (opts === null || typeof opts !== 'object')) throw new TypeError('opts must be an object');
    const capacity = opts?.capacity;
    if (capacity !== undefined) {
      if (typeof capacity !== 'number') throw new TypeError('capacity must be a number');
      if (!Number.isInteger(capacity) || capacity < 1) {
        throw new RangeError(`capacity must be an integer >= 1 (there are no unbuffered remote channels), got ${capacity}`);
      }
    }
    const ackWait = checkAckWait(opts?.ackWait);
    return this.openChan<T>(name, capacity, ackWait);
  }

  private async openChan<T>(name: string, capacity: number | undefined, ackWait: number): Promise<RemoteChan<T>> {
    const { jsm } = this.core;
    const n = chanNames(this.core.prefix, name);
    const what = `remote channel '${name}'`;
    let info: StreamInfo | undefined;
    try {
      info = await this.streamInfo(n.stream);
      if (info === undefined) {
        try {
          info = await jsm.streams.add({
            name: n.stream,
            subjects: [n.subject],
            retention: RetentionPolicy.Workqueue,
            discard: DiscardPolicy.New,
            max_msgs: capacity ?? DEFAULT_CAPACITY,
            storage: StorageType.File,
          });
        } catch (e) {
          // created by another process meanwhile: open that one
          if (apiCode(e) !== JsCode.StreamNameInUse) throw e;
          info = await this.streamInfo(n.stream);
          if (info === undefined) throw e;
        }
      }
      const c = info.config;
      if (c.retention !== RetentionPolicy.Workqueue || c.discard !== DiscardPolicy.New || !(c.max_msgs >= 1) || !c.subjects?.includes(n.subject)) {
        throw new RemoteError(
          `${what}: stream '${n.stream}' exists but is not a weft channel (needs work-queue retention, ` +
            `discard new, max_msgs >= 1, subject '${n.subject}')`,
        );
      }
      if (capacity !== undefined && c.max_msgs !== capacity) {
        throw new RangeError(`capacity ${capacity} differs from the existing ${what}'s capacity ${c.max_msgs}`);
      }
      await this.ensureConsumer(n.stream, n.durable, ackWait);
    } catch (e) {
      if (e instanceof RangeError || e instanceof RemoteError) throw e;
      throw remoteError(e, 'open', what);
    }
    const ch = new RemoteChanImpl<T>(this.core, name, info.config.max_msgs, info.config.sealed === true);
    this.chans.add(ch as RemoteChanImpl<unknown>);
    return ch;
  }

  /** @internal The stream's info, or undefined when it does not exist. */
  async streamInfo(stream: string): Promise<StreamInfo | undefined> {
    try {
      return await this.core.jsm.streams.info(stream);
    } catch (e) {
      if (apiCode(e) === JsCode.StreamNotFound) return undefined;
      throw e;
    }
  }

  /** @internal Creates the durable pull consumer unless it exists. */
  async ensureConsumer(stream: string, durable: string, ackWait: number): Promise<void> {
    const { jsm } = this.core;
    try {
      await jsm.consumers.info(stream, durable);
      return;
    } catch (e) {
      if (apiCode(e) !== JsCode.ConsumerNotFound) throw e;
    }
    try {
      await jsm.consumers.add(stream, {
        durable_name: durable,
        ack_policy: AckPolicy.Explicit,
        ack_wait: Math.round(ackWait * 1e6),
        max_ack_pending: -1,
        max_waiting: 4096,
      });
    } catch (e) {
      // created by another process meanwhile
      try {
        await jsm.consumers.info(stream, durable);
      } catch {
        throw e;
      }
    }
  }

  queue(name: string, opts?: RemoteQueueOptions): RemoteQueue {
    checkName(name, 'name');
    if (opts !== undefined && (opts === null || typeof opts !== 'object')) throw new TypeError('opts must be an object');
    const ackWait = checkAckWait(opts?.ackWait);
    const q = new RemoteQueueImpl(this.core, name, ackWait, (stream, subject, durable) =>
      this.ensureQueue(stream, subject, durable, ackWait),
    );
    this.queues.add(q);
    return q;
  }

  private async ensureQueue(stream: string, subject: string, durable: string, ackWait: number): Promise<void> {
    let info = await this.streamInfo(stream);
    if (info === undefined) {
      try {
        info = await this.core.jsm.streams.add({
          name: stream,
          subjects: [subject],
          retention: RetentionPolicy.Workqueue,
          storage: StorageType.File,
        });
      } catch (e) {
        if (apiCode(e) !== JsCode.StreamNameInUse) throw e;
      }
    }
    await this.ensureConsumer(stream, durable, ackWait);
  }

  async close(): Promise<void> {
    const e = new RemoteError('the NATS connection was closed (Remote.close())');
    for (const q of this.queues) q.stop(e);
    for (const c of this.chans) c.stop(e);
    if (this.core.nc.isClosed()) return;
    try {
      await this.core.nc.drain();
    } catch (err) {
      if (!this.core.nc.isClosed()) throw remoteError(err, 'close', 'the NATS connection');
    }
  }
}
