/**
 * Diagnostics of the whole process (API.md §9): every operation blocked right now, in every
 * thread, and the weft id of the calling thread.
 * @module
 */
import { native } from '../internal/native.js';

/** One blocked operation, as `dump()` lists it. */
export interface WaitInfo {
  /** The blocked thread (see `threadId()`). */
  thread: number;
  /** The operation: `lock`, `rlock`, `wait`, `acquire`, `do`, `send`, `recv`, `select`, ... */
  op: string;
  /** The object's kind and name (`mutex db`). */
  object: string;
  /** How long it has been blocked. */
  sinceMs: number;
  /** Where the wait started (a JavaScript stack), when it was captured. */
  stack?: string;
  /**
   * Waiting on a Mutex or on an RWMutex's write lock: the thread holding it (set when known).
   * Mutexes are not owned: this is the thread that locked it, or was handed it.
   */
  holder?: number;
  /** With `holder`: true if that thread has exited (so only another thread can unlock it). */
  holderExited?: boolean;
}

/** Every operation blocked right now, in every thread (sync primitives: Sync and async waits). */
export function dump(): WaitInfo[] {
  return native.dump();
}

/** This thread's weft thread id (as `dump()` and `DeadlockError` name threads). */
export function threadId(): number {
  return native.threadId();
}
