// Tasks of examples/producer-consumer.js: they run on weft's pool threads (go()).
import { threadId } from 'weft';

/**
 * Sends `count` values to `out`, then tells the WaitGroup it is done. Blocking sends suit a
 * pool thread: a full channel makes the producer wait for the consumers (backpressure).
 */
export function producer(id, count, out, wg) {
  try {
    for (let i = 0; i < count; i++) out.sendSync({ producer: id, seq: i, value: id * 1_000_000 + i });
  } finally {
    wg.done();
  }
  return count;
}

/**
 * Receives until the channel is closed and drained (Go's `for v := range ch`), and returns
 * what it got. Blocking iteration of a channel is the worker-thread way of writing that loop.
 */
export function consumer(id, input) {
  let received = 0;
  let sum = 0;
  const lastSeq = new Map(); // per producer: values from one producer arrive in order
  let outOfOrder = 0;
  for (const msg of input) {
    received++;
    sum += msg.value;
    if ((lastSeq.get(msg.producer) ?? -1) >= msg.seq) outOfOrder++;
    lastSeq.set(msg.producer, msg.seq);
  }
  return { id, thread: threadId(), received, sum, outOfOrder };
}
