// API.md §9, last paragraph — Go's "all goroutines are asleep": when a thread's event loop has
// nothing left but weft operations that no other live thread can complete, they reject with
// DeadlockError naming them, and the process ends as Node would (unhandled: exit code 1 with
// the error printed; handled: the program goes on). Operations another thread can still
// complete (a live worker holds the object, or a message buffered in a channel a worker holds
// carries it), or that a timer / deadline / timeout / signal can end, are not deadlocked.
// Each scenario runs in a child process (test/fixtures/unreachable-scenarios.ts) under a
// watchdog; workers are on the other side where it matters.
import { describe, it, expect } from 'vitest';
import { fixture } from './fixture.js';
import { fileURLToPath } from 'node:url';
import { type NodeRun, runNode } from './helpers.js';

const FIXTURE = fileURLToPath(fixture('unreachable-scenarios'));
const WATCHDOG_MS = 20_000;

/** Runs one scenario; resolves with its exit status and output (killed after the watchdog). */
const scenario = (name: string) => runNode([FIXTURE, name], WATCHDOG_MS);

/** The line of stdout that starts with `label `. */
const line = (r: NodeRun, label: string) => r.lines.find((l: string) => l.startsWith(`${label} `)) ?? `(no ${label} line in: ${r.stdout}${r.stderr})`;

function finished(r: NodeRun) {
  expect(r.timedOut, `hung (killed after ${WATCHDOG_MS} ms); stdout: ${r.stdout} stderr: ${r.stderr}`).toBe(false);
  expect(r.signal, r.stderr).toBeNull();
}

const T = 40_000;

describe('an operation no thread can complete', () => {
  it('unhandled at top level: the process exits 1 with the DeadlockError printed', async () => {
    const r = await scenario('toplevel');
    finished(r);
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).toMatch(/DeadlockError/);
    expect(r.stderr).toMatch(/ERR_WEFT_DEADLOCK/);
    expect(r.stderr).toMatch(/all threads are asleep: recv on channel 'jobs' can never complete/);
    expect(r.stdout).not.toMatch(/not reached/);
  }, T);

  it('handled: the program goes on (a later stuck op is found too) and exits 0', async () => {
    const r = await scenario('handled');
    finished(r);
    expect(r.code, r.stderr).toBe(0);
    expect(r.lines[0]).toBe('ERR_WEFT_DEADLOCK');
    expect(r.lines[1]).toMatch(/recv on channel 'jobs'/);
    expect(line(r, 'again')).toMatch(/^again ERR_WEFT_DEADLOCK .*send on channel/);
    expect(r.lines.at(-1)).toBe('after');
    expect(r.stderr).toBe('');
  }, T);

  it('2,000 receives stranded at once: each rejects, its message names at most 8 of the others and counts the rest', async () => {
    const r = await scenario('many');
    finished(r);
    expect(r.code, r.stderr).toBe(0);
    expect(line(r, 'codes')).toBe('codes ERR_WEFT_DEADLOCK');
    expect(line(r, 'first')).toMatch(/^first deadlock: all threads are asleep: recv on channel 'c\d+' can never complete \(nor can: (recv on channel 'c\d+', ){8}and 1991 more\)$/);
    expect(Number(line(r, 'longest').split(' ')[1])).toBeLessThan(400);
  }, T);

  it('background().done().recv(): a done channel that never closes', async () => {
    const r = await scenario('bgdone');
    finished(r);
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).toMatch(/ERR_WEFT_DEADLOCK/);
    expect(r.stderr).toMatch(/recv on the done channel of a context/);
  }, T);

  it('every kind of wait: mutex locked twice by this thread, WaitGroup, Semaphore, Cond, select (incl. select([])), done and timer channels, several at once', async () => {
    const r = await scenario('kinds');
    finished(r);
    expect(r.code, r.stderr).toBe(0);
    expect(line(r, 'mutex')).toMatch(/^mutex ERR_WEFT_DEADLOCK .*lock on mutex 'db' can never complete/);
    expect(line(r, 'waitgroup')).toMatch(/^waitgroup ERR_WEFT_DEADLOCK .*wait on waitgroup/);
    expect(line(r, 'semaphore')).toMatch(/^semaphore ERR_WEFT_DEADLOCK .*acquire on semaphore/);
    expect(line(r, 'cond')).toMatch(/^cond ERR_WEFT_DEADLOCK .*wait on cond/);
    expect(line(r, 'selectEmpty')).toMatch(/^selectEmpty ERR_WEFT_DEADLOCK .*select with no cases/);
    expect(line(r, 'select')).toMatch(/^select ERR_WEFT_DEADLOCK .*select on recv from channel 'a', send to channel 'b'/);
    expect(line(r, 'bgdone')).toMatch(/^bgdone ERR_WEFT_DEADLOCK/);
    expect(line(r, 'cancelCtxDone')).toMatch(/^cancelCtxDone ERR_WEFT_DEADLOCK/);
    expect(line(r, 'stoppedTimer')).toMatch(/^stoppedTimer ERR_WEFT_DEADLOCK .*channel of a timer/);
    // both ops of Promise.all are named: the first to reject names the other one too
    expect(line(r, 'both')).toMatch(/^both ERR_WEFT_DEADLOCK/);
    expect(line(r, 'both')).toMatch(/channel 'x'/);
    expect(line(r, 'both')).toMatch(/channel 'y'/);
    expect(r.lines.at(-1)).toBe('end');
  }, T);

  it('a worker that is stuck the same way fails with the DeadlockError (exit code 1)', async () => {
    const r = await scenario('workerStuck');
    finished(r);
    expect(r.code, r.stderr).toBe(0);
    expect(line(r, 'worker')).toMatch(/^worker error ERR_WEFT_DEADLOCK .*recv on channel 'inner'/);
    expect(r.stdout).toMatch(/worker exit code 1/);
  }, T);
});

describe('operations something else can still end are not deadlocked', () => {
  it('a timeout, a context deadline, a timer, a timed AbortSignal', async () => {
    const r = await scenario('notStuck');
    finished(r);
    expect(r.code, r.stderr).toBe(0);
    expect(line(r, 'timeout')).toMatch(/^timeout ERR_WEFT_TIMEOUT/);
    expect(line(r, 'ctxDeadline')).toBe('ctxDeadline ok');
    expect(line(r, 'ctxSignal')).toMatch(/^ctxSignal ERR_WEFT_DEADLINE/);
    expect(line(r, 'timer')).toBe('timer ok "number"');
    expect(line(r, 'plainSignal')).toMatch(/^plainSignal ERR_WEFT_CANCELED/);
    expect(r.stdout).not.toMatch(/DEADLOCK/);
  }, T);

  it('a channel a live (unref\'d) worker also holds: the value the worker sends after 200 ms arrives', async () => {
    const r = await scenario('workerSends');
    finished(r);
    expect(r.code, r.stderr).toBe(0);
    expect(line(r, 'recv')).toBe('recv ok "from worker"');
  }, T);

  it('a channel only reachable through a message buffered in a channel a worker holds', async () => {
    const r = await scenario('nested');
    finished(r);
    expect(r.code, r.stderr).toBe(0);
    expect(line(r, 'recv')).toBe('recv ok "relayed"');
  }, T);

  it('an op only this thread can complete waits while another of its ops is completable by a worker', async () => {
    const r = await scenario('otherOpAlive');
    finished(r);
    expect(r.code, r.stderr).toBe(0);
    expect(r.lines[0]).toBe('poked');
    // the thread ran again and canceled it itself: a cancel, not a deadlock
    expect(line(r, 'lone')).toMatch(/^lone ERR_WEFT_CANCELED/);
    // then nothing could wake the thread: the second lock of its own mutex is asleep
    expect(line(r, 'mutex')).toMatch(/^mutex ERR_WEFT_DEADLOCK .*lock on mutex/);
  }, T);
});

describe('*Sync waits on the main thread (the thread itself is blocked)', () => {
  it('recvSync, sendSync, recvManySync, selectSync, and WaitGroup/Semaphore/Cond waits, on objects only this thread holds throw DeadlockError', async () => {
    const r = await scenario('syncAsleep');
    finished(r);
    expect(r.code, r.stderr).toBe(0);
    expect(line(r, 'recvSync')).toMatch(/^recvSync ERR_WEFT_DEADLOCK .*all threads are asleep: .*recv on channel 'jobs'/);
    expect(line(r, 'sendSync')).toMatch(/^sendSync ERR_WEFT_DEADLOCK .*send on channel 'full'/);
    expect(line(r, 'recvManySync')).toMatch(/^recvManySync ERR_WEFT_DEADLOCK .*channel 'nums'/);
    expect(line(r, 'selectSync')).toMatch(/^selectSync ERR_WEFT_DEADLOCK .*select recv from channel 'jobs', recv from channel 'other'/);
    expect(line(r, 'ctxSync')).toMatch(/^ctxSync ERR_WEFT_DEADLOCK/);
    expect(line(r, 'withPending')).toMatch(/^withPending ERR_WEFT_DEADLOCK/);
    expect(line(r, 'left')).toBe('left ok 1');
    expect(line(r, 'wgSync')).toMatch(/^wgSync ERR_WEFT_DEADLOCK .*wait on waitgroup 'wg'/);
    expect(line(r, 'semSync')).toMatch(/^semSync ERR_WEFT_DEADLOCK .*acquire on semaphore 'sem'/);
    expect(line(r, 'condSync')).toMatch(/^condSync ERR_WEFT_DEADLOCK .*wait on cond/);
    expect(line(r, 'relocked')).toBe('relocked ok false');
    expect(line(r, 'wgTimeout')).toMatch(/^wgTimeout ERR_WEFT_TIMEOUT/);
  }, T);

  it('a worker that sends, a timer, a deadline or a timeout ends them as usual; a holder that exits makes them asleep', async () => {
    const r = await scenario('syncAwake');
    finished(r);
    expect(r.code, r.stderr).toBe(0);
    expect(line(r, 'recvSync')).toBe('recvSync ok "from worker"');
    expect(line(r, 'timer')).toBe('timer ok "number"');
    expect(line(r, 'deadline')).toMatch(/^deadline ERR_WEFT_DEADLINE/);
    expect(line(r, 'timeout')).toMatch(/^timeout ERR_WEFT_TIMEOUT/);
    expect(line(r, 'afterExit')).toMatch(/^afterExit ERR_WEFT_DEADLOCK .*channel 'lone'/);
    expect(line(r, 'after')).toBe('after the worker');
    expect(line(r, 'wgSync')).toBe('wgSync ok');
    expect(line(r, 'worker')).toBe('worker still blocked: true');
  }, T);
});

describe('the other holder goes away', () => {
  it('the only other holder (an unref\'d worker) exits without sending: DeadlockError after it is gone', async () => {
    const r = await scenario('workerExits');
    finished(r);
    expect(r.code, r.stderr).toBe(0);
    expect(line(r, 'recv')).toMatch(/^recv ERR_WEFT_DEADLOCK .*recv on channel 'jobs'/);
    expect(line(r, 'after')).toBe('after the worker');
  }, T);

  it('same with a ref\'d worker: the error comes after its exit event', async () => {
    const r = await scenario('workerExitsRef');
    finished(r);
    expect(r.code, r.stderr).toBe(0);
    expect(line(r, 'recv')).toMatch(/^recv ERR_WEFT_DEADLOCK/);
    expect(r.stdout).toMatch(/worker gone before: true/);
  }, T);

  it('a context a worker held: its done channel is asleep once the worker is gone', async () => {
    const r = await scenario('ctxWorkerExits');
    finished(r);
    expect(r.code, r.stderr).toBe(0);
    expect(line(r, 'done')).toMatch(/^done ERR_WEFT_DEADLOCK .*done channel of a context/);
    expect(line(r, 'after')).toBe('after the worker');
  }, T);

  it('300 values with idle gaps from a worker all arrive; the receive after its exit is asleep', async () => {
    const r = await scenario('trickle');
    finished(r);
    expect(r.code, r.stderr).toBe(0);
    expect(line(r, 'sum')).toBe(`sum ${(299 * 300) / 2}`);
    expect(line(r, 'last')).toMatch(/^last ERR_WEFT_DEADLOCK .*channel 'trickle'/);
  }, T);
});
