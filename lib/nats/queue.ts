/**
 * RemoteQueue: `go()` calls carried over a JetStream work queue to whichever process `serve`s
 * it; results and errors come back to the caller over core NATS request/reply.
 * @internal
 * @module
 */
import { setMaxListeners } from 'node:events';
import { availableParallelism } from 'node:os';
import { isAbsolute } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Msg, Subscription } from '@nats-io/transport-node';
import { nuid } from '@nats-io/transport-node';
import { go as localGo } from '../index.js';
import { degradePacked, newTask, packError, siteFrames, unpackError, type Packed, type Task } from '../runtime/task.js';
import type { Core } from './chan.js';
import { decode, encode } from './codec.js';
import { natsName, RemoteError, remoteError } from './errors.js';
import { Puller } from './puller.js';
import type { RemoteQueue } from './types.js';
import { Deadline } from './wait.js';

/** A task on the wire. */
interface Job {
  key: string;
  reply: string;
  module: string;
  exportName: string;
  args: unknown[];
}
/** A task's outcome on the wire. */
type Outcome = { key: string; ok: true; value: unknown } | { key: string; ok: false; error: Packed };

interface Waiting {
  resolve: (v: unknown) => void;
  reject: (e: unknown) => void;
  site: { stack?: string };
}

const REPLY_TIMEOUT = 10_000;
let taskIds = 0;

function resolveModule(module: string | URL): string {
  if (module instanceof URL) return module.href;
  if (typeof module !== 'string') throw new TypeError('module must be a string or a URL');
  if (module === '') throw new TypeError('module must not be empty');
  if (module.startsWith('./') || module.startsWith('../') || module === '.' || module === '..') {
    throw new TypeError(
      `module must be a specifier every server can import (a URL, a file: URL string, an absolute path or a package name), ` +
        `not the relative path '${module}'`,
    );
  }
  return isAbsolute(module) ? pathToFileURL(module).href : module;
}

/** @internal The RemoteQueue behind `Remote.queue`. */
export class RemoteQueueImpl implements RemoteQueue {
  private readonly stream: string;
  private readonly subject: string;
  private readonly durable = 'serve';
  private readonly replySubject: string;
  private readonly what: string;
  private readonly pending = new Map<string, Waiting>();
  private replySub: Subscription | undefined;
  private readyP: Promise<void> | undefined;
  private readonly pullers = new Set<Puller>();
  private stopped: Error | undefined;

  constructor(
    private readonly core: Core,
    readonly name: string,
    private readonly ackWait: number,
    private readonly create: (stream: string, subject: string, durable: string) => Promise<void>,
  ) {
    this.stream = `${core.prefix}_queue_${name}`;
    this.subject = `${core.prefix}.queue.${name}`;
    this.replySubject = `${core.prefix}.reply.${name}.${nuid.next()}`;
    this.what = `remote queue '${name}'`;
  }

  private ready(): Promise<void> {
    this.readyP ??= this.create(this.stream, this.subject, this.durable).catch((e) => {
      this.readyP = undefined;
      throw remoteError(e, 'open', this.what);
    });
    return this.readyP;
  }

  // ---- caller --------------------------------------------------------------------------------

  go<R>(module: string | URL, exportName: string, ...args: unknown[]): Task<R> {
    const mod = resolveModule(module);
    if (typeof exportName !== 'string') throw new TypeError('exportName must be a string');
    if (exportName === '') throw new TypeError('exportName must not be empty');
    if (this.stopped) throw this.stopped;
    const id = ++taskIds;
    const key = `${this.replySubject}.${id}`;
    const job: Job = { key, reply: this.replySubject, module: mod, exportName, args };
    const data = encode(job); // DataCloneError here: nothing started
    const site: { stack?: string } = {};
    Error.captureStackTrace(site, this.go);
    const { task, resolve, reject } = newTask<R>(id);
    this.pending.set(key, { resolve: resolve as (v: unknown) => void, reject, site });
    this.replySub ??= this.core.nc.subscribe(this.replySubject, { callback: (_e, m) => this.onReply(m) });
    this.ready()
      // msgID = the task's key: a publish retried after a lost answer is stored once
      .then(() => this.core.js.publish(this.subject, data, { msgID: key }))
      .catch((e: unknown) => {
        if (this.pending.delete(key)) reject(remoteError(e, 'go', this.what));
      });
    return task;
  }

  private onReply(m: Msg): void {
    let out: Outcome;
    try {
      out = decode(m.data) as Outcome;
    } catch {
      return;
    }
    if (m.reply) m.respond(''); // received: the server may acknowledge the task
    const w = this.pending.get(out.key);
    if (w === undefined) return; // a duplicate (a task redelivered after its server seemed gone)
    this.pending.delete(out.key);
    if (out.ok) w.resolve(out.value);
    else w.reject(unpackError(out.error, siteFrames(w.site)));
  }

  // ---- server --------------------------------------------------------------------------------

  async serve(opts?: { concurrency?: number; signal?: AbortSignal }): Promise<void> {
    if (opts !== undefined && (opts === null || typeof opts !== 'object')) throw new TypeError('opts must be an object');
    const concurrency = opts?.concurrency ?? availableParallelism();
    if (typeof concurrency !== 'number') throw new TypeError('concurrency must be a number');
    if (!Number.isInteger(concurrency) || concurrency < 1) throw new RangeError(`concurrency must be an integer >= 1, got ${concurrency}`);
    const signal = opts?.signal;
    if (signal !== undefined && !(signal instanceof AbortSignal)) throw new TypeError('signal must be an AbortSignal');
    if (signal?.aborted) return;
    // One listener on the caller's signal; the serving loops listen to our own.
    const inner = new AbortController();
    setMaxListeners(0, inner.signal);
    const onAbort = (): void => inner.abort(signal?.reason);
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      await this.serveOn(concurrency, inner.signal);
    } finally {
      signal?.removeEventListener('abort', onAbort);
    }
  }

  private async serveOn(concurrency: number, signal: AbortSignal): Promise<void> {
    await this.ready();
    const puller = new Puller(this.core.nc, `$JS.API.CONSUMER.MSG.NEXT.${this.stream}.${this.durable}`, this.what, async () => ({
      sealed: false,
      messages: 1,
    }));
    this.pullers.add(puller);
    try {
      const loops: Promise<void>[] = [];
      for (let i = 0; i < concurrency; i++) loops.push(this.serveLoop(puller, signal));
      await Promise.all(loops);
    } finally {
      this.pullers.delete(puller);
      puller.stop(new RemoteError(`serve on ${this.what} stopped`));
    }
  }

  private async serveLoop(puller: Puller, signal: AbortSignal): Promise<void> {
    for (;;) {
      const d = new Deadline({ signal }, 'serve', this.name);
      if (d.start()) return;
      let m: Msg | null;
      try {
        m = await puller.take(d);
      } catch (e) {
        if (d.failed) return; // aborted: stop serving (running tasks finish first)
        throw e;
      } finally {
        d.done();
      }
      if (m === null) return;
      await this.runOne(m);
    }
  }

  private async runOne(m: Msg): Promise<void> {
    let job: Job;
    try {
      job = decode(m.data) as Job;
    } catch {
      m.respond('+TERM'); // not a weft task
      return;
    }
    // While it runs, tell the server it is alive (a dead server's task goes to another after ackWait).
    const alive = setInterval(() => {
      try {
        m.respond('+WPI');
      } catch {
        /* closing */
      }
    }, Math.max(10, this.ackWait / 3));
    let out: Outcome;
    try {
      out = { key: job.key, ok: true, value: await localGo(job.module, job.exportName, ...job.args) };
    } catch (e) {
      out = { key: job.key, ok: false, error: packError(e) };
    } finally {
      clearInterval(alive);
    }
    let data: Uint8Array;
    try {
      data = encode(out);
    } catch (e) {
      const error = out.ok ? packError(e) : degradePacked(out.error);
      data = encode({ key: job.key, ok: false, error });
    }
    for (let attempt = 0; ; attempt++) {
      try {
        await this.core.nc.request(job.reply, data, { timeout: REPLY_TIMEOUT });
        break;
      } catch (e) {
        if (natsName(e) === 'NoRespondersError' || attempt >= 2 || this.core.nc.isClosed()) break; // the caller is gone
      }
    }
    try {
      await this.core.nc.request(m.reply!, '+ACK', { timeout: REPLY_TIMEOUT });
    } catch {
      /* unacknowledged: redelivered, and the caller ignores the duplicate */
    }
  }

  /** @internal The connection is closing: fail what waits. */
  stop(e: Error): void {
    this.stopped = e;
    for (const p of this.pullers) p.stop(e);
    for (const w of this.pending.values()) w.reject(e);
    this.pending.clear();
    this.replySub?.unsubscribe();
  }
}
