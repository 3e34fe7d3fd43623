// weft/nats benchmarks (issue 13, "Speed"): remote channels and RemoteQueue against the raw
// @nats-io/jetstream client on the same throwaway nats-server. Every run starts its own
// `nats-server` (random port, file storage in a temp dir, removed afterwards) and forks its
// producer / consumer / serving processes (bench/nats-peer.js), so each side is another "machine".
// The cases skip with a reason when `nats-server` is not on PATH.
import { fork, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { QUICK, WEFT_MODULE, median, percentile, tri } from './lib.js';

const PEER = new URL('./nats-peer.js', import.meta.url);
const TASKS = new URL('./tasks.mjs', import.meta.url);
/** The weft/nats module measured: the package's, or the one beside BENCH_WEFT_MODULE. */
const NATS_MODULE = WEFT_MODULE === 'weft' ? 'weft/nats' : new URL('./nats/index.js', WEFT_MODULE).href;

/** BENCH_NATS_PROF=dir: every peer process writes a V8 CPU profile there (node --cpu-prof). */
const PROF_DIR = process.env.BENCH_NATS_PROF;
let profSeq = 0;

const THRU = QUICK ? 2_000 : 10_000; // values per throughput run
const INFLIGHT = 64; // concurrent sends in the producer; concurrent receives (or prefetch) in the consumer
const CAPACITY = 1024;
const LAT = QUICK ? 200 : 1_000; // values one at a time (after LAT_WARM not counted)
const LAT_WARM = 50;
const TASKS_N = QUICK ? 2_000 : 10_000;
const SERVE_CONCURRENCY = 32; // per serving process
const SERVERS = 2;

const noServer = (() => {
  const r = spawnSync('nats-server', ['--version'], { encoding: 'utf8' });
  return r.status === 0 ? undefined : 'no nats-server on PATH (apt-get install -y nats-server)';
})();

/** Starts nats-server with JetStream in a temp dir; `stop()` ends it and removes the dir. */
async function startServer() {
  const dir = mkdtempSync(join(tmpdir(), 'weft-bench-nats-'));
  const proc = spawn('nats-server', ['-a', '127.0.0.1', '-p', '-1', '-js', '-sd', dir, '--ports_file_dir', dir], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  proc.stderr.on('data', (b) => { if (stderr.length < 20_000) stderr += b; });
  const exited = new Promise((r) => proc.once('exit', r));
  const t0 = Date.now();
  let url;
  while (url === undefined) {
    if (proc.exitCode !== null) throw new Error(`nats-server exited (${proc.exitCode}): ${stderr}`);
    if (Date.now() - t0 > 15_000) {
      proc.kill('SIGKILL');
      throw new Error(`nats-server wrote no ports file in 15 s: ${stderr}`);
    }
    const f = readdirSync(dir).find((n) => n.endsWith('.ports'));
    if (f) {
      try { url = JSON.parse(readFileSync(join(dir, f), 'utf8')).nats[0]; } catch { /* half-written */ }
    }
    if (url === undefined) await new Promise((r) => setTimeout(r, 10));
  }
  return {
    url: `nats://127.0.0.1:${new URL(url).port}`,
    async stop() {
      if (proc.exitCode === null && proc.signalCode === null) {
        proc.kill('SIGTERM');
        const t = setTimeout(() => proc.kill('SIGKILL'), 10_000);
        await exited;
        clearTimeout(t);
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Forks a peer in `role`; `next(pred)` resolves with its first report matching pred. */
function peer(role, cfg) {
  const execArgv = PROF_DIR ? ['--cpu-prof', `--cpu-prof-dir=${PROF_DIR}`, `--cpu-prof-name=${role}-${Date.now()}-${++profSeq}.cpuprofile`] : [];
  const proc = fork(PEER, [role, JSON.stringify({ module: NATS_MODULE, ...cfg })], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], execArgv });
  const msgs = [];
  const watchers = [];
  let ended;
  const fail = (e) => {
    ended = e;
    for (const w of watchers.splice(0)) w.reject(e);
  };
  proc.on('message', (m) => {
    if (m?.error) return fail(new Error(`peer ${role}: ${m.error}`));
    msgs.push(m);
    for (let i = watchers.length - 1; i >= 0; i--) if (watchers[i].pred(m)) watchers.splice(i, 1)[0].resolve(m);
  });
  proc.on('exit', (code, sig) => fail(new Error(`peer ${role} exited (${code ?? sig}) before reporting`)));
  const next = (pred) => {
    const m = msgs.find(pred);
    if (m) return Promise.resolve(m);
    if (ended) return Promise.reject(ended);
    return new Promise((resolve, reject) => watchers.push({ pred, resolve, reject }));
  };
  return {
    proc, next,
    ready: () => next((m) => m?.ready),
    done: () => next((m) => m?.done),
    kill: () => { if (proc.exitCode === null) proc.kill('SIGKILL'); },
  };
}

/** Runs `body(server)` with a fresh server; kills every peer and removes the server afterwards. */
async function withServer(body) {
  const server = await startServer();
  const peers = [];
  try {
    return await body(server, (role, cfg) => {
      const p = peer(role, { url: server.url, ...cfg });
      peers.push(p);
      return p;
    });
  } finally {
    // (profiling: give the peers time to write their profiles as they exit)
    if (PROF_DIR) await Promise.all(peers.map((p) => p.proc.exitCode === null && new Promise((r) => { p.proc.once('exit', r); setTimeout(r, 5000); })));
    for (const p of peers) p.kill();
    await server.stop();
  }
}

/** Creates the stream + durable consumer a weft channel of `capacity` has (same settings), for the raw loops. */
async function rawStream(url, stream, subject, capacity) {
  const { connect } = await import('@nats-io/transport-node');
  const { jetstreamManager, RetentionPolicy, DiscardPolicy, StorageType, AckPolicy } = await import('@nats-io/jetstream');
  const nc = await connect({ servers: url });
  const jsm = await jetstreamManager(nc);
  await jsm.streams.add({
    name: stream, subjects: [subject], retention: RetentionPolicy.Workqueue, discard: DiscardPolicy.New,
    max_msgs: capacity, storage: StorageType.File,
  });
  await jsm.consumers.add(stream, {
    durable_name: 'recv', ack_policy: AckPolicy.Explicit, ack_wait: 30e9, max_ack_pending: -1, max_waiting: 4096,
  });
  await nc.close();
}

/** Creates weft channel `name` of `capacity` (weft's own stream and consumer). */
async function weftChan(url, name, capacity) {
  const { connect } = await import(NATS_MODULE);
  const remote = await connect({ servers: url });
  await remote.chan(name, { capacity });
  await remote.close();
}

const ns = (s) => BigInt(s);

/** 1 producer process → 1 consumer process, n small values (numbers); ns per value. */
async function throughput(kind, n, ackAck = false) {
  return withServer(async ({ url }, spawnPeer) => {
    const cfg = { count: n, inflight: INFLIGHT, chan: 'bench', stream: 'raw', subject: 'raw.bench', ackAck };
    if (kind === 'weft') await weftChan(url, cfg.chan, CAPACITY);
    else await rawStream(url, cfg.stream, cfg.subject, CAPACITY);
    const recv = spawnPeer(`${kind}Recv`, cfg);
    const send = spawnPeer(`${kind}Send`, cfg);
    await Promise.all([recv.ready(), send.ready()]);
    send.proc.send('go');
    const [s, r] = await Promise.all([send.done(), recv.done()]);
    if (r.count !== n || r.sum !== tri(n)) throw new Error(`check failed: got ${r.count} values, sum ${r.sum}`);
    const elapsedNs = Number(ns(r.t1) - ns(s.t0));
    return {
      elapsedNs, nsPerOp: elapsedNs / n, value: elapsedNs / n,
      extra: { perSec: 1e9 / (elapsedNs / n), rejected: s.rejected },
    };
  });
}

/** One value at a time from a producer process to a consumer process: p50 of send-start → recv-returned, µs. */
async function latency(kind, n, ackAck = false) {
  return withServer(async ({ url }, spawnPeer) => {
    const cfg = { count: n + LAT_WARM, chan: 'lat', stream: 'rawlat', subject: 'rawlat.bench', ackAck };
    if (kind === 'weft') await weftChan(url, cfg.chan, CAPACITY);
    else await rawStream(url, cfg.stream, cfg.subject, CAPACITY);
    const recv = spawnPeer(`${kind}LatRecv`, cfg);
    const send = spawnPeer(`${kind}LatSend`, cfg);
    await Promise.all([recv.ready(), send.ready()]);
    recv.proc.on('message', (m) => m === 'got' && send.proc.connected && send.proc.send('next'));
    const t0 = process.hrtime.bigint();
    send.proc.send('go');
    const [r] = await Promise.all([recv.done(), send.done()]);
    const elapsedNs = Number(process.hrtime.bigint() - t0);
    const lat = r.lat.slice(LAT_WARM);
    return { elapsedNs, nsPerOp: elapsedNs / n, value: median(lat), extra: { p90: percentile(lat, 90), p99: percentile(lat, 99) } };
  });
}

/** n tiny tasks ({a,b}) => a+b submitted from this process, served by SERVERS processes; ns per task. */
async function queueBurst(n, weft) {
  return withServer(async ({ url }, spawnPeer) => {
    const { connect } = await import(NATS_MODULE);
    const remote = await connect({ servers: url });
    try {
      const q = remote.queue('bench');
      const servers = Array.from({ length: SERVERS }, () => spawnPeer('serve', { queue: 'bench', concurrency: SERVE_CONCURRENCY }));
      await Promise.all(servers.map((s) => s.ready()));
      await Promise.all(Array.from({ length: 200 }, (_, i) => q.go(TASKS, 'add2', { a: i, b: 1 }))); // warm
      const t0 = process.hrtime.bigint();
      const rs = await Promise.all(Array.from({ length: n }, (_, i) => q.go(TASKS, 'add2', { a: i, b: 1 })));
      const elapsedNs = Number(process.hrtime.bigint() - t0);
      if (rs.reduce((a, b) => a + b, 0) !== tri(n) + n) throw new Error('check failed: wrong task results');
      for (const s of servers) s.proc.send('stop');
      void weft;
      return { elapsedNs, nsPerOp: elapsedNs / n, value: elapsedNs / n, extra: { tasksPerSec: 1e9 / (elapsedNs / n) } };
    } finally {
      await remote.close();
    }
  });
}

/** The same n tiny tasks on this process's go() pool (2 threads); ns per task. */
async function localBurst(n, weft) {
  weft.configure({ threads: 2 });
  await Promise.all(Array.from({ length: 1000 }, (_, i) => weft.go(TASKS, 'add2', { a: i, b: 1 })));
  const t0 = process.hrtime.bigint();
  const rs = await Promise.all(Array.from({ length: n }, (_, i) => weft.go(TASKS, 'add2', { a: i, b: 1 })));
  const elapsedNs = Number(process.hrtime.bigint() - t0);
  if (rs.reduce((a, b) => a + b, 0) !== tri(n) + n) throw new Error('check failed: wrong task results');
  await weft.shutdown();
  return { elapsedNs, nsPerOp: elapsedNs / n, value: elapsedNs / n, extra: { tasksPerSec: 1e9 / (elapsedNs / n) } };
}

const thruExtras = { perSec: { label: 'values/s', unit: 'count' }, rejected: { label: 'rejected publishes', unit: 'count' } };
const latExtras = { p90: { label: 'p90', unit: 'µs' }, p99: { label: 'p99', unit: 'µs' } };
const taskExtras = { tasksPerSec: { label: 'tasks/s', unit: 'count' } };
const common = { fixed: true, step: 1, maxRuns: 5, timeoutS: 120, skip: () => noServer };
const thruTitle = `1 producer process (${INFLIGHT} sends in flight) → 1 consumer process, ${THRU.toLocaleString('en-US')} numbers, capacity ${CAPACITY} (per value)`;
const latTitle = `one value at a time, producer process → consumer process, send start → value in hand (median of ${LAT.toLocaleString('en-US')})`;

export const NATS_CASES = {
  'nats.chan': {
    title: `weft/nats RemoteChan send → recv (${INFLIGHT} receivers waiting): ${thruTitle}`,
    n0: THRU, quickN: THRU, extras: thruExtras, ...common,
    run: ({ n }) => throughput('weft', n),
  },
  'nats.rawChan': {
    title: `raw JetStream publish → consume(max_messages ${INFLIGHT}) + ack(): ${thruTitle}`,
    n0: THRU, quickN: THRU, extras: thruExtras, ...common,
    run: ({ n }) => throughput('raw', n),
  },
  'nats.rawChanAckAck': {
    title: `raw JetStream publish → consume(max_messages ${INFLIGHT}) + await ackAck(): ${thruTitle}`,
    n0: THRU, quickN: THRU, extras: thruExtras, ...common,
    run: ({ n }) => throughput('raw', n, true),
  },
  'nats.lat': {
    title: `weft/nats send → recv (acknowledged): ${latTitle}`,
    n0: LAT, quickN: LAT, unit: 'µs', extras: latExtras, ...common,
    run: ({ n }) => latency('weft', n),
  },
  'nats.rawLat': {
    title: `raw JetStream publish → consume + ack(): ${latTitle}`,
    n0: LAT, quickN: LAT, unit: 'µs', extras: latExtras, ...common,
    run: ({ n }) => latency('raw', n),
  },
  'nats.rawLatAckAck': {
    title: `raw JetStream publish → consume + await ackAck(): ${latTitle}`,
    n0: LAT, quickN: LAT, unit: 'µs', extras: latExtras, ...common,
    run: ({ n }) => latency('raw', n, true),
  },
  'nats.queue': {
    title: `RemoteQueue.go: ${TASKS_N.toLocaleString('en-US')} tiny tasks submitted then awaited, ${SERVERS} serving processes (concurrency ${SERVE_CONCURRENCY} each) (per task)`,
    weft: true, n0: TASKS_N, quickN: TASKS_N, extras: taskExtras, ...common,
    run: ({ n, weft }) => queueBurst(n, weft),
  },
  'nats.localGo': {
    title: `local go(): the same ${TASKS_N.toLocaleString('en-US')} tiny tasks, 2 threads (per task)`,
    weft: true, n0: TASKS_N, quickN: TASKS_N, extras: taskExtras, ...common, skip: undefined,
    run: ({ n, weft }) => localBurst(n, weft),
  },
};

export const NATS_ROWS = [
  {
    title: `13.1 weft/nats RemoteChan throughput, 1 producer → 1 consumer process, small values (per value)`,
    weft: 'nats.chan', rate: true, info: ['rejected'],
    baselines: { 'raw JetStream (ack)': 'nats.rawChan', 'raw JetStream (ackAck)': 'nats.rawChanAckAck' },
    targets: [{
      text: '≥ 80% of raw JetStream (ack) throughput',
      eval: (w, b) => (b['raw JetStream (ack)'] === undefined ? null : b['raw JetStream (ack)'] / w >= 0.8),
      miss: (w, b) => `${((100 * b['raw JetStream (ack)']) / w).toFixed(0)}% of raw`,
    }],
  },
  {
    title: '13.2 weft/nats end-to-end latency one value at a time, p50',
    weft: 'nats.lat', info: ['p90', 'p99'],
    baselines: { 'raw JetStream (ack)': 'nats.rawLat', 'raw JetStream (ackAck)': 'nats.rawLatAckAck' },
    targets: [{
      text: '≤ 1.2× raw JetStream (ack)',
      eval: (w, b) => (b['raw JetStream (ack)'] === undefined ? null : w / b['raw JetStream (ack)'] <= 1.2),
      miss: (w, b) => `${(w / b['raw JetStream (ack)']).toFixed(2)}× raw`,
    }],
  },
  {
    title: `13.3 RemoteQueue tiny tasks across ${SERVERS} serving processes (per task), beside local go()`,
    weft: 'nats.queue', info: ['tasksPerSec'],
    baselines: { 'local go()': 'nats.localGo' },
    targets: [{ text: 'reported', eval: () => true, miss: () => '' }],
  },
];
