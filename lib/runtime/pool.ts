/**
 * The goroutine pool (API.md §7): `go()`, `configure()`, `shutdown()`, and the pool manager.
 *
 * ## Dispatch
 * One process-wide pool, found by every thread through the native root slot (an AtomicValue
 * holding the pool's descriptor: run queue, doorbell, counters). `go()` records the task in the
 * native task table (what `dump()` lists, with a reference to the submitting thread's reply
 * channel) and `trySend`s `[id, module, export, args, replyKey]` on the run queue, a buffered
 * weft channel that every pool thread takes from. Results come back on the reply channel (a
 * pool thread fetches it from the table once per submitting thread) and one receive loop per
 * thread settles its tasks (that loop runs, and keeps the thread alive, only while the thread
 * has tasks pending). `postMessage` is used once per pool thread, to start it.
 *
 * ## Limits
 * The first `threads` threads are started and replaced by the manager's event loop (they start
 * even while it is blocked; a dead one is replaced when it turns again). A pool made by a
 * Worker ends with that Worker (its threads are its children): its unfinished tasks reject.
 *
 * ## Never hold a queued task on a busy thread
 * A pending async `recv()` on the run queue would be handed a task even while its thread is
 * stuck in synchronous code or in a `*Sync` call, so no pool thread ever has one. A pool thread
 * takes tasks only with `tryRecv()`, from its event loop (lib/runtime/worker.ts), or, when it is
 * free (no task of its own in flight), in a synchronous wait of at most 1 ms on the queue (the
 * idle wait, one thread at a time: `spinning`); a submitter that sees a thread there rings no
 * doorbell, and that thread rings for any further tasks once it took one. When the queue
 * stays empty it goes to sleep on a doorbell: it adds itself to `sleepers`, loads the current bell
 * (an unbuffered channel nobody sends on), re-checks the queue, and awaits the bell's close. A
 * submitter that finds `sleepers > 0` after its send swaps the count to 0 and rings: it installs
 * a new bell and closes the old one, which wakes every sleeper (a close is a broadcast that
 * consumes nothing, so a held thread that misses the wake-up swallows no task). Lost wake-ups:
 * the sleeper's order is count → load bell → check queue, the ringer's is send → swap count →
 * replace bell; so either the sleeper's check sees the task or the ringer closes a bell the
 * sleeper loaded (see {@link ring}).
 *
 * ## Hand-off (Go's handoffp / sysmon)
 * The pool's sysmon (lib/runtime/sysmon.ts), a thread of its own started with the pool, polls
 * every 2 ms once tasks are queued (backing off to 16 ms while it has nothing to hand off),
 * every 10 ms while the pool is in use, and sleeps on the
 * doorbell once it has had nothing to do for a second. A pool thread is held
 * while it is blocked in a `*Sync` call (the native blocked list, `rtSyncThreads`), in
 * `sleepSync`, or in one synchronous stretch of JavaScript (a long task, `Atomics.wait`) for
 * over 100 ms (threads.ts HOLD_MS: JavaScript cannot be preempted as Go preempts a goroutine
 * after 10 ms, so the queued tasks get a new thread instead). When tasks are queued and fewer
 * than `threads` pool threads are not held, the sysmon starts one more (up to `maxThreads`), so
 * N tasks that block on each other through `*Sync` calls complete on any pool size, also while
 * the manager's own thread is blocked. Each pool thread shows its progress on a hold board in
 * shared memory (threads.ts); short tasks back to back let the event loop turn every 5 ms, so
 * they never look held.
 *
 * ## Retire
 * A pool thread that had nothing to do for `idleTimeout` retires if the pool has more than its
 * `threads` threads (a CAS on the shared `alive` count decides who goes), so threads started
 * for blocked ones outlive their burst by `idleTimeout` and serve as spares meanwhile.
 * @module
 */
import { isAbsolute } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker, isMainThread } from 'node:worker_threads';
import { Chan } from '../chan/chan.js';
import { ClosedChannelError, TimeoutError } from '../errors.js';
import { encode } from '../internal/codec.js';
import { native } from '../internal/native.js';
import { wrapHandle } from '../internal/object.js';
import { share } from '../share.js';
import { AtomicInt64 } from '../sync/atomic.js';
import { AtomicValue } from '../sync/value.js';
import { newTask, packError, siteFrames, unpackError, type Packed, type Task } from './task.js';
import { failClaimed, newBoard, startThread, threadExited, type Owner, type PoolThread } from './threads.js';
import { PendingTable } from './pending.js';

import {
  INTERNAL,
  REPLY_CAPACITY,
  RETIRE_CODE,
  RUNQ_CAPACITY,
  onConfigure,
  resolved,
  rt,
  type PoolDesc,
  type ReplyMsg,
  type Resolved,
  type TaskMsg,
} from './config.js';

// ---- the root and this thread's view of the pool ------------------------------------------

let root: AtomicValue<PoolDesc | null> | undefined;
let cached: PoolDesc | undefined;
let poolThread = false;

function rootValue(): AtomicValue<PoolDesc | null> {
  root ??= wrapHandle(rt.rtRoot(new AtomicValue<PoolDesc | null>(null)._h)) as AtomicValue<PoolDesc | null>;
  return root;
}

/** @internal Called by a pool thread at startup: it uses this pool and never starts one. */
export function markPoolThread(desc: PoolDesc): void {
  poolThread = true;
  cached = desc;
}

/** The pool to submit to: the one running, or a new one this thread then manages. */
function currentPool(): PoolDesc {
  // A cached pool that was shut down since is noticed by the send (ClosedChannelError), which
  // drops the cache and retries once (see submit).
  if (cached !== undefined) return cached;
  const r = rootValue();
  for (;;) {
    const { value, version } = r.load();
    if (value !== null && !value.runq.closed) return (cached = value);
    if (poolThread) throw new Error('weft: go() from a pool thread after its pool was shut down');
    const desc: PoolDesc = {
      id: Math.floor(Math.random() * 2 ** 52) + 1,
      runq: new Chan<TaskMsg>(RUNQ_CAPACITY, { name: `${INTERNAL}runq` }),
      bell: new AtomicValue(new Chan<never>(0, { name: `${INTERNAL}bell` })),
      sleepers: new AtomicInt64(0),
      alive: new AtomicInt64(0),
      spinning: new AtomicInt64(0),
    };
    if (r.compareAndSwap(version, desc)) {
      const cfg = resolved();
      const m: Manager = {
        desc,
        cfg,
        cfgShared: new AtomicValue(cfg),
        board: newBoard(),
        threads: new Set(),
        tids: new Map(),
        sysmon: undefined,
        sysmonFailures: 0,
        timer: undefined,
        closing: undefined,
        startFailures: 0,
      };
      mgr = m;
      startSysmon(m);
      tick(m);
      // A Worker that manages the pool takes its threads with it when it exits (they are its
      // child workers): then detach the pool so the next go() anywhere starts a fresh one,
      // and fail the tasks it had (their callers would wait forever).
      if (!isMainThread) process.once('exit', () => abandon(m));
      return (cached = desc);
    }
  }
}

/**
 * Wakes the pool threads sleeping on the doorbell, if any went to sleep since the last ring:
 * closes the current bell (sleepers install a fresh one, see {@link openBell}, so a ring costs
 * one load and one close). Ordering (the lost wake-up argument): the caller's send happened
 * before its swap of `sleepers`. A sleeper counted in that swap took its open bell before
 * counting itself; the bell this ring loads is that one, or a later one, which a sleeper
 * installs only after the earlier one was closed: either way the sleeper's bell gets closed.
 * A sleeper not counted came after the swap, so its queue check (after counting) sees the task.
 * @internal
 */
export function ring(desc: PoolDesc, force = false): void {
  if (!force && desc.sleepers.load() === 0) return;
  if (desc.sleepers.swap(0) === 0 && !force) return;
  const bell = desc.bell.load().value;
  if (!bell.closed) {
    try {
      bell.close();
    } catch {
      // closed by another ringer meanwhile: that ring wakes the same sleepers
    }
  }
}

/**
 * @internal The current bell, open: if it was rung (closed), installs a new one (CAS on the
 * AtomicValue's version; a loser takes the winner's).
 */
export function openBell(desc: PoolDesc): Chan<never> {
  for (;;) {
    const { value, version } = desc.bell.load();
    if (!value.closed) return value;
    const next = new Chan<never>(0, { name: `${INTERNAL}bell` });
    if (desc.bell.compareAndSwap(version, next)) return next;
  }
}

// ---- go() ----------------------------------------------------------------------------------

/** @internal `module` as go() imports it (API.md §7): a URL string; TypeError for a relative path. */
export function resolveModule(module: unknown, name = 'module'): string {
  if (module instanceof URL) return module.href;
  if (typeof module !== 'string') throw new TypeError(`${name} must be a string or a URL`);
  if (module === '') throw new TypeError(`${name} must not be empty`);
  if (isAbsolute(module)) return pathToFileURL(module).href;
  // A URL string (file:, data:, node:, ...) is imported as given. Anything else is a relative
  // path ('./m.js', 'm.js', 'sub/m.js'), which would resolve against weft's own files, not the
  // caller's (a bare package name is refused too: API.md §7 takes URLs and absolute paths).
  if (/^[a-zA-Z][a-zA-Z\d+.-]*:/.test(module)) return module;
  const rel = module.startsWith('.') ? module : `./${module}`;
  throw new TypeError(
    `${name} must be a URL, a file: URL string or an absolute path, not the relative path '${module}' ` +
      `(it would resolve against weft's own files): use new URL('${rel}', import.meta.url)`,
  );
}

const pending = new PendingTable();
/** Interned task names (module -> export -> rtName id) this thread has used. */
const names = new Map<string, Map<string, number>>();
/** This thread's reply key (see TaskMsg): its weft thread id, unique in the process. */
const replyKey = native.threadId();
let reply: Chan<ReplyMsg> | undefined;
let looping = false;

/**
 * Runs `exportName` of the ES module `module` on one of weft's pool threads (Go's `go f(x)`)
 * and returns at once. The task resolves with the function's (awaited) result and rejects with
 * what it threw: built-in and weft errors keep their class, `code` and `cause`, and their
 * `stack` shows the pool thread's frames, then the frames of this call. `args` and the result
 * are carried as channel values are (structured clone; weft objects, a Context included, by
 * reference); a value that cannot be cloned throws `DataCloneError` here and starts nothing.
 * Every thread may call `go` (tasks may start tasks); all share one pool.
 *
 * @param module a `URL`, a `file:` URL string or an absolute path (not a relative path)
 * @param exportName the name of an exported function
 * @param args its arguments
 * @example
 * // sum.js: export function sum(a, b) { return a + b; }
 * const t = go<number>(new URL('./sum.js', import.meta.url), 'sum', 1, 2);
 * console.log(t.id, await t); // 1 3
 */
export function go<R = unknown>(module: string | URL, exportName: string, ...args: unknown[]): Task<R> {
  const mod = resolveModule(module);
  checkExportName(exportName);
  const id = submit(mod, exportName, args);
  // The call site, for the stack of the task if it fails (siteFrames drops this function's own
  // frame). Taken after the send: a pool thread starts the task while this thread walks its
  // stack, which costs 2-6 µs here (V8 summarizes each optimized caller frame). An Error
  // rather than Error.captureStackTrace(plainObject, go): V8 turns the plain object into a
  // dictionary to hold the stack, and a burst of tasks keeps one site each until they settle
  // (measured here: 3.4-3.5 against 4.0-4.7 µs per site, 384 against 457 bytes kept).
  const site = new Error();
  const { task, resolve, reject } = newTask<R>(id);
  pending.add({ id, resolve: resolve as (v: unknown) => void, reject, site });
  if (!looping) {
    looping = true;
    void replyLoop(reply!);
  }
  return task;
}

function checkExportName(exportName: unknown): asserts exportName is string {
  if (typeof exportName !== 'string') throw new TypeError('exportName must be a string');
  if (exportName === '') throw new TypeError('exportName must not be empty');
}

/**
 * @internal Throws what `go(module, exportName, ...args)` would throw for its arguments (a
 * relative module path, a bad export name, a value that cannot be cloned), starting nothing:
 * for callers that queue a task to start later (ErrGroup under its limit), so that bad
 * arguments still throw at the call.
 */
export function checkGoArgs(module: unknown, exportName: unknown, args: unknown[]): void {
  resolveModule(module);
  checkExportName(exportName);
  encode(args); // the task message carries args as a structured value (DataCloneError)
}

/** Queues a task on the pool (starting the pool, or a fresh one after a shutdown) and returns its id. */
function submit(mod: string, exportName: string, args: unknown[], retried = false): number {
  const desc = currentPool();
  reply ??= new Chan<ReplyMsg>(REPLY_CAPACITY, { name: `${INTERNAL}replies` });
  let byExport = names.get(mod);
  if (byExport === undefined) names.set(mod, (byExport = new Map()));
  let name = byExport.get(exportName);
  if (name === undefined) byExport.set(exportName, (name = rt.rtName(mod, exportName)));
  const id = rt.rtTaskAdd(desc.id, name, reply._h);
  const msg: TaskMsg = [id, name, args, replyKey];
  try {
    if (!desc.runq.trySend(msg)) {
      // A full run queue: the value was checked (clone errors throw here, synchronously) and
      // waits for room; the task counts as queued meanwhile.
      desc.runq.send(msg).then(
        () => ring(desc),
        (e: unknown) => {
          if (rt.rtTaskEnd(id)) settle([id, 1, packError(e)]);
        },
      );
    }
  } catch (e) {
    rt.rtTaskEnd(id);
    if (e instanceof ClosedChannelError && !retried) {
      cached = undefined; // the pool shut down under us: a fresh one
      return submit(mod, exportName, args, true);
    }
    throw e;
  }
  // A pool thread idling in a synchronous wait on the queue (worker.ts idleWait) takes this
  // task itself: ring only when none is, so one task does not also wake every thread asleep
  // on the doorbell. Lost wake-ups: our send's tail CAS comes before this load of `spinning`,
  // both seq_cst (ring.cc ring_push; AtomicInt64 ops are seq_cst, bind_atomic.cc). If we
  // read the waiter's 1, its decrement comes after, and so does its seq_cst read of the
  // queue's length (worker.ts idleWait when it took a task, or its doorbell re-check when it
  // timed out): it sees this task and runs it or rings for it. If we read 0, we ring.
  if (desc.spinning.load() === 0) ring(desc);
  if (mgr !== undefined && mgr.desc === desc && mgr.threads.size < mgr.cfg.threads) startPoolThread(mgr);
  return id;
}

/**
 * Settles the tasks whose outcomes `r` holds (triples, see ReplyMsg). It first takes them off
 * the task table (the pool thread does too, after its send; whichever comes second finds
 * nothing), so once a task has settled `dump()` on this thread no longer lists it.
 */
function settle(r: ReplyMsg): void {
  if (r.length === 3) rt.rtTaskEnd(r[0] as number);
  else {
    const ids: number[] = [];
    for (let i = 0; i + 2 < r.length; i += 3) ids.push(r[i] as number);
    rt.rtTaskEndMany(ids);
  }
  for (let i = 0; i + 2 < r.length; i += 3) {
    const id = r[i] as number;
    const p = pending.take(id);
    if (p === undefined) continue; // already settled (a late duplicate after a thread died)
    if (r[i + 1] === 0) p.resolve(r[i + 2]);
    else p.reject(unpackError(r[i + 2] as Packed, siteFrames(p.site, 1)));
  }
}

/**
 * Settles this thread's tasks as their results arrive. It runs only while tasks are pending, so
 * its receive keeps the thread alive exactly as long as a task it started is queued or running.
 */
async function replyLoop(ch: Chan<ReplyMsg>): Promise<void> {
  try {
    while (pending.size > 0) {
      const r = await ch.recv();
      if (r !== undefined) settle(r);
      for (let t = ch.tryRecv(); t.ok; t = ch.tryRecv()) settle(t.value);
    }
  } finally {
    looping = false;
  }
}

// ---- the manager (on the thread that created the pool) --------------------------------------

/**
 * The thread that created the pool: starts its first `threads` threads, replaces those that
 * die, runs the sysmon, keeps the process alive while tasks are queued or running, and shuts
 * the pool down. Hand-off (extra threads for held ones) is the sysmon's (lib/runtime/sysmon.ts).
 */
interface Manager extends Owner {
  /** `cfg` as the sysmon reads it (configure() stores each change). */
  cfgShared: AtomicValue<Resolved>;
  /** Each thread's weft thread id, once it said hello. */
  tids: Map<PoolThread, number>;
  sysmon: Worker | undefined;
  /** Sysmon starts that failed in a row (it is not started again after 3). */
  sysmonFailures: number;
  timer: ReturnType<typeof setTimeout> | undefined;
  closing: Promise<void> | undefined;
  startFailures: number;
}

let mgr: Manager | undefined;
// configure() applies to threads started from now on, by the manager and by the sysmon.
onConfigure((cfg) => {
  if (mgr === undefined) return;
  mgr.cfg = cfg;
  mgr.cfgShared.store(cfg);
});

function startSysmon(m: Manager): void {
  const opts: import('node:worker_threads').WorkerOptions = {
    workerData: share({ desc: m.desc, cfg: m.cfgShared, hold: m.board.buffer }),
  };
  if (m.cfg.execArgv !== undefined) opts.execArgv = m.cfg.execArgv;
  let w: Worker;
  try {
    w = new Worker(new URL('./sysmon.js', import.meta.url), opts);
  } catch {
    m.sysmonFailures++;
    return; // bad execArgv: the pool threads' own start reports it to the tasks
  }
  m.sysmon = w;
  w.on('message', () => {
    m.sysmonFailures = 0;
  });
  w.on('error', () => {});
  // A sysmon that died while the pool lives is started again (on the manager's next poll).
  w.on('exit', () => {
    if (m.sysmon !== w) return;
    m.sysmon = undefined;
    m.sysmonFailures++;
  });
  w.unref();
}

function startPoolThread(m: Manager): void {
  let t: PoolThread | undefined;
  try {
    t = startThread(m);
  } catch (e) {
    // Bad options (an execArgv flag a worker refuses, ...): with no thread to run them, the
    // pool's tasks fail with the reason instead of waiting forever; go() itself never throws it.
    if (m.threads.size === 0) failClaimed(rt.rtTaskClaim(m.desc.id, 0), e);
    return;
  }
  if (t === undefined) return;
  const child = t;
  m.tids.set(child, 0);
  child.worker.on('message', (msg: { tid?: number }) => {
    if (typeof msg?.tid === 'number') {
      m.tids.set(child, msg.tid);
      m.startFailures = 0;
    }
  });
  child.worker.on('exit', (code) => onExit(m, child, code));
  child.worker.unref(); // after the listeners: adding a 'message' listener refs the port again
}

function onExit(m: Manager, t: PoolThread, code: number): void {
  const tid = m.tids.get(t) ?? 0;
  m.tids.delete(t);
  const reason = threadExited(m, t, code, tid);
  if (m.closing !== undefined || mgr !== m) return;
  if (tid === 0 && code !== RETIRE_CODE) {
    // It died before it could take a task (its module failed to load, say): do not spin.
    if (++m.startFailures >= 3) {
      failClaimed(rt.rtTaskClaim(m.desc.id, 0), reason);
      return;
    }
  }
  if (code !== RETIRE_CODE && m.threads.size < m.cfg.threads) startPoolThread(m); // the replacement
}

function abandon(m: Manager): void {
  if (mgr !== m) return;
  mgr = undefined;
  const r = rootValue();
  const cur = r.load();
  if (cur.value !== null && cur.value.id === m.desc.id) r.compareAndSwap(cur.version, null);
  if (!m.desc.runq.closed) m.desc.runq.close();
  ring(m.desc, true);
  failClaimed(rt.rtTaskClaim(m.desc.id, 0), new Error('weft: the thread that managed the pool exited before this task ended'));
}

/**
 * The manager's poll (every 10 ms, an unref'd timer): restarts a sysmon that died, and keeps
 * the process alive while the pool has tasks.
 */
function tick(m: Manager): void {
  m.timer = undefined;
  if (m.closing !== undefined || mgr !== m) return;
  if (m.sysmon === undefined && m.sysmonFailures < 3 && !m.desc.runq.closed) startSysmon(m);
  m.timer = setTimeout(tick, 10, m);
  // A queued or running task keeps the process alive, whoever started it (a task started by a
  // pool thread and awaited by nobody included), as a pending I/O operation does; an idle pool
  // does not.
  if (rt.rtTaskTotal() === 0) m.timer.unref();
}

/**
 * Waits for every queued and running task of the pool this thread started, then stops its
 * threads. After `timeout` ms it stops the threads still running instead: their tasks (and any
 * still queued) reject, and `shutdown` rejects with `TimeoutError`. A later `go` starts a fresh
 * pool. Resolves at once if this thread runs no pool.
 *
 * @example
 * await shutdown({ timeout: 5_000 });
 */
export function shutdown(opts?: { timeout?: number }): Promise<void> {
  if (opts !== undefined && (typeof opts !== 'object' || opts === null)) throw new TypeError('opts must be an object');
  const timeout = opts?.timeout;
  if (timeout !== undefined) {
    if (typeof timeout !== 'number' || Number.isNaN(timeout)) throw new TypeError('timeout must be a number');
    if (timeout < 0) throw new RangeError('timeout must be >= 0');
  }
  const m = mgr;
  if (m === undefined) return Promise.resolve();
  m.closing ??= stop(m, timeout ?? Infinity).finally(() => {
    if (mgr === m) mgr = undefined;
    if (cached === m.desc) cached = undefined;
  });
  return m.closing;
}

async function stop(m: Manager, timeout: number): Promise<void> {
  if (m.timer !== undefined) clearTimeout(m.timer);
  const deadline = performance.now() + timeout;
  // Hand-off goes on while we wait (the sysmon's).
  while (rt.rtTaskCount(m.desc.id) > 0 && performance.now() < deadline) {
    await new Promise((r) => setTimeout(r, Math.max(0, Math.min(5, deadline - performance.now()))));
  }
  const timedOut = rt.rtTaskCount(m.desc.id) > 0;
  // Detach: a go() from now on (from any thread) starts a fresh pool.
  const r = rootValue();
  const cur = r.load();
  if (cur.value !== null && cur.value.id === m.desc.id) r.compareAndSwap(cur.version, null);
  m.desc.runq.close();
  ring(m.desc, true);
  // The threads are unref'd: while shutdown() waits for them to exit they must keep the
  // process alive, or it could end with shutdown() still pending.
  // The sysmon waits for the threads it started, then ends.
  const workers = [...m.threads].map((t) => t.worker);
  if (m.sysmon !== undefined) workers.push(m.sysmon);
  const exits = workers.map((w) => {
    w.ref();
    return new Promise<void>((res) => w.once('exit', () => res()));
  });
  if (timedOut) {
    for (const t of m.threads) {
      t.terminated = true;
      void t.worker.terminate();
    }
    // Its threads end with it (they are its children); their tasks fail below.
    void m.sysmon?.terminate();
    await Promise.all(exits);
    failClaimed(rt.rtTaskClaim(m.desc.id, 0), new TimeoutError('weft: shutdown() timed out before this task ran'));
    throw new TimeoutError(`weft: shutdown() timed out after ${timeout} ms; the pool's threads were stopped`);
  }
  // The threads see the closed queue and exit by themselves once their tasks ended.
  await Promise.all(exits);
}
