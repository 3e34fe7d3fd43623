// Child process: measures one case (`node bench/case.js <id>`), printing JSON lines:
// { type: 'calib'|'run', n, nsPerOp, value, extra, elapsedMs } ..., then { type: 'done' },
// or { type: 'skip', reason } / { type: 'error', message }.
// Cases with `fixed: true` run their fixed workload (n0, or quickN in quick mode) without
// calibration; `maxRuns` caps the number of measured runs (for long cases).
import { CASES } from './cases.js';
import { QUICK, RUNS, TARGET_MS, WEFT_MODULE, runOnce, roundTo } from './lib.js';

const emit = (o) => process.stdout.write(JSON.stringify(o) + '\n');
const log = (s) => process.stderr.write(s + '\n');

const id = process.argv[2];
const c = CASES[id];
if (!c) {
  emit({ type: 'error', message: `unknown case ${id}` });
  process.exit(2);
}

/** Loads weft, or returns the reason it cannot be used for this case. */
async function loadWeft() {
  let weft;
  try {
    weft = await import(WEFT_MODULE);
  } catch (e) {
    return { reason: `weft not importable: ${e.message.split('\n')[0]}` };
  }
  const missing = (c.requires ?? []).filter((req) => {
    const [name, method] = req.split('#');
    const v = weft[name];
    return method ? typeof v?.prototype?.[method] !== 'function' : v === undefined;
  });
  return missing.length ? { reason: `weft API incomplete: missing ${missing.join(', ')}` } : { weft };
}

// A case that cannot run here (e.g. no nats-server on PATH) says why.
const skipReason = c.skip?.();
if (skipReason) {
  emit({ type: 'skip', reason: skipReason });
  process.exit(0);
}

let weft = null;
if (c.weft) {
  const r = await loadWeft();
  if (!r.weft) {
    emit({ type: 'skip', reason: r.reason });
    process.exit(0);
  }
  weft = r.weft;
}

const MAX_N = 500_000_000;
let phase = 'calibration';
try {
  // Calibrate n so one run takes about TARGET_MS (these runs also warm up the machine).
  let n = QUICK ? c.quickN : c.n0;
  if (!QUICK && !c.fixed) {
    for (let k = 0; ; k++) {
      log(`${id}: calibrating n=${n}`);
      const r = await runOnce(c, n, weft);
      const ms = r.elapsedNs / 1e6;
      emit({ type: 'calib', n, nsPerOp: r.nsPerOp, elapsedMs: ms });
      const scale = TARGET_MS / Math.max(ms, 0.01);
      if (ms >= TARGET_MS / 5 || k === 4) {
        n = roundTo(Math.min(MAX_N, n * scale), c.step);
        break;
      }
      n = roundTo(Math.min(MAX_N, n * Math.min(scale, 20)), c.step);
    }
  }
  const runs = Math.min(RUNS, c.maxRuns ?? RUNS);
  for (let i = 0; i < runs; i++) {
    phase = `run ${i + 1}/${runs} (n=${n})`;
    log(`${id}: ${phase}`);
    const r = await runOnce(c, n, weft);
    emit({ type: 'run', n, nsPerOp: r.nsPerOp, value: r.value, extra: r.extra, elapsedMs: r.elapsedNs / 1e6 });
  }
  emit({ type: 'done' });
} catch (e) {
  emit({ type: 'error', message: `${phase}: ${e?.stack ?? e}` });
  process.exitCode = 1;
}
// Do not wait for anything still holding the event loop (e.g. a leaked handle in weft).
process.exit();
