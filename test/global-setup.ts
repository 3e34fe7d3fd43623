// vitest globalSetup: compiles test/ with tsc before any test file runs (test/tsconfig.json).
// - Type check: every test, helper and fixture is checked against the built public .d.ts; any
//   error fails the run (vitest's own transform strips types without checking them).
// - Emit: worker threads and child processes load fixtures as plain JavaScript (Node 20 has no
//   type stripping), so they run from .test-build/fixtures/ (see fixture() in helpers.ts).
// The output directory is deleted first, so a run never uses output of an earlier one.
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));

/** Compile test/ into .test-build/; throws with tsc's diagnostics if anything fails to check. */
export default function setup(): void {
  const t0 = Date.now();
  rmSync(new URL('../.test-build/', import.meta.url), { recursive: true, force: true });
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
  const r = spawnSync(process.execPath, [tsc, '-p', 'test/tsconfig.json', '--pretty', 'false'], {
    cwd: root,
    encoding: 'utf8',
  });
  if (r.status !== 0) {
    const out = `${r.stdout}${r.stderr}`.trim();
    throw new Error(`type errors in test/ (tsc -p test/tsconfig.json exited ${r.status ?? r.signal}):\n${out}`);
  }
  if (process.env.WEFT_TEST_TIMING) console.log(`test/ compiled in ${Date.now() - t0} ms`);
}
