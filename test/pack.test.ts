// Prebuild + pack: `npm run prebuildify`, `npm pack`, install the tarball into a fresh
// project with --ignore-scripts on a PATH that holds only node and npm (no cc, g++ or make:
// as on a user's machine without a compiler), and run a cross-thread smoke script there on
// the prebuilt addon. Slow; skipped when WEFT_SKIP_PACK=1.
//
// prebuildify runs `node-gyp rebuild`, which deletes and rewrites build/: doing that in the
// repo would pull the addon from under the test files running in parallel. So it all runs in
// a temporary copy of the package (sources as they are now, node_modules linked).
import { describe, it, expect, afterAll } from 'vitest';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, existsSync, readdirSync, rmSync, cpSync, symlinkSync, mkdirSync, realpathSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PathLike } from 'fs';

const repo = fileURLToPath(new URL('..', import.meta.url));
// POSIX only (symlinks and sh build the compiler-free PATH); Windows CI installs the same way.
const skip = process.env.WEFT_SKIP_PACK === '1' || process.platform === 'win32';
let tmp: PathLike;

afterAll(() => {
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

const SMOKE_MAIN = `
import { Worker } from 'node:worker_threads';
import { Chan, share, ClosedChannelError } from 'weft';

const ch = new Chan(4);
const nums = new Chan(0, { elem: 'i32' });
const w = new Worker(new URL('./smoke-worker.mjs', import.meta.url), { workerData: share({ ch, nums }) });
const got = [];
for await (const v of ch) got.push(v);
const many = [];
for (;;) {
  const part = await nums.recvMany(16);
  if (part.length === 0) break;
  many.push(...part);
}
await new Promise((r) => w.on('exit', r));
let closedOk = false;
try { ch.trySend(1); } catch (e) { closedOk = e instanceof ClosedChannelError; }
const sum = got.reduce((a, v) => a + v.n, 0);
const expectedMany = Array.from({ length: 100 }, (_, i) => i);
if (got.length !== 50 || sum !== 1225 || !closedOk || JSON.stringify(many) !== JSON.stringify(expectedMany)) {
  console.error('BAD', JSON.stringify({ got: got.length, sum, closedOk, many: many.length }));
  process.exit(1);
}
console.log('SMOKE OK sum=' + sum + ' many=' + many.length);
`;

const SMOKE_WORKER = `
import { workerData } from 'node:worker_threads';
import { attach } from 'weft';
const { ch, nums } = attach(workerData);
for (let n = 0; n < 50; n++) ch.sendSync({ n, s: 'é' + n });
ch.close();
nums.sendManySync(Int32Array.from({ length: 100 }, (_, i) => i));
nums.close();
`;

describe.skipIf(skip)('prebuild and pack', () => {
  it('installs from the tarball without a compiler and runs across threads', () => {
    const run = (cmd: string, args: readonly string[], cwd: string, env = {}) =>
      execFileSync(cmd, args, { cwd, encoding: 'utf8', env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });

    tmp = mkdtempSync(join(tmpdir(), 'weft-pack-'));
    const pkg = join(tmp, 'weft');
    const skipTop = new Set(['node_modules', 'build', 'prebuilds', '.git', 'test', 'bench']);
    cpSync(repo, pkg, {
      recursive: true,
      filter: (src) => {
        const rel = relative(repo, src);
        return rel === '' || (!skipTop.has(rel.split(/[\\/]/)[0]) && !rel.endsWith('.tgz'));
      },
    });
    symlinkSync(join(repo, 'node_modules'), join(pkg, 'node_modules'), 'dir');

    run('npm', ['run', 'prebuildify'], pkg);
    const prebuilds = join(pkg, 'prebuilds', `${process.platform}-${process.arch}`);
    expect(existsSync(prebuilds)).toBe(true);
    expect(readdirSync(prebuilds).some((f) => f.endsWith('.node'))).toBe(true);

    const packOut = run('npm', ['pack', '--json', '--pack-destination', tmp], pkg);
    const info = JSON.parse(packOut.slice(packOut.indexOf('[\n')));
    const tarball = join(tmp, info[0].filename);
    expect(existsSync(tarball)).toBe(true);
    const files = info[0].files.map((f: { path: string }) => f.path);
    expect(files).toContain('dist/index.js');
    expect(files.some((f: string) => f.startsWith('prebuilds/') && f.endsWith('.node'))).toBe(true);
    expect(files.some((f: string) => f.startsWith('build/'))).toBe(false);
    expect(files.some((f: string) => f.startsWith('test/'))).toBe(false);

    // this platform's prebuild is in the tarball (prebuilds/linux-x64/*.node here)
    const plat = `prebuilds/${process.platform}-${process.arch}/`;
    expect(files.some((f: string) => f.startsWith(plat) && f.endsWith('.node')), plat).toBe(true);

    // A PATH with node and npm only: no compiler or make can be found by anything that runs.
    const bin = join(tmp, 'bin');
    mkdirSync(bin);
    const which = (cmd: string) => execFileSync('/bin/sh', ['-c', `command -v ${cmd}`], { encoding: 'utf8' }).trim();
    symlinkSync(process.execPath, join(bin, 'node'));
    symlinkSync(realpathSync(which('npm')), join(bin, 'npm'));
    const bare = { PATH: bin };
    for (const tool of ['cc', 'gcc', 'g++', 'c++', 'clang', 'make']) {
      const r = spawnSync('/bin/sh', ['-c', `command -v ${tool}`], { env: { ...process.env, ...bare }, encoding: 'utf8' });
      expect(r.error).toBeUndefined();  // the shell itself ran (absolute path)
      expect(r.status, `${tool} found on the bare PATH: ${r.stdout}`).not.toBe(0);
    }

    const proj = join(tmp, 'proj');
    mkdirSync(proj);
    writeFileSync(join(proj, 'package.json'), JSON.stringify({ name: 'weft-smoke', version: '1.0.0', private: true, type: 'module' }));
    run(join(bin, 'npm'), ['install', '--ignore-scripts', '--no-audit', '--no-fund', '--prefer-offline', tarball], proj, bare);
    expect(existsSync(join(proj, 'node_modules', 'weft', 'build'))).toBe(false);

    writeFileSync(join(proj, 'smoke.mjs'), SMOKE_MAIN);
    writeFileSync(join(proj, 'smoke-worker.mjs'), SMOKE_WORKER);
    const r = spawnSync(process.execPath, ['smoke.mjs'], {
      cwd: proj,
      encoding: 'utf8',
      timeout: 60_000,
      env: { ...process.env, PATH: bin, PREBUILDS_ONLY: '1' },
    });
    expect(r.status, `status ${r.status} signal ${r.signal}\n${r.stderr}`).toBe(0);
    expect(r.stderr).not.toMatch(/Error/);
    expect(r.stdout).toMatch(/SMOKE OK sum=1225 many=100/);
  }, 600_000);  // prebuildify is a full native build: minutes on a busy 2-core machine
});
