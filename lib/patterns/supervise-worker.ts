/**
 * Entry point of a supervised thread (started by lib/patterns/supervise.ts, one Worker per run).
 *
 * `workerData` is `share({ box, module })`: the module to load at once, and a channel that
 * brings one {@link RunMsg} (module, export, the arguments with the run's Heartbeat last, and
 * the reply channel), so a weft object at any depth of the arguments arrives by reference, as
 * with `go()`. The message is there at startup for a first run; a standby thread waits for it.
 * The thread beats once just before calling the function (the supervisor counts
 * `heartbeatTimeout` from there), sends the outcome on the reply channel as a pool thread
 * does (lib/runtime/worker.ts), and exits: the supervisor reads the reply when the thread's
 * `exit` event comes.
 * @internal
 * @module
 */
import { workerData } from 'node:worker_threads';
// Every kind of weft object can arrive in the arguments: register them all for decoding.
import '../index.js';
import type { Chan } from '../chan/chan.js';
import { DataCloneError } from '../errors.js';
import { attach } from '../share.js';
import { degradePacked, packError, type Packed } from '../runtime/task.js';
import type { Heartbeat } from './heartbeat.js';
import type { RunMsg, RunReply } from './supervise.js';

const { box, module: preload } = attach(workerData) as { box: Chan<RunMsg>; module: string };
// Load the module while the run's message is awaited: a standby thread is ready to call the
// function the moment its message comes (see supervise.ts, "Standby").
const loading: Promise<{ ns?: Record<string, unknown>; error?: unknown }> = import(preload).then(
  (ns: Record<string, unknown>) => ({ ns }),
  (error: unknown) => ({ error }),
);
const got = await box.recvOk();
if (!got.ok) process.exit(0); // the supervisor ended before it needed this thread
const [mod, exp, args, reply] = got.value;
let answered = false;

/** Sends the outcome (once), then ends this thread. */
function answer(failed: 0 | 1, value: unknown): void {
  if (answered) return;
  answered = true;
  let msg: RunReply = [failed, value];
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      reply.trySend(msg);
      break;
    } catch (e) {
      msg = failed
        ? [1, degradePacked(value as Packed)]
        : [1, packError(new DataCloneError(`weft supervise(): the result could not be cloned: ${(e as Error).message}`))];
    }
  }
  process.exit(0);
}

// An error thrown outside the function's promise chain (a callback) ends the run with it.
process.on('uncaughtException', (e) => answer(1, packError(e)));
process.on('unhandledRejection', (e) => answer(1, packError(e)));

async function main(): Promise<void> {
  const { ns, error } = await loading;
  if (ns === undefined) {
    const why = error instanceof Error ? error.message : String(error);
    answer(1, packError(new TypeError(`weft supervise(): cannot load module '${mod}' for export '${exp}': ${why}`, { cause: error })));
    return;
  }
  const fn = ns[exp];
  if (typeof fn !== 'function') {
    const what = fn === undefined ? 'has no export' : `has an export that is not a function (${typeof fn}):`;
    answer(1, packError(new TypeError(`weft supervise(): module '${mod}' ${what} '${exp}'`)));
    return;
  }
  // The run starts now: the supervisor counts heartbeatTimeout from this beat.
  (args[args.length - 1] as Heartbeat).beat();
  try {
    answer(0, await (fn as (...a: unknown[]) => unknown)(...args));
  } catch (e) {
    answer(1, packError(e));
  }
}

void main();
