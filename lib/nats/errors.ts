/**
 * The error of a remote operation that failed for a reason on the NATS side (a lost connection,
 * a missing or misconfigured stream, a server that refused the request). Its `cause` is the NATS
 * client's error.
 * @module
 */
import { ClosedChannelError } from '../errors.js';

/**
 * A remote operation failed on the NATS side: the connection was lost or closed, the stream
 * behind a remote channel or queue is missing or misconfigured, or the server refused the
 * request. `cause` is the error the NATS client gave, when there was one. An operation that
 * failed with it had no effect, except where its message says the outcome is unknown.
 */
export class RemoteError extends Error {
  /** Stable error code: `'ERR_WEFT_REMOTE'`. */
  readonly code = 'ERR_WEFT_REMOTE';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'RemoteError';
  }
}

/** JetStream API error codes weft maps to its own errors. @internal */
export const JsCode = {
  /** `maximum messages exceeded` (discard-new stream at `max_msgs`): the channel is full. */
  Full: 10077,
  /** `invalid operation on sealed stream`: the channel is closed. */
  Sealed: 10109,
  /** `stream not found`. */
  StreamNotFound: 10059,
  /** `consumer not found`. */
  ConsumerNotFound: 10014,
  /** `stream name already in use` (two processes created the same channel at once). */
  StreamNameInUse: 10058,
} as const;

/** The JetStream API error code of `e` (`err_code`), if it is one. @internal */
export function apiCode(e: unknown): number | undefined {
  if (e === null || typeof e !== 'object') return undefined;
  const c = (e as { code?: unknown }).code;
  if (typeof c === 'number') return c;
  const api = (e as { apiError?: () => { err_code?: number } }).apiError;
  if (typeof api === 'function') return api.call(e)?.err_code;
  return undefined;
}

/** The NATS client's error name (`'TimeoutError'`, `'NoRespondersError'`, ...). @internal */
export function natsName(e: unknown): string {
  return e instanceof Error ? e.name : '';
}

/**
 * True for failures whose outcome is unknown (the request may or may not have reached the
 * server): a request timeout or a connection that dropped under it. @internal
 */
export function isAmbiguous(e: unknown): boolean {
  const n = natsName(e);
  return n === 'TimeoutError' || n === 'ConnectionError' || n === 'RequestError';
}

/** True when the connection is closed for good (no reconnect will follow). @internal */
export function isClosedConnection(e: unknown): boolean {
  const n = natsName(e);
  return n === 'ClosedConnectionError' || n === 'DrainingConnectionError';
}

/**
 * Turns a NATS client error of operation `op` on remote channel/queue `what` into weft's:
 * a sealed stream is `ClosedChannelError`, everything else a `RemoteError` saying what went
 * wrong, with the NATS error as `cause`. @internal
 */
export function remoteError(e: unknown, op: string, what: string): Error {
  if (e instanceof RemoteError || e instanceof ClosedChannelError) return e;
  const code = apiCode(e);
  if (code === JsCode.Sealed) return new ClosedChannelError(`${op} on closed channel ${what}`, { cause: e });
  if (code === JsCode.StreamNotFound || code === JsCode.ConsumerNotFound || natsName(e) === 'NoRespondersError') {
    return new RemoteError(`${op} on ${what}: its stream does not exist (deleted, or JetStream is unavailable)`, { cause: e });
  }
  if (isClosedConnection(e)) return new RemoteError(`${op} on ${what}: the NATS connection is closed`, { cause: e });
  if (isAmbiguous(e)) return new RemoteError(`${op} on ${what}: the NATS server did not answer (connection lost?)`, { cause: e });
  const msg = e instanceof Error ? e.message : String(e);
  return new RemoteError(`${op} on ${what} failed: ${msg}`, { cause: e });
}
