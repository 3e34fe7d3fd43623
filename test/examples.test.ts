// The runnable examples (examples/*.js): each is run as a user would, `node examples/NAME.js`
// in a child process, and must exit with 0 and print its summary line (which the example only
// prints as `ok` after checking its own results: counts, sums, checksums). They run one after
// another: each one starts worker threads of its own.
import { describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const TIMEOUT = 120_000;

interface Run {
  code: number | null;
  out: string;
  err: string;
}

function run(example: string, args: string[] = [], env: Record<string, string> = {}): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [join(root, 'examples', example), ...args],
      { cwd: root, timeout: TIMEOUT - 10_000, env: { ...process.env, ...env }, maxBuffer: 16 * 1024 * 1024 },
      (error, out, err) => resolve({ code: error ? ((error as { code?: number }).code ?? -1) : 0, out, err }),
    );
  });
}

/** The run succeeded: exit code 0, nothing on stderr (the output is shown when it did not). */
function expectClean(r: Run) {
  expect({ code: r.code, err: r.err }, r.out).toEqual({ code: 0, err: '' });
}

describe('examples', () => {
  it('producer-consumer: every value reaches exactly one consumer', { timeout: TIMEOUT }, async () => {
    const r = await run('producer-consumer.js', ['3', '2', '5000']);
    expectClean(r);
    expect(r.out).toMatch(/^consumer 0 \(thread \d+\) received \d+ values$/m);
    expect(r.out).toMatch(/^producer-consumer: 3 producers sent 15000, 2 consumers received 15000, sum matches, out of order 0: ok$/m);
  });

  it('dining-philosophers: all five eat every meal, no deadlock', { timeout: TIMEOUT }, async () => {
    const r = await run('dining-philosophers.js', ['4']);
    expectClean(r);
    for (let p = 0; p < 5; p++) {
      expect(r.out.match(new RegExp(`^Philosopher ${p} is eating`, 'gm'))).toHaveLength(4);
      expect(r.out).toMatch(new RegExp(`^Philosopher ${p} is done after 4 meals$`, 'm'));
    }
    expect(r.out).toMatch(/^dining-philosophers: 5 philosophers ate 4 times each \(20 meals\), shared forks 0, no deadlock: ok$/m);
  });

  it('parallel-grep: counts the matching lines of every file in a directory', { timeout: TIMEOUT }, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'weft-grep-'));
    try {
      writeFileSync(join(dir, 'a.txt'), 'a needle\nhay\nneedle again\nhay\nthird needle\n');
      mkdirSync(join(dir, 'sub'));
      writeFileSync(join(dir, 'sub', 'b.txt'), 'hay\nhay needle hay\n');
      writeFileSync(join(dir, 'c.txt'), 'only hay\n');
      for (let i = 0; i < 20; i++) writeFileSync(join(dir, `n${i}.txt`), i % 4 === 0 ? 'needle\n'.repeat(i) : 'hay\n');
      const r = await run('parallel-grep.js', ['needle', dir, '3']);
      expectClean(r);
      expect(r.out).toMatch(/^a\.txt: 3 \(first: 1: a needle\)$/m);
      expect(r.out).toMatch(/^sub\/b\.txt: 1 \(first: 2: hay needle hay\)$/m);
      expect(r.out).not.toMatch(/^c\.txt:/m);
      expect(r.out).toMatch(/^n16\.txt: 16 /m);
      // 3 + 1 + (4 + 8 + 12 + 16) = 44 lines in 2 + 4 files (n0.txt is empty).
      expect(r.out).toMatch(/^parallel-grep: \/needle\/ in 23 files with 3 workers: 44 matching lines in 6 files: ok$/m);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('parallel-grep: by default searches the repository lib/', { timeout: TIMEOUT }, async () => {
    const r = await run('parallel-grep.js');
    expectClean(r);
    expect(r.out).toMatch(/^chan\/chan\.ts: \d+ /m);
    expect(r.out).toMatch(/^parallel-grep: \/Chan\/ in \d+ files with \d+ workers: \d+ matching lines in \d+ files: ok$/m);
  });

  it('timers: timeouts, stop/reset, tickers on both threads', { timeout: TIMEOUT }, async () => {
    const r = await run('timers.js');
    expectClean(r);
    expect(r.out).toMatch(/^slow call \(400 ms, timeout 50 ms\): timed out$/m);
    expect(r.out).toMatch(/^fast call \(10 ms, timeout 5 s\): returned 42$/m);
    expect(r.out).toMatch(/^tick 5$/m);
    expect(r.out).toMatch(
      /^timers: slow call timed out, fast call returned 42, stop before firing true, stop after firing false, 5 ticks, worker ticker stopped by done: ok$/m,
    );
  });

  it('request-server: timeouts, a client that gives up, a semaphore; ends by itself', { timeout: TIMEOUT }, async () => {
    const r = await run('request-server.js');
    expectClean(r);
    expect(r.out).toMatch(/^GET \/primes\?n=100000&timeout=20000 -> 200: primes below 100000: 9592$/m);
    expect(r.out).toMatch(/^GET \/primes\?n=1000000000&timeout=300 -> 504: /m);
    expect(r.out).toMatch(/^server: request \S+client=gives-up canceled \(client went away\)$/m);
    expect(r.out).toMatch(/^request-server: 8 requests, 6 ok, 1 timed out, 1 canceled by the client; at most [12] at work at once \(semaphore 2\): ok$/m);
  });

  it('chat: broadcast to every listener, join and leave', { timeout: TIMEOUT }, async () => {
    const r = await run('chat.js');
    expectClean(r);
    expect(r.out).toMatch(/^\* carol left \(2 in the room\)$/m);
    expect(r.out).toMatch(/^\[alice\] room: carol left$/m);
    expect(r.out).not.toMatch(/^\[carol\] room:/m);
    expect(r.out).toMatch(/^chat: 3 users joined, 6 messages said, alice got 7, bob got 7, carol got 6 and left, 20 delivered, 0 dropped: ok$/m);
  });

  it('progress: atomic counters and a ProgressMeter fed by worker threads', { timeout: TIMEOUT }, async () => {
    const r = await run('progress.js', ['1000000']);
    expectClean(r);
    // pi(10^6) = 78498
    expect(r.out).toMatch(/^progress: \d+ workers counted 78498 primes below 1000000 \(atomic counter 78498 = sum of task results 78498\), meter 100\/100 chunks: ok$/m);
  });

  it('demo (npm start): three variants, one checksum, plain text when piped', { timeout: TIMEOUT }, async () => {
    const r = await run('demo.js', [], { DEMO_ROWS: '50000' });
    expectClean(r);
    expect(r.out).not.toMatch(/\r|\x1b\[/);
    expect(r.out).toMatch(/^weft demo: .*50000 rows/m);
    // variant, time, rows/s, speed-up, CPU time, checksum
    const sums = [...r.out.matchAll(/^ {2}(weft go\(\) \+ channels|same work, single thread|postMessage workers).* ([\d.]+) s +[\d.]+(?: [kM])? +([\d.]+)x +([\d.]+) s {2}([0-9a-f]{14})$/gm)];
    expect(sums.map((m) => m[1])).toEqual(['weft go() + channels', 'same work, single thread', 'postMessage workers']);
    expect(new Set(sums.map((m) => m[5])).size).toBe(1);
    expect(sums[1]![3]).toBe('1.00');
    expect(r.out).toMatch(new RegExp(`^checksums match: ${sums[0]![5]} over 50000 rows$`, 'm'));
    expect(r.out).toMatch(/^weft: [\d.]+x the single thread, [\d.]+x postMessage workers$/m);
  });
});
