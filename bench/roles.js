// The code each participant of a benchmark runs (in a worker, or on the main thread).
// A role gets ctx = { n, index, data, chans, ready } and resolves
// { start, end, count?, sum? }: start = ready() (returns once every participant is ready),
// end = process.hrtime.bigint() when its part is done; count/sum are checksums of what it received.
import { openRing } from './ring.js';

const now = () => process.hrtime.bigint();

// ---------------------------------------------------------------- payloads

const NAMES = ['ada', 'bob', 'cy', 'dee', 'eve', 'fay', 'gus', 'hal', 'ivy', 'jo', 'kim', 'lu', 'max', 'ned', 'oz', 'pam'];
/** The structured payload: { row int, height float, weight float, name short string }. */
export const makeRow = (i) => ({ row: i, height: 150.5 + (i & 63) * 0.5, weight: 50.25 + (i & 31), name: NAMES[i & 15] });

/** kind -> make(i) for senders, value(v) -> number for receivers' checksum. */
const PAYLOADS = {
  num: { make: (i) => i, value: (v) => v },
  row: { make: makeRow, value: (v) => v.row },
};

const fillBatch = (batch, first) => {
  for (let k = 0; k < batch.length; k++) batch[k] = first + k;
};
const sumOf = (a, len) => {
  let s = 0;
  for (let k = 0; k < len; k++) s += a[k];
  return s;
};

// ---------------------------------------------------------------- postMessage baselines

/** Resolves when the port has received `n` messages; onMsg(v) runs for each. */
const receiveN = (port, n, onMsg) => new Promise((resolve) => {
  let got = 0;
  port.on('message', (v) => {
    onMsg(v);
    if (++got === n) {
      port.close();
      resolve(now());
    }
  });
});

const pm = {
  'pm.send'({ n, data: { port, kind }, ready }) {
    const { make } = PAYLOADS[kind];
    const start = ready();
    for (let i = 0; i < n; i++) port.postMessage(make(i));
    return { start, end: now() };
  },
  async 'pm.recv'({ n, data: { port, kind }, ready }) {
    const { value } = PAYLOADS[kind];
    let sum = 0;
    const done = receiveN(port, n, (v) => { sum += value(v); });
    const start = ready();
    return { start, end: await done, count: n, sum };
  },
  'pm.sendBatch'({ n, data: { port, batch: size }, ready }) {
    const batch = new Float64Array(size);
    const start = ready();
    for (let i = 0; i < n; i += size) {
      fillBatch(batch, i);
      port.postMessage(batch); // copied (structured clone), like a channel send
    }
    return { start, end: now() };
  },
  async 'pm.recvBatch'({ n, data: { port, batch: size }, ready }) {
    let sum = 0;
    const done = receiveN(port, n / size, (a) => { sum += sumOf(a, a.length); });
    const start = ready();
    return { start, end: await done, count: n, sum };
  },
  /** Round trips: post i, wait for the echo, n times. Works on the main thread too. */
  async 'pm.ping'({ n, data: { port }, ready }) {
    let sum = 0, i = 0;
    const done = receiveN(port, n, (v) => {
      sum += v;
      if (++i < n) port.postMessage(i);
    });
    const start = ready();
    port.postMessage(0);
    return { start, end: await done, count: n, sum };
  },
  async 'pm.pong'({ n, data: { port }, ready }) {
    const done = receiveN(port, n, (v) => port.postMessage(v));
    const start = ready();
    return { start, end: await done };
  },
};

// ---------------------------------------------------------------- SharedArrayBuffer ring baselines

const sab = {
  'sab.send'({ n, data: { ring, kind }, ready }) {
    const r = openRing(ring), { make } = PAYLOADS[kind];
    const start = ready();
    for (let i = 0; i < n; i++) r.push(make(i));
    return { start, end: now() };
  },
  'sab.recv'({ n, data: { ring, kind }, ready }) {
    const r = openRing(ring), { value } = PAYLOADS[kind];
    let sum = 0;
    const start = ready();
    for (let i = 0; i < n; i++) sum += value(r.pop());
    return { start, end: now(), count: n, sum };
  },
  'sab.sendBatch'({ n, data: { ring, batch: size }, ready }) {
    const r = openRing(ring), batch = new Float64Array(size);
    const start = ready();
    for (let i = 0; i < n; i += size) {
      fillBatch(batch, i);
      r.pushMany(batch);
    }
    return { start, end: now() };
  },
  'sab.recvBatch'({ n, data: { ring, batch: size }, ready }) {
    const r = openRing(ring), buf = new Float64Array(size);
    let sum = 0, count = 0;
    const start = ready();
    while (count < n) {
      const k = r.popMany(buf);
      sum += sumOf(buf, k);
      count += k;
    }
    return { start, end: now(), count, sum };
  },
  'sab.ping'({ n, data: { ping, pong }, ready }) {
    const out = openRing(ping), back = openRing(pong);
    let sum = 0;
    const start = ready();
    for (let i = 0; i < n; i++) {
      out.push(i);
      sum += back.pop();
    }
    return { start, end: now(), count: n, sum };
  },
  'sab.pong'({ n, data: { ping, pong }, ready }) {
    const inp = openRing(ping), back = openRing(pong);
    const start = ready();
    for (let i = 0; i < n; i++) back.push(inp.pop());
    return { start, end: now() };
  },
};

// ---------------------------------------------------------------- weft

const weft = {
  /**
   * Sends data.count ?? n values. With data.done (Int32Array on a SAB) and data.senders,
   * the last sender to finish closes the channel (MPMC); receivers then run until closed.
   */
  'weft.send'({ n, data: { kind, count, done, senders }, chans: { ch }, ready }) {
    const { make } = PAYLOADS[kind], m = count ?? n;
    const start = ready();
    for (let i = 0; i < m; i++) ch.sendSync(make(i));
    const end = now();
    if (done && Atomics.add(done, 0, 1) === senders - 1) ch.close();
    return { start, end };
  },
  /** Receives data.count values, or (without count) until the channel is closed and drained. */
  'weft.recv'({ data: { kind, count: m }, chans: { ch }, ready }) {
    const { value } = PAYLOADS[kind];
    let sum = 0, count = 0;
    const start = ready();
    if (m !== undefined) {
      for (; count < m; count++) sum += value(ch.recvSync());
    } else {
      for (let v; (v = ch.recvSync()) !== undefined; count++) sum += value(v);
    }
    return { start, end: now(), count, sum };
  },
  'weft.sendBatch'({ n, data: { batch: size }, chans: { ch }, ready }) {
    const batch = new Float64Array(size);
    const start = ready();
    for (let i = 0; i < n; i += size) {
      fillBatch(batch, i);
      const sent = ch.sendManySync(batch);
      if (sent !== size) throw new Error(`sendManySync returned ${sent}, expected ${size}`);
    }
    return { start, end: now() };
  },
  'weft.recvBatch'({ n, data: { batch: size }, chans: { ch }, ready }) {
    let sum = 0, count = 0;
    const start = ready();
    while (count < n) {
      const a = ch.recvManySync(size);
      if (a.length === 0) throw new Error('recvManySync returned nothing on an open channel');
      sum += sumOf(a, a.length);
      count += a.length;
    }
    return { start, end: now(), count, sum };
  },
  'weft.ping'({ n, chans: { ping, pong }, ready }) {
    let sum = 0;
    const start = ready();
    for (let i = 0; i < n; i++) {
      ping.sendSync(i);
      sum += pong.recvSync();
    }
    return { start, end: now(), count: n, sum };
  },
  'weft.pong'({ n, chans: { ping, pong }, ready }) {
    const start = ready();
    for (let i = 0; i < n; i++) pong.sendSync(ping.recvSync());
    return { start, end: now() };
  },
  /** Main-thread side of case 5: await send / await recv. */
  async 'weft.pingAsync'({ n, chans: { ping, pong }, ready }) {
    let sum = 0;
    const start = ready();
    for (let i = 0; i < n; i++) {
      await ping.send(i);
      sum += await pong.recv();
    }
    return { start, end: now(), count: n, sum };
  },
};

export const roles = { ...pm, ...sab, ...weft };
