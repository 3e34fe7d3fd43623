// Task functions for the task-dispatch benchmarks (bench/pool.js): the same module runs on
// weft's go() pool, piscina and tinypool (which call the default export with one argument).
import { createHash } from 'node:crypto';

/** The tiny task: `({a, b}) => a + b`. */
export const add2 = ({ a, b }) => a + b;
export default add2;

/** CPU-bound unit: builds chunk `i` (1 MiB, deterministic) and returns its SHA-256 (hex). */
export function shaChunk(i) {
  const buf = Buffer.allocUnsafe(1 << 20);
  let x = (i + 1) * 2654435761;
  for (let k = 0; k < buf.length; k += 4) {
    x = (x ^ (x << 13)) >>> 0;
    x = (x ^ (x >>> 17)) >>> 0;
    x = (x ^ (x << 5)) >>> 0;
    buf.writeUInt32LE(x, k);
  }
  return createHash('sha256').update(buf).digest('hex');
}
