// Child processes for the weft/nats tests (each stands in for another machine): fork
// test/fixtures/nats-peer.ts with a role and collect what it reports.
import { fork, type ChildProcess } from 'node:child_process';
import { fixture } from './fixture.js';

/** A running peer process. */
export interface Peer {
  proc: ChildProcess;
  /** Resolves with the first report matching `pred` (rejects if the peer reports an error or exits first). */
  next(pred: (m: any) => boolean): Promise<any>;
  /** Resolves with the `{ done: true }` report. */
  done(): Promise<any>;
  kill(signal?: NodeJS.Signals): void;
}

const live = new Set<ChildProcess>();

/** Starts a peer in role `role` with config `cfg`. */
export function peer(role: string, cfg: Record<string, unknown>): Peer {
  const proc = fork(fixture('nats-peer'), [role, JSON.stringify(cfg)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  live.add(proc);
  const msgs: any[] = [];
  const watchers: { pred: (m: any) => boolean; resolve: (m: any) => void; reject: (e: Error) => void }[] = [];
  let ended: Error | undefined;
  const fail = (e: Error): void => {
    ended = e;
    for (const w of watchers.splice(0)) w.reject(e);
  };
  proc.on('message', (m: any) => {
    msgs.push(m);
    if (m && m.error) {
      const e = new Error(`peer ${role} failed: ${m.error.name}: ${m.error.message}\n${m.error.stack}`);
      fail(e);
      return;
    }
    for (let i = watchers.length - 1; i >= 0; i--) {
      if (watchers[i]!.pred(m)) watchers.splice(i, 1)[0]!.resolve(m);
    }
  });
  proc.on('exit', (code, sig) => {
    live.delete(proc);
    fail(new Error(`peer ${role} exited (${code ?? sig}) before reporting`));
  });
  const next = (pred: (m: any) => boolean): Promise<any> => {
    const m = msgs.find(pred);
    if (m) return Promise.resolve(m);
    if (ended) return Promise.reject(ended);
    return new Promise((resolve, reject) => watchers.push({ pred, resolve, reject }));
  };
  return {
    proc,
    next,
    done: () => next((m) => m && m.done === true),
    kill: (signal = 'SIGKILL') => {
      proc.kill(signal);
    },
  };
}

/** Kills every peer still running (afterAll). */
export function killPeers(): void {
  for (const p of live) p.kill('SIGKILL');
  live.clear();
}
