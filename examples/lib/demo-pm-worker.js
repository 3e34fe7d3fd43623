// One stage of the demo's hand-written postMessage pipeline (examples/lib/demo-pipeline.js):
// the baseline weft is compared with. `workerData.stage` says which; `input` and `output` are
// MessagePorts. A batch travels as its column buffer, transferred (not copied) from stage to
// stage, as a careful hand-written pipeline does; each thread reuses its own text buffers. The
// message `'end'` marks the end of a run and is passed on.
import { parentPort, workerData } from 'node:worker_threads';
import { generate, parse, convert, encode, batchRange, columns, outputBuffer } from './demo-rows.js';

const { stage, input, output, size } = workerData;
const text = stage === 'parse' ? new Uint8Array(size * 40) : outputBuffer(size);
const own = stage === 'all' ? { cols: columns(size), input: new Uint8Array(size * 40) } : undefined;

const work = {
  /** [batch number, rows in the run] → the parsed columns' buffer and row count. */
  parse([b, total]) {
    const [from, count] = batchRange(b, size, total);
    const cols = columns(size);
    const n = parse(generate(from, count, text), cols);
    return [{ n, buffer: cols.buffer }, [cols.buffer]];
  },
  convert(m) {
    convert(columns(size, m.buffer), m.n);
    return [m, [m.buffer]];
  },
  encode(m) {
    const { rows, sum } = encode(columns(size, m.buffer), m.n, text);
    return [{ rows, sum }, []];
  },
  /** Every stage on this worker (a lane of one worker): batch number in, rows and checksum out. */
  all([b, total]) {
    const [from, count] = batchRange(b, size, total);
    const n = parse(generate(from, count, own.input), own.cols);
    convert(own.cols, n);
    const { rows, sum } = encode(own.cols, n, text);
    return [{ rows, sum }, []];
  },
}[stage];

input.on('message', (m) => {
  if (m === 'end') {
    output.postMessage('end');
    return;
  }
  const [result, transfer] = work(m);
  output.postMessage(result, transfer);
});
parentPort.postMessage('ready');
