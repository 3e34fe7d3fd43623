// Chaos: 4 producer x 4 consumer worker threads move values through buffered and unbuffered
// channels, structured and 'i32', with sendSync/recvOkSync (with and without timeouts), async
// send/recvOk, trySend/tryRecv, and selectSync/select with several cases, timer cases, timeouts,
// nil cases and default, while the main thread of a child process terminates random workers at
// random moments (aimed at threads inside *Sync calls, selects and async operations) and starts
// replacements that continue their work. 20 rounds of 10 000 values (200 000 in all) and 6
// kills; more rounds with WEFT_CHAOS_ROUNDS (WEFT_CHAOS_VALUES and WEFT_CHAOS_KILLS set the
// values and kills per round). The bookkeeping and the accounting rules are described in
// fixtures/chaos-worker.ts and fixtures/chaos-driver.ts. In short, per round:
//  - nothing comes out twice (acknowledged by a consumer, or left in a channel at the end);
//  - nothing comes out that was never sent, and every value comes out of the channel it went in;
//  - a value whose send returned is acknowledged, or still in a channel, or was possibly in the
//    hands of a consumer killed inside a receive that could have taken it (one per such kill);
//  - no worker throws, no thread hangs, the process never crashes.
import { describe, it, expect } from 'vitest';
import { fixture } from './fixture.js';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const here = fileURLToPath(new URL('.', import.meta.url));
const fixturePath = (name: string): string => fileURLToPath(fixture(name));
const ROUNDS = Number(process.env.WEFT_CHAOS_ROUNDS ?? 20);

/** Run a fixture script in a child process; resolves with { code, signal, stdout, stderr }. */
interface ChildRun { code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }

function run(script: string, args: string[], timeout: number): Promise<ChildRun> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [fixturePath(script), ...args], { cwd: here });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => { stdout += d; });
    child.stderr.on('data', (d) => { stderr += d; });
    const timer = setTimeout(() => child.kill('SIGKILL'), timeout);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

/** One `CHAOS {...}` line of the driver: a round's report (chaos-driver.ts, runRound). */
interface Round {
  round: number; violations: unknown[]; values: number; sent: number; inDoubt: number; received: number;
  drained: number; excused: number; consumerKillsInRecv: number; killedIn: Record<string, number>;
  kills: number; workers: number; ms: number;
}

/** JSON records a fixture printed as `TAG {...}` lines (data from another process, not checked). */
const lines = <T = Round>(out: string, tag: string): T[] =>
  out.split('\n').filter((l) => l.startsWith(`${tag} `)).map((l) => JSON.parse(l.slice(tag.length + 1)));

describe('chaos: workers terminated at random while values move', () => {
  it(`${ROUNDS} rounds: exactly once, nothing lost but what a killed consumer may hold, no crash`, async () => {
    const r = await run('chaos-driver', [String(ROUNDS)], 100_000 + ROUNDS * 20_000);
    const rounds = lines(r.stdout, 'CHAOS');
    const where = `exit code ${r.code}, signal ${r.signal}, after ${rounds.length} of ${ROUNDS} rounds` +
      `\nstderr: ${r.stderr.slice(-3000)}`;
    expect(r.signal, where).toBeNull();
    expect(r.code, where).toBe(0);
    // A round with violations ends the run early: show them, not just the missing rounds.
    for (const x of rounds) expect(x.violations, `round ${x.round}`).toEqual([]);
    expect(rounds.length, where).toBe(ROUNDS);
    expect(lines(r.stdout, 'CHAOS-END'), 'violations after the last round').toEqual([]);
    for (const x of rounds) {
      expect(x.violations, `round ${x.round}`).toEqual([]);
      // every value is accounted for: sent (or in doubt: its producer died inside the send)
      expect(x.sent + x.inDoubt).toBe(x.values);
      // received + drained + excused + in-doubt values never seen = sent + in doubt
      expect(x.received + x.drained + x.excused).toBeLessThanOrEqual(x.values);
      expect(x.received + x.drained + x.excused).toBeGreaterThanOrEqual(x.sent);
      expect(x.excused).toBeLessThanOrEqual(x.consumerKillsInRecv);
    }
    const sum = (f: (x: Round) => number) => rounds.reduce((a, x) => a + f(x), 0);
    const killedIn: Record<string, number> = {};
    for (const x of rounds) for (const [k, n] of Object.entries(x.killedIn)) killedIn[k] = (killedIn[k] ?? 0) + n;
    const report = {
      values: sum((x) => x.values),
      kills: sum((x) => x.kills),
      workersStarted: sum((x) => x.workers),
      excused: sum((x) => x.excused),
      consumerKillsInRecv: sum((x) => x.consumerKillsInRecv),
      killedIn,
      ms: sum((x) => x.ms),
    };
    console.log(`chaos: ${JSON.stringify(report)}`);
    // the kills really happened, and inside the operations this test is about
    expect(report.kills).toBeGreaterThanOrEqual(ROUNDS * 3);
    const inside = (re: RegExp) => Object.entries(killedIn).filter(([k]) => re.test(k)).reduce((a, [, n]) => a + (n as number), 0);
    expect(inside(/Sync/), JSON.stringify(killedIn)).toBeGreaterThan(0);
    expect(inside(/select/), JSON.stringify(killedIn)).toBeGreaterThan(0);
    expect(report.consumerKillsInRecv).toBeGreaterThan(0);
  }, 150_000 + ROUNDS * 20_000);
});

// DESIGN.md fact 6: "A value is never lost because its receiver died: it is either delivered
// to a live receiver or stays in the channel." A worker blocked in a receive is terminated
// and, in the same tick, handed a value (trySend succeeds). Run in a child process: a crash
// must not take the test runner down.
describe('a value handed to a receiver whose worker is being terminated', () => {
  for (const op of ['recvSync', 'selectSync', 'recv', 'select']) {
    for (const elem of ['structured', 'i32']) {
      it(`${op}, ${elem}: the value stays in the channel (or was delivered); no crash`, async () => {
        const r = await run('chaos-repro', [op, elem, '3'], 30_000);
        const where = `exit code ${r.code}, signal ${r.signal}; stderr: ${r.stderr.slice(-2000)}`;
        expect(r.signal, where).toBeNull();
        expect(r.code, where).toBe(0);
        const [res] = lines<{ lost: number; kept: number; delivered: number; sent: number }>(r.stdout, 'RESULT');
        expect(res, r.stdout).toBeDefined();
        expect(res.lost, JSON.stringify(res)).toBe(0);
        expect(res.kept + res.delivered).toBe(res.sent);
      }, 40_000);
    }
  }
});

// A worker terminated while it calls into weft (here: starting async receives, each of which
// creates a promise) must not crash the process.
describe('terminate() while a worker is starting async operations', () => {
  it('30 terminations at random moments of a worker starting pending recv() calls: no crash', async () => {
    const r = await run('chaos-repro', ['churn', 'structured', '30'], 60_000);
    const where = `exit code ${r.code}, signal ${r.signal}; stderr: ${r.stderr.slice(-2000)}`;
    expect(r.signal, where).toBeNull();
    expect(r.code, where).toBe(0);
    expect(lines(r.stdout, 'RESULT')).toEqual([{ terminated: 30 }]);
  }, 70_000);
});
