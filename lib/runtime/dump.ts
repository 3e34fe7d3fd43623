/**
 * The tasks part of `dump()` (API.md §7 "Diagnostics"). Imports only the native layer, so the
 * module that defines `dump()` can call it without an import cycle.
 * @internal
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
