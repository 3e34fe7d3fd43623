/**
 * Entry point of a pool thread (started by lib/runtime/pool.ts with the pool's descriptor as
 * `workerData`).
 *
 * The thread takes tasks from the shared run queue only with `tryRecv()`, from its event loop,
 * and never leaves an async receive pending on the queue: a task is taken only by a thread that
 * is free to start it now (see pool.ts, "Never hold a queued task on a busy thread"). It keeps
 * taking while its current tasks wait in an `await` (M:N); when the queue is empty it sleeps on
 * the doorbell. A task's synchronous part runs inside the take loop, so a thread held by
 * synchronous code or a `*Sync` call takes nothing more until it is back in its event loop.
 * @internal
 * @module
 */
import { parentPort, workerData } from 'node:worker_threads';
// Every kind of weft object (Context, Mutex, ...) can arrive in a task's arguments before the
// task's module is loaded: load the whole package so each kind is registered for decoding.
import '../index.js';
import type { Chan } from '../chan/chan.js';
import { DataCloneError, TimeoutError } from '../errors.js';
import { wrapHandle } from '../internal/object.js';
import { attach } from '../share.js';
import { threadId } from './dump.js';
import { setSyncWaitHook } from '../time/time.js';
import { Code, StatusSlot, native, status } from '../internal/native.js';
import { IDLE_WAIT_MS, MAX_SPINNING, RETIRE_CODE, rt, type PoolDesc, type ReplyMsg, type TaskMsg } from './config.js';
import { HOLD, HOLD_STRIDE, TURN_MS } from './threads.js';
import { markPoolThread, openBell, ring } from './pool.js';
import { degradePacked, packError, type Packed } from './task.js';

const { desc, keep, idleTimeout, hold, slot } = attach(workerData) as {
  desc: PoolDesc;
  keep: number;
  idleTimeout: number;
  hold: SharedArrayBuffer;
  slot: number;
};
markPoolThread(desc);

/** Tasks started here and not yet answered: id -> where the answer goes. */
const inflight = new Map<number, Chan<ReplyMsg>>();
const modules = new Map<string, Record<string, unknown>>();
/** Reply channels by key (the submitting thread's id), fetched once from the task table. */
const replies = new Map<number, Chan<ReplyMsg>>();
// ---- the hold board (threads.ts): what the manager reads to see this thread held --------

const board = slot >= 0 ? new Int32Array(hold, slot * HOLD_STRIDE * 4, HOLD_STRIDE) : undefined;
/** True while the take loop runs (tasks' synchronous parts run inside it). */
let taking = false;
/** What BUSY on the board says (kept here too: a plain read instead of an Atomics load). */
let busyNow = false;
let turnTimer: ReturnType<typeof setInterval> | undefined;
/** Ticks of the progress interval since the thread was last busy (see {@link tick}). */
let idleTicks = 0;

/** Progress: a task returned or ended, or the event loop turned. */
function turn(): void {
  if (board !== undefined) Atomics.add(board, HOLD.TURNS, 1);
}

/**
 * The progress tick (every TURN_MS while the thread is busy). It outlives a busy spell by a few
 * ticks instead of being cleared the moment the thread runs dry: one task at a time, a thread
 * goes busy and idle once per task, and a new interval each time costs more than the task.
 */
function tick(): void {
  turn();
  if (busyNow) idleTicks = 0;
  else if (++idleTicks >= 3) {
    clearInterval(turnTimer);
    turnTimer = undefined;
  }
}

/**
 * Keeps BUSY and the progress tick in step with what the thread does: busy while it takes
 * tasks or has tasks in flight. The tick is an unref'd interval, so it only shows that the
 * event loop turns; it never keeps the thread alive.
 */
function updateBusy(): void {
  if (board === undefined) return;
  const busy = taking || inflight.size > 0;
  if (busy === busyNow) return;
  busyNow = busy;
  if (busy) {
    // The count moves as BUSY goes up, so a reader never sees a busy thread with a count it
    // recorded before (from an earlier busy spell) and takes it for held.
    turn();
    if (turnTimer === undefined) {
      turnTimer = setInterval(tick, TURN_MS);
      turnTimer.unref();
    }
    idleTicks = 0;
  }
  Atomics.store(board, HOLD.BUSY, busy ? 1 : 0);
}

if (board !== undefined) {
  const b = board;
  // Who this slot's thread is: the sysmon matches it against the native blocked list.
  Atomics.store(b, HOLD.TID, threadId());
  setSyncWaitHook((waiting) => Atomics.store(b, HOLD.SYNC, waiting ? 1 : 0));
}

/** The queue was closed (shutdown): exit once the tasks in flight are answered. */
let draining = false;
let exiting = false;

function exit(code: number): void {
  exiting = true;
  flush();
  process.exit(code);
}

/**
 * Outcomes not sent yet, by reply channel: `[id, failed, value, ...]` triples. Outcomes that
 * come in the same turn of the event loop (a run of synchronous tasks, continuations resumed
 * together) go back as one message: one channel operation and one wake-up of the caller for
 * the lot.
 */
const outbox = new Map<Chan<ReplyMsg>, unknown[]>();
let flushing = false;
/** When the oldest outcome in the outbox was queued (performance.now()). */
let outboxSince = 0;
/** The longest an outcome waits in the outbox while the take loop keeps running tasks (ms). */
const FLUSH_MS = 0.25;

/** Queues a task's outcome for its caller (sent at the end of this turn, see {@link flush}). */
function answer(id: number, failed: 0 | 1, value: unknown): void {
  const reply = inflight.get(id);
  if (reply === undefined) return;
  inflight.delete(id);
  turn();
  updateBusy();
  if (outbox.size === 0) outboxSince = performance.now();
  let box = outbox.get(reply);
  if (box === undefined) outbox.set(reply, (box = []));
  box.push(id, failed, value);
  if (!flushing) {
    flushing = true;
    queueMicrotask(flushQueued);
  }
}

/**
 * Reply channels this thread has a send waiting on (their buffer was full): outcomes for them
 * stay in the outbox until that send lands, then leave as one message (see {@link waitForRoom}).
 */
const backlogged = new Set<Chan<ReplyMsg>>();

/** The microtask flush: lazy while the take loop runs (it flushes again, see {@link flush}). */
const flushQueued = (): void => flush(taking);

/**
 * Sends every queued outcome, one message per reply channel (none to a backlogged one).
 *
 * `lazy`: outcomes for a caller that has not taken this thread's previous message yet (its
 * reply loop is behind: it is still submitting, or busy) stay for a later, bigger message,
 * up to FLUSH_MS after the oldest was queued. Only where a later flush is sure to come: from
 * the take loop (its FLUSH_MS check after each task, its flush when the queue runs dry, the
 * bounded idle wait, and the plain flush before sleeping on the doorbell). A caller waiting
 * for its outcomes has taken every message, so it never sees one held.
 */
function flush(lazy = false): void {
  flushing = false;
  const hold = lazy && performance.now() - outboxSince < FLUSH_MS;
  for (const [reply, items] of outbox) {
    if (backlogged.has(reply)) continue;
    // A hint, no ordering needed: the length is a native read of the caller's buffer that
    // may be stale either way. Read as non-empty when it just emptied, the outcomes wait at
    // most until FLUSH_MS; read as empty, they leave now, as they did before holding existed.
    if (hold && reply.length > 0) continue;
    outbox.delete(reply);
    sendOutcomes(reply, items as ReplyMsg);
  }
}

/**
 * Sends `msg` when the caller's full reply buffer has room, then `end`s it and sends what
 * queued for the same caller meanwhile. One such send per caller at a time: a caller busy
 * submitting (its reply loop cannot run until it yields) fills its buffer, and in a burst of
 * 100,000 tasks each pool thread made ~9,400 waiting sends of 1-3 outcomes each, every one a
 * promise and a registration on the channel, and on the caller's side a hand-off per send.
 */
function waitForRoom(reply: Chan<ReplyMsg>, msg: ReplyMsg, end: () => void): void {
  backlogged.add(reply);
  const landed = (): void => {
    backlogged.delete(reply);
    end();
    const more = outbox.get(reply);
    if (more !== undefined) {
      outbox.delete(reply);
      sendOutcomes(reply, more as ReplyMsg);
    }
  };
  reply.send(msg).then(landed, landed);
}

/**
 * Sends outcomes, then drops their tasks from the task table (only then: a thread that dies
 * before its outcome left still has the task failed by its owner). A batch that cannot be
 * cloned goes again one outcome at a time, so only the offending result fails, with a
 * DataCloneError in its place.
 */
function sendOutcomes(reply: Chan<ReplyMsg>, items: ReplyMsg): void {
  if (backlogged.has(reply)) {
    // Joins what waits for the send in flight (a batch sent again one outcome at a time).
    let box = outbox.get(reply);
    if (box === undefined) outbox.set(reply, (box = []));
    for (const x of items) box.push(x);
    return;
  }
  const end = (): void => {
    if (items.length === 3) rt.rtTaskEnd(items[0] as number);
    else {
      const ids: number[] = [];
      for (let i = 0; i < items.length; i += 3) ids.push(items[i] as number);
      rt.rtTaskEndMany(ids);
    }
    if (draining && inflight.size === 0 && outbox.size === 0 && !exiting) exit(RETIRE_CODE);
  };
  try {
    if (reply.trySend(items)) return end();
    // The caller's reply buffer is full: wait for room (the tasks stay in the table, so a
    // thread death meanwhile still fails them).
    waitForRoom(reply, items, end);
    return;
  } catch (e) {
    if (items.length > 3) {
      for (let i = 0; i < items.length; i += 3) sendOutcomes(reply, items.slice(i, i + 3) as ReplyMsg);
      return;
    }
    const [id, failed, value] = items;
    const msg: ReplyMsg = failed
      ? [id, 1, degradePacked(value as Packed)]
      : [id, 1, packError(new DataCloneError(`weft: the task's result could not be cloned: ${(e as Error).message}`))];
    try {
      if (!reply.trySend(msg)) {
        waitForRoom(reply, msg, end);
        return;
      }
    } catch {
      // nothing sendable: the caller's channel is gone
    }
    end();
  }
}

/** Task names by interned id (TaskMsg): [module, export]. */
const names = new Map<number, [string, string]>();

function nameOf(id: number): [string, string] {
  let n = names.get(id);
  if (n === undefined) names.set(id, (n = rt.rtNameOf(id)));
  return n;
}

function run(msg: TaskMsg): Promise<void> | undefined {
  const [id, name, , key] = msg;
  const [mod, exp] = nameOf(name);
  if (!rt.rtTaskRun(id)) return undefined; // failed by the manager meanwhile
  let reply = replies.get(key);
  if (reply === undefined) {
    const h = rt.rtTaskReply(id);
    if (h === null) return undefined; // failed by the manager meanwhile
    reply = wrapHandle(h) as Chan<ReplyMsg>;
    replies.set(key, reply);
  }
  inflight.set(id, reply);
  updateBusy();
  const ns = modules.get(mod);
  if (ns !== undefined) {
    call(ns, msg);
    return undefined;
  }
  // While the module loads, this thread takes nothing else (the task might block it at once).
  return import(mod).then(
    (loaded: Record<string, unknown>) => {
      modules.set(mod, loaded);
      call(loaded, msg);
    },
    (e: unknown) => {
      const why = e instanceof Error ? e.message : String(e);
      answer(id, 1, packError(new TypeError(`weft go(): cannot load module '${mod}' for export '${exp}': ${why}`, { cause: e })));
    },
  );
}

function call(ns: Record<string, unknown>, [id, name, args]: TaskMsg): void {
  const [mod, exp] = nameOf(name);
  const fn = ns[exp];
  if (typeof fn !== 'function') {
    const what = fn === undefined ? 'has no export' : `has an export that is not a function (${typeof fn}):`;
    answer(id, 1, packError(new TypeError(`weft go(): module '${mod}' ${what} '${exp}'`)));
    return;
  }
  let r: unknown;
  try {
    r = (fn as (...a: unknown[]) => unknown)(...args);
  } catch (e) {
    answer(id, 1, packError(e));
    return;
  }
  if (r !== null && (typeof r === 'object' || typeof r === 'function') && typeof (r as PromiseLike<unknown>).then === 'function') {
    (r as PromiseLike<unknown>).then(
      (v) => answer(id, 0, v),
      (e: unknown) => answer(id, 1, packError(e)),
    );
  } else {
    answer(id, 0, r);
  }
}

/** Longest run of back-to-back task takes before the take loop lets the event loop turn. */
const YIELD_MS = 5;

/** Whether {@link idleWait} could wait now (it may still find another thread waiting). */
function mayIdleWait(): boolean {
  return IDLE_WAIT_MS > 0 && inflight.size === 0 && !draining && desc.spinning.load() < MAX_SPINNING;
}

/**
 * The idle wait (Go's spinning M): a thread with no task of its own on its event loop waits
 * for the next task synchronously for up to IDLE_WAIT_MS before it goes to sleep on the
 * doorbell. A submit then reaches it through the run queue's own wake-up (a futex, or nothing
 * at all while it still spins) instead of a doorbell ring, a new bell and a trip through its
 * event loop: one task at a time, that is most of a round trip. Only MAX_SPINNING threads do
 * it at once (a CAS on the shared count), so on a small machine the idle threads leave the
 * cores to the submitters. The event loop stands still meanwhile, which is why a thread waits
 * so only when no task of its own is in flight (their awaits would stall) and after sending
 * every outcome it holds; work a finished task left behind on the loop (an unawaited timer)
 * runs at most IDLE_WAIT_MS late. Shutdown closes the queue, which ends the wait at once, as
 * does the thread's termination (the native wait wakes on teardown).
 */
function idleWait(): TaskMsg | undefined {
  if (IDLE_WAIT_MS <= 0 || inflight.size > 0 || draining) return undefined;
  // Outcomes answered in this turn leave before the loop stands still, or, held for a caller
  // that is behind (flush), by the end of this wait: it then lasts no longer than their hold.
  let waitMs = IDLE_WAIT_MS;
  if (outbox.size > 0) {
    flush(true);
    if (outbox.size > 0) waitMs = Math.max(0.01, Math.min(waitMs, FLUSH_MS - (performance.now() - outboxSince)));
  }
  const n = desc.spinning.load();
  if (n >= MAX_SPINNING || !desc.spinning.compareAndSwap(n, n + 1)) return undefined;
  let got = false;
  let v: unknown;
  try {
    v = native.chanRecvSync(desc.runq._h, waitMs);
    // Ok: a task; Closed: shutdown (the take loop sees it); Timeout: go to sleep on the bell.
    got = status[StatusSlot.Code] === Code.Ok;
  } finally {
    desc.spinning.add(-1);
  }
  if (!got) return undefined;
  // Decode first: the value's bytes are in this thread's scratch area, which the next native
  // call that returns a value (ring() reads the bell) overwrites.
  const task = desc.runq._dec(v) as TaskMsg;
  // Submitters that saw this thread waiting rang no doorbell (pool.ts submit): if more tasks
  // came meanwhile, wake the sleepers for them. Ordering (all seq_cst: the queue's tail CAS
  // and length() loads in ring.cc, AtomicInt64 ops in bind_atomic.cc; pairs with submit's
  // load of `spinning`): a submitter pushed, then read `spinning`; if it read our 1, its push
  // came before our decrement above, so the length read below sees it; if it read 0, it rang
  // itself. After a timeout the same argument holds for the doorbell re-check in main().
  if (desc.runq.length > 0) ring(desc);
  return task;
}

/** Leaves the pool if it has more threads than it keeps (one CAS on the shared count decides). */
function retire(): boolean {
  for (;;) {
    const n = desc.alive.load();
    if (n <= keep) return false;
    if (desc.alive.compareAndSwap(n, n - 1)) return true;
  }
}

async function main(): Promise<void> {
  // False after this thread found it must stay (the pool is at `keep`): it then sleeps without
  // a timeout until there is work again (with idleTimeout 0 it would otherwise spin).
  let mayRetire = true;
  /** A task the idle wait took: the take loop runs it first. */
  let first: TaskMsg | undefined;
  for (;;) {
    let taken = 0;
    taking = true;
    updateBusy();
    // When the take loop last let the event loop turn: it yields after YIELD_MS of tasks, so a
    // stream of short synchronous tasks is not mistaken for one long one (threads.ts HOLD_MS).
    let yielded = performance.now();
    for (;;) {
      const r = first !== undefined ? { ok: true as const, value: first } : desc.runq.tryRecv();
      first = undefined;
      if (!r.ok) {
        if (r.closed) {
          draining = true;
          if (inflight.size === 0) exit(RETIRE_CODE);
          return;
        }
        // The queue ran dry: the outcomes of this run of tasks leave now, before the
        // bookkeeping below (one task at a time, a caller is waiting for exactly this),
        // unless their caller is behind (a lazy flush, see flush()).
        if (outbox.size > 0) flush(true);
        break;
      }
      mayRetire = true;
      const p = run(r.value);
      if (p !== undefined) {
        if (outbox.size > 0) flush(); // none held while a module loads
        await p;
      }
      turn();
      const now = performance.now();
      // Outcomes wait for the end of the turn to leave together (see answer()), but not
      // behind a run of longer tasks: after FLUSH_MS they go now, so a caller waiting for one
      // is not held up until the next yield (up to YIELD_MS later).
      if (outbox.size > 0 && now - outboxSince > FLUSH_MS) flush();
      // Let timers, I/O and the tasks' continuations run between long runs of takes.
      if (++taken % 64 === 0 || now - yielded > YIELD_MS) {
        await new Promise((res) => setImmediate(res));
        yielded = performance.now();
      }
    }
    // The queue just ran dry after we took some: look again for a few turns of the event loop
    // (~50 µs) before going to sleep, as Go's idle Ms spin before parking. A submitter that
    // keeps the queue fed then never pays for a ring (a new bell and a close). A thread with
    // no task in flight goes to its idle wait instead, which looks for longer and is what
    // submitters see (`spinning`): while it turned its event loop here, every submit rang.
    if (taken > 0 && (inflight.size > 0 || !mayIdleWait())) {
      const until = performance.now() + 0.05;
      while (desc.runq.length === 0 && !desc.runq.closed && performance.now() < until) {
        await new Promise((res) => setImmediate(res));
      }
      if (desc.runq.length > 0) continue;
    }
    taking = false;
    updateBusy();
    first = idleWait();
    if (first !== undefined) continue;
    if (outbox.size > 0) flush(); // none held while this thread sleeps
    // Sleep on the doorbell (order matters, see pool.ts ring()): open bell, count, re-check.
    const bell = openBell(desc);
    desc.sleepers.add(1);
    if (desc.runq.length > 0 || desc.runq.closed) continue;
    try {
      await bell.recv(mayRetire ? { timeout: idleTimeout } : undefined);
    } catch (e) {
      if (!(e instanceof TimeoutError)) throw e;
      if (inflight.size === 0 && desc.runq.length === 0) {
        if (retire()) exit(RETIRE_CODE);
        mayRetire = false;
      }
    }
  }
}

/**
 * An error thrown outside every task's promise chain (a callback) fails the tasks on this
 * thread with it; the thread then exits and the manager starts a replacement.
 */
function crash(e: unknown): void {
  const packed = packError(e);
  for (const id of [...inflight.keys()]) answer(id, 1, packed);
  exit(1);
}
process.on('uncaughtException', crash);
process.on('unhandledRejection', crash);
// process.exit() called by a task ends only this thread: its tasks reject.
process.on('exit', (code) => {
  if (exiting) return;
  if (inflight.size === 0) return flush();
  const packed = packError(new Error(`weft: pool thread ${threadId()} exited (process.exit(${code})) while running this task`));
  for (const id of [...inflight.keys()]) answer(id, 1, packed);
  flush();
});

parentPort!.postMessage({ tid: threadId() });
main().catch(crash);
