/**
 * Error classes of weft. Each has a stable `code` and a `name` equal to its class name.
 * @module
 */

/** Base of weft's own errors (not exported: match on the concrete classes or `code`). */
abstract class WeftError extends Error {
  abstract readonly code: string;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** A send on a closed channel, a close of a closed channel, or a channel closed while a send waited. */
export class ClosedChannelError extends WeftError {
  /** Stable error code: `'ERR_WEFT_CLOSED'`. */
  readonly code = 'ERR_WEFT_CLOSED';
  constructor(message = 'send on closed channel', options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** An operation was canceled through its `signal` (the `cause` is the abort reason). */
export class CanceledError extends WeftError {
  /** Stable error code: `'ERR_WEFT_CANCELED'`. */
  readonly code = 'ERR_WEFT_CANCELED';
  constructor(message = 'operation canceled', options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** A context's deadline passed (Go's `context.DeadlineExceeded`). */
export class DeadlineExceededError extends WeftError {
  /** Stable error code: `'ERR_WEFT_DEADLINE'`. */
  readonly code = 'ERR_WEFT_DEADLINE';
  constructor(message = 'context deadline exceeded', options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** A `timeout` option expired before the operation could complete; it had no effect. */
export class TimeoutError extends WeftError {
  /** Stable error code: `'ERR_WEFT_TIMEOUT'`. */
  readonly code = 'ERR_WEFT_TIMEOUT';
  constructor(message = 'operation timed out', options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** Refused because too many operations are in flight (e.g. `Monitor.call`). */
export class BusyError extends WeftError {
  /** Stable error code: `'ERR_WEFT_BUSY'`. */
  readonly code = 'ERR_WEFT_BUSY';
  constructor(message = 'busy', options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** A primitive was used in a way Go would panic on (unlock of an unlocked Mutex, ...). */
export class MisuseError extends WeftError {
  /** Stable error code: `'ERR_WEFT_MISUSE'`. */
  readonly code = 'ERR_WEFT_MISUSE';
  constructor(message = 'misuse', options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** A lock cycle among blocked threads was detected; this waiter was chosen to fail. */
export class DeadlockError extends WeftError {
  /** Stable error code: `'ERR_WEFT_DEADLOCK'`. */
  readonly code = 'ERR_WEFT_DEADLOCK';
  constructor(message = 'deadlock detected', options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** A value that the structured clone algorithm cannot copy (a function, a symbol, ...). */
export class DataCloneError extends TypeError {
  /** Stable error code: `'ERR_WEFT_CLONE'`. */
  readonly code = 'ERR_WEFT_CLONE';
  constructor(message = 'value could not be cloned', options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'DataCloneError';
  }
}

/** The weft object behind a shared reference was already freed (nobody held it any more). */
export class GoneError extends Error {
  /** Stable error code: `'ERR_WEFT_GONE'`. */
  readonly code = 'ERR_WEFT_GONE';
  constructor(message = 'weft object no longer exists') {
    super(message);
    this.name = 'GoneError';
  }
}
