// Shared helpers for the benchmark harness: configuration, statistics, formatting,
// worker spawning with a start barrier, and child-process supervision.
import { Worker } from 'node:worker_threads';
import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { roles } from './roles.js';

// ---------------------------------------------------------------- configuration

const envNum = (name) => {
  const v = process.env[name];
  if (v === undefined || v === '') return undefined;
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0) throw new RangeError(`${name} must be a positive number, got ${JSON.stringify(v)}`);
  return n;
};

export const QUICK = process.env.BENCH_QUICK === '1';
/** Measured runs per case (the median of these is reported). */
export const RUNS = Math.round(envNum('BENCH_RUNS') ?? (QUICK ? 1 : 5));
/** Wanted duration of one measured run; N is calibrated to it (no calibration in quick mode). */
export const TARGET_MS = envNum('BENCH_TARGET_MS') ?? 500;
/** Per-case wall-clock limit (child process is killed after it). */
export const TIMEOUT_S = envNum('BENCH_TIMEOUT') ?? Math.max(60, RUNS * 8 + 20);
/** Optional regular expression selecting case ids, e.g. BENCH_FILTER='^weft\.|^pm\.f64$'. */
export const FILTER = process.env.BENCH_FILTER ? new RegExp(process.env.BENCH_FILTER) : null;

/** Module measured as weft: the package itself, or BENCH_WEFT_MODULE=path/to/index.js (another build). */
export const WEFT_MODULE = process.env.BENCH_WEFT_MODULE
  ? pathToFileURL(resolve(process.env.BENCH_WEFT_MODULE)).href
  : 'weft';

export const now = () => process.hrtime.bigint();

// ---------------------------------------------------------------- statistics / formatting

export function median(xs) {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** Triangular number 0 + 1 + ... + (n-1): the checksum of values 0..n-1. */
export const tri = (n) => (n * (n - 1)) / 2;

export const roundTo = (x, step) => Math.max(step, Math.round(x / step) * step);

/** ns with ~3 significant digits and thousands separators. */
export function fmtNs(ns) {
  if (!Number.isFinite(ns)) return '—';
  if (ns < 10) return ns.toFixed(2);
  if (ns < 100) return ns.toFixed(1);
  return Math.round(ns).toLocaleString('en-US');
}

export function fmtRate(perSec) {
  if (perSec >= 1e6) return `${(perSec / 1e6).toFixed(1)} M/s`;
  if (perSec >= 1e3) return `${(perSec / 1e3).toFixed(1)} k/s`;
  return `${perSec.toFixed(0)} /s`;
}

/** A value in `unit` ('ns' = ns/op, 'µs', 'ms', 'count'), with the unit appended except for ns/op. */
export function fmtVal(v, unit = 'ns') {
  if (!Number.isFinite(v)) return '—';
  if (unit === 'ns') return fmtNs(v);
  if (unit === 'count') return Math.round(v).toLocaleString('en-US');
  const num = Math.abs(v) < 1 ? v.toFixed(3) : Math.abs(v) < 100 ? v.toFixed(2) : fmtNs(v);
  return `${num} ${unit}`;
}

/** The p-th percentile (0..100) of xs, nearest-rank. */
export function percentile(xs, p) {
  if (xs.length === 0) return NaN;
  const s = Float64Array.from(xs).sort();
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))];
}

/** Aggregates the per-run samples of one metric: 'median' (default), 'max', 'min'. */
export function aggregate(xs, how = 'median') {
  if (xs.length === 0) return NaN;
  if (how === 'max') return Math.max(...xs);
  if (how === 'min') return Math.min(...xs);
  return median(xs);
}

export const fmtX = (r) => (r >= 100 ? r.toFixed(0) : r >= 10 ? r.toFixed(1) : r.toFixed(2)) + '×';

/** "19.6× faster" / "1.23× slower" for weft vs a baseline (both ns/op). */
export function fmtRatio(weftNs, baseNs) {
  const r = weftNs / baseNs;
  return r <= 1 ? `${fmtX(1 / r)} faster` : `${fmtX(r)} slower`;
}

export function markdownTable(header, rows) {
  const esc = (c) => String(c).replace(/\|/g, '\\|');
  return [
    `| ${header.map(esc).join(' | ')} |`,
    `| ${header.map(() => '---').join(' | ')} |`,
    ...rows.map((r) => `| ${r.map(esc).join(' | ')} |`),
  ].join('\n');
}

// ---------------------------------------------------------------- one measured run

const WORKER_URL = new URL('./worker.js', import.meta.url);

/**
 * Runs one instance of case `c` with `n` operations:
 * spawns the workers described by `c.setup()`, waits until all of them are ready,
 * releases them together through a SharedArrayBuffer barrier, optionally runs a role
 * on this (main) thread, collects { start, end, count?, sum?, ... } from every participant
 * and returns elapsed = max(end) - min(start) (process.hrtime, same clock in all threads),
 * nsPerOp = elapsed / n, and the case's metrics: value (the reported one; default nsPerOp)
 * and extra ({ name: number }) from `c.measure`. `c.expect` / `c.check` throw when a run
 * computed something wrong.
 */
export async function runOnce(c, n, weft) {
  // A case that runs its own workload (bench/pool.js: task pools) reports its own numbers.
  if (c.run) return c.run({ n, weft });
  const barrier = new Int32Array(new SharedArrayBuffer(4));
  const s = c.setup({ n, weft });
  const total = s.workers.length + (s.main ? 1 : 0);
  const results = [];
  const workers = [];
  let ready = 0;

  let failed = true;
  try {
    await new Promise((resolve, reject) => {
      const collect = (r) => {
        results.push(r);
        if (results.length === total) resolve();
      };
      const release = () => {
        Atomics.store(barrier, 0, 1);
        Atomics.notify(barrier, 0);
        if (s.main) {
          const ctx = { n, index: 0, data: s.main.data ?? {}, chans: s.shared ?? null, weft, ready: now };
          Promise.resolve()
            .then(() => roles[s.main.role](ctx))
            .then((r) => collect({ role: s.main.role, ...r }), reject);
        }
      };
      s.workers.forEach((w, index) => {
        let reported = false;
        const worker = new Worker(WORKER_URL, {
          workerData: {
            role: w.role, n, index, barrier, data: w.data ?? {},
            shared: s.shared ? weft.share(s.shared) : null, weft: weft !== null,
          },
          transferList: w.transfer ?? [],
        });
        workers.push(worker);
        worker.on('message', (m) => {
          if (m.type === 'ready') {
            if (++ready === s.workers.length) release();
          } else if (m.type === 'result') {
            reported = true;
            collect({ role: w.role, ...m.result });
          }
        });
        worker.on('error', (e) => reject(Object.assign(new Error(`worker ${w.role}#${index}: ${e?.stack ?? e}`), { cause: e })));
        worker.on('exit', (code) => {
          if (!reported) reject(new Error(`worker ${w.role}#${index} exited (code ${code}) without a result`));
        });
      });
      if (s.workers.length === 0) release();
    });
    failed = false;
  } finally {
    if (failed) {
      // Report the failure even if a worker stuck in a blocking call cannot be terminated.
      for (const w of workers) w.terminate().catch(() => {});
    } else {
      process.stderr.write('  all results in; terminating workers\n');
      await Promise.all(workers.map((w) => w.terminate()));
    }
  }

  let start = results[0].start, end = results[0].end;
  for (const r of results) {
    if (r.start < start) start = r.start;
    if (r.end > end) end = r.end;
  }
  const elapsedNs = Number(end - start);

  if (c.expect) {
    const want = c.expect(n);
    const got = { count: 0, sum: 0 };
    for (const r of results) {
      if (r.count !== undefined) got.count += r.count;
      if (r.sum !== undefined) got.sum += r.sum;
    }
    for (const k of Object.keys(want)) {
      if (got[k] !== want[k]) throw new Error(`check failed: ${k} = ${got[k]}, expected ${want[k]} (n=${n})`);
    }
  }
  const run = { n, elapsedNs, results, setup: s, byRole: (role) => results.filter((r) => r.role === role) };
  c.check?.(run);
  const { value = elapsedNs / n, ...extra } = c.measure?.(run) ?? {};
  return { n, elapsedNs, nsPerOp: elapsedNs / n, value, extra };
}

// ---------------------------------------------------------------- child processes

/**
 * Runs `node script ...args`; calls onLine(obj) for each JSON line on stdout.
 * Resolves { code, signal, timedOut, stderr } and kills the child (SIGKILL) after timeoutMs.
 */
export function runChild(cmd, args, { timeoutMs, onLine, env, cwd }) {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { env: env ?? process.env, cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '', err = '', timedOut = false;
    const timer = setTimeout(() => { timedOut = true; child.kill('SIGKILL'); }, timeoutMs);
    child.stdout.setEncoding('utf8').on('data', (d) => {
      out += d;
      let i;
      while ((i = out.indexOf('\n')) >= 0) {
        const line = out.slice(0, i);
        out = out.slice(i + 1);
        if (!onLine) continue;
        let obj = null;
        try { obj = JSON.parse(line); } catch { obj = { type: 'text', line }; }
        onLine(obj);
      }
    });
    child.stderr.setEncoding('utf8').on('data', (d) => { err = (err + d).slice(-20000); });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (out && onLine) onLine({ type: 'text', line: out });
      resolve({ code, signal, timedOut, stderr: err });
    });
  });
}

// ---------------------------------------------------------------- report conditions
// A condition maps (the row's value, { baseline label: ns/op }, the value's per-run samples)
// to true / false / null (not measurable), with the text of the target and of a miss.

/** value ≤ factor × the baseline `label`. */
export const atMost = (label, factor) => ({
  text: `≤ ${factor}× ${label}`,
  eval: (w, b) => (b[label] === undefined ? null : w <= factor * b[label]),
  miss: (w, b) => `${(w / b[label]).toFixed(2)}× ${label}`,
});
/** The baseline `label` ≥ factor × value. */
export const faster = (label, factor) => ({
  text: `≥ ${factor}× faster than ${label}`,
  eval: (w, b) => (b[label] === undefined ? null : b[label] / w >= factor),
  miss: (w, b) => `${fmtRatio(w, b[label])} than ${label}`,
});
/** value ≤ max (in the row's unit); text is how the limit reads, e.g. '5 µs'. */
export const limit = (max, text, unit = 'ns') => ({
  text: `≤ ${text}`,
  eval: (w) => w <= max,
  miss: (w) => `${fmtVal(w, unit)}${unit === 'ns' ? ' ns' : ''} > ${text}`,
});
