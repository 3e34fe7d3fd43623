// Benchmark cases (each measured in its own child process) and the report rows with targets.
//
// A case: { title, n0, quickN, step, weft?, requires?, skip?() (a reason not to run here), setup({ n, weft }), expect?(n), check?(run), measure?(run),
//           fixed?, maxRuns?, timeoutS?, unit?, extras? }
//   n is the number of operations one run performs (values, or round trips); ns/op = elapsed / n.
//   setup returns { shared?: weft objects (share()d to every worker, used by the main role),
//                   workers: [{ role, data?, transfer? }], main?: { role, data? }, ...anything for check/measure }.
//   expect(n) gives the checksums ({ count, sum }) the receivers must report together.
//   check(run) throws if a run went wrong; run = { n, elapsedNs, results, setup, byRole(role) }.
//   measure(run) returns { value?, ...extra }: the value reported (default ns/op) in `unit`
//     ('ns' default, 'µs', 'ms', 'count') and extra metrics described in extras
//     ({ name: { label, unit, agg: 'median' | 'max' | 'min' over the runs } }).
//   fixed: no calibration (n0 / quickN as given); maxRuns caps BENCH_RUNS; timeoutS overrides BENCH_TIMEOUT.
import { MessageChannel } from 'node:worker_threads';
import { F64Ring, JsonRing, MpmcF64Ring } from './ring.js';
import { SabCounter, SabMutex } from './sabsync.js';
import { POOL_CASES, POOL_ROWS } from './pool.js';
import { NATS_CASES, NATS_ROWS } from './nats.js';
import { PATTERN_CASES, PATTERN_ROWS } from './patterns.js';
import { SPEED_CASES, SPEED_ROWS } from './speed.js';
import { QUICK, atMost, faster, fmtRate, fmtRatio, fmtVal, limit, median, percentile, tri } from './lib.js';

const CAP = 1024;
const BATCH = 256;
const MPMC = 4; // senders = receivers
/** Untimed values each side of a one-way stream moves before the start barrier (roles.js warmupOf). */
const WARMUP = QUICK ? 5_000 : 50_000;
const WARM = ` (after ${WARMUP.toLocaleString('en-US')} untimed warm-up values)`;
const TIMERS = 10_000;
const TICK_MS = QUICK ? 2_000 : 10_000; // how long the Ticker(1) case counts ticks
const STALL_MS = 50;
const CTX_SIZE = 1_000; // descendants of the canceled context
const WG_THREADS = 4;
const ATOMIC_THREADS = 4;
const ATOMIC_PER_THREAD = 1_000_000;

/** Sender/receiver pair over a MessageChannel whose ports are transferred to two workers. */
function pmPair(sendRole, recvRole, data) {
  const { port1, port2 } = new MessageChannel();
  return {
    workers: [
      { role: sendRole, data: { ...data, port: port1 }, transfer: [port1] },
      { role: recvRole, data: { ...data, port: port2 }, transfer: [port2] },
    ],
  };
}

/**
 * k workers running `workerRole`, each with its own MessageChannel to the main thread, which
 * runs `mainRole` with the other ends as data.ports (data.port: the first).
 */
function pmWithMain(mainRole, workerRole, k, { data = {}, mainData = {} } = {}) {
  const channels = Array.from({ length: k }, () => new MessageChannel());
  const ports = channels.map((c) => c.port1);
  return {
    main: { role: mainRole, data: { ...mainData, ports, port: ports[0] } },
    workers: channels.map(({ port2 }) => ({ role: workerRole, data: { ...data, port: port2 }, transfer: [port2] })),
  };
}

const pair = (sendRole, recvRole, data) => ({ workers: [{ role: sendRole, data }, { role: recvRole, data }] });
/** k workers running the same role with the same data. */
const many = (k, role, data) => Array.from({ length: k }, () => ({ role, data }));

const sums = (n) => ({ count: n, sum: tri(n) });
/** Checksums of k senders sending 0..n/k-1 each. */
const sumsOf = (k) => (n) => ({ count: n, sum: k * tri(n / k) });

/** Two f64 chans a, b (cap CAP), each fed n/2 values by a producer worker. */
const twoFedChans = (n, weft) => ({
  shared: { a: new weft.Chan(CAP, { elem: 'f64' }), b: new weft.Chan(CAP, { elem: 'f64' }) },
  producers: ['a', 'b'].map((chan) => ({ role: 'weft.send', data: { kind: 'num', count: n / 2, chan } })),
});

/** A SAB counter for critical sections ({ ctr }) and its check (the count of critical sections). */
const counter = () => ({ ctr: new SharedArrayBuffer(4) });
const checkCounter = (want) => ({ setup: { ctr }, ...run }) => {
  const got = new Int32Array(ctr)[0], expected = want(run);
  if (got !== expected) throw new Error(`check failed: guarded counter = ${got}, expected ${expected} (n=${run.n})`);
};

/** A lock case: `threads` workers run lock.loop n/threads times on a weft Mutex, or the SabMutex baseline. */
const lockCase = (threads, kind, title) => ({
  title,
  weft: kind === 'weft', requires: kind === 'weft' ? ['Mutex', 'share', 'attach', 'Mutex#lockSync', 'Mutex#unlock'] : undefined,
  n0: 200_000, quickN: 50_000, step: threads,
  setup: ({ n, weft }) => {
    const data = { ...counter(), count: n / threads, ...(kind === 'sab' ? { sab: SabMutex.alloc() } : {}) };
    return { ...(kind === 'weft' ? { shared: { mu: new weft.Mutex() } } : {}), workers: many(threads, 'lock.loop', data), ctr: data.ctr };
  },
  check: checkCounter(({ n }) => n),
});

/** An add case: `threads` workers run atomic.add n/threads times on a weft AtomicInt64, or the SabCounter baseline. */
const addCase = (threads, kind, title, more = {}) => ({
  title,
  weft: kind === 'weft', requires: kind === 'weft' ? ['AtomicInt64', 'share', 'attach', 'AtomicInt64#add'] : undefined,
  n0: 1_000_000, quickN: 200_000, step: threads,
  setup: ({ n, weft }) => {
    const shared = kind === 'weft' ? { ctr: new weft.AtomicInt64(0) } : undefined;
    const data = { count: n / threads, ...(kind === 'sab' ? { sab: SabCounter.alloc() } : {}) };
    return { shared, workers: many(threads, 'atomic.add', data) };
  },
  ...more,
});

export const CASES = {
  // ------------------------------------------------------------ baselines: postMessage
  'pm.f64': {
    title: `postMessage, one number per message, worker→worker${WARM}`,
    n0: 20_000, quickN: 5_000, step: 1,
    setup: () => pmPair('pm.send', 'pm.recv', { kind: 'num', warmup: WARMUP }),
    expect: sums,
  },
  'pm.batch': {
    title: `postMessage, Float64Array(${BATCH}) per message, worker→worker (ns per value)`,
    n0: BATCH * 2_000, quickN: BATCH * 500, step: BATCH,
    setup: () => pmPair('pm.sendBatch', 'pm.recvBatch', { batch: BATCH }),
    expect: sums,
  },
  'pm.row': {
    title: `postMessage, { row, height, weight, name } per message, worker→worker${WARM}`,
    n0: 20_000, quickN: 5_000, step: 1,
    setup: () => pmPair('pm.send', 'pm.recv', { kind: 'row', warmup: WARMUP }),
    expect: sums,
  },
  'pm.rtt': {
    title: 'postMessage round trip, worker↔worker',
    n0: 2_000, quickN: 500, step: 1,
    setup: () => pmPair('pm.ping', 'pm.pong', {}),
    expect: sums,
  },
  'pm.rttMain': {
    title: 'postMessage round trip, main↔worker',
    n0: 2_000, quickN: 500, step: 1,
    setup: () => pmWithMain('pm.ping', 'pm.pong', 1),
    expect: sums,
  },
  'pm.fanIn': {
    title: 'postMessage fan-in: 2 workers post numbers to main, main counts them (ns per value)',
    n0: 20_000, quickN: 5_000, step: 2,
    setup: ({ n }) => pmWithMain('pm.fanIn', 'pm.send', 2, { data: { kind: 'num', count: n / 2 } }),
    expect: sumsOf(2),
  },
  'pm.lockMain': {
    title: 'postMessage lock server: main acquires/releases a worker-owned lock by messages (ns per main critical section, no contender)',
    n0: 2_000, quickN: 500, step: 1,
    setup: () => {
      const s = pmWithMain('pm.lockClient', 'pm.lockServer', 1, { mainData: counter() });
      return { ...s, ctr: s.main.data.ctr };
    },
    check: checkCounter(({ n }) => n),
  },

  // ------------------------------------------------------------ baselines: SharedArrayBuffer ring
  'sab.f64': {
    title: `SAB ring (Float64Array, cap ${CAP}), one value per push/pop, worker→worker${WARM}`,
    n0: 200_000, quickN: 50_000, step: 1,
    setup: () => pair('sab.send', 'sab.recv', { kind: 'num', warmup: WARMUP, ring: F64Ring.alloc(CAP) }),
    expect: sums,
  },
  'sab.batch': {
    title: `SAB ring (Float64Array, cap ${CAP}), batches of ${BATCH}, worker→worker (ns per value)`,
    n0: BATCH * 4_000, quickN: BATCH * 1_000, step: BATCH,
    setup: () => pair('sab.sendBatch', 'sab.recvBatch', { batch: BATCH, ring: F64Ring.alloc(CAP) }),
    expect: sums,
  },
  'sab.batchFresh': {
    title: `SAB ring (Float64Array, cap ${CAP}), batches of ${BATCH}, each received into a new Float64Array (as recvManySync returns), worker→worker (ns per value)`,
    n0: BATCH * 4_000, quickN: BATCH * 1_000, step: BATCH,
    setup: () => pair('sab.sendBatch', 'sab.recvBatchFresh', { batch: BATCH, ring: F64Ring.alloc(CAP) }),
    expect: sums,
  },
  'sab.row': {
    title: `SAB ring of JSON in 128-byte slots (cap ${CAP}), { row, height, weight, name }, worker→worker${WARM}`,
    n0: 20_000, quickN: 5_000, step: 1,
    setup: () => pair('sab.send', 'sab.recv', { kind: 'row', warmup: WARMUP, ring: JsonRing.alloc(CAP) }),
    expect: sums,
  },
  'sab.mpmc1': {
    title: `plain JS MPMC SAB ring (Vyukov, Float64Array, cap ${CAP}), one value per push/pop, worker→worker${WARM}`,
    n0: 200_000, quickN: 50_000, step: 1,
    setup: ({ n }) => pair('sab.mpmcSend', 'sab.mpmcRecv', { kind: 'num', count: n, warmup: WARMUP, ring: MpmcF64Ring.alloc(CAP) }),
    expect: sums,
  },
  'sab.mpmc': {
    title: `plain JS MPMC SAB ring (Vyukov, Float64Array, cap ${CAP}), ${MPMC} sender × ${MPMC} receiver threads, until closed (ns per value)`,
    n0: 100_000, quickN: 20_000, step: MPMC,
    setup: ({ n }) => {
      const ring = MpmcF64Ring.alloc(CAP);
      const data = { ring, kind: 'num', count: n / MPMC, senders: MPMC, done: new Int32Array(new SharedArrayBuffer(4)) };
      return { workers: [...many(MPMC, 'sab.mpmcSend', data), ...many(MPMC, 'sab.mpmcRecv', { ring, kind: 'num' })] };
    },
    expect: sumsOf(MPMC),
  },
  'sab.rtt': {
    title: 'SAB ring round trip (two cap-1 rings), worker↔worker',
    n0: 5_000, quickN: 1_000, step: 1,
    setup: () => pair('sab.ping', 'sab.pong', { ping: F64Ring.alloc(1), pong: F64Ring.alloc(1) }),
    expect: sums,
  },

  // ------------------------------------------------------------ weft
  'weft.f64': {
    title: `weft f64 chan cap ${CAP}, sendSync/recvSync, worker→worker${WARM}`,
    weft: true, requires: ['Chan', 'share', 'attach', 'Chan#sendSync', 'Chan#recvSync'],
    n0: 100_000, quickN: 20_000, step: 1,
    setup: ({ n, weft }) => ({
      shared: { ch: new weft.Chan(CAP, { elem: 'f64' }) },
      ...pair('weft.send', 'weft.recv', { kind: 'num', count: n, warmup: WARMUP }),
    }),
    expect: sums,
  },
  'weft.batch': {
    title: `weft f64 chan cap ${CAP}, sendManySync/recvManySync batches of ${BATCH}, worker→worker (ns per value)`,
    weft: true, requires: ['Chan', 'share', 'attach', 'Chan#sendManySync', 'Chan#recvManySync'],
    n0: BATCH * 4_000, quickN: BATCH * 1_000, step: BATCH,
    setup: ({ weft }) => ({
      shared: { ch: new weft.Chan(CAP, { elem: 'f64' }) },
      ...pair('weft.sendBatch', 'weft.recvBatch', { batch: BATCH }),
    }),
    expect: sums,
  },
  'weft.batchInto': {
    title: `weft f64 chan cap ${CAP}, sendManySync / recvManyIntoSync into a reused Float64Array(${BATCH}) (as the SAB ring's popMany), worker→worker (ns per value)`,
    weft: true, requires: ['Chan', 'share', 'attach', 'Chan#sendManySync', 'Chan#recvManyIntoSync'],
    n0: BATCH * 4_000, quickN: BATCH * 1_000, step: BATCH,
    setup: ({ weft }) => ({
      shared: { ch: new weft.Chan(CAP, { elem: 'f64' }) },
      ...pair('weft.sendBatch', 'weft.recvBatchInto', { batch: BATCH }),
    }),
    expect: sums,
  },
  'weft.row': {
    title: `weft structured chan cap ${CAP}, { row, height, weight, name }, worker→worker${WARM}`,
    weft: true, requires: ['Chan', 'share', 'attach', 'Chan#sendSync', 'Chan#recvSync'],
    n0: 20_000, quickN: 5_000, step: 1,
    setup: ({ n, weft }) => ({
      shared: { ch: new weft.Chan(CAP) },
      ...pair('weft.send', 'weft.recv', { kind: 'row', count: n, warmup: WARMUP }),
    }),
    expect: sums,
  },
  'weft.pp': {
    title: 'weft unbuffered i32 ping-pong round trip, sendSync/recvSync, worker↔worker',
    weft: true, requires: ['Chan', 'share', 'attach', 'Chan#sendSync', 'Chan#recvSync'],
    n0: 5_000, quickN: 1_000, step: 1,
    setup: ({ weft }) => ({
      shared: { ping: new weft.Chan(0, { elem: 'i32' }), pong: new weft.Chan(0, { elem: 'i32' }) },
      ...pair('weft.ping', 'weft.pong', {}),
    }),
    expect: sums,
  },
  'weft.ppMain': {
    title: 'weft unbuffered i32 ping-pong round trip, main (await send/recv) ↔ worker (Sync)',
    weft: true, requires: ['Chan', 'share', 'attach', 'Chan#send', 'Chan#recv', 'Chan#sendSync', 'Chan#recvSync'],
    n0: 2_000, quickN: 500, step: 1,
    setup: ({ weft }) => ({
      shared: { ping: new weft.Chan(0, { elem: 'i32' }), pong: new weft.Chan(0, { elem: 'i32' }) },
      main: { role: 'weft.pingAsync' },
      workers: [{ role: 'weft.pong' }],
    }),
    expect: sums,
  },
  'weft.mpmc': {
    title: `weft f64 chan cap ${CAP}, ${MPMC} sender × ${MPMC} receiver threads, until closed (ns per value)`,
    weft: true, requires: ['Chan', 'share', 'attach', 'Chan#sendSync', 'Chan#recvSync', 'Chan#close'],
    n0: 100_000, quickN: 20_000, step: MPMC,
    setup: ({ n, weft }) => {
      const data = { kind: 'num', count: n / MPMC, senders: MPMC, done: new Int32Array(new SharedArrayBuffer(4)) };
      return {
        shared: { ch: new weft.Chan(CAP, { elem: 'f64' }) },
        workers: [...many(MPMC, 'weft.send', data), ...many(MPMC, 'weft.recv', { kind: 'num' })],
      };
    },
    expect: sumsOf(MPMC),
  },

  // ------------------------------------------------------------ weft: select, time, context (issue 3)
  'weft.select': {
    title: `weft selectSync([recv(a), recv(b)]) in a worker, f64 chans cap ${CAP} fed by 2 producer workers (ns per value)`,
    weft: true, requires: ['Chan', 'share', 'attach', 'selectSync', 'recv', 'Chan#sendSync'],
    n0: 100_000, quickN: 20_000, step: 2,
    setup: ({ n, weft }) => {
      const { shared, producers } = twoFedChans(n, weft);
      return { shared, workers: [...producers, { role: 'weft.selectSync' }] };
    },
    expect: sumsOf(2),
  },
  'weft.selectMain': {
    title: `weft await select([recv(a), recv(b)]) on main, f64 chans cap ${CAP} fed by 2 producer workers (ns per value)`,
    weft: true, requires: ['Chan', 'share', 'attach', 'select', 'recv', 'Chan#sendSync'],
    n0: 20_000, quickN: 5_000, step: 2,
    setup: ({ n, weft }) => {
      const { shared, producers } = twoFedChans(n, weft);
      return { shared, main: { role: 'weft.selectAsync' }, workers: producers };
    },
    expect: sumsOf(2),
  },
  'weft.timers': {
    title: `weft ${TIMERS.toLocaleString('en-US')} concurrent Timers of 1–100 ms created on main, each awaited (t.c.recv()): p99 lateness of the fire value`,
    weft: true, requires: ['Timer'],
    n0: TIMERS, quickN: TIMERS, step: 1, fixed: true, unit: 'ms',
    setup: () => ({ main: { role: 'weft.timers' }, workers: [] }),
    measure: ({ results: [r] }) => {
      const fireLate = Array.from(r.fired, (f, i) => f - r.due[i]);
      const recvLate = Array.from(r.got, (g, i) => g - r.due[i]);
      // Receive lateness once main was free: timers due while it was still creating them count from then.
      const recvIdle = Array.from(r.got, (g, i) => g - Math.max(r.due[i], r.createdAt));
      return {
        value: percentile(fireLate, 99),
        fireP50: percentile(fireLate, 50), fireMax: Math.max(...fireLate), fireMin: Math.min(...fireLate),
        recvP99: percentile(recvLate, 99), recvIdleP99: percentile(recvIdle, 99),
        createMs: r.createdMs, threadsAdded: r.threadsAdded,
      };
    },
    extras: {
      fireP50: { label: 'p50 fire', unit: 'ms' },
      fireMax: { label: 'max fire', unit: 'ms' },
      fireMin: { label: 'min fire (< 0: early)', unit: 'ms', agg: 'min' },
      recvP99: { label: 'p99 receive', unit: 'ms' },
      recvIdleP99: { label: 'p99 receive counted from max(due, all created)', unit: 'ms' },
      createMs: { label: 'creating all', unit: 'ms' },
      threadsAdded: { label: 'OS threads added while pending', unit: 'count', agg: 'max' },
    },
  },
  'weft.ticker': {
    title: `weft Ticker(1) received by recvSync in a worker for ${TICK_MS / 1000} s: ticks; then a ${STALL_MS} ms stall and the ticks pending after it`,
    weft: true, requires: ['Ticker', 'sleepSync', 'Chan#recvSync', 'Chan#tryRecv'],
    n0: TICK_MS, quickN: TICK_MS, step: 1, fixed: true, maxRuns: 3, timeoutS: 3 * (TICK_MS / 1000 + 5) + 20, unit: 'count',
    setup: () => ({ workers: [{ role: 'weft.ticker', data: { stallMs: STALL_MS } }] }),
    measure: ({ results: [r] }) => ({ value: r.ticks, pending: r.pending, gapMs: r.gapMs }),
    extras: {
      pending: { label: `ticks pending after a ${STALL_MS} ms stall`, unit: 'count', agg: 'max' },
      gapMs: { label: 'gap between the next two receives', unit: 'ms' },
    },
  },
  'weft.ctxCancel': {
    title: `weft cancel() of a withCancel root with ${CTX_SIZE.toLocaleString('en-US')} descendants (4-ary tree of withCancel/withValue), main thread: µs until cancel() returns (median over the trees of a run)`,
    weft: true, requires: ['background', 'withCancel', 'withValue'],
    n0: 30, quickN: 5, step: 1, fixed: true, unit: 'µs',
    setup: () => ({ main: { role: 'weft.ctxCancel', data: { size: CTX_SIZE } }, workers: [] }),
    measure: ({ results: [r] }) => ({ value: median(r.cancelUs), max: Math.max(...r.cancelUs), checked: median(r.checkedUs) }),
    extras: {
      max: { label: 'slowest tree', unit: 'µs' },
      checked: { label: 'cancel + reading every err()', unit: 'µs' },
    },
  },

  // ------------------------------------------------------------ sync primitives and atomics (issue 4)
  'weft.lock2': lockCase(2, 'weft', 'weft Mutex lockSync; x++; unlock, 2 worker threads contending (ns per critical section)'),
  'sab.lock2': lockCase(2, 'sab', 'plain-JS SAB futex mutex, lockSync; x++; unlock, 2 worker threads contending (ns per critical section)'),
  'weft.lock1': lockCase(1, 'weft', 'weft Mutex lockSync; x++; unlock, one thread, uncontended (ns per pair)'),
  'sab.lock1': lockCase(1, 'sab', 'plain-JS SAB futex mutex, lockSync; x++; unlock, one thread, uncontended (ns per pair)'),
  'weft.atomic': addCase(1, 'weft', 'weft AtomicInt64.add(1), one thread (ns per add)'),
  'sab.atomic': addCase(1, 'sab', 'Atomics.add(Int32Array, 0, 1) on a SAB, one thread (ns per add)'),
  'weft.atomic4': addCase(ATOMIC_THREADS, 'weft',
    `weft AtomicInt64.add(1), ${ATOMIC_THREADS} threads × ${ATOMIC_PER_THREAD.toLocaleString('en-US')}: final load()`, {
      n0: ATOMIC_THREADS * ATOMIC_PER_THREAD, quickN: ATOMIC_THREADS * ATOMIC_PER_THREAD, fixed: true, unit: 'count',
      measure: ({ n, elapsedNs, setup }) => ({ value: setup.shared.ctr.load(), nsPerAdd: elapsedNs / n }),
      extras: { nsPerAdd: { label: 'ns per add (all threads)', unit: 'ns' } },
    }),
  'weft.wg4': {
    title: `weft WaitGroup add(1); done(), ${WG_THREADS} worker threads (ns per pair, all threads together)`,
    weft: true, requires: ['WaitGroup', 'share', 'attach', 'WaitGroup#add', 'WaitGroup#done'],
    n0: 400_000, quickN: 100_000, step: WG_THREADS,
    setup: ({ n, weft }) => ({ shared: { wg: new weft.WaitGroup() }, workers: many(WG_THREADS, 'wg.addDone', { count: n / WG_THREADS }) }),
    check: ({ setup }) => {
      if (setup.shared.wg.count !== 0) throw new Error(`check failed: WaitGroup count = ${setup.shared.wg.count}, expected 0`);
    },
  },
  'weft.lockMain': {
    title: 'weft Mutex await lock(); x++; unlock() on main while a worker loops lockSync; x++; unlock (ns per main critical section)',
    weft: true, requires: ['Mutex', 'share', 'attach', 'Mutex#lock', 'Mutex#lockSync', 'Mutex#unlock'],
    n0: 2_000, quickN: 500, step: 1,
    setup: ({ weft }) => {
      const data = { ...counter(), flags: new SharedArrayBuffer(8) };
      return { shared: { mu: new weft.Mutex() }, main: { role: 'lock.async', data }, workers: [{ role: 'lock.contend', data }], ctr: data.ctr };
    },
    check: checkCounter(({ n, byRole }) => n + byRole('lock.contend')[0].acquired),
    measure: ({ n, byRole }) => {
      const [main] = byRole('lock.async'), [worker] = byRole('lock.contend');
      return { value: Number(main.end - main.start) / n, workerPerMain: worker.acquired / n };
    },
    extras: { workerPerMain: { label: 'worker critical sections per main one', unit: 'count' } },
  },
  ...POOL_CASES,
  ...NATS_CASES,
  ...PATTERN_CASES,
  ...SPEED_CASES,
};

// ---------------------------------------------------------------- report rows and targets

// Conditions (atMost, faster, limit: bench/lib.js) map (the row's value, { baseline label:
// ns/op }, the value's per-run samples) to true / false / null (not measurable).
const atLeast = (min, text, unit = 'count') => ({
  text: `≥ ${text}`,
  eval: (w) => w >= min,
  miss: (w) => `${fmtVal(w, unit)} < ${text}`,
});
/** Every run gave exactly `want`. */
const exactly = (want) => ({
  text: `= ${want.toLocaleString('en-US')} in every run`,
  eval: (_, __, samples) => samples.every((x) => x === want),
  miss: (_, __, samples) => `got ${samples.map((x) => x.toLocaleString('en-US')).join(', ')}`,
});
const rateAtLeast = (perSec) => ({
  text: `≥ ${fmtRate(perSec)}`,
  eval: (w) => 1e9 / w >= perSec,
  miss: (w) => `${fmtRate(1e9 / w)} < ${fmtRate(perSec)}`,
});

export const ROWS = [
  {
    title: `1. f64 cap ${CAP}, sendSync/recvSync, worker→worker`,
    weft: 'weft.f64',
    baselines: { postMessage: 'pm.f64', 'SAB ring': 'sab.f64', Go: 'go:BufferedSPSC' },
    targets: [atMost('Go', 1.5), faster('postMessage', 15)],
  },
  {
    title: `2. f64 sendManySync/recvManySync ×${BATCH}, worker→worker (per value)`,
    weft: 'weft.batch', rate: true,
    baselines: { [`postMessage F64Array(${BATCH})`]: 'pm.batch', 'SAB ring batch': 'sab.batch' },
    targets: [rateAtLeast(50e6)],
  },
  {
    title: `2b. f64 sendManySync/recvManyIntoSync ×${BATCH} into a reused array, worker→worker (per value)`,
    weft: 'weft.batchInto', rate: true,
    baselines: { [`postMessage F64Array(${BATCH})`]: 'pm.batch', 'SAB ring batch': 'sab.batch' },
    targets: [rateAtLeast(50e6)],
  },
  {
    title: `3. structured {row,height,weight,name} cap ${CAP}, worker→worker`,
    weft: 'weft.row',
    baselines: { postMessage: 'pm.row', 'SAB ring JSON': 'sab.row' },
    targets: [faster('postMessage', 5)],
  },
  {
    title: '4. unbuffered i32 ping-pong round trip, worker↔worker Sync',
    weft: 'weft.pp',
    baselines: { postMessage: 'pm.rtt', 'SAB ring': 'sab.rtt', Go: 'go:UnbufferedPingPong' },
    targets: [limit(5_000, '5 µs')],
  },
  {
    title: '5. unbuffered ping-pong round trip, main async ↔ worker Sync',
    weft: 'weft.ppMain',
    baselines: { 'postMessage main↔worker': 'pm.rttMain' },
    targets: [limit(20_000, '20 µs')],
  },
  {
    title: `6. f64 MPMC ${MPMC}×${MPMC} threads, cap ${CAP} (per value)`,
    weft: 'weft.mpmc',
    baselines: { Go: 'go:MPMC4x4' },
    targets: [atMost('Go', 4)],
  },
  // ---- issue 3: select, timers, context
  {
    title: `3.1 selectSync over 2 f64 chans (cap ${CAP}), 2 producer workers → 1 worker (per value)`,
    weft: 'weft.select',
    baselines: { Go: 'go:Select2', 'weft recvSync 1 chan 1→1': 'weft.f64' },
    targets: [atMost('Go', 2)],
  },
  {
    title: '3.2 await select over 2 chans on main, fed by 2 workers (per value)',
    weft: 'weft.selectMain',
    baselines: { 'postMessage fan-in': 'pm.fanIn' },
    targets: [faster('postMessage fan-in', 10)],
  },
  {
    title: `3.3a ${TIMERS.toLocaleString('en-US')} Timers of 1–100 ms: p99 lateness (fire value − due)`,
    weft: 'weft.timers', info: ['fireP50', 'fireMax', 'fireMin', 'recvP99', 'recvIdleP99', 'createMs'],
    targets: [limit(2, '2 ms', 'ms')],
  },
  {
    title: `3.3b ${TIMERS.toLocaleString('en-US')} Timers: OS threads added while pending (max of runs)`,
    weft: 'weft.timers', metric: 'threadsAdded',
    targets: [limit(1, '1 (one timer thread)', 'count')],
  },
  {
    title: `3.4a Ticker(1): ticks received in ${TICK_MS / 1000} s`,
    weft: 'weft.ticker',
    targets: [atLeast(0.99 * TICK_MS, (0.99 * TICK_MS).toLocaleString('en-US'))],
  },
  {
    title: `3.4b Ticker(1): ticks pending after a ${STALL_MS} ms receiver stall (max of runs)`,
    weft: 'weft.ticker', metric: 'pending', info: ['gapMs'],
    targets: [limit(1, '1 (no burst)', 'count')],
  },
  {
    title: `3.5 cancel() of a context with ${CTX_SIZE.toLocaleString('en-US')} descendants, all err() set on return`,
    weft: 'weft.ctxCancel', info: ['max', 'checked'],
    targets: [limit(5_000, '5 ms', 'µs')],
  },
  // ---- issue 4: sync primitives and atomics
  {
    title: '4.6 Mutex lockSync/unlock, 2 workers contending (per critical section; counter checked)',
    weft: 'weft.lock2',
    baselines: { Go: 'go:MutexContended', 'SAB futex mutex': 'sab.lock2' },
    targets: [atMost('Go', 3)],
  },
  {
    title: '4.7 Mutex lockSync+unlock uncontended, one thread (per pair)',
    weft: 'weft.lock1',
    baselines: { 'SAB futex mutex': 'sab.lock1' },
    targets: [limit(60, '60 ns')],
  },
  {
    title: '4.8a AtomicInt64.add, one thread (per add)',
    weft: 'weft.atomic',
    baselines: { 'Atomics.add Int32': 'sab.atomic' },
    targets: [limit(45, '45 ns')],
  },
  {
    title: `4.8b AtomicInt64.add ${ATOMIC_THREADS} threads × ${ATOMIC_PER_THREAD.toLocaleString('en-US')}: final value`,
    weft: 'weft.atomic4', info: ['nsPerAdd'],
    targets: [exactly(ATOMIC_THREADS * ATOMIC_PER_THREAD)],
  },
  {
    title: `4.9 WaitGroup add+done, ${WG_THREADS} threads (per pair, all threads together)`,
    weft: 'weft.wg4',
    targets: [limit(100, '100 ns')],
  },
  {
    title: '4.10 await lock/unlock on main while a worker contends with lockSync (per main critical section)',
    weft: 'weft.lockMain', info: ['workerPerMain'],
    baselines: { 'postMessage lock server': 'pm.lockMain' },
    targets: [faster('postMessage lock server', 5)],
  },
  ...POOL_ROWS,
  ...NATS_ROWS,
  ...PATTERN_ROWS,
  ...SPEED_ROWS,
];
