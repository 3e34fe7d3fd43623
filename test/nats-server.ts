// A throwaway nats-server with JetStream for the weft/nats tests (DESIGN.md "NATS JetStream"):
// random port, file storage in a temp dir, ready when its ports file appears. No weft import:
// fixtures and tests use it freely.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** True when a `nats-server` binary is on PATH (the NATS tests skip without it). */
export const hasNatsServer: boolean = (() => {
  const r = spawnSync('nats-server', ['--version'], { encoding: 'utf8' });
  return r.status === 0;
})();

/** Why the NATS tests were skipped (printed once by each file that skips). */
export const SKIP_MESSAGE =
  'weft/nats tests skipped: no nats-server on PATH (apt-get install -y nats-server, or see README "weft/nats")';

/** A running server. */
export interface NatsServer {
  /** `nats://127.0.0.1:PORT` */
  url: string;
  port: number;
  /** Its storage dir (JetStream file storage). */
  dir: string;
  proc: ChildProcess;
  /** SIGTERM, wait for exit; `keep` leaves the storage dir (for a restart). */
  stop(keep?: boolean): Promise<void>;
}

/** Starts nats-server with JetStream; `opts.port`/`opts.dir` restart one on the same port and storage. */
export async function startNatsServer(opts: { port?: number; dir?: string } = {}): Promise<NatsServer> {
  const dir = opts.dir ?? mkdtempSync(join(tmpdir(), 'weft-nats-'));
  const portsDir = mkdtempSync(join(tmpdir(), 'weft-nats-ports-'));
  const args = ['-a', '127.0.0.1', '-p', String(opts.port ?? -1), '-js', '-sd', dir, '--ports_file_dir', portsDir];
  const proc = spawn('nats-server', args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  proc.stderr!.on('data', (b: Buffer) => {
    if (stderr.length < 20_000) stderr += b.toString();
  });
  const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
  let url: string | undefined;
  const t0 = Date.now();
  while (url === undefined) {
    if (proc.exitCode !== null) throw new Error(`nats-server exited (${proc.exitCode}): ${stderr}`);
    if (Date.now() - t0 > 15_000) {
      proc.kill('SIGKILL');
      throw new Error(`nats-server did not write its ports file in 15 s: ${stderr}`);
    }
    const f = readdirSync(portsDir).find((n) => n.endsWith('.ports'));
    if (f) {
      try {
        url = (JSON.parse(readFileSync(join(portsDir, f), 'utf8')) as { nats: string[] }).nats[0];
      } catch {
        /* half-written: read again */
      }
    }
    if (url === undefined) await new Promise((r) => setTimeout(r, 10));
  }
  const port = Number(new URL(url).port);
  return {
    url: `nats://127.0.0.1:${port}`,
    port,
    dir,
    proc,
    async stop(keep = false) {
      if (proc.exitCode === null && proc.signalCode === null) {
        proc.kill('SIGTERM');
        const t = setTimeout(() => proc.kill('SIGKILL'), 10_000);
        await exited;
        clearTimeout(t);
      }
      rmSync(portsDir, { recursive: true, force: true });
      if (!keep) rmSync(dir, { recursive: true, force: true });
    },
  };
}
