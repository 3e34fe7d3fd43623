/**
 * Diagnostics of the whole process (API.md §9): every operation blocked right now, in every
 * thread (and every `go()` task, API.md §7), and the weft id of the calling thread.
 * @module
 */
import { native } from '../internal/native.js';

/** A blocked operation as the native layer lists it (the fields `dump()` reads here). */
interface Entry {
  thread: number;
  op: string;
  object: string;
  sinceMs: number;
}

/** One task as `dump()` lists it (`op: 'task'`). */
export interface TaskDumpInfo {
  /** The task's id (`Task.id`). */
  id: number;
  /** `module#export`. */
  name: string;
  /** `queued`, `running`, or `blocked` (its thread waits in the operation `blockedOn` names). */
  state: 'queued' | 'running' | 'blocked';
  /** With state `blocked`: the operations its thread waits in (`recv channel jobs`, ...). */
  blockedOn?: string;
}

type RtTasks = () => [id: number, pool: number, name: string, thread: number, running: boolean, sinceMs: number][];
const rtTasks = (native as unknown as { rtTasks?: RtTasks }).rtTasks;

/** The runtime's own waits (run queue, doorbell, reply loops) are not the user's: hidden. */
const INTERNAL = /^chan weft:/;

/**
 * @internal `list` (the native blocked operations) without the runtime's own waits, followed by
 * one entry per task (`op: 'task'`, `object: 'task <id> <module#export>'`, `task: {...}`; thread
 * 0 while queued). A running task is `blocked` when it is the only task on its thread and that
 * thread waits in an operation (which one is known per thread, not per task).
 */
export function withTaskEntries<E extends Entry>(list: E[]): (E | (Entry & { task: TaskDumpInfo }))[] {
  const out: (E | (Entry & { task: TaskDumpInfo }))[] = list.filter((e) => !INTERNAL.test(e.object));
  if (rtTasks === undefined) return out;
  const tasks = rtTasks();
  if (tasks.length === 0) return out;
  const perThread = new Map<number, number>();
  for (const t of tasks) if (t[4]) perThread.set(t[3], (perThread.get(t[3]) ?? 0) + 1);
  for (const [id, , name, thread, running, sinceMs] of tasks) {
    const task: TaskDumpInfo = { id, name, state: running ? 'running' : 'queued' };
    if (running && perThread.get(thread) === 1) {
      const waits = out.filter((e) => e.thread === thread && !('task' in e));
      if (waits.length > 0) {
        task.state = 'blocked';
        task.blockedOn = waits.map((e) => `${e.op} ${e.object}`).join(', ');
      }
    }
    out.push({ thread, op: 'task', object: `task ${id} ${name}`, sinceMs, task });
  }
  return out;
}

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
  /** Entries with `op: 'task'` describe a `go()` task (id, `module#export`, state, blocked-on). */
  task?: TaskDumpInfo;
}

/** Every operation blocked right now, in every thread (sync primitives: Sync and async waits). */
export function dump(): WaitInfo[] {
  return withTaskEntries(native.dump());
}

/** This thread's weft thread id (as `dump()` and `DeadlockError` name threads). */
export function threadId(): number {
  return native.threadId();
}
