/**
 * weft — Go's concurrency model for Node.js on real OS threads.
 *
 * Every object here lives in native memory and is shared by reference between the main
 * thread and worker threads: pass it in a channel, or through `share()`/`attach()` with plain
 * `postMessage`/`workerData`.
 * @module
 */
export { Chan, type WaitOpts } from './chan/chan.js';
export type {
  ChanOptions,
  ElemType,
  ElemTypeFor,
  NumericElemType,
  RecvChan,
  RecvManyBuffer,
  RecvManyResult,
  RecvResult,
  SendManyValues,
  SendChan,
  TryRecvResult,
  TypedArray,
} from './chan/types.js';
export { select, selectSync, recv, send, type Case, type RecvCase, type SendCase, type Selected, type SelectOpts, type CaseResult, type DefaultResult, type SelectResult } from './chan/select.js';
export { share, attach, liveObjects } from './share.js';
export {
  BusyError,
  CanceledError,
  ClosedChannelError,
  DataCloneError,
  DeadlineExceededError,
  DeadlockError,
  GoneError,
  MisuseError,
  TimeoutError,
} from './errors.js';
export { Timer, Ticker, after, afterFunc, sleep, sleepSync } from './time/time.js';
export { background, withCancel, withTimeout, withDeadline, withValue, cause, type Context } from './time/context.js';
export { Mutex } from './sync/mutex.js';
export { RWMutex } from './sync/rwmutex.js';
export { WaitGroup } from './sync/waitgroup.js';
export { Cond } from './sync/cond.js';
export { Once } from './sync/once.js';
export { Semaphore } from './sync/semaphore.js';
export type { SyncOptions } from './sync/common.js';
export { AtomicInt64, AtomicBool } from './sync/atomic.js';
export { AtomicValue } from './sync/value.js';
export { ProgressMeter } from './sync/progress.js';
export { RateLimiter, type RateReservation } from './sync/rate.js';
export { dump, threadId, type WaitInfo } from './runtime/dump.js';
export { go, shutdown } from './runtime/pool.js';
export { configure, type GoConfig } from './runtime/config.js';
export type { Task } from './runtime/task.js';
export { ErrGroup } from './runtime/errgroup.js';
export type { TaskDumpInfo } from './runtime/dump.js';
export { stage, type Stage, type StageOptions, type Work } from './patterns/stage.js';
export { fanIn, orderedFanIn } from './patterns/fanin.js';
export { toReadable, toWritable, pipeFrom, type ToReadableOptions, type ToWritableOptions } from './chan/stream.js';
export { Heartbeat, type MissedOptions } from './patterns/heartbeat.js';
export { supervise, type Supervisor, type SuperviseOptions, type Restart } from './patterns/supervise.js';
export { Monitor, type MonitorOptions } from './patterns/monitor.js';
