// A worker pool over files: a parallel grep of a directory (Effective Concurrency in Go, ch. 5).
//
// The main thread walks the directory and sends each file name on a jobs channel; a fixed number
// of workers (go() tasks on weft's pool threads) take names from it, search the file, and send
// a result per file; the main thread collects them. Closing the jobs channel tells the workers
// there is no more work; the results channel is closed once every worker has returned.
//
//   node examples/parallel-grep.js [pattern] [directory] [workers]
//   (defaults: the pattern `Chan`, this repository's lib/ directory, one worker per core)
import { readdirSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Chan, go } from 'weft';

const PATTERN = process.argv[2] ?? 'Chan';
const DIR = process.argv[3] ?? fileURLToPath(new URL('../lib', import.meta.url));
const WORKERS = Number(process.argv[4] ?? availableParallelism());
const tasks = new URL('./lib/grep.js', import.meta.url);

const jobs = new Chan(16, { name: 'jobs' });
const results = new Chan(16, { name: 'results' });

const workers = Array.from({ length: WORKERS }, (_, w) => go(tasks, 'grepWorker', w, jobs, results, PATTERN, ''));
// Close the results once every worker is done (Go: wg.Wait(); close(results)).
Promise.allSettled(workers).then(() => results.close());

// Feed the pool while collecting results on the same thread: the send waits while the jobs
// channel is full, and the loop below keeps the results channel moving.
async function feed() {
  let n = 0;
  for (const entry of readdirSync(DIR, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    await jobs.send(join(entry.parentPath ?? entry.path, entry.name));
    n++;
  }
  jobs.close();
  return n;
}
const fed = feed();

const found = [];
for await (const r of results) found.push(r);
const files = await fed;
const perWorker = await Promise.all(workers);

found.sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : 0));
let matches = 0;
let matching = 0;
for (const r of found) {
  if (r.count === 0) continue;
  matching++;
  matches += r.count;
  console.log(`${relative(DIR, r.file)}: ${r.count} (first: ${r.first.length > 70 ? `${r.first.slice(0, 67)}...` : r.first})`);
}
console.log(`workers searched ${perWorker.join(' + ')} files`);
const ok = found.length === files && perWorker.reduce((a, b) => a + b, 0) === files;
console.log(`parallel-grep: /${PATTERN}/ in ${files} files with ${WORKERS} workers: ${matches} matching lines in ${matching} files: ${ok ? 'ok' : 'FAILED'}`);
if (!ok) process.exitCode = 1;
