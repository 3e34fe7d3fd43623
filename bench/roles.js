// The code each participant of a benchmark runs (in a worker, or on the main thread).
// A role gets ctx = { n, index, data, chans, weft, ready } (weft: the module measured, in cases
// marked weft) and resolves { start, end, count?, sum?, ... }: start = ready() (returns once
// every participant is ready), end = process.hrtime.bigint() when its part is done; count/sum
// are checksums of what it received; other fields are raw data for the case's measure().
import { readdirSync } from 'node:fs';
import { openRing } from './ring.js';
import { SabCounter, SabMutex } from './sabsync.js';

const now = () => process.hrtime.bigint();
/** Wall-clock ms since the epoch with sub-ms resolution (the clock timer values use). */
const wallMs = () => performance.timeOrigin + performance.now();
/** OS threads of this process now (Linux), NaN elsewhere. */
const threadCount = () => {
  try { return readdirSync('/proc/self/task').length; } catch { return NaN; }
};

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

/**
 * Warm-up (data.warmup values, untimed) for the one-way stream cases, sent and received the
 * same way as the timed values before the start barrier, so a run times the steady state and
 * not the JIT's first tiers: measured on a structured-value stream, the first 20,000 values of
 * a fresh worker pair took 3.8-4.8 us each and values 20,000-40,000 1.0-1.4 us, then 320-460 ns
 * from there on (postMessage, native code, has no such start-up).
 */
const warmupOf = (data) => data.warmup ?? 0;

// ---------------------------------------------------------------- postMessage baselines

/** Resolves once `port` has received `n` messages (dropped), leaving the port open. */
const skipN = (port, n) => new Promise((resolve) => {
  if (n === 0) return resolve();
  let got = 0;
  const h = () => {
    if (++got === n) {
      port.off('message', h);
      resolve();
    }
  };
  port.on('message', h);
});

/** Resolves (with the time) when the port(s) have received `n` messages together; onMsg(v) runs for each. */
const receiveN = (ports, n, onMsg) => new Promise((resolve) => {
  const list = [].concat(ports);
  let got = 0;
  for (const port of list) {
    port.on('message', (v) => {
      onMsg(v);
      if (++got === n) {
        for (const p of list) p.close();
        resolve(now());
      }
    });
  }
});

const pm = {
  /** Posts data.count ?? n values. */
  'pm.send'({ n, data, data: { port, kind, count }, ready }) {
    const { make } = PAYLOADS[kind], m = count ?? n;
    for (let i = 0, w = warmupOf(data); i < w; i++) port.postMessage(make(i));
    const start = ready();
    for (let i = 0; i < m; i++) port.postMessage(make(i));
    return { start, end: now() };
  },
  /** Main thread: counts the n numbers posted to it over data.ports together (fan-in). */
  async 'pm.fanIn'({ n, data: { ports }, ready }) {
    let sum = 0;
    const done = receiveN(ports, n, (v) => { sum += v; });
    const start = ready();
    return { start, end: await done, count: n, sum };
  },
  /**
   * A lock owned by this worker, served over messages: 'acquire' is answered 'granted' once the
   * lock is free, 'release' frees it (and grants it to the next requester, if any).
   */
  async 'pm.lockServer'({ n, data: { port }, ready }) {
    let held = false, queued = 0;
    const done = receiveN(port, 2 * n, (m) => {
      if (m === 'acquire' && held) queued++;
      else if (m === 'acquire' || queued > 0) {
        if (m !== 'acquire') queued--;
        held = true;
        port.postMessage('granted');
      } else held = false;
    });
    const start = ready();
    return { start, end: await done };
  },
  /** Main thread: n critical sections (a plain increment of a SAB counter) under pm.lockServer's lock. */
  async 'pm.lockClient'({ n, data: { port, ctr }, ready }) {
    const c = new Int32Array(ctr);
    let i = 0;
    const done = receiveN(port, n, () => {
      c[0]++;
      port.postMessage('release');
      if (++i < n) port.postMessage('acquire');
    });
    const start = ready();
    port.postMessage('acquire');
    return { start, end: await done };
  },
  async 'pm.recv'({ n, data, data: { port, kind }, ready }) {
    const { value } = PAYLOADS[kind];
    await skipN(port, warmupOf(data));
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
  'sab.send'({ n, data, data: { ring, kind }, ready }) {
    const r = openRing(ring), { make } = PAYLOADS[kind];
    for (let i = 0, w = warmupOf(data); i < w; i++) r.push(make(i));
    const start = ready();
    for (let i = 0; i < n; i++) r.push(make(i));
    return { start, end: now() };
  },
  'sab.recv'({ n, data, data: { ring, kind }, ready }) {
    const r = openRing(ring), { value } = PAYLOADS[kind];
    for (let i = 0, w = warmupOf(data); i < w; i++) value(r.pop());
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
  /** MPMC ring: sends data.count ?? n values; with data.done and data.senders the last sender closes it. */
  'sab.mpmcSend'({ n, data, data: { ring, kind, count, done, senders }, ready }) {
    const r = openRing(ring), { make } = PAYLOADS[kind], m = count ?? n;
    for (let i = 0, w = warmupOf(data); i < w; i++) r.push(make(i));
    const start = ready();
    for (let i = 0; i < m; i++) r.push(make(i));
    const end = now();
    if (done && Atomics.add(done, 0, 1) === senders - 1) r.close();
    return { start, end };
  },
  /** MPMC ring: receives data.count values, or (without count) until it is closed and drained. */
  'sab.mpmcRecv'({ data, data: { ring, kind, count: m }, ready }) {
    const r = openRing(ring), { value } = PAYLOADS[kind];
    for (let i = 0, w = warmupOf(data); i < w; i++) value(r.pop());
    let sum = 0, count = 0;
    const start = ready();
    if (m !== undefined) {
      for (; count < m; count++) sum += value(r.pop());
    } else {
      for (let v; (v = r.pop()) !== undefined; count++) sum += value(v);
    }
    return { start, end: now(), count, sum };
  },
  /** popManyFresh: a new array per batch, as weft's recvManySync returns. */
  'sab.recvBatchFresh'({ n, data: { ring, batch: size }, ready }) {
    const r = openRing(ring);
    let sum = 0, count = 0;
    const start = ready();
    while (count < n) {
      const a = r.popManyFresh(size);
      sum += sumOf(a, a.length);
      count += a.length;
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
   * Sends data.count ?? n values on chans[data.chan ?? 'ch']. With data.done (Int32Array on a SAB) and data.senders,
   * the last sender to finish closes the channel (MPMC); receivers then run until closed.
   */
  'weft.send'({ n, data, data: { kind, count, done, senders, chan = 'ch' }, chans, ready }) {
    const { make } = PAYLOADS[kind], m = count ?? n, ch = chans[chan];
    for (let i = 0, w = warmupOf(data); i < w; i++) ch.sendSync(make(i));
    const start = ready();
    for (let i = 0; i < m; i++) ch.sendSync(make(i));
    const end = now();
    if (done && Atomics.add(done, 0, 1) === senders - 1) ch.close();
    return { start, end };
  },
  /** Receives data.count values, or (without count) until the channel is closed and drained. */
  'weft.recv'({ data, data: { kind, count: m }, chans: { ch }, ready }) {
    const { value } = PAYLOADS[kind];
    for (let i = 0, w = warmupOf(data); i < w; i++) value(ch.recvSync());
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
  /** recvManyIntoSync into one reused Float64Array, as the SAB ring's popMany fills its buffer. */
  'weft.recvBatchInto'({ n, data: { batch: size }, chans: { ch }, ready }) {
    const buf = new Float64Array(size);
    let sum = 0, count = 0;
    const start = ready();
    while (count < n) {
      const k = ch.recvManyIntoSync(buf);
      if (k === 0) throw new Error('recvManyIntoSync returned 0 on an open channel');
      sum += sumOf(buf, k);
      count += k;
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
  /** Receives n values with selectSync over chans a and b (blocking, in a worker). */
  'weft.selectSync'({ n, weft: { selectSync, recv }, chans: { a, b }, ready }) {
    let sum = 0;
    const start = ready();
    for (let i = 0; i < n; i++) sum += selectSync([recv(a), recv(b)]).value;
    return { start, end: now(), count: n, sum };
  },
  /** Receives n values with await select over chans a and b (main thread). */
  /** Main thread: `for await (const v of ch)` until n values arrived (issue 11's row). */
  async 'weft.forAwait'({ n, chans: { ch }, ready }) {
    let sum = 0, count = 0;
    const start = ready();
    for await (const v of ch) {
      sum += v;
      if (++count === n) break;
    }
    return { start, end: now(), count, sum };
  },
  async 'weft.selectAsync'({ n, weft: { select, recv }, chans: { a, b }, ready }) {
    let sum = 0;
    const start = ready();
    for (let i = 0; i < n; i++) sum += (await select([recv(a), recv(b)])).value;
    return { start, end: now(), count: n, sum };
  },
};

// ---------------------------------------------------------------- weft: time and context

const time = {
  /**
   * Main thread: n concurrent Timers of 1..100 ms (created longest first, so creating them all
   * delays no receive), each awaited with t.c.recv(). Returns per timer the due time, the fire
   * value and the receive time (wall ms), and the OS threads before/while they are pending.
   */
  async 'weft.timers'({ n, weft: { Timer }, ready }) {
    const due = new Float64Array(n), fired = new Float64Array(n), got = new Float64Array(n);
    const pending = new Array(n);
    const threadsBefore = threadCount();
    const start = ready();
    for (let i = 0; i < n; i++) {
      const ms = 100 - Math.floor((i * 100) / n);
      due[i] = wallMs() + ms;
      pending[i] = new Timer(ms).c.recv().then((v) => {
        fired[i] = v;
        got[i] = wallMs();
      });
    }
    const createdMs = Number(now() - start) / 1e6, createdAt = wallMs();
    const threadsPending = threadCount();
    await Promise.all(pending);
    return { start, end: now(), due, fired, got, createdMs, createdAt, threadsAdded: threadsPending - threadsBefore };
  },
  /**
   * Worker: a Ticker(1) received with recvSync for n ms (ticks counted), then the receiver
   * stalls data.stallMs and drains what is pending at once (Go: at most one tick), then
   * times the gap between the next two receives (about 1 ms).
   */
  'weft.ticker'({ n: durationMs, data: { stallMs }, weft: { Ticker, sleepSync }, ready }) {
    const start = ready();
    const t = new Ticker(1);
    const until = performance.now() + durationMs;
    let ticks = 0;
    for (;;) {
      t.c.recvSync({ timeout: 1000 });
      if (performance.now() >= until) break;
      ticks++;
    }
    sleepSync(stallMs);
    // What the stall left buffered. (Counting tryRecv successes instead also counted a tick
    // that arrived during the count when this thread lost its CPU for a millisecond there,
    // which a loaded machine did: 2 in one run.)
    const pending = t.c.length;
    while (t.c.tryRecv().ok);
    // Then the ticker should be back to one tick per ms: time between the next two receives.
    t.c.recvSync({ timeout: 1000 });
    const t1 = performance.now();
    t.c.recvSync({ timeout: 1000 });
    const gapMs = performance.now() - t1;
    t.stop();
    return { start, end: now(), ticks, pending, gapMs };
  },
  /**
   * Main thread: n times, a withCancel root with data.size descendants (a 4-ary tree,
   * alternating withCancel / withValue), canceled; times cancel() and checks every err().
   */
  'weft.ctxCancel'({ n, data: { size }, weft: { background, withCancel, withValue }, ready }) {
    const cancelUs = new Float64Array(n), checkedUs = new Float64Array(n);
    const start = ready();
    for (let k = 0; k < n; k++) {
      const [root, cancel] = withCancel(background());
      const nodes = [root];
      for (let i = 1; i <= size; i++) {
        const parent = nodes[(i - 1) >> 2];
        nodes.push(i & 1 ? withCancel(parent)[0] : withValue(parent, 'k', i));
      }
      const t0 = now();
      cancel();
      const t1 = now();
      const alive = nodes.filter((c) => c.err() === null).length;
      const t2 = now();
      if (alive) throw new Error(`${alive} of ${size + 1} contexts still have err() === null after cancel() returned`);
      cancelUs[k] = Number(t1 - t0) / 1e3;
      checkedUs[k] = Number(t2 - t0) / 1e3;
    }
    return { start, end: now(), cancelUs, checkedUs };
  },
};

// ---------------------------------------------------------------- sync primitives and atomics
// Locks are chans.mu (weft Mutex) or, with data.sab, the plain-JS SabMutex baseline; counters
// chans.ctr (AtomicInt64) or SabCounter. data.ctr is a SAB whose Int32 [0] the critical
// sections increment plainly (so a broken lock shows as a wrong count).

const STOP = 0, CONTENDING = 1; // indices of data.flags in lock.contend / lock.async
const openLock = (data, chans) => (data.sab ? new SabMutex(data.sab) : chans.mu);

const sync = {
  /** data.count ?? n times: lockSync; ctr++; unlock. */
  'lock.loop'({ n, data, chans, ready }) {
    const mu = openLock(data, chans), c = new Int32Array(data.ctr), m = data.count ?? n;
    const start = ready();
    for (let i = 0; i < m; i++) {
      mu.lockSync();
      c[0]++;
      mu.unlock();
    }
    return { start, end: now() };
  },
  /**
   * lockSync; ctr++; unlock until flags[STOP] is set; sets flags[CONTENDING] after its first
   * round; reports how often it got the lock. (data.flags: SAB of 2 Int32.)
   */
  'lock.contend'({ data, chans, ready }) {
    const mu = openLock(data, chans), c = new Int32Array(data.ctr), flags = new Int32Array(data.flags);
    let acquired = 0;
    const start = ready();
    while (Atomics.load(flags, STOP) === 0) {
      mu.lockSync();
      c[0]++;
      mu.unlock();
      if (acquired++ === 0) Atomics.store(flags, CONTENDING, 1);
    }
    return { start, end: now(), acquired };
  },
  /**
   * Main thread: once lock.contend is looping, n times await lock; ctr++; unlock (timed);
   * then sets flags[STOP].
   */
  async 'lock.async'({ n, data, chans: { mu }, ready }) {
    const c = new Int32Array(data.ctr), flags = new Int32Array(data.flags);
    ready();
    while (Atomics.load(flags, CONTENDING) === 0) await new Promise((r) => setImmediate(r));
    const start = now();
    for (let i = 0; i < n; i++) {
      await mu.lock();
      c[0]++;
      mu.unlock();
    }
    const end = now();
    Atomics.store(flags, STOP, 1);
    return { start, end };
  },
  /** data.count ?? n times ctr.add(1). */
  'atomic.add'({ n, data, chans, ready }) {
    const a = data.sab ? new SabCounter(data.sab) : chans.ctr, m = data.count ?? n;
    const start = ready();
    for (let i = 0; i < m; i++) a.add(1);
    return { start, end: now() };
  },
  /** data.count ?? n times wg.add(1); wg.done(). */
  'wg.addDone'({ n, data, chans: { wg }, ready }) {
    const m = data.count ?? n;
    const start = ready();
    for (let i = 0; i < m; i++) {
      wg.add(1);
      wg.done();
    }
    return { start, end: now() };
  },
};

export const roles = { ...pm, ...sab, ...weft, ...time, ...sync };
