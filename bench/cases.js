// Benchmark cases (each measured in its own child process) and the report rows with targets.
//
// A case: { title, n0, quickN, step, weft?, requires?, setup({ n, weft }), expect(n) }
//   n is the number of operations one run performs (values, or round trips); ns/op = elapsed / n.
//   setup returns { shared?: weft objects (share()d to every worker, used by the main role),
//                   workers: [{ role, data?, transfer? }], main?: { role, data? } }.
//   expect(n) gives the checksums ({ count, sum }) the receivers must report together.
import { MessageChannel } from 'node:worker_threads';
import { F64Ring, JsonRing } from './ring.js';
import { fmtNs, fmtRate, fmtRatio, tri } from './lib.js';

const CAP = 1024;
const BATCH = 256;
const MPMC = 4; // senders = receivers

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

const pair = (sendRole, recvRole, data) => ({ workers: [{ role: sendRole, data }, { role: recvRole, data }] });

const sums = (n) => ({ count: n, sum: tri(n) });

export const CASES = {
  // ------------------------------------------------------------ baselines: postMessage
  'pm.f64': {
    title: 'postMessage, one number per message, worker→worker',
    n0: 20_000, quickN: 5_000, step: 1,
    setup: () => pmPair('pm.send', 'pm.recv', { kind: 'num' }),
    expect: sums,
  },
  'pm.batch': {
    title: `postMessage, Float64Array(${BATCH}) per message, worker→worker (ns per value)`,
    n0: BATCH * 2_000, quickN: BATCH * 500, step: BATCH,
    setup: () => pmPair('pm.sendBatch', 'pm.recvBatch', { batch: BATCH }),
    expect: sums,
  },
  'pm.row': {
    title: 'postMessage, { row, height, weight, name } per message, worker→worker',
    n0: 20_000, quickN: 5_000, step: 1,
    setup: () => pmPair('pm.send', 'pm.recv', { kind: 'row' }),
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
    setup: () => {
      const { port1, port2 } = new MessageChannel();
      return { main: { role: 'pm.ping', data: { port: port1 } }, workers: [{ role: 'pm.pong', data: { port: port2 }, transfer: [port2] }] };
    },
    expect: sums,
  },

  // ------------------------------------------------------------ baselines: SharedArrayBuffer ring
  'sab.f64': {
    title: `SAB ring (Float64Array, cap ${CAP}), one value per push/pop, worker→worker`,
    n0: 200_000, quickN: 50_000, step: 1,
    setup: () => pair('sab.send', 'sab.recv', { kind: 'num', ring: F64Ring.alloc(CAP) }),
    expect: sums,
  },
  'sab.batch': {
    title: `SAB ring (Float64Array, cap ${CAP}), batches of ${BATCH}, worker→worker (ns per value)`,
    n0: BATCH * 4_000, quickN: BATCH * 1_000, step: BATCH,
    setup: () => pair('sab.sendBatch', 'sab.recvBatch', { batch: BATCH, ring: F64Ring.alloc(CAP) }),
    expect: sums,
  },
  'sab.row': {
    title: `SAB ring of JSON in 128-byte slots (cap ${CAP}), { row, height, weight, name }, worker→worker`,
    n0: 20_000, quickN: 5_000, step: 1,
    setup: () => pair('sab.send', 'sab.recv', { kind: 'row', ring: JsonRing.alloc(CAP) }),
    expect: sums,
  },
  'sab.rtt': {
    title: 'SAB ring round trip (two cap-1 rings), worker↔worker',
    n0: 5_000, quickN: 1_000, step: 1,
    setup: () => pair('sab.ping', 'sab.pong', { ping: F64Ring.alloc(1), pong: F64Ring.alloc(1) }),
    expect: sums,
  },

  // ------------------------------------------------------------ weft
  'weft.f64': {
    title: `weft f64 chan cap ${CAP}, sendSync/recvSync, worker→worker`,
    weft: true, requires: ['Chan', 'share', 'attach', 'Chan#sendSync', 'Chan#recvSync'],
    n0: 100_000, quickN: 20_000, step: 1,
    setup: ({ n, weft }) => ({
      shared: { ch: new weft.Chan(CAP, { elem: 'f64' }) },
      ...pair('weft.send', 'weft.recv', { kind: 'num', count: n }),
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
  'weft.row': {
    title: `weft structured chan cap ${CAP}, { row, height, weight, name }, worker→worker`,
    weft: true, requires: ['Chan', 'share', 'attach', 'Chan#sendSync', 'Chan#recvSync'],
    n0: 20_000, quickN: 5_000, step: 1,
    setup: ({ n, weft }) => ({
      shared: { ch: new weft.Chan(CAP) },
      ...pair('weft.send', 'weft.recv', { kind: 'row', count: n }),
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
        workers: [
          ...Array.from({ length: MPMC }, () => ({ role: 'weft.send', data })),
          ...Array.from({ length: MPMC }, () => ({ role: 'weft.recv', data: { kind: 'num' } })),
        ],
      };
    },
    expect: (n) => ({ count: n, sum: MPMC * tri(n / MPMC) }),
  },
};

// ---------------------------------------------------------------- report rows and targets

// A condition maps (weft ns/op, { baseline label: ns/op }) to true / false / null (not measurable).
const atMost = (label, factor) => ({
  text: `≤ ${factor}× ${label}`,
  eval: (w, b) => (b[label] === undefined ? null : w <= factor * b[label]),
  miss: (w, b) => `${(w / b[label]).toFixed(2)}× ${label}`,
});
const faster = (label, factor) => ({
  text: `≥ ${factor}× faster than ${label}`,
  eval: (w, b) => (b[label] === undefined ? null : b[label] / w >= factor),
  miss: (w, b) => `${fmtRatio(w, b[label])} than ${label}`,
});
const withinNs = (ns, text) => ({
  text: `≤ ${text}`,
  eval: (w) => w <= ns,
  miss: (w) => `${fmtNs(w)} ns > ${text}`,
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
    title: `3. structured {row,height,weight,name} cap ${CAP}, worker→worker`,
    weft: 'weft.row',
    baselines: { postMessage: 'pm.row', 'SAB ring JSON': 'sab.row' },
    targets: [faster('postMessage', 5)],
  },
  {
    title: '4. unbuffered i32 ping-pong round trip, worker↔worker Sync',
    weft: 'weft.pp',
    baselines: { postMessage: 'pm.rtt', 'SAB ring': 'sab.rtt', Go: 'go:UnbufferedPingPong' },
    targets: [withinNs(5_000, '5 µs')],
  },
  {
    title: '5. unbuffered ping-pong round trip, main async ↔ worker Sync',
    weft: 'weft.ppMain',
    baselines: { 'postMessage main↔worker': 'pm.rttMain' },
    targets: [withinNs(20_000, '20 µs')],
  },
  {
    title: `6. f64 MPMC ${MPMC}×${MPMC} threads, cap ${CAP} (per value)`,
    weft: 'weft.mpmc',
    baselines: { Go: 'go:MPMC4x4' },
    targets: [atMost('Go', 4)],
  },
];
