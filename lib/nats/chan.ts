/**
 * A remote channel: a JetStream stream (work-queue retention, `max_msgs` = capacity,
 * discard-new) read through one durable pull consumer shared by every receiver.
 * @internal
 * @module
 */
import type { NatsConnection, Subscription } from '@nats-io/transport-node';
import { nuid } from '@nats-io/transport-node';
import type { JetStreamClient, JetStreamManager } from '@nats-io/jetstream';
import type { Msg } from '@nats-io/transport-node';
import { ClosedChannelError, MisuseError } from '../errors.js';
import type { RecvResult } from '../chan/types.js';
import type { WaitOpts } from '../internal/options.js';
import { decode, encode } from './codec.js';
import { apiCode, isAmbiguous, JsCode, RemoteError, remoteError } from './errors.js';
import { Acker } from './acker.js';
import { Puller } from './puller.js';
import type { RemoteChan, RemoteChanStats, RemoteMsg } from './types.js';
import { Deadline } from './wait.js';

/** What every remote object of one connection shares. @internal */
export interface Core {
  nc: NatsConnection;
  js: JetStreamClient;
  jsm: JetStreamManager;
  prefix: string;
}

/** Names of the stream, subjects and consumer behind remote channel `name`. @internal */
export function chanNames(prefix: string, name: string) {
  return {
    stream: `${prefix}_chan_${name}`,
    subject: `${prefix}.chan.${name}`,
    /** Core-NATS: receivers announce freed slots (queue group: one waiting sender process each). */
    freed: `${prefix}.notify.${name}.freed`,
    /** Core-NATS broadcast: the channel was closed, or may just have been drained. */
    closed: `${prefix}.notify.${name}.closed`,
    durable: 'recv',
  };
}

/** A full channel: the first retry without a notification after this many ms (then doubling). */
const BACKOFF_FIRST = 20;
const BACKOFF_MAX = 500;
/** Keep the freed-slot subscription this long after the last waiting sender (fewer SUB/UNSUBs). */
const FREED_LINGER = 250;
/** A freed-slot notice nobody here can use is passed on at most this many times. */
const MAX_HOPS = 3;
const ACK_TIMEOUT = 10_000;

/** @internal The RemoteChan behind `Remote.chan`. */
export class RemoteChanImpl<T> implements RemoteChan<T> {
  readonly stats: RemoteChanStats = { published: 0, rejected: 0 };
  private readonly n: ReturnType<typeof chanNames>;
  private readonly what: string;
  readonly puller: Puller;
  private readonly acker: Acker;
  /** Senders waiting for room (each woken by one freed slot, or its own backoff timer). */
  private readonly roomWaiters: (() => void)[] = [];
  private freedSub: Subscription | undefined;
  private freedLinger: NodeJS.Timeout | undefined;
  private readonly closedSub: Subscription;
  private freedCount = 0;
  private freedScheduled = false;

  constructor(
    private readonly core: Core,
    readonly name: string,
    readonly capacity: number,
    sealed: boolean,
  ) {
    this.n = chanNames(core.prefix, name);
    this.acker = new Acker(core.nc, ACK_TIMEOUT);
    this.what = `remote channel '${name}'`;
    this.puller = new Puller(
      core.nc,
      `$JS.API.CONSUMER.MSG.NEXT.${this.n.stream}.${this.n.durable}`,
      this.what,
      () => this.state(),
      // Receivers waiting in other processes learn at once instead of when their pull expires.
      () => {
        if (!core.nc.isClosed()) core.nc.publish(this.n.closed, '');
      },
    );
    this.puller.sealed = sealed;
    this.closedSub = core.nc.subscribe(this.n.closed, {
      callback: () => {
        this.puller.sealed = true;
        for (const w of this.roomWaiters.splice(0)) w(); // they find it sealed: ClosedChannelError
        if (this.puller.waiting > 0) this.puller.checkDrained();
      },
    });
  }

  private async state(): Promise<{ sealed: boolean; messages: number }> {
    try {
      const info = await this.core.jsm.streams.info(this.n.stream);
      return { sealed: info.config.sealed === true, messages: info.state.messages };
    } catch (e) {
      throw remoteError(e, 'recv', this.what);
    }
  }

  // ---- send ----------------------------------------------------------------------------------

  send(value: T, opts?: WaitOpts): Promise<void> {
    const d = new Deadline(opts, 'send', this.name);
    const data = encode(value);
    const early = d.start();
    if (early) return Promise.reject(early);
    return this.sendLoop(data, d).finally(() => d.done());
  }

  private async sendLoop(data: Uint8Array, d: Deadline): Promise<void> {
    // One message id for every attempt: if an attempt's answer is lost and it is tried again,
    // the server drops the duplicate (JetStream's dedupe window), so a value is stored once.
    const msgID = nuid.next();
    let backoff = BACKOFF_FIRST;
    for (;;) {
      if (d.failed) throw d.failed;
      try {
        await this.core.js.publish(this.n.subject, data, { msgID, expect: { streamName: this.n.stream } });
        this.stats.published++;
        return;
      } catch (e) {
        if (apiCode(e) === JsCode.Full) {
          this.stats.rejected++;
          await this.waitRoom(d, backoff);
          backoff = Math.min(backoff * 2, BACKOFF_MAX);
          continue;
        }
        if (apiCode(e) === JsCode.Sealed) throw new ClosedChannelError(`send on closed channel '${this.name}'`, { cause: e });
        if (isAmbiguous(e) && !this.core.nc.isClosed()) {
          await d.sleep(100); // reconnecting: try again (same msgID)
          continue;
        }
        throw remoteError(e, 'send', this.what);
      }
    }
  }

  /** Waits for a freed slot (announced by a receiver) or `ms` (with jitter), whichever first. */
  private waitRoom(d: Deadline, ms: number): Promise<void> {
    return d.sleep(ms * (0.5 + Math.random()), (wake) => {
      this.roomWaiters.push(wake);
      if (this.freedLinger !== undefined) clearTimeout(this.freedLinger);
      this.freedLinger = undefined;
      // A queue group: each notice goes to one waiting sender process, not to all (no herd).
      this.freedSub ??= this.core.nc.subscribe(this.n.freed, {
        queue: 'senders',
        callback: (_e, m) => {
          const [n, hops] = m.string().split(',').map(Number);
          this.onFreed(n || 1, hops || 0);
        },
      });
      return () => {
        const i = this.roomWaiters.indexOf(wake);
        if (i >= 0) this.roomWaiters.splice(i, 1);
        if (this.roomWaiters.length === 0 && this.freedSub && this.freedLinger === undefined) {
          this.freedLinger = setTimeout(() => {
            this.freedLinger = undefined;
            if (this.roomWaiters.length > 0) return;
            this.freedSub?.unsubscribe();
            this.freedSub = undefined;
          }, FREED_LINGER);
          this.freedLinger.unref();
        }
      };
    });
  }

  /** `count` slots were freed: wake as many waiting senders; pass on what nobody here can use. */
  private onFreed(count: number, hops: number): void {
    const woken = this.roomWaiters.splice(0, count);
    for (const w of woken) w();
    const left = count - woken.length;
    if (left > 0 && hops < MAX_HOPS && !this.core.nc.isClosed()) {
      try {
        this.core.nc.publish(this.n.freed, `${left},${hops + 1}`);
      } catch {
        /* closing */
      }
    }
  }

  /** A receiver here freed a slot: tell one waiting sender process (coalesced per turn). */
  private noteFreed(): void {
    this.freedCount++;
    if (this.freedScheduled) return;
    this.freedScheduled = true;
    setImmediate(() => {
      this.freedScheduled = false;
      const n = this.freedCount;
      this.freedCount = 0;
      if (this.core.nc.isClosed()) return;
      try {
        this.core.nc.publish(this.n.freed, String(n));
      } catch {
        /* closing */
      }
      if (this.puller.sealed) this.puller.checkDrained();
    });
  }

  // ---- receive -------------------------------------------------------------------------------

  recvMsg(opts?: WaitOpts): Promise<RemoteMsg<T> | undefined> {
    const d = new Deadline(opts, 'recv', this.name);
    const early = d.start();
    if (early) return Promise.reject(early);
    return this.take(d).then((r) => (r ? this.wrap(r.m, r.value) : undefined));
  }

  recv(opts?: WaitOpts): Promise<T | undefined> {
    const d = new Deadline(opts, 'recv', this.name);
    const early = d.start();
    if (early) return Promise.reject(early);
    return this.take(d).then(async (r) => {
      if (!r) return undefined;
      await this.ackMsg(r.m);
      return r.value;
    });
  }

  recvOk(opts?: WaitOpts): Promise<RecvResult<T>> {
    const d = new Deadline(opts, 'recv', this.name);
    const early = d.start();
    if (early) return Promise.reject(early);
    return this.take(d).then(async (r): Promise<RecvResult<T>> => {
      if (!r) return { value: undefined, ok: false };
      await this.ackMsg(r.m);
      return { value: r.value, ok: true };
    });
  }

  private async take(d: Deadline): Promise<{ m: Msg; value: T } | null> {
    try {
      const m = await this.puller.take(d);
      if (m === null) return null;
      try {
        return { m, value: decode(m.data) as T };
      } catch (e) {
        m.respond('+TERM'); // not a weft value: drop it rather than hand it around forever
        this.noteFreed();
        throw new RemoteError(`recv on ${this.what}: a stored message is not a weft value (dropped)`, { cause: e });
      }
    } finally {
      d.done();
    }
  }

  /** Acknowledges `m` and waits for the server's confirmation; on failure gives it back. */
  private async ackMsg(m: Msg): Promise<void> {
    try {
      await this.acker.send(m, '+ACK');
    } catch (e) {
      try {
        m.respond('-NAK');
      } catch {
        /* the connection is gone: the server redelivers after ack_wait */
      }
      throw remoteError(e, 'recv (acknowledge)', this.what);
    }
    this.noteFreed();
  }

  private wrap(m: Msg, value: T): RemoteMsg<T> {
    let settled = false;
    const once = (op: string): void => {
      if (settled) throw new MisuseError(`${op} on ${this.what}: this value was already acknowledged, nak'ed or terminated`);
    };
    return {
      value,
      ack: async () => {
        once('ack');
        settled = true;
        await this.ackMsg(m);
      },
      nak: (delayMs?: number) => {
        once('nak');
        if (delayMs !== undefined && (typeof delayMs !== 'number' || !(delayMs >= 0))) {
          throw new RangeError(`delayMs must be a non-negative number of ms, got ${String(delayMs)}`);
        }
        settled = true;
        m.respond(delayMs ? `-NAK ${JSON.stringify({ delay: Math.round(delayMs * 1e6) })}` : '-NAK');
      },
      term: () => {
        once('term');
        settled = true;
        m.respond('+TERM');
        this.noteFreed();
      },
      working: () => {
        once('working');
        m.respond('+WPI');
      },
    };
  }

  async *[Symbol.asyncIterator](): AsyncIterator<T> {
    for (;;) {
      const r = await this.recvOk();
      if (!r.ok) return;
      yield r.value;
    }
  }

  // ---- close ---------------------------------------------------------------------------------

  async close(): Promise<void> {
    const { jsm, nc } = this.core;
    try {
      const info = await jsm.streams.info(this.n.stream);
      if (info.config.sealed) throw new ClosedChannelError(`close of closed channel '${this.name}'`);
      await jsm.streams.update(this.n.stream, { ...info.config, sealed: true } as Parameters<typeof jsm.streams.update>[1]);
    } catch (e) {
      if (e instanceof ClosedChannelError) throw e;
      if (apiCode(e) === JsCode.Sealed) throw new ClosedChannelError(`close of closed channel '${this.name}'`, { cause: e });
      throw remoteError(e, 'close', this.what);
    }
    this.puller.sealed = true;
    nc.publish(this.n.closed, '');
    for (const w of this.roomWaiters.splice(0)) w();
    this.puller.checkDrained();
  }

  /** @internal Stops this handle (its connection is closing). */
  stop(e: Error): void {
    this.puller.stop(e);
    this.acker.stop(e);
    this.closedSub.unsubscribe();
    this.freedSub?.unsubscribe();
    if (this.freedLinger !== undefined) clearTimeout(this.freedLinger);
    for (const w of this.roomWaiters.splice(0)) w();
  }
}
