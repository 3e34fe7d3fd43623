// Sizes that cannot be allocated end in a RangeError, never in an aborted process: channel
// capacity, recvMany's max (allocation follows what is received), a structured payload too big
// to copy, a select case list too long. In a child process with a 4 GiB address-space limit
// (or, when the suite runs against the ASan build, ASan's max_allocation_size_mb).
import { describe, it, expect } from 'vitest';
import { fixture } from './fixture.js';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import os from 'node:os';

const here = fileURLToPath(new URL('.', import.meta.url));
const script = fileURLToPath(fixture('hardening-alloc'));
const underAsan = /asan/.test(process.env.LD_PRELOAD ?? '');

function run() {
  if (underAsan) {
    // ASan reserves terabytes of shadow memory: no ulimit -v; cap single allocations instead
    const env = {
      ...process.env,
      ASAN_OPTIONS: `${process.env.ASAN_OPTIONS ?? ''}:allocator_may_return_null=1:max_allocation_size_mb=2048`,
    };
    return spawnSync(process.execPath, [script], { cwd: here, encoding: 'utf8', timeout: 120_000, env });
  }
  return spawnSync('/bin/sh', ['-c', `ulimit -v ${4 * 1024 * 1024} && exec "$0" "$1"`, process.execPath, script], {
    cwd: here, encoding: 'utf8', timeout: 120_000,
  });
}

describe('allocation failures', () => {
  it('become RangeError; the process survives and keeps working', () => {
    const r = run();
    const detail = `status ${r.status}, signal ${r.signal}\n${(r.stderr || '').slice(-3000)}\n${r.stdout}`;
    expect(r.signal, detail).toBe(null);
    expect(r.status, detail).toBe(0);
    const out = JSON.parse(r.stdout.trim().split('\n').pop() ?? '');
    for (const elem of ['structured', 'f64', 'i32', 'i64', 'bool', 'worker']) {
      expect(out[`capacity:${elem}`], elem).toMatch(/^RangeError: capacity 1073741823 cannot be allocated/);
    }
    for (const k of ['recvManySync:max', 'recvManySync:max-timeout', 'recvMany:max', 'recvManySync:bool',
      'payload:after', 'select:after']) {
      expect(out[k], k).toBe('ok');
    }
    expect(out['payload:copy']).toMatch(underAsan ? /^(RangeError|skipped)/ : /^RangeError/);
    // ASan's throwing operator new aborts on failure (it never throws std::bad_alloc): the
    // steps that need it run only in the normal build
    if (!underAsan) expect(out['select:cases']).toMatch(/^RangeError/);
  });
});

describe('a ring too large for the machine', () => {
  // No address-space limit here: Linux would grant 16 GiB for 2^30 slots, and touching every
  // stamp would take minutes and most of the memory. More than half the physical memory is
  // refused at once as "cannot be allocated".
  it.skipIf(os.totalmem() >= 2 ** 35 || underAsan)('new Chan(2 ** 30 - 1) throws RangeError without touching memory', () => {
    const code = `import('weft').then(({ Chan }) => {
      try { new Chan(2 ** 30 - 1); console.log('allocated'); }
      catch (e) { console.log(e.name, process.memoryUsage().rss < 2 ** 31); }
    });`;
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', code], { cwd: here, encoding: 'utf8', timeout: 60_000 });
    expect(r.stdout.trim(), r.stderr).toBe('RangeError true');
  });
});
