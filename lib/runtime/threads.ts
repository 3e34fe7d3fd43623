/**
 * Pool threads as the pool's two owners see them: the manager (the thread whose `go()` created
 * the pool, lib/runtime/pool.ts: starts the first `threads` threads and replaces those that
 * die) and the sysmon (lib/runtime/sysmon.ts: a thread of its own that hands queued work to a
 * new thread when every thread is held, so hand-off goes on while the manager's thread is
 * itself blocked). Both start threads with {@link startThread} and see them on the hold board.
 *
 * ## The hold board
 * A SharedArrayBuffer of Int32 words, {@link HOLD_STRIDE} per pool thread at a slot taken with a
 * CAS on its `TAKEN` word (by whichever owner starts the thread; `alive` counts are checked the
 * same way, so the two owners never start more than `maxThreads` together). The pool thread
 * writes `TID` when it is up, bumps `TURNS` as it makes progress (after each task it takes, and
 * from a 10 ms interval while it is busy, so the count stops moving only while one synchronous
 * stretch runs), holds `BUSY` at 1 while it takes tasks or has tasks in flight and `SYNC` at 1
 * while it is in `sleepSync`. Readers use Atomics (seq-cst); a stale read delays a hand-off by
 * one poll, nothing more. `GEN` changes each time the slot is taken, so a reader's record of
 * an earlier thread in the same slot is never mistaken for the new one's.
 * @internal
 * @module
 */
import { Worker } from 'node:worker_threads';
import type { Chan } from '../chan/chan.js';
import { TimeoutError } from '../errors.js';
import { wrapHandle } from '../internal/object.js';
import { share } from '../share.js';
import { RETIRE_CODE, rt, type PoolDesc, type ReplyMsg, type Resolved } from './config.js';
import type { Handle } from '../internal/native.js';
import { packError } from './task.js';

/** @internal Words of a hold-board slot. */
export const HOLD = { TAKEN: 0, GEN: 1, TID: 2, TURNS: 3, BUSY: 4, SYNC: 5 } as const;
/** @internal Int32 words per slot. */
export const HOLD_STRIDE = 8;
/** @internal Slots on the board: at most this many pool threads run at once. */
export const HOLD_SLOTS = 1024;
/**
 * @internal A busy pool thread whose progress count has not moved for this long is held by
 * synchronous code. Go's sysmon preempts a goroutine after 10 ms; JavaScript cannot be
 * preempted, so the queued work gets a new thread instead. Long enough that a thread the OS
 * kept off a loaded CPU for a while, or a burst of continuations in one event-loop turn, is not
 * taken for a held one (each costs a thread start, ~50 ms of CPU).
 */
export const HOLD_MS = 100;
/** @internal Period of a busy pool thread's progress tick. */
export const TURN_MS = 10;

/**
 * @internal Index of the board's last word: one more than the highest slot ever taken (raised
 * with a CAS by takers; readers scan only the slots below it).
 */
export const HOLD_HIGH = HOLD_SLOTS * HOLD_STRIDE;

/** @internal A new, empty hold board. */
export function newBoard(): Int32Array {
  return new Int32Array(new SharedArrayBuffer((HOLD_HIGH + 1) * 4));
}

/** @internal The number of slots a reader has to scan (see {@link HOLD_HIGH}). */
export function slotsInUse(board: Int32Array): number {
  return Atomics.load(board, HOLD_HIGH);
}

/** Takes a free slot (CAS on TAKEN, which orders the slot's reset before its new owner's writes), or -1. */
function takeSlot(board: Int32Array): number {
  for (let s = 0; s < HOLD_SLOTS; s++) {
    const b = s * HOLD_STRIDE;
    if (Atomics.load(board, b + HOLD.TAKEN) !== 0) continue;
    if (Atomics.compareExchange(board, b + HOLD.TAKEN, 0, 1) !== 0) continue;
    Atomics.add(board, b + HOLD.GEN, 1);
    for (const w of [HOLD.TID, HOLD.TURNS, HOLD.BUSY, HOLD.SYNC]) Atomics.store(board, b + w, 0);
    for (let h = Atomics.load(board, HOLD_HIGH); h < s + 1; h = Atomics.load(board, HOLD_HIGH)) {
      if (Atomics.compareExchange(board, HOLD_HIGH, h, s + 1) === h) break;
    }
    return s;
  }
  return -1;
}

/** Gives a slot back once its thread exited (its words are reset by the next taker). */
function freeSlot(board: Int32Array, slot: number): void {
  if (slot >= 0) Atomics.store(board, slot * HOLD_STRIDE + HOLD.TAKEN, 0);
}

/** @internal A pool thread, as the owner that started it sees it. */
export interface PoolThread {
  worker: Worker;
  slot: number;
  error: unknown;
  /** Stopped by shutdown()'s timeout. */
  terminated: boolean;
}

/** @internal What {@link startThread} needs from the owner. */
export interface Owner {
  desc: PoolDesc;
  cfg: Resolved;
  board: Int32Array;
  /** The threads this owner started (their 'exit' events come to it). */
  threads: Set<PoolThread>;
}

/**
 * @internal Starts one pool thread for `o`, if the pool runs fewer than `maxThreads` (a CAS on
 * the shared `alive` count, so two owners never overshoot together). Returns it, or `undefined`
 * when the pool is full; throws what `new Worker` throws (bad options) after undoing the count.
 * The caller listens to `exit`.
 */
export function startThread(o: Owner): PoolThread | undefined {
  for (;;) {
    const n = o.desc.alive.load();
    if (n >= o.cfg.maxThreads) return undefined;
    if (o.desc.alive.compareAndSwap(n, n + 1)) break;
  }
  const slot = takeSlot(o.board);
  const data = share({ desc: o.desc, keep: o.cfg.threads, idleTimeout: o.cfg.idleTimeout, hold: o.board.buffer, slot });
  const opts: import('node:worker_threads').WorkerOptions = { workerData: data };
  if (o.cfg.execArgv !== undefined) opts.execArgv = o.cfg.execArgv;
  if (o.cfg.resourceLimits !== undefined) opts.resourceLimits = o.cfg.resourceLimits;
  let worker: Worker;
  try {
    worker = new Worker(new URL('./worker.js', import.meta.url), opts);
  } catch (e) {
    o.desc.alive.add(-1);
    freeSlot(o.board, slot);
    throw e;
  }
  const t: PoolThread = { worker, slot, error: undefined, terminated: false };
  o.threads.add(t);
  worker.on('error', (e) => {
    t.error = e;
  });
  return t;
}

/** @internal The weft thread id a pool thread wrote on its slot (0 while it starts). */
export function threadTid(board: Int32Array, t: PoolThread): number {
  return t.slot >= 0 ? Atomics.load(board, t.slot * HOLD_STRIDE + HOLD.TID) : 0;
}

/**
 * @internal Bookkeeping after a pool thread exited: frees its slot and `alive` count (a thread
 * that retired already took itself off `alive`), and fails the tasks it was running with the
 * reason it died. Returns that reason.
 */
export function threadExited(o: Owner, t: PoolThread, code: number, tid: number): unknown {
  o.threads.delete(t);
  freeSlot(o.board, t.slot);
  if (code !== RETIRE_CODE) o.desc.alive.add(-1);
  const reason =
    t.error ??
    (t.terminated
      ? new TimeoutError('weft: shutdown() timed out; the pool thread running this task was stopped')
      : new Error(`weft: pool thread ${tid} exited (code ${code}) while running this task`));
  if (tid !== 0) failClaimed(rt.rtTaskClaim(o.desc.id, tid), reason);
  return reason;
}

/** @internal Sends each claimed task its failure (on the reply channel of its submitter). */
export function failClaimed(claimed: [number, Handle][], reason: unknown): void {
  const packed = packError(reason);
  for (const [id, h] of claimed) {
    const ch = wrapHandle(h) as Chan<ReplyMsg>;
    const msg: ReplyMsg = [id, 1, packed];
    if (!ch.trySend(msg)) ch.send(msg).catch(() => {});
  }
}

/** @internal A reader's record of one slot's progress count: when it last moved (performance.now()). */
interface Seen {
  gen: number;
  turns: number;
  movedAt: number;
}

/** @internal What the sysmon remembers of each slot between polls. */
export type Sightings = Map<number, Seen>;

/**
 * @internal Go's handoffp: counts the pool's threads (taken slots) and those held — blocked in
 * a `*Sync` call that waits in native code (the native blocked list), in `sleepSync`, or busy
 * in one synchronous stretch for over {@link HOLD_MS}; when tasks are queued and fewer than
 * `threads` threads are free to take them (and at least one is held), returns true (start one more).
 */
export function needsThread(desc: PoolDesc, cfg: Resolved, board: Int32Array, seen: Sightings): boolean {
  const now = performance.now();
  const queued = desc.runq.length > 0;
  let total = 0;
  let held = 0;
  // Busy threads not (yet) held by what the board shows: they may be in a native *Sync wait.
  let maybe: number[] | undefined;
  const high = slotsInUse(board);
  for (let s = 0; s < high; s++) {
    const b = s * HOLD_STRIDE;
    if (Atomics.load(board, b + HOLD.TAKEN) === 0) continue;
    total++;
    const gen = Atomics.load(board, b + HOLD.GEN);
    const turns = Atomics.load(board, b + HOLD.TURNS);
    let rec = seen.get(s);
    if (rec === undefined || rec.gen !== gen) {
      rec = { gen, turns, movedAt: now };
      seen.set(s, rec);
    } else if (rec.turns !== turns) {
      rec.turns = turns;
      rec.movedAt = now;
    }
    const tid = Atomics.load(board, b + HOLD.TID);
    if (tid === 0 || Atomics.load(board, b + HOLD.BUSY) === 0) continue; // starting, or free
    if (Atomics.load(board, b + HOLD.SYNC) === 1 || now - rec.movedAt > HOLD_MS) held++;
    else (maybe ??= []).push(tid);
  }
  if (!queued || total >= cfg.maxThreads) return false;
  // Only for held threads: starting the first `threads` is the manager's job (it starts them
  // one per go() until there are enough), and two owners doing it would overshoot.
  if (held > 0 && total - held < cfg.threads) return true;
  if (maybe === undefined || total - held - maybe.length >= cfg.threads) return false;
  // Whether the rest are blocked in native *Sync waits: one look at the blocked list (a
  // snapshot, taken only when it can change the answer).
  const sync = new Set(rt.rtSyncThreads());
  for (const tid of maybe) if (sync.has(tid)) held++;
  return held > 0 && total - held < cfg.threads;
}
