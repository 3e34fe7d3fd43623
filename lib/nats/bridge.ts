/**
 * `bridge(from, to)`: Go's forwarder goroutine between a remote and a local channel (either
 * way), so `select` can wait on a remote channel through a local one.
 * @module
 */
import { Chan } from '../chan/chan.js';
import type { RecvChan, SendChan } from '../chan/types.js';
import { ClosedChannelError } from '../errors.js';
import { parseOpts, type WaitOpts } from '../internal/options.js';
import { RemoteChanImpl } from './chan.js';
import type { RemoteChan } from './types.js';

/**
 * Moves values from `from` to `to` until `from` is closed and drained, then closes `to` and
 * resolves with the number of values moved. A value taken from a remote channel is
 * acknowledged only once `to` accepted it (none is lost if the bridge stops). `opts.signal`
 * stops the bridge; `opts.timeout` bounds each wait.
 * The error it rejects with has a `moved` property (values moved before it).
 *
 * @example
 * const local = new Chan<number>(16);
 * void bridge(remoteJobs, local);
 * const r = await select([recv(local), recv(quit)]);
 */
export function bridge<T>(
  from: RemoteChan<T> | RecvChan<T>,
  to: SendChan<T> | RemoteChan<T>,
  opts?: WaitOpts,
): Promise<number> {
  const isRemote = (x: unknown): x is RemoteChan<T> => x instanceof RemoteChanImpl;
  if (!isRemote(from) && !(from instanceof Chan)) throw new TypeError('from must be a RemoteChan or a Chan');
  if (!isRemote(to) && !(to instanceof Chan)) throw new TypeError('to must be a RemoteChan or a Chan');
  const o = parseOpts(opts);
  const each: WaitOpts = {};
  if (o.signal) each.signal = o.signal;
  if (o.timeout >= 0) each.timeout = o.timeout;
  let moved = 0;
  const run = async (): Promise<number> => {
    for (;;) {
      if (isRemote(from)) {
        const m = await from.recvMsg(each);
        if (m === undefined) break;
        try {
          await to.send(m.value, each);
        } catch (e) {
          m.nak(); // not delivered: back to the remote channel for another receiver
          throw e;
        }
        await m.ack();
      } else {
        const r = await (from as RecvChan<T>).recvOk(each);
        if (!r.ok) break;
        await to.send(r.value, each);
      }
      moved++;
    }
    try {
      await to.close();
    } catch (e) {
      if (!(e instanceof ClosedChannelError)) throw e;
    }
    return moved;
  };
  return run().catch((e: unknown) => {
    if (e !== null && typeof e === 'object') {
      try {
        Object.defineProperty(e, 'moved', { value: moved, enumerable: true, configurable: true, writable: true });
      } catch {
        /* frozen */
      }
    }
    throw e;
  });
}
