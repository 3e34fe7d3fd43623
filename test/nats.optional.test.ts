// The root entry never loads weft/nats's optional peer dependencies: `import 'weft'` works in a
// process where no @nats-io/* package can be resolved (runs without nats-server).
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { fixture } from './fixture.js';

function run(code: string): { ok: boolean; out: string } {
  try {
    const out = execFileSync(process.execPath, ['--import', fixture('no-nats-register').href, '--input-type=module', '-e', code], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    return { ok: true, out };
  } catch (e) {
    const err = e as { stdout?: string; stderr?: string };
    return { ok: false, out: `${err.stdout ?? ''}${err.stderr ?? ''}` };
  }
}

describe('weft/nats is optional', () => {
  it("importing 'weft' works with @nats-io/* absent", () => {
    const r = run(`
      const w = await import('weft');
      const ch = new w.Chan(1);
      ch.trySend(5);
      console.log('value', ch.tryRecv().value, typeof w.go);
    `);
    expect(r.out).toContain('value 5 function');
    expect(r.ok).toBe(true);
  });

  it("importing 'weft/nats' there fails naming the missing package (the hook works)", () => {
    const r = run(`await import('weft/nats');`);
    expect(r.ok).toBe(false);
    expect(r.out).toMatch(/@nats-io\//);
  });
});
