// Shared helpers for the weft test suite.
//
// spawn(fn, ...args) runs the named export of test/fixtures/scenarios.js in a
// fresh worker thread. The arguments travel as `workerData: share({ fn, args })`
// and the worker does `attach(workerData)`, so weft objects arrive by reference.
// The scenario gets a context object `t` as its first argument (t.emit(name, data)
// to signal the main thread, t.sleep(ms) to block the worker thread).
import { spawn as spawnProcess } from 'node:child_process';
import { Worker } from 'node:worker_threads';
import { share } from 'weft';

const RUNNER = new URL('./fixtures/worker.js', import.meta.url);
const live = new Set();

/** Build an Error on the main thread from what a worker reported. */
function reviveError(e) {
  const err = new Error(e.message);
  err.name = e.name;
  if (e.code !== undefined) err.code = e.code;
  err.kinds = e.kinds;       // names of the classes the original was an instance of
  err.cause = e.cause;
  err.remoteStack = e.stack;
  return err;
}

export class Runner {
  constructor(fn, args, { module, execArgv, resourceLimits } = {}) {
    this.fn = fn;
    this.events = [];          // [{ name, data }]
    this.waiters = [];         // [{ name, resolve }]
    this.exitCode = undefined;
    this.worker = new Worker(RUNNER, {
      workerData: share({ fn, args, module: module ? String(module) : undefined }),
      execArgv,
      resourceLimits,
      stdout: false,
      stderr: false,
    });
    live.add(this);
    let settle;
    this.result = new Promise((resolve, reject) => { settle = { resolve, reject }; });
    this.result.catch(() => {});  // avoid unhandled rejections; tests await explicitly
    let done = false;
    this.worker.on('message', (m) => {
      if (m && m.type === 'event') {
        this.events.push(m);
        this.waiters = this.waiters.filter((w) => {
          if (w.name === m.name) { w.resolve(m.data); return false; }
          return true;
        });
      } else if (m && m.type === 'result') {
        done = true;
        settle.resolve(m.value);
      } else if (m && m.type === 'error') {
        done = true;
        settle.reject(reviveError(m.error));
      }
    });
    this.worker.on('error', (e) => { done = true; settle.reject(e); });
    this.exited = new Promise((resolve) => {
      this.worker.on('exit', (code) => {
        this.exitCode = code;
        live.delete(this);
        if (!done) settle.reject(new Error(`worker ${fn} exited with code ${code} before reporting a result`));
        resolve(code);
      });
    });
  }

  /** Resolves with the data of the first event `name` the worker emitted (past or future). */
  event(name, ms = 10_000) {
    const seen = this.events.find((e) => e.name === name);
    if (seen) return Promise.resolve(seen.data);
    const p = new Promise((resolve) => this.waiters.push({ name, resolve }));
    return within(p, ms, `event '${name}' from worker ${this.fn}`);
  }

  /** The worker's result, failing the test if it takes more than `ms`. */
  done(ms = 20_000) {
    return within(this.result, ms, `result of worker ${this.fn}`);
  }

  terminate() {
    return this.worker.terminate();
  }
}

/** Run scenario `fn` (an export of test/fixtures/scenarios.js) in a new worker. */
export function spawn(fn, ...args) {
  return new Runner(fn, args);
}

/** Like spawn, with options ({ module, execArgv, resourceLimits }). */
export function spawnWith(opts, fn, ...args) {
  return new Runner(fn, args, opts);
}

/** Terminate every worker still running (use in afterEach). */
export async function cleanup() {
  const all = [...live];
  await Promise.all(all.map((r) => r.worker.terminate().catch(() => {})));
}

/** Reject if `p` does not settle within `ms`. */
export function within(p, ms, what = 'operation') {
  let timer;
  return Promise.race([
    p,
    new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

export const delay = (ms) => new Promise((r) => setTimeout(r, ms));

/** Observe a promise's state without awaiting it. */
export function track(p) {
  const s = { state: 'pending', value: undefined, error: undefined, promise: p };
  p.then(
    (v) => { s.state = 'fulfilled'; s.value = v; },
    (e) => { s.state = 'rejected'; s.error = e; },
  );
  return s;
}

/** A SharedArrayBuffer-backed set of Int32 flags, usable from any thread without weft. */
export function flags(n = 8) {
  return new Int32Array(new SharedArrayBuffer(4 * n));
}

/** Wait (async, polling) until `cond()` is true. */
export async function until(cond, ms = 10_000, what = 'condition') {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await delay(2);
  }
}

/** Await a promise that must reject; returns the error (fails if it fulfils). */
export async function rejection(p) {
  try {
    const v = await p;
    throw Object.assign(new Error(`expected a rejection, got fulfilment with ${String(v)}`), { notRejected: true });
  } catch (e) {
    if (e && e.notRejected) throw e;
    return e;
  }
}

/** Call fn, which must throw synchronously; returns the error. */
export function thrown(fn) {
  let r;
  try {
    r = fn();
  } catch (e) {
    return e;
  }
  if (r && typeof r.then === 'function') r.catch(() => {});
  throw new Error(`expected a synchronous throw, got ${r && typeof r.then === 'function' ? 'a Promise' : String(r)}`);
}

/** Error from an operation that may throw synchronously or return a rejected promise. */
export async function failure(fn) {
  let p;
  try {
    p = fn();
  } catch (e) {
    return e;
  }
  return rejection(Promise.resolve(p));
}

/**
 * Runs `node ...args` in a child process (cwd: the package root); resolves with its exit code,
 * signal, output (also split into `lines`), whether the watchdog killed it, and how long it ran.
 */
export function runNode(args, timeoutMs) {
  const cwd = new URL('..', import.meta.url);
  return new Promise((resolve) => {
    const t0 = Date.now();
    const child = spawnProcess(process.execPath, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr, timedOut, ms: Date.now() - t0, lines: stdout.trim().split('\n') });
    });
  });
}
