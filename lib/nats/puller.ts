/**
 * Receiving from a durable pull consumer on behalf of waiting receivers: one subscription per
 * channel handle, and pull requests for exactly as many messages as there are receivers waiting
 * (no prefetch: a value goes to a process only when one of its receivers asked for it). A
 * message that arrives after its receiver gave up is NAKed at once, so the server hands it to
 * another receiver (API.md §11: a receive that gave up took nothing).
 * @internal
 * @module
 */
import type { Msg, NatsConnection, Subscription } from '@nats-io/transport-node';
import { nuid } from '@nats-io/transport-node';
import type { Deadline } from './wait.js';
import { RemoteError } from './errors.js';

/** How long one pull request waits at the server (ns on the wire). Weft's timeouts are local. */
const EXPIRES_MS = 5_000;

interface Waiter {
  resolve(m: Msg | null): void;
  reject(e: Error): void;
}

/** What the owner says about the stream when a receiver wonders whether it is closed and drained. */
export interface StreamState {
  sealed: boolean;
  /** Values stored and not yet acknowledged (delivered or not). */
  messages: number;
}

/** Pull-consumer reader shared by every receiver of one channel handle in this process. */
export class Puller {
  private readonly waiters: Waiter[] = [];
  /** Messages requested from the server and not yet delivered, expired or refused. */
  private outstanding = 0;
  private readonly inbox: string;
  private sub: Subscription | undefined;
  private seq = 0;
  /** Sealed and nothing left: every receive from now on reports closed. */
  drained = false;
  /** The stream is known to be sealed (so an emptied stream means closed and drained). */
  sealed = false;
  private checking: Promise<void> | undefined;
  private recheck = false;
  private failure: Error | undefined;
  private statusLoop: Promise<void> | undefined;

  constructor(
    private readonly nc: NatsConnection,
    private readonly nextSubject: string,
    private readonly what: string,
    private readonly state: () => Promise<StreamState>,
    /** Called once when this handle finds the channel closed and drained (to tell the others). */
    private readonly onDrained: () => void = () => {},
  ) {
    this.inbox = `_INBOX.weft.${nuid.next()}`;
  }

  /** Waits for one message (null once the channel is closed and drained). */
  take(d: Deadline): Promise<Msg | null> {
    if (this.failure) return Promise.reject(this.failure);
    if (this.drained) return Promise.resolve(null);
    this.ensureSub();
    return new Promise<Msg | null>((resolve, reject) => {
      let off: () => void = () => {};
      const w: Waiter = {
        resolve: (m) => {
          off();
          resolve(m);
        },
        reject: (e) => {
          off();
          reject(e);
        },
      };
      this.waiters.push(w);
      off = d.onFail(() => {
        const i = this.waiters.indexOf(w);
        if (i >= 0) this.waiters.splice(i, 1);
        reject(d.failed!);
      });
      this.schedulePump();
      if (this.sealed) this.checkDrained();
    });
  }

  /** Number of receivers waiting here now. */
  get waiting(): number {
    return this.waiters.length;
  }

  private ensureSub(): void {
    if (this.sub) return;
    this.sub = this.nc.subscribe(`${this.inbox}.*`, { callback: (_err, m) => this.onMsg(m) });
    this.statusLoop ??= (async () => {
      for await (const s of this.nc.status()) {
        // The server forgets our pull requests when the connection drops: ask again.
        if (s.type === 'reconnect') {
          this.outstanding = 0;
          this.pump();
          if (this.waiters.length > 0) this.checkDrained();
        }
      }
    })().catch(() => {});
  }

  private pumpScheduled = false;

  /** One pull request for every receiver that starts waiting in this turn (not one each). */
  private schedulePump(): void {
    if (this.pumpScheduled) return;
    this.pumpScheduled = true;
    queueMicrotask(() => {
      this.pumpScheduled = false;
      this.pump();
    });
  }

  /**
   * Asks the server for as many messages as receivers wait for and are not yet asked for.
   * While earlier requests are still open (values will come, or the requests expire and this
   * runs again), newly waiting receivers are asked for together once they are a quarter of all
   * waiting: far fewer pull requests when many receivers wait, never more messages than
   * receivers, and a lone receiver (nothing outstanding) is asked for at once.
   */
  private pump(): void {
    const need = this.waiters.length - this.outstanding;
    if (need <= 0 || this.drained || this.nc.isClosed()) return;
    if (this.outstanding > 0 && need * 4 < this.waiters.length) return;
    this.outstanding += need;
    const body = JSON.stringify({ batch: need, expires: EXPIRES_MS * 1e6 });
    try {
      this.nc.publish(this.nextSubject, body, { reply: `${this.inbox}.${++this.seq}` });
    } catch (e) {
      this.outstanding -= need;
      this.failAll(new RemoteError(`recv on ${this.what}: the NATS connection is closed`, { cause: e }));
    }
  }

  private onMsg(m: Msg): void {
    if (m.subject.startsWith(this.inbox)) {
      this.onStatus(m);
      return;
    }
    if (this.outstanding > 0) this.outstanding--;
    const w = this.waiters.shift();
    if (w) w.resolve(m);
    else m.respond('-NAK'); // its receiver gave up: back to the server for another one, now
  }

  private onStatus(m: Msg): void {
    const h = m.headers;
    const code = h?.code ?? 0;
    if (code === 100) return; // heartbeat
    const left = Number(h?.get('Nats-Pending-Messages') || 0);
    if (code === 408 || code === 409 || code === 404) {
      this.outstanding = Math.max(0, this.outstanding - (left > 0 ? left : 0));
      const desc = (h?.description ?? '').toLowerCase();
      if (code === 409 && desc.includes('deleted')) {
        this.outstanding = 0;
        this.failAll(new RemoteError(`recv on ${this.what}: its consumer was deleted (${h?.description})`));
        return;
      }
      if (code === 409 && left === 0) this.outstanding = 0; // refused outright (e.g. max waiting): ask again
      // A request expired with receivers still waiting: is the channel closed and drained?
      if (this.waiters.length > 0) this.checkDrained();
      // ask again a little later if the server refused (do not hammer it)
      if (code === 409) setTimeout(() => this.pump(), 50).unref();
      else this.pump();
      return;
    }
    if (code === 503) {
      this.outstanding = 0;
      this.failAll(new RemoteError(`recv on ${this.what}: its stream does not exist or JetStream is unavailable (503)`));
    }
  }

  /** Fails every waiting receiver with `e` (later receives try again). */
  private failAll(e: Error): void {
    const ws = this.waiters.splice(0);
    for (const w of ws) w.reject(e);
  }

  /**
   * Asks the stream whether it is sealed and empty; if so every waiting (and later) receive
   * reports closed. Coalesced: one question in flight, asked again if wanted meanwhile.
   */
  checkDrained(): void {
    if (this.drained) return;
    if (this.checking) {
      this.recheck = true;
      return;
    }
    this.checking = (async () => {
      do {
        this.recheck = false;
        let st: StreamState;
        try {
          st = await this.state();
        } catch (e) {
          if (this.waiters.length > 0 && e instanceof RemoteError) this.failAll(e);
          return;
        }
        if (st.sealed) this.sealed = true;
        if (st.sealed && st.messages === 0) {
          this.drained = true;
          for (const w of this.waiters.splice(0)) w.resolve(null);
          this.onDrained();
          return;
        }
      } while (this.recheck);
    })().finally(() => {
      this.checking = undefined;
    });
  }

  /** Stops receiving (the connection is closing). */
  stop(e: Error): void {
    this.failure = e;
    this.failAll(e);
    this.sub?.unsubscribe();
    this.sub = undefined;
  }
}
