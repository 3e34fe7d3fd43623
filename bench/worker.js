// Worker entry: attaches the shared weft objects, runs one role, reports its result.
import { parentPort, workerData } from 'node:worker_threads';
import { roles } from './roles.js';
import { WEFT_MODULE } from './lib.js';

const { role, n, index, barrier, data, shared } = workerData;
const weft = workerData.weft || shared ? await import(WEFT_MODULE) : null;
const chans = shared ? weft.attach(shared) : null;

/** Tells the main thread we are ready, blocks until every participant is, returns the start time. */
const ready = () => {
  parentPort.postMessage({ type: 'ready' });
  Atomics.wait(barrier, 0, 0);
  return process.hrtime.bigint();
};

const result = await roles[role]({ n, index, data, chans, weft, ready });
parentPort.postMessage({ type: 'result', result });
