// Addon lifetime across threads, each case in a child process (a crash takes only the child):
// - only workers import weft (the main thread never does): workers that exit, are terminated,
//   leave timers armed, or share objects across their lifetimes must not crash the process
//   (Node unloads an addon when the last environment using it ends);
// - workers terminated at random points of their start, while loading weft, must not abort the
//   process (the addon's init must never throw into a terminating environment).
import { describe, it, expect } from 'vitest';
import { fixture } from './fixture.js';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const here = fileURLToPath(new URL('.', import.meta.url));
const script = fileURLToPath(fixture('hardening-worker-only'));

function runMode(mode: string, rounds: number, timeout = 240_000) {
  const r = spawnSync(process.execPath, [script, mode, String(rounds)], { cwd: here, encoding: 'utf8', timeout });
  const detail = `mode ${mode}: status ${r.status}, signal ${r.signal}\n${(r.stderr || '').slice(-3000)}`;
  return { r, detail };
}

describe('only workers use weft (the main thread never imports it)', () => {
  for (const [mode, what] of [
    ['exit', 'a worker imports weft, leaves an async op pending and exits by itself, x20'],
    ['terminate', 'a worker imports weft, leaves an async op pending and is terminated, x20'],
    ['timer', 'a worker arms a timer and a context deadline, exits; the deadlines pass later'],
    ['share', 'worker A shares a channel and exits; worker B attaches it afterwards'],
  ]) {
    it(`${what}: no crash`, () => {
      const { r, detail } = runMode(mode, 20);
      expect(r.signal, detail).toBe(null);
      expect(r.status, detail).toBe(0);
      expect(r.stdout.trim(), detail).toBe(`ok ${mode}`);
    });
  }
});

describe('workers terminated while they start and load weft', () => {
  for (const mode of ['start', 'start-main']) {
    const main = mode === 'start' ? 'main thread without weft' : 'main thread with weft';
    it(`${main}: 200 rounds of terminate at a random point of the start, the process exits 0`, () => {
      const { r, detail } = runMode(mode, 200);
      expect(r.stderr, detail).not.toMatch(/FATAL ERROR/);
      expect(r.signal, detail).toBe(null);
      expect(r.status, detail).toBe(0);
      expect(r.stdout.trim(), detail).toBe(`ok ${mode}`);
    });
  }
});
