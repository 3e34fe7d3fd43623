/**
 * The public shapes of `weft/nats` (API.md §11).
 * @module
 */
import type { RecvResult } from '../chan/types.js';
import type { WaitOpts } from '../internal/options.js';
import type { Task } from '../runtime/task.js';

/** Options of {@link connect}. */
export interface ConnectOptions {
  /** NATS server URL(s), e.g. `'nats://127.0.0.1:4222'`. */
  servers: string | string[];
  /** Connection name (shown by the server's monitoring). */
  name?: string;
  /** Prefix of the streams and subjects weft uses (default `'weft'`): isolates applications on one server. */
  prefix?: string;
}

/** Options of {@link Remote.chan}. */
export interface RemoteChanOptions {
  /** Values the channel holds not yet acknowledged (>= 1; default 64 when creating; must match when opening). */
  capacity?: number;
  /**
   * Milliseconds a value received with `recvMsg` stays with its receiver before the server
   * hands it to another (JetStream's `ack_wait`; default 30 000). Applies when the channel is created.
   */
  ackWait?: number;
}

/** Options of {@link Remote.queue}. */
export interface RemoteQueueOptions {
  /**
   * Milliseconds after which a task whose server stopped reporting progress (it died) is handed
   * to another server (default 30 000; a running task reports progress every third of it).
   * Applies when the queue is created.
   */
  ackWait?: number;
}

/** A connection to NATS JetStream, carrying remote channels and task queues. */
export interface Remote {
  /** Creates or opens the remote channel `name` (letters, digits, `-`, `_`). */
  chan<T>(name: string, opts?: RemoteChanOptions): Promise<RemoteChan<T>>;
  /** The task queue `name`: `go()` calls carried to every process that `serve`s it. */
  queue(name: string, opts?: RemoteQueueOptions): RemoteQueue;
  /** Drains the connection (waits for what was published) and closes it. */
  close(): Promise<void>;
}

/** A value received with `recvMsg`, waiting for the caller to acknowledge it. */
export interface RemoteMsg<T> {
  /** The value. */
  value: T;
  /** Acknowledges it (frees its slot); resolves once the server confirmed. */
  ack(): Promise<void>;
  /** Gives it back for redelivery, after `delayMs` if given. */
  nak(delayMs?: number): void;
  /** Drops it for good (never redelivered; frees its slot). */
  term(): void;
  /** Tells the server this receiver is still working on it (restarts its `ackWait`). */
  working(): void;
}

/** Counters of one channel handle (diagnostics). */
export interface RemoteChanStats {
  /** Values this handle stored. */
  published: number;
  /** Publishes the server refused because the channel was full (each retried later). */
  rejected: number;
}

/** A channel whose values live in a NATS JetStream stream (API.md §11). */
export interface RemoteChan<T> extends AsyncIterable<T> {
  /** Sends `value`; resolves when the server stored it; waits while the channel is full. */
  send(value: T, opts?: WaitOpts): Promise<void>;
  /** Receives one value, acknowledged before it returns; `undefined` once closed and drained. */
  recv(opts?: WaitOpts): Promise<T | undefined>;
  /** Go's `v, ok := <-ch`. */
  recvOk(opts?: WaitOpts): Promise<RecvResult<T>>;
  /** Receives one value and leaves its acknowledgement to the caller; `undefined` once closed and drained. */
  recvMsg(opts?: WaitOpts): Promise<RemoteMsg<T> | undefined>;
  /** Seals the channel: later sends throw `ClosedChannelError`; receivers drain what is stored. */
  close(): Promise<void>;
  /** The channel's name. */
  readonly name: string;
  /** Its capacity (JetStream `max_msgs`). */
  readonly capacity: number;
  /** This handle's publish counters. */
  readonly stats: RemoteChanStats;
}

/** A queue of `go()` calls served by other processes (API.md §11). */
export interface RemoteQueue {
  /** Runs `exportName` of `module` on a serving process's `go()` pool; settles with its result or error. */
  go<R>(module: string | URL, exportName: string, ...args: unknown[]): Task<R>;
  /** Serves the queue on this process's pool until `signal` aborts (then waits for running tasks). */
  serve(opts?: { concurrency?: number; signal?: AbortSignal }): Promise<void>;
  /** The queue's name. */
  readonly name: string;
}
