/**
 * The goroutine runtime's shared vocabulary: its native functions, the messages on its
 * channels, the pool descriptor every thread finds through the root slot, and the pool's
 * options (`configure`, API.md §7). A leaf module: pool.ts (submitting, managing) and
 * worker.ts (pool threads) both build on it.
 * @module
 */
import { availableParallelism } from 'node:os';
import type { ResourceLimits } from 'node:worker_threads';
import type { Chan } from '../chan/chan.js';
import { native, type Handle } from '../internal/native.js';
import type { AtomicInt64 } from '../sync/atomic.js';
import type { AtomicValue } from '../sync/value.js';

/** @internal The runtime's native functions (native/node/bind_runtime.cc). */
export interface RuntimeNative {
  rtRoot(candidate: Handle): Handle;
  rtTaskAdd(pool: number, name: number, reply: Handle): number;
  rtName(module: string, exportName: string): number;
  rtNameOf(id: number): [module: string, exportName: string];
  rtTaskEndMany(ids: number[]): void;
  rtTaskRun(id: number): boolean;
  rtTaskEnd(id: number): boolean;
  rtTaskReply(id: number): Handle | null;
  rtTasks(): [id: number, pool: number, name: string, thread: number, running: boolean, sinceMs: number][];
  rtTaskClaim(pool: number, thread: number): [id: number, reply: Handle][];
  rtTaskCount(pool: number): number;
  rtTaskTotal(): number;
  rtSyncThreads(): number[];
}
/** @internal */
export const rt = native as unknown as RuntimeNative;

/**
 * @internal A task on the run queue. `name` is the interned id of `module#export` (`rtName`;
 * a pool thread asks `rtNameOf` once per id). `replyKey` names the submitting thread's reply
 * channel (its weft thread id): a pool thread fetches that channel once from the task table
 * (`rtTaskReply`) and caches it, so a task message carries no string and no object reference
 * of its own.
 */
export type TaskMsg = [id: number, name: number, args: unknown[], replyKey: number];
/**
 * @internal Outcomes on a reply channel: one or more triples, `id, 0, value` for a result or
 * `id, 1, packed error` for a failure (a pool thread sends the outcomes of one turn together).
 */
export type ReplyMsg = unknown[];

/** @internal What every thread finds through the root slot. */
export interface PoolDesc {
  /** Process-unique pool id (the task table groups tasks by it). */
  id: number;
  runq: Chan<TaskMsg>;
  /** The current doorbell: closed to wake sleeping pool threads, then replaced. */
  bell: AtomicValue<Chan<never>>;
  /** Pool threads that went to sleep since the last ring (an over-count costs one spare ring). */
  sleepers: AtomicInt64;
  /** Pool threads started and not retired (the retire CAS reads it). */
  alive: AtomicInt64;
  /**
   * Pool threads waiting for a task synchronously right now (worker.ts, "idle wait"): at most
   * {@link MAX_SPINNING}, taken with a CAS, so idle threads never crowd out the submitters.
   */
  spinning: AtomicInt64;
}

/** @internal How many pool threads may idle in a synchronous wait at once (Go lets half its Ps spin; on 2 cores that is 1). */
export const MAX_SPINNING = 1;
/** @internal How long (ms) an idle pool thread with nothing of its own on the event loop waits synchronously for the next task. */
export const IDLE_WAIT_MS = 1;

/** @internal Names of the runtime's own channels start with this (dump() hides their waits). */
export const INTERNAL = 'weft:';
/** @internal Exit code of a pool thread that retired or stopped with the pool. */
export const RETIRE_CODE = 75;
export const RUNQ_CAPACITY = 1 << 16;
export const REPLY_CAPACITY = 1 << 12;

/** Options of {@link configure} (API.md §7). */
export interface GoConfig {
  /** Threads the pool keeps (Go's GOMAXPROCS). Default `os.availableParallelism()`. */
  threads?: number;
  /** The most threads the pool runs, those started for blocked ones included. Default `max(4 * threads, 16)`. */
  maxThreads?: number;
  /** Ms before an idle extra thread exits. Default 30 000. */
  idleTimeout?: number;
  /** Passed to each pool thread's `Worker`. */
  resourceLimits?: ResourceLimits;
  /** The pool threads' `execArgv`; default `process.execArgv`, so loaders such as tsx apply. */
  execArgv?: string[];
}

/** @internal {@link GoConfig} with every default filled in. */
export interface Resolved {
  threads: number;
  maxThreads: number;
  idleTimeout: number;
  resourceLimits: ResourceLimits | undefined;
  execArgv: string[] | undefined;
}

let userConfig: GoConfig = {};
/** Called after each configure() with the new options (the manager of a running pool, if any). */
let configured: ((cfg: Resolved) => void) | undefined;

/** @internal Sets the hook configure() calls with the resolved options (the pool manager's). */
export function onConfigure(fn: ((cfg: Resolved) => void) | undefined): void {
  configured = fn;
}

/** @internal The options in force: configure()'s, with the defaults of API.md §7 filled in. */
export function resolved(): Resolved {
  const threads = userConfig.threads ?? Math.max(1, availableParallelism());
  return {
    threads,
    maxThreads: Math.max(threads, userConfig.maxThreads ?? Math.max(4 * threads, 16)),
    idleTimeout: userConfig.idleTimeout ?? 30_000,
    resourceLimits: userConfig.resourceLimits,
    // undefined: the Worker inherits process.execArgv (Node drops the flags a worker cannot
    // take, such as --expose-gc; passing them explicitly would throw).
    execArgv: userConfig.execArgv,
  };
}

/**
 * Sets the pool's options (API.md §7). Applies to the pool this thread starts next, and, if this
 * thread manages the running pool, to threads started from now on.
 *
 * @example
 * configure({ threads: 2, maxThreads: 8, idleTimeout: 5_000 });
 */
export function configure(opts: GoConfig): void {
  if (typeof opts !== 'object' || opts === null) throw new TypeError('opts must be an object');
  const int = (v: unknown, name: string, min: number): void => {
    if (v === undefined) return;
    if (typeof v !== 'number' || Number.isNaN(v)) throw new TypeError(`${name} must be a number`);
    if (!Number.isInteger(v) || v < min) throw new RangeError(`${name} must be an integer >= ${min}`);
  };
  int(opts.threads, 'threads', 1);
  int(opts.maxThreads, 'maxThreads', 1);
  if (opts.idleTimeout !== undefined) {
    if (typeof opts.idleTimeout !== 'number' || Number.isNaN(opts.idleTimeout)) throw new TypeError('idleTimeout must be a number');
    if (opts.idleTimeout < 0) throw new RangeError('idleTimeout must be >= 0');
  }
  if (opts.resourceLimits !== undefined && (typeof opts.resourceLimits !== 'object' || opts.resourceLimits === null)) {
    throw new TypeError('resourceLimits must be an object');
  }
  if (opts.execArgv !== undefined && (!Array.isArray(opts.execArgv) || opts.execArgv.some((a) => typeof a !== 'string'))) {
    throw new TypeError('execArgv must be an array of strings');
  }
  const next: GoConfig = { ...userConfig };
  // A key given as undefined goes back to its default.
  for (const k of ['threads', 'maxThreads', 'idleTimeout', 'resourceLimits', 'execArgv'] as const) {
    if (k in opts) (next as Record<string, unknown>)[k] = opts[k];
  }
  if (next.threads !== undefined && next.maxThreads !== undefined && next.maxThreads < next.threads) {
    throw new RangeError('maxThreads must be >= threads');
  }
  userConfig = next;
  configured?.(resolved());
}

