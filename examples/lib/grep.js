// Task of examples/parallel-grep.js: one worker of the pool, on a pool thread (go()).
import { readFileSync } from 'node:fs';

/**
 * Takes file names from `jobs` until it is closed and drained, counts the lines of each that
 * match `pattern`, and sends `{ file, count, first }` to `results` for every file (the book's
 * worker: read a job, do it, send the result). Returns how many files it searched.
 */
export function grepWorker(worker, jobs, results, pattern, flags) {
  const re = new RegExp(pattern, flags);
  let files = 0;
  for (const file of jobs) {
    let count = 0;
    let first;
    const lines = readFileSync(file, 'utf8').split('\n');
    for (let i = 0; i < lines.length; i++) {
      if (re.test(lines[i])) {
        count++;
        first ??= `${i + 1}: ${lines[i].trim()}`;
      }
    }
    files++;
    results.sendSync({ file, count, first, worker });
  }
  return files;
}
