/**
 * Entry point of the pool's sysmon thread (started by the manager, lib/runtime/pool.ts, with
 * the pool). Like Go's sysmon, a thread of its own that watches the pool threads: when tasks are
 * queued and every thread is held (threads.ts {@link needsThread}), it starts another pool
 * thread, up to `maxThreads`. Being on its own thread, it hands work off even while the thread
 * that manages the pool is itself blocked (in a `*Sync` call, or in synchronous code).
 *
 * The threads it starts are its own children: it fails their tasks if they die and needs no
 * replacement for them (they are extra; the next poll starts another if the work still waits).
 * It polls every 2 ms once tasks are queued (backing off to 16 ms while there is nothing to do),
 * every 10 ms while the pool is in use, and sleeps
 * on the pool's doorbell after a second with nothing to do (a submitter's ring wakes it as it
 * wakes pool threads). Once the run queue is closed (shutdown)
 * and its threads have exited, it ends. The manager unrefs it: it never keeps the process alive.
 * @internal
 * @module
 */
import { parentPort, workerData } from 'node:worker_threads';
// Only the kinds the pool descriptor holds (Chan, AtomicValue, AtomicInt64) need registering
// here: this thread never runs user code, so it does not load the whole package.
import '../chan/chan.js';
import '../sync/atomic.js';
import '../sync/value.js';
import { attach } from '../share.js';
import type { AtomicValue } from '../sync/value.js';
import type { PoolDesc, Resolved } from './config.js';
import { openBell } from './pool.js';
import { HOLD, HOLD_STRIDE, needsThread, slotsInUse, startThread, threadExited, threadTid, type Owner, type PoolThread, type Sightings } from './threads.js';

const { desc, cfg, hold } = attach(workerData) as { desc: PoolDesc; cfg: AtomicValue<Resolved>; hold: SharedArrayBuffer };

const owner: Owner = { desc, cfg: cfg.load().value, board: new Int32Array(hold), threads: new Set() };
const seen: Sightings = new Map();
/** Each child's weft thread id, read while it lived (its slot is gone once it exited). */
const tids = new Map<PoolThread, number>();

function start(): void {
  owner.cfg = cfg.load().value; // configure() applies to threads started from now on
  let t: PoolThread | undefined;
  try {
    t = startThread(owner);
  } catch {
    return; // bad options: the manager's own start reports them to the tasks
  }
  if (t === undefined) return;
  const child = t;
  tids.set(child, 0);
  child.worker.on('message', () => tids.set(child, threadTid(owner.board, child)));
  child.worker.on('exit', (code) => {
    const tid = tids.get(child) || threadTid(owner.board, child);
    tids.delete(child);
    threadExited(owner, child, code, tid);
  });
  child.worker.unref();
}

/** Whether any pool thread is busy (taking tasks or with tasks in flight: its BUSY word). */
function anyBusy(): boolean {
  const high = slotsInUse(owner.board);
  for (let s = 0; s < high; s++) {
    const b = s * HOLD_STRIDE;
    if (Atomics.load(owner.board, b + HOLD.TAKEN) !== 0 && Atomics.load(owner.board, b + HOLD.BUSY) !== 0) return true;
  }
  return false;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function main(): Promise<void> {
  // When the pool was last seen doing something (performance.now()).
  let activeAt = performance.now();
  // The poll interval while tasks are queued: POLL_MIN_MS, doubled after each poll that found
  // nothing to do, up to POLL_MAX_MS (Go's sysmon backs off the same way). Each poll wakes
  // this thread on a core the pool threads are using; at 2 ms throughout, a CPU-bound job on
  // 2 cores lost ~5% to it (bench row 9.3: 1.72x, 1.81x with polls 50 ms apart).
  let poll = POLL_MIN_MS;
  for (;;) {
    if (desc.runq.closed) {
      // Shutdown: the children see the closed queue and exit once their tasks ended; this
      // thread ends after them (ref'd, they keep its event loop alive until then).
      for (const t of owner.threads) t.worker.ref();
      return;
    }
    if (desc.runq.length > 0) {
      owner.cfg = cfg.load().value;
      if (needsThread(desc, owner.cfg, owner.board, seen)) {
        start();
        poll = POLL_MIN_MS;
      } else {
        poll = Math.min(poll * 2, POLL_MAX_MS);
      }
      activeAt = performance.now();
      await sleep(poll);
      continue;
    }
    poll = POLL_MIN_MS;
    // Nothing queued. Like Go's sysmon, poll slowly (every 10 ms) while the pool is in use, so
    // a stream of submits does not have to wake this thread each time; after a second of a
    // pool with nothing to do, sleep on the doorbell (the same order as a pool thread's: open
    // bell, count, re-check; pool.ts ring()) until the next submit rings it.
    if (anyBusy()) activeAt = performance.now();
    if (performance.now() - activeAt < IDLE_MS) {
      await sleep(10);
      continue;
    }
    seen.clear();
    const bell = openBell(desc);
    desc.sleepers.add(1);
    if (desc.runq.length > 0 || desc.runq.closed) continue;
    await bell.recvOk();
    activeAt = performance.now();
  }
}

/** How long the pool has nothing to do before the sysmon stops polling and sleeps on the doorbell. */
const IDLE_MS = 1_000;
/** The first poll interval once tasks are queued (ms). */
const POLL_MIN_MS = 2;
/** The longest poll interval while tasks stay queued (ms): a held thread's work is handed off within HOLD_MS + this. */
const POLL_MAX_MS = 16;

parentPort!.postMessage('up');
void main();
