// Task functions for the task-dispatch benchmarks (bench/pool.js): the same module runs on
// weft's go() pool, piscina and tinypool (which call the default export with one argument).
import { createHash } from 'node:crypto';

/** The tiny task: `({a, b}) => a + b`. */
export const add2 = ({ a, b }) => a + b;
export default add2;

/** Each thread's 1 MiB chunk buffer (see shaChunk). */
let chunk;
/** Hash passes over each chunk: ~5 ms of work per task here, like the first version's. */
export const SHA_PASSES = 8;

/**
 * CPU-bound unit: chunk `i` (1 MiB of a fixed pattern whose first word is `i`) hashed
 * SHA_PASSES times, each pass SHA-256(chunk || previous digest); returns the last digest (hex).
 * The chunk is written into one buffer per thread, allocated once, so the hashing is the work.
 * Earlier versions built a fresh 1 MiB buffer per call, first in a JavaScript loop (its speed
 * swung 5-10x with how far V8 had optimized it on each thread), then with a native fill; in
 * this VM a fresh 1 MiB buffer per call from two threads at once costs more than the hash
 * (perf: page faults and cross-CPU TLB flushes for the mmap'd blocks dominate), so the row
 * measured the allocator, not the pool.
 */
export function shaChunk(i) {
  chunk ??= Buffer.alloc(1 << 20, 'weft chunk;');
  chunk.writeUInt32LE(i >>> 0, 0);
  let digest = Buffer.alloc(0);
  for (let k = 0; k < SHA_PASSES; k++) digest = createHash('sha256').update(chunk).update(digest).digest();
  return digest.toString('hex');
}
