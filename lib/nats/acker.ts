/**
 * Confirmed acknowledgements without a request object per value: one wildcard subscription per
 * connection handle, `+ACK` published with a reply subject `<inbox>.<seq>`, and the server's
 * (empty) confirmation resolving the waiting entry. `nc.request` costs, per call, a timer and
 * two or three Error objects (stack captures) in the NATS client; at thousands of values per
 * second that was the largest share of a receiver's CPU time (bench/nats.js, `--cpu-prof`).
 * @internal
 * @module
 */
import type { Msg, NatsConnection, Subscription } from '@nats-io/transport-node';
import { nuid } from '@nats-io/transport-node';
import { RemoteError } from './errors.js';

interface Pending {
  resolve(): void;
  reject(e: Error): void;
  /** Date.now() when it gives up. */
  until: number;
}

/** Sends acknowledgements and waits for the server to confirm each. */
export class Acker {
  private readonly inbox = `_INBOX.weftack.${nuid.next()}`;
  private sub: Subscription | undefined;
  private readonly pending = new Map<number, Pending>();
  private seq = 0;
  private sweep: NodeJS.Timeout | undefined;

  constructor(
    private readonly nc: NatsConnection,
    private readonly timeoutMs: number,
  ) {}

  /** Publishes `body` (e.g. '+ACK') to `m.reply`; resolves once the server confirms it. */
  send(m: Msg, body: string): Promise<void> {
    this.sub ??= this.nc.subscribe(`${this.inbox}.*`, { callback: (_e, r) => this.onReply(r) });
    const id = ++this.seq;
    return new Promise<void>((resolve, reject) => {
      this.pending.set(id, { resolve, reject, until: Date.now() + this.timeoutMs });
      try {
        this.nc.publish(m.reply!, body, { reply: `${this.inbox}.${id}` });
      } catch (e) {
        this.pending.delete(id);
        reject(e as Error);
        return;
      }
      this.armSweep();
    });
  }

  private onReply(r: Msg): void {
    const id = Number(r.subject.slice(this.inbox.length + 1));
    const p = this.pending.get(id);
    if (p === undefined) return;
    this.pending.delete(id);
    const code = r.headers?.code ?? 0;
    if (code === 503) p.reject(new RemoteError('no responders: the consumer is gone (503)'));
    else p.resolve();
  }

  /** One coarse timer for every pending confirmation (not one each). */
  private armSweep(): void {
    if (this.sweep !== undefined) return;
    this.sweep = setInterval(() => {
      const now = Date.now();
      for (const [id, p] of this.pending) {
        if (p.until > now) continue;
        this.pending.delete(id);
        p.reject(new RemoteError(`no acknowledgement confirmation within ${this.timeoutMs} ms`));
      }
      if (this.pending.size === 0) {
        clearInterval(this.sweep);
        this.sweep = undefined;
      }
    }, Math.min(1000, this.timeoutMs));
    this.sweep.unref();
  }

  /** Fails what waits and unsubscribes (the connection is closing). */
  stop(e: Error): void {
    for (const p of this.pending.values()) p.reject(e);
    this.pending.clear();
    if (this.sweep !== undefined) clearInterval(this.sweep);
    this.sweep = undefined;
    this.sub?.unsubscribe();
    this.sub = undefined;
  }
}
