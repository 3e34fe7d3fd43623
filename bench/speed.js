// Issue 11's speed rows ("within reach of Go"): the rows that reuse cases measured elsewhere in
// cases.js, with the targets, plus the cases only this issue asks for: `for await` on
// main, a 10 MB string through a channel beside structuredClone, and memory per idle channel
// beside Go's (bench/go/chanmem, run with `go run`).
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { QUICK, WEFT_MODULE, atMost, faster, fmtVal, limit, median, runChild } from './lib.js';

const CAP = 1024;
const STR_MB = 10;
const MEM_COUNT = { 0: QUICK ? 20_000 : 100_000, [CAP]: QUICK ? 500 : 2_000 };
const CHANMEM = fileURLToPath(new URL('./chanmem.mjs', import.meta.url));
const GO_CHANMEM = fileURLToPath(new URL('./go/chanmem/', import.meta.url));

/** A flat one-byte string of `mb` MB with varied content (not a rope, not one repeated char). */
function bigString(mb) {
  const chunk = Array.from({ length: 1024 }, (_, i) => String.fromCharCode(32 + ((i * 7919) % 95))).join('');
  let s = chunk.repeat(mb * 1024);
  s = s.slice(0, -1) + '!';
  return s;
}

/** `iters` timed repetitions of fn (after one warm-up); the median ms. */
function timeMedian(iters, fn) {
  fn();
  const ms = [];
  for (let i = 0; i < iters; i++) {
    const t = process.hrtime.bigint();
    fn();
    ms.push(Number(process.hrtime.bigint() - t) / 1e6);
  }
  return median(ms);
}

/** Bytes per idle weft channel (RSS growth in a child process with --expose-gc). */
async function weftChanMem(capacity) {
  let got;
  const r = await runChild(process.execPath, ['--expose-gc', CHANMEM, WEFT_MODULE, String(capacity), String(MEM_COUNT[capacity])], {
    timeoutMs: 120_000,
    onLine: (o) => { if (o.type === undefined && o.bytesPerChan !== undefined) got = o.bytesPerChan; },
  });
  if (got === undefined) throw new Error(`chanmem exited with ${r.code}: ${r.stderr?.slice(-300)}`);
  return got;
}

/** Bytes of Go heap per idle channel (HeapAlloc growth), or a reason Go could not run. */
function goChanMem(capacity) {
  const r = spawnSync('go', ['run', '.', String(capacity), String(MEM_COUNT[capacity])], {
    cwd: GO_CHANMEM, encoding: 'utf8', timeout: 300_000,
    env: { ...process.env, GOFLAGS: '-mod=mod', GOPROXY: 'off', GOTOOLCHAIN: 'local' },
  });
  if (r.error) return { skip: `go not runnable: ${r.error.message}` };
  if (r.status !== 0) throw new Error(`go run chanmem exited with ${r.status}: ${r.stderr.slice(-300)}`);
  return JSON.parse(r.stdout.trim().split('\n').pop()).bytesPerChan;
}
const haveGo = () => (spawnSync('go', ['version']).status === 0 ? undefined : 'go binary not found (apt-get install golang-go)');

export const SPEED_CASES = {
  'weft.forAwait': {
    title: `weft for await (const v of ch) on main, f64 chan cap ${CAP} fed by a worker's sendSync (per value)`,
    weft: true, requires: ['Chan', 'share', 'attach', 'Chan#sendSync'],
    n0: 100_000, quickN: 20_000, step: 1,
    setup: ({ n, weft }) => ({
      shared: { ch: new weft.Chan(CAP, { elem: 'f64' }) },
      main: { role: 'weft.forAwait' },
      workers: [{ role: 'weft.send', data: { kind: 'num', count: n } }],
    }),
    expect: (n) => ({ count: n, sum: (n * (n - 1)) / 2 }),
  },
  'str.weft': {
    title: `weft: a ${STR_MB} MB string, sendSync + recvSync through a structured chan (cap 1), one thread (median ms of 5)`,
    weft: true, fixed: true, n0: 1, quickN: 1, step: 1, unit: 'ms', maxRuns: 3,
    run: ({ weft }) => {
      const s = bigString(STR_MB);
      const ch = new weft.Chan(1);
      let got;
      const value = timeMedian(5, () => { ch.sendSync(s); got = ch.recvSync(); });
      if (got.length !== s.length || got !== s) throw new Error('check failed: the string changed');
      return { elapsedNs: value * 1e6, nsPerOp: value * 1e6, value };
    },
  },
  'str.clone': {
    title: `structuredClone of the same ${STR_MB} MB string (median ms of 5)`,
    fixed: true, n0: 1, quickN: 1, step: 1, unit: 'ms', maxRuns: 3,
    run: () => {
      const s = bigString(STR_MB);
      let got;
      const value = timeMedian(5, () => { got = structuredClone(s); });
      if (got !== s) throw new Error('check failed');
      return { elapsedNs: value * 1e6, nsPerOp: value * 1e6, value };
    },
  },
  ...Object.fromEntries([0, CAP].flatMap((cap) => [
    [`mem.weft${cap}`, {
      title: `weft: bytes per idle f64 channel of capacity ${cap}, JS handle included (RSS growth over ${MEM_COUNT[cap].toLocaleString('en-US')} channels)`,
      weft: true, fixed: true, n0: 1, quickN: 1, step: 1, unit: 'B', maxRuns: 3,
      run: async () => { const v = await weftChanMem(cap); return { elapsedNs: 1, nsPerOp: 1, value: v }; },
    }],
    [`mem.go${cap}`, {
      title: `Go: bytes per idle chan float64 of capacity ${cap}, with its 8-byte reference (HeapAlloc growth over ${MEM_COUNT[cap].toLocaleString('en-US')})`,
      fixed: true, n0: 1, quickN: 1, step: 1, unit: 'B', maxRuns: 1, skip: haveGo, timeoutS: 400,
      run: () => { const v = goChanMem(cap); return { elapsedNs: 1, nsPerOp: 1, value: v }; },
    }],
  ])),
};

/** Every run at most `max` ns. */
const everyRun = (max, text) => ({
  text: `≤ ${text} in every run`,
  eval: (_, __, samples) => samples.every((x) => x <= max),
  miss: (_, __, samples) => `runs ${samples.map((x) => fmtVal(x, 'ns')).join(', ')} ns`,
});
const rateAtLeast = (perSec, text) => ({
  text: `≥ ${text}`,
  eval: (w) => 1e9 / w >= perSec,
  miss: (w) => `${(1e3 / w).toFixed(1)} M/s < ${text}`,
});

export const SPEED_ROWS = [
  {
    title: `11.1 f64 cap ${CAP}, one value per sendSync/recvSync, worker→worker`,
    weft: 'weft.f64',
    baselines: { Go: 'go:BufferedSPSC', 'SAB ring': 'sab.f64', 'plain MPMC ring': 'sab.mpmc1', postMessage: 'pm.f64' },
    targets: [atMost('Go', 1.2), atMost('SAB ring', 1.3), faster('postMessage', 15)],
  },
  {
    title: '11.2 f64 batches ×256 (per value)',
    weft: 'weft.batch',
    baselines: { 'SAB ring batch': 'sab.batch', 'SAB ring batch, new array each': 'sab.batchFresh' },
    targets: [atMost('SAB ring batch', 2), rateAtLeast(90e6, '90 M values/s')],
  },
  {
    title: '11.2b f64 batches ×256, received into a reused array (recvManyIntoSync, as the SAB ring\'s popMany) (per value)',
    weft: 'weft.batchInto',
    baselines: { 'SAB ring batch': 'sab.batch' },
    targets: [atMost('SAB ring batch', 2), rateAtLeast(90e6, '90 M values/s')],
  },
  {
    title: '11.3 f64 MPMC 4×4 (per value)',
    weft: 'weft.mpmc',
    baselines: { Go: 'go:MPMC4x4', 'plain MPMC ring': 'sab.mpmc' },
    targets: [atMost('Go', 1.5)],
  },
  {
    title: '11.4 selectSync over 2 chans fed by 2 producers (per value)',
    weft: 'weft.select',
    baselines: { Go: 'go:Select2' },
    targets: [atMost('Go', 2)],
  },
  {
    title: '11.5 await select on main over 2 chans fed by workers (per value)',
    weft: 'weft.selectMain',
    baselines: { 'postMessage fan-in': 'pm.fanIn' },
    targets: [faster('postMessage fan-in', 3)],
  },
  {
    title: '11.6 for await on main over a channel fed by a worker (per value)',
    weft: 'weft.forAwait',
    targets: [limit(250, '250 ns')],
  },
  {
    title: '11.7 structured {row,height,weight,name} worker→worker',
    weft: 'weft.row',
    baselines: { postMessage: 'pm.row' },
    targets: [faster('postMessage', 5)],
  },
  {
    title: `11.8 ${STR_MB} MB string, send+recv`,
    weft: 'str.weft',
    baselines: { structuredClone: 'str.clone' },
    targets: [atMost('structuredClone', 1.5)],
  },
  {
    title: '11.9 WaitGroup add+done, 4 threads (per pair)',
    weft: 'weft.wg4',
    targets: [everyRun(100, '100 ns')],
  },
  {
    title: '11.10a memory per idle unbuffered channel, JS handle included',
    weft: 'mem.weft0',
    baselines: { Go: 'mem.go0' },
    targets: [atMost('Go', 2)],
  },
  {
    title: `11.10b memory per idle f64 channel of capacity ${CAP}, JS handle included`,
    weft: `mem.weft${CAP}`,
    baselines: { Go: `mem.go${CAP}` },
    targets: [atMost('Go', 2)],
  },
  {
    title: '11.11a unbuffered ping-pong round trip, worker↔worker (no worse than the 1.6 µs when the issue was filed)',
    weft: 'weft.pp',
    targets: [limit(1_600, '1.6 µs')],
  },
  {
    title: '11.11b unbuffered ping-pong round trip, main↔worker (no worse than the 3.9–7 µs when the issue was filed)',
    weft: 'weft.ppMain',
    targets: [limit(7_000, '7 µs')],
  },
];
