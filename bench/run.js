// weft benchmark harness: `npm run bench` (= node bench/run.js).
//
// Measures each case of bench/cases.js in its own child process (so a crash or hang in one
// case cannot take the others down; each is killed after BENCH_TIMEOUT seconds), then Go's
// benchmarks (channels, select, contended mutex), and prints / writes bench/results/latest.md
// with the median of each case (ns/op, or the case's own unit: lateness ms, ticks, µs, ...)
// and one row per report target (bench/cases.js ROWS) with pass/miss.
//
// Environment:
//   BENCH_RUNS=5        measured runs per case (median reported; the 10 s Ticker case runs at most 3)
//   BENCH_QUICK=1       smoke run: small fixed N, 1 run, 2 s Ticker, short Go benchtime
//   BENCH_TARGET_MS=500 calibrated duration of one run
//   BENCH_TIMEOUT=60    per-case limit in seconds
//   BENCH_FILTER=re     only case ids matching the regular expression (e.g. '^weft\.')
//   BENCH_NO_GO=1       skip the Go baselines
//   BENCH_WEFT_MODULE=p measure another build of weft (path to its index.js) instead of the package
import { execSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CASES, ROWS } from './cases.js';
import { writeChart } from './chart.js';
import { runGoBaselines } from './go.js';
import {
  FILTER, QUICK, RUNS, TARGET_MS, TIMEOUT_S,
  aggregate, fmtNs, fmtRate, fmtRatio, fmtVal, markdownTable, median, runChild,
} from './lib.js';

const CASE_SCRIPT = fileURLToPath(new URL('./case.js', import.meta.url));
const RESULTS_DIR = fileURLToPath(new URL('./results/', import.meta.url));

/** Runs one case in a child process; returns { id, status, samples, extra, n, message? }. */
async function measureCase(id) {
  const c = CASES[id];
  const unit = c.unit ?? 'ns';
  const timeoutS = c.timeoutS ?? TIMEOUT_S;
  // samples: the case's reported value per run; extra: { metric: [value per run] }.
  const res = { id, title: c.title, unit, status: 'ok', samples: [], extra: {}, n: 0 };
  let last = '';
  process.stdout.write(`  ${id.padEnd(14)} `);
  const r = await runChild(process.execPath, [CASE_SCRIPT, id], {
    timeoutMs: timeoutS * 1000,
    onLine: (o) => {
      last = o.type;
      if (o.type === 'run') {
        res.samples.push(o.value);
        for (const [k, v] of Object.entries(o.extra ?? {})) (res.extra[k] ??= []).push(v);
        res.n = o.n;
        process.stdout.write(`${fmtVal(o.value, unit)} `);
      } else if (o.type === 'calib') {
        process.stdout.write('.');
      } else if (o.type === 'skip') {
        res.status = 'skip';
        res.message = o.reason;
      } else if (o.type === 'error') {
        res.status = 'error';
        res.message = o.message;
      }
    },
  });
  if (r.timedOut && res.status === 'error') {
    res.message += `\n(then the process hung and was killed after ${timeoutS} s)`;
  } else if (r.timedOut) {
    res.status = 'timeout';
    const where = r.stderr.trim().split('\n').pop() ?? '';
    res.message = `killed after ${timeoutS} s (last progress: ${where || 'none'})`;
  } else if (res.status === 'ok' && (r.code !== 0 || last !== 'done')) {
    res.status = 'error';
    res.message = `child exited with code ${r.code}${r.signal ? ` / ${r.signal}` : ''}: ${r.stderr.trim().split('\n').slice(-8).join('\n')}`;
  }
  res.median = median(res.samples);
  res.stats = Object.fromEntries(Object.entries(res.extra).map(([k, xs]) => [k, aggregate(xs, c.extras?.[k]?.agg)]));
  const tail = res.status === 'ok' ? `→ median ${fmtVal(res.median, unit)}${unit === 'ns' ? ' ns/op' : ''} (n=${res.n})`
    : `${res.status.toUpperCase()}: ${res.message.split('\n')[0]}`;
  console.log(tail);
  return res;
}

/** "label value" for the extra metrics of a measured case (aggregated over its runs). */
function extrasText(r, keys = Object.keys(r.stats ?? {})) {
  const defs = CASES[r.id]?.extras ?? {};
  return keys.filter((k) => k in (r.stats ?? {})).map((k) => {
    const d = defs[k] ?? {};
    const agg = d.agg && d.agg !== 'median' ? ` (${d.agg} of runs)` : '';
    return `${d.label ?? k} ${fmtVal(r.stats[k], d.unit ?? 'ns')}${agg}`;
  }).join('; ');
}

/**
 * weft / baseline cell texts and pass/miss for one report row. A row reports the case's value,
 * or one of its extra metrics (row.metric); targets see that metric's aggregate, the baselines'
 * medians and the metric's per-run samples.
 */
function renderRow(row, byId) {
  const w = byId[row.weft];
  const def = CASES[row.weft] ?? {};
  const unit = row.metric ? def.extras?.[row.metric]?.unit ?? 'ns' : def.unit ?? 'ns';
  const samples = !w ? [] : row.metric ? w.extra[row.metric] ?? [] : w.samples;
  const val = !w ? NaN : row.metric ? w.stats[row.metric] : w.median;
  const base = {};
  const baseCells = [], ratioCells = [];
  for (const [label, id] of Object.entries(row.baselines ?? {})) {
    const b = byId[id];
    if (b?.status === 'ok' || (b && b.samples.length)) {
      base[label] = b.median;
      baseCells.push(`${label} ${fmtNs(b.median)}`);
    } else {
      baseCells.push(`${label} n/a`);
    }
  }
  const weftOk = samples.length > 0;
  let weftCell = !w ? 'not run' : weftOk ? fmtVal(val, unit) : `${w.status}`;
  if (weftOk && row.rate) weftCell += ` (${fmtRate(1e9 / val)})`;
  if (weftOk && row.info) weftCell += ` (${extrasText(w, row.info)})`;
  if (weftOk && w.status !== 'ok') weftCell += ` (partial: ${w.samples.length} run(s), then ${w.status})`;
  for (const label of Object.keys(base)) if (weftOk) ratioCells.push(`${label}: ${fmtRatio(val, base[label])}`);

  let verdict;
  if (!weftOk) {
    verdict = 'n/a';
  } else {
    const evals = row.targets.map((t) => ({ t, ok: t.eval(val, base, samples) }));
    const missed = evals.filter((e) => e.ok === false);
    const unknown = evals.filter((e) => e.ok === null);
    if (missed.length) verdict = `**miss** (${missed.map((e) => e.t.miss(val, base, samples)).join('; ')})`;
    else if (unknown.length) verdict = `n/a (${unknown.map((e) => e.t.text).join('; ')}: baseline missing)`;
    else verdict = 'pass';
  }
  return [row.title, weftCell, baseCells.join('; ') || '—', ratioCells.join('; ') || '—',
    row.targets.map((t) => t.text).join(', '), verdict];
}

/** What was measured: the package at its git commit (noting uncommitted lib/native changes), or BENCH_WEFT_MODULE. */
function weftVersion() {
  if (process.env.BENCH_WEFT_MODULE) return `BENCH_WEFT_MODULE=${process.env.BENCH_WEFT_MODULE}`;
  try {
    const git = (args) => execSync(`git ${args}`, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    const dirty = git('status --porcelain -- lib native binding.gyp') !== '';
    return `package at commit ${git('rev-parse --short HEAD')}${dirty ? ' with uncommitted changes in lib/ or native/' : ''}`;
  } catch {
    return 'package (git unavailable)';
  }
}

function nproc() {
  try { return execSync('nproc', { encoding: 'utf8' }).trim(); } catch { return String(os.availableParallelism()); }
}

async function main() {
  const ids = Object.keys(CASES).filter((id) => !FILTER || FILTER.test(id));
  const started = new Date();
  const loadBefore = os.loadavg().map((x) => x.toFixed(2)).join(' ');
  console.log(`weft bench: ${RUNS} run(s) per case${QUICK ? ' (QUICK)' : `, ~${TARGET_MS} ms each`}, timeout ${TIMEOUT_S} s per case`);
  console.log(`node ${process.version}, nproc ${nproc()}, ${os.cpus()[0]?.model ?? '?'}, load average ${loadBefore}\n`);
  if (os.loadavg()[0] > 0.5) console.log('warning: the machine is busy; numbers will be noisy\n');

  const byId = {};
  console.log('node cases (ns/op per run):');
  for (const id of ids) byId[id] = await measureCase(id);

  let go = { available: false, reason: 'disabled (BENCH_NO_GO=1)' };
  const wantGo = process.env.BENCH_NO_GO !== '1' && (!FILTER || FILTER.test('go:'));
  if (wantGo) {
    console.log('\nGo baselines (go test -bench, GOMAXPROCS=2):');
    go = await runGoBaselines({ quick: QUICK, timeoutMs: 300_000 });
    if (!go.available) console.log(`  skipped: ${go.reason}`);
    else {
      for (const [name, r] of Object.entries(go.results)) {
        console.log(`  ${name.padEnd(20)} ${r.samples.map(fmtNs).join(' ')} → median ${fmtNs(r.median)} ns/op`);
        byId[`go:${name}`] = { id: `go:${name}`, title: `Go ${name} (${go.version}, GOMAXPROCS=${go.gomaxprocs})`, unit: 'ns', status: 'ok', samples: r.samples, median: r.median };
      }
      if (go.error) console.log(`  error: ${go.error}`);
    }
  } else if (FILTER) {
    go = { available: false, reason: 'filtered out (BENCH_FILTER)' };
  }

  const header = ['case', 'weft median (ns/op unless a unit is given)', 'baseline(s) ns/op', 'ratio vs each baseline', 'target', 'pass/miss'];
  const table = markdownTable(header, ROWS.map((row) => renderRow(row, byId)));

  const detail = markdownTable(
    ['id', 'what', 'median (ns/op unless a unit is given)', 'min', 'max', 'runs', 'n per run', 'other metrics', 'status'],
    Object.values(byId).map((r) => [r.id, r.title, fmtVal(r.median, r.unit), fmtVal(Math.min(...r.samples), r.unit),
      fmtVal(Math.max(...r.samples), r.unit), r.samples.length, r.n ?? '—', extrasText(r) || '—',
      r.status === 'ok' ? 'ok' : `${r.status}: ${r.message?.split('\n')[0]}`]),
  );
  const problems = Object.values(byId).filter((r) => r.status !== 'ok');

  console.log('\n' + table + '\n');
  if (problems.length) {
    console.log('Problems:');
    for (const p of problems) console.log(`  ${p.id}: ${p.status}: ${p.message}`);
  }

  const md = [
    '# weft benchmark results',
    '',
    `- date: ${started.toISOString()}`,
    `- weft: ${weftVersion()}`,
    `- node: ${process.version} (${process.platform}/${process.arch})`,
    `- nproc: ${nproc()} (${os.cpus()[0]?.model ?? '?'})`,
    `- load average (1/5/15 min): ${loadBefore} at start, ${os.loadavg().map((x) => x.toFixed(2)).join(' ')} at end`,
    `- go: ${go.available ? `${go.version}, GOMAXPROCS=${go.gomaxprocs}${go.error ? ` (error: ${go.error})` : ''}` : `n/a (${go.reason})`}`,
    `- runs per case: ${RUNS}${QUICK ? ' (BENCH_QUICK=1: small fixed N, not representative)' : `, N calibrated to ~${TARGET_MS} ms per run`}; medians reported`,
    '- ns/op: per value for one-way cases, per round trip for ping-pong, per lock/unlock or add/done pair for sync cases (all threads together); elapsed = first start to last end over all threads, after a start barrier',
    '- cases with a unit (ms, µs, count) report what their title says (lateness percentiles, tick counts, cancel time, checks); targets marked "all runs" / "max of runs" look at every run, not the median',
    '',
    table,
    '',
    '## All measurements',
    '',
    detail,
    '',
    ...(problems.length ? ['## Problems', '', ...problems.map((p) => `- \`${p.id}\` ${p.status}: ${p.message.replace(/\n/g, '\n  ')}`), ''] : []),
  ].join('\n');

  mkdirSync(RESULTS_DIR, { recursive: true });
  writeFileSync(join(RESULTS_DIR, 'latest.md'), md);
  writeFileSync(join(RESULTS_DIR, 'latest.json'),
    JSON.stringify({ date: started.toISOString(), node: process.version, nproc: nproc(), runs: RUNS, quick: QUICK, go, cases: byId }, null, 2));
  writeChart(join(RESULTS_DIR, 'latest.json'), join(RESULTS_DIR, 'latest.svg'));
  console.log(`\nwritten: bench/results/latest.md, latest.json, latest.svg`);
}

await main();
