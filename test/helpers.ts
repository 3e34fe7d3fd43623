// Shared helpers for the weft test suite.
//
// spawn(fn, ...args) runs the named export of test/fixtures/scenarios.ts in a
// fresh worker thread. The arguments travel as `workerData: share({ fn, args })`
// and the worker does `attach(workerData)`, so weft objects arrive by reference.
// The scenario gets a context object `t` as its first argument (t.emit(name, data)
// to signal the main thread, t.sleep(ms) to block the worker thread).
import { spawn as spawnProcess } from 'node:child_process';
import { Worker } from 'node:worker_threads';
import { share } from 'weft';
import { fixture } from './fixture.js';

export { fixture };

const RUNNER = fixture('worker');
const live = new Set<Runner>();

/** What a worker reports for an error (see describeError in fixtures/worker.ts). */
export interface ErrorReport {
  name: string;
  message: string;
  code?: string;
  stack?: string;
  kinds: string[];
  cause?: unknown;
}

/** An Error rebuilt on the main thread from a worker's ErrorReport. */
export interface RevivedError extends Error {
  code?: string;
  kinds: string[];
  remoteStack?: string;
}

/**
 * An error caught by a test: any thrown value, typed as an Error with the optional fields
 * weft's errors and revived worker errors carry (tests assert on them).
 */
export type Caught = Error & { code?: string; kinds?: string[]; cause?: unknown; [key: string]: unknown };

/**
 * A value that came back from another thread (through a channel or a worker's result) and that
 * a test takes apart field by field: its shape is whatever was sent, and checking it is the
 * test's job. Used where the sent values are heterogeneous; elsewhere channels carry a type.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Received = any;

/** Options of spawnWith. */
export interface RunnerOptions {
  /** The scenario module (default: fixtures/scenarios). */
  module?: URL | string;
  execArgv?: string[];
  resourceLimits?: import('node:worker_threads').ResourceLimits;
}

interface WorkerMessage { type: 'event' | 'result' | 'error'; name?: string; data?: unknown; value?: unknown; error?: ErrorReport }

/** Build an Error on the main thread from what a worker reported. */
function reviveError(e: ErrorReport): RevivedError {
  const err = new Error(e.message) as RevivedError;
  err.name = e.name;
  if (e.code !== undefined) err.code = e.code;
  err.kinds = e.kinds;       // names of the classes the original was an instance of
  err.cause = e.cause;
  err.remoteStack = e.stack;
  return err;
}

/** A scenario running in a worker thread (see spawn). */
export class Runner {
  readonly fn: string;
  readonly events: { name: string; data: unknown }[];
  waiters: { name: string; resolve: (data: any) => void }[];
  exitCode: number | undefined;
  readonly worker: Worker;
  /** Settles with the scenario's result (untyped data from another thread). */
  readonly result: Promise<any>;
  /** Resolves with the worker's exit code. */
  readonly exited: Promise<number>;

  constructor(fn: string, args: unknown[], { module, execArgv, resourceLimits }: RunnerOptions = {}) {
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
    let settle!: { resolve: (v: unknown) => void; reject: (e: unknown) => void };
    this.result = new Promise((resolve, reject) => { settle = { resolve, reject }; });
    this.result.catch(() => {});  // avoid unhandled rejections; tests await explicitly
    let done = false;
    this.worker.on('message', (m: WorkerMessage | null) => {
      if (m && m.type === 'event') {
        this.events.push({ name: m.name!, data: m.data });
        this.waiters = this.waiters.filter((w) => {
          if (w.name === m.name) { w.resolve(m.data); return false; }
          return true;
        });
      } else if (m && m.type === 'result') {
        done = true;
        settle.resolve(m.value);
      } else if (m && m.type === 'error') {
        done = true;
        settle.reject(reviveError(m.error!));
      }
    });
    this.worker.on('error', (e: Error) => { done = true; settle.reject(e); });
    this.exited = new Promise((resolve) => {
      this.worker.on('exit', (code: number) => {
        this.exitCode = code;
        live.delete(this);
        if (!done) settle.reject(new Error(`worker ${fn} exited with code ${code} before reporting a result`));
        resolve(code);
      });
    });
  }

  /** Resolves with the data of the first event `name` the worker emitted (past or future). */
  event(name: string, ms = 10_000): Promise<any> {
    const seen = this.events.find((e) => e.name === name);
    if (seen) return Promise.resolve(seen.data);
    const p = new Promise<unknown>((resolve) => this.waiters.push({ name, resolve }));
    return within(p, ms, `event '${name}' from worker ${this.fn}`);
  }

  /** The worker's result, failing the test if it takes more than `ms`. */
  done(ms = 20_000): Promise<any> {
    return within(this.result, ms, `result of worker ${this.fn}`);
  }

  terminate(): Promise<number> {
    return this.worker.terminate();
  }
}

/** Run scenario `fn` (an export of test/fixtures/scenarios.ts) in a new worker. */
export function spawn(fn: string, ...args: unknown[]): Runner {
  return new Runner(fn, args);
}

/** Like spawn, with options ({ module, execArgv, resourceLimits }). */
export function spawnWith(opts: RunnerOptions, fn: string, ...args: unknown[]): Runner {
  return new Runner(fn, args, opts);
}

/** Terminate every worker still running (use in afterEach). */
export async function cleanup(): Promise<void> {
  const all = [...live];
  await Promise.all(all.map((r) => r.worker.terminate().catch(() => {})));
}

/** Reject if `p` does not settle within `ms`. */
export function within<T>(p: Promise<T>, ms: number, what = 'operation'): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    p,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

/** Resolves after `ms` milliseconds. */
export const delay = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** A promise's observed state (see track). */
export interface Tracked<T> {
  state: 'pending' | 'fulfilled' | 'rejected';
  value: T | undefined;
  error: any;
  promise: Promise<T>;
}

/** Observe a promise's state without awaiting it. */
export function track<T>(p: Promise<T>): Tracked<T> {
  const s: Tracked<T> = { state: 'pending', value: undefined, error: undefined, promise: p };
  p.then(
    (v) => { s.state = 'fulfilled'; s.value = v; },
    (e) => { s.state = 'rejected'; s.error = e; },
  );
  return s;
}

/** A SharedArrayBuffer-backed set of Int32 flags, usable from any thread without weft. */
export function flags(n = 8): Int32Array {
  return new Int32Array(new SharedArrayBuffer(4 * n));
}

/** Wait (async, polling) until `cond()` is true. */
export async function until(cond: () => unknown, ms = 10_000, what = 'condition'): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await delay(2);
  }
}

/** Await a promise that must reject; returns the error (fails if it fulfils). */
export async function rejection(p: Promise<unknown>): Promise<Caught> {
  try {
    const v = await p;
    throw Object.assign(new Error(`expected a rejection, got fulfilment with ${String(v)}`), { notRejected: true });
  } catch (e) {
    if ((e as { notRejected?: boolean } | null)?.notRejected) throw e;
    return e as Caught;
  }
}

/** Call fn, which must throw synchronously; returns the error. */
export function thrown(fn: () => unknown): Caught {
  let r: unknown;
  try {
    r = fn();
  } catch (e) {
    return e as Caught;
  }
  const thenable = typeof (r as { then?: unknown } | null)?.then === 'function';
  if (thenable) (r as Promise<unknown>).catch(() => {});
  throw new Error(`expected a synchronous throw, got ${thenable ? 'a Promise' : String(r)}`);
}

/** Error from an operation that may throw synchronously or return a rejected promise. */
export async function failure(fn: () => unknown): Promise<Caught> {
  let p: unknown;
  try {
    p = fn();
  } catch (e) {
    return e as Caught;
  }
  return rejection(Promise.resolve(p));
}

/** What runNode resolves with. */
export interface NodeRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
  ms: number;
  lines: string[];
}

/**
 * Runs `node ...args` in a child process (cwd: the package root); resolves with its exit code,
 * signal, output (also split into `lines`), whether the watchdog killed it, and how long it ran.
 */
export function runNode(args: string[], timeoutMs: number): Promise<NodeRun> {
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
