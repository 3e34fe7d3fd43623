// Go baselines: runs /work/shared/anchors/go (channels_test.go) in a temporary copy
// with GOMAXPROCS=2 and reports the median ns/op per benchmark. (MutexContended uses
// b.SetParallelism(2) with b.RunParallel: 2 × GOMAXPROCS = 4 goroutines on 2 OS threads.)
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { median, runChild } from './lib.js';

export const GO_DIR = process.env.BENCH_GO_DIR ?? '/work/shared/anchors/go';
// Benchmarks of channels_test.go that report rows refer to (as go:<name>).
const BENCHES = ['BufferedSPSC', 'UnbufferedPingPong', 'MPMC4x4', 'Select2', 'MutexContended'];

function findGo() {
  for (const cand of [process.env.GO ?? 'go', '/usr/bin/go', '/usr/lib/go/bin/go', '/usr/local/go/bin/go']) {
    const r = spawnSync(cand, ['version'], { encoding: 'utf8' });
    if (r.status === 0) return { go: cand, version: r.stdout.trim() };
  }
  return null;
}

/**
 * Resolves { available: false, reason } or
 * { available: true, version, gomaxprocs, results: { name: { samples, median } }, error? }.
 */
export async function runGoBaselines({ quick, timeoutMs }) {
  const found = findGo();
  if (!found) return { available: false, reason: 'go binary not found' };
  if (!existsSync(join(GO_DIR, 'channels_test.go'))) return { available: false, reason: `${GO_DIR}/channels_test.go missing` };

  const dir = mkdtempSync(join(tmpdir(), 'weft-bench-go-'));
  const gomaxprocs = process.env.BENCH_GOMAXPROCS ?? '2';
  try {
    cpSync(GO_DIR, dir, { recursive: true });
    const args = ['test', '-run', '^$', '-bench', `^Benchmark(${BENCHES.join('|')})$`,
      `-benchtime=${quick ? '200ms' : '1s'}`, `-count=${quick ? 1 : 3}`];
    const lines = [];
    const r = await runChild(found.go, args, {
      cwd: dir,
      timeoutMs,
      env: {
        ...process.env,
        GOMAXPROCS: gomaxprocs,
        GOFLAGS: '-mod=mod',
        GOPROXY: 'off',
        GOTOOLCHAIN: 'local',
        GOCACHE: process.env.GOCACHE ?? join(tmpdir(), 'weft-bench-gocache'),
      },
      onLine: (o) => lines.push(o.type === 'text' ? o.line : JSON.stringify(o)),
    });
    const samples = {};
    for (const line of lines) {
      const m = /^Benchmark(\w+?)(?:-\d+)?\s+\d+\s+([\d.]+) ns\/op/.exec(line);
      if (m) (samples[m[1]] ??= []).push(Number(m[2]));
    }
    const results = Object.fromEntries(Object.entries(samples).map(([k, v]) => [k, { samples: v, median: median(v) }]));
    const missing = BENCHES.filter((b) => !results[b]);
    const error = r.timedOut ? `go test timed out after ${timeoutMs / 1000} s`
      : r.code !== 0 ? `go test exited with ${r.code}: ${(r.stderr || lines.join('\n')).slice(-500)}`
      : missing.length ? `no result for ${missing.join(', ')}` : undefined;
    return { available: true, version: found.version, gomaxprocs, results, error };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
