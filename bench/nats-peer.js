// A child process standing in for another machine in the weft/nats benchmarks (bench/nats.js):
// `node bench/nats-peer.js ROLE JSON`, forked with an IPC channel. It connects, reports
// { ready: true }, waits for 'go' (so process start-up is not timed), does its part and reports
// { done: true, ... } with process.hrtime stamps (CLOCK_MONOTONIC: one clock for every process
// on this machine, so the parent can subtract stamps taken in different processes).
//
// cfg.module: the weft/nats module to measure.
// Roles (weft = weft/nats, raw = @nats-io/jetstream as a careful user writes it):
//   weftSend / rawSend  {url, chan|stream, subject, count, inflight}  -> {t0, t1, rejected?}
//   weftRecv / rawRecv  {url, chan|stream, count, inflight}           -> {t1, count, sum}
//   weftLatSend / rawLatSend {url, ...}  one value at a time, waits for 'next' from the parent
//   weftLatRecv / rawLatRecv {url, ..., ackAck?}  -> {lat: [µs per value]}
//   serve {url, queue, concurrency}                                 serves until 'stop'
import { deserialize, serialize } from 'node:v8';

const [role, json] = process.argv.slice(2);
const cfg = JSON.parse(json ?? '{}');
const now = () => process.hrtime.bigint();
const report = (m) => new Promise((resolve) => process.send(m, () => resolve()));
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
/** Resolves on the next message from the parent equal to `what`. */
const told = (what) => new Promise((resolve) => {
  const on = (m) => {
    if (m === what) {
      process.off('message', on);
      resolve();
    }
  };
  process.on('message', on);
});

async function raw() {
  const { connect } = await import('@nats-io/transport-node');
  const { jetstream } = await import('@nats-io/jetstream');
  const nc = await connect({ servers: cfg.url });
  return { nc, js: jetstream(nc) };
}

const roles = {
  // ---------------------------------------------------------------- throughput
  async weftSend() {
    const { connect } = await import(cfg.module);
    const remote = await connect({ servers: cfg.url });
    const ch = await remote.chan(cfg.chan);
    const go = told('go');
    await report({ ready: true });
    await go;
    const t0 = now();
    let next = 0;
    const worker = async () => {
      while (next < cfg.count) await ch.send(next++);
    };
    await Promise.all(Array.from({ length: cfg.inflight }, worker));
    const t1 = now();
    await report({ done: true, t0: String(t0), t1: String(t1), rejected: ch.stats.rejected });
    await remote.close();
  },

  async weftRecv() {
    const { connect } = await import(cfg.module);
    const remote = await connect({ servers: cfg.url });
    const ch = await remote.chan(cfg.chan);
    await report({ ready: true });
    let count = 0, sum = 0, t1 = 0n, all;
    const got = new Promise((r) => { all = r; });
    const loop = async () => {
      while (count < cfg.count) {
        const v = await ch.recv();
        sum += v;
        if (++count === cfg.count) {
          t1 = now();
          all();
        }
      }
    };
    for (let i = 0; i < cfg.inflight; i++) loop().catch((e) => report({ error: `${e?.stack ?? e}` }).then(() => process.exit(1)));
    await got; // the other receivers are still waiting
    await report({ done: true, t1: String(t1), count, sum });
    process.exit(0); // receivers still waiting: do not wait for their pulls to expire
  },

  async rawSend() {
    const { nc, js } = await raw();
    const go = told('go');
    await report({ ready: true });
    await go;
    const t0 = now();
    let next = 0, rejected = 0;
    const worker = async () => {
      while (next < cfg.count) {
        const data = serialize(next++);
        for (let backoff = 1; ; backoff = Math.min(backoff * 2, 50)) {
          try {
            await js.publish(cfg.subject, data);
            break;
          } catch (e) {
            if (e?.api_error?.err_code !== 10077 && e?.code !== 10077) throw e;
            rejected++; // full (discard-new): wait a little and try again
            await sleep(backoff);
          }
        }
      }
    };
    await Promise.all(Array.from({ length: cfg.inflight }, worker));
    const t1 = now();
    await report({ done: true, t0: String(t0), t1: String(t1), rejected });
    await nc.drain();
  },

  async rawRecv() {
    const { nc, js } = await raw();
    const c = await js.consumers.get(cfg.stream, 'recv');
    const msgs = await c.consume({ max_messages: cfg.inflight });
    await report({ ready: true });
    let count = 0, sum = 0, t1 = 0n;
    for await (const m of msgs) {
      sum += deserialize(m.data);
      if (cfg.ackAck) await m.ackAck();
      else m.ack();
      if (++count === cfg.count) {
        t1 = now();
        break;
      }
    }
    await report({ done: true, t1: String(t1), count, sum });
    await nc.flush();
    process.exit(0);
  },

  // ---------------------------------------------------------------- latency, one value at a time
  async weftLatSend() {
    const { connect } = await import(cfg.module);
    const remote = await connect({ servers: cfg.url });
    const ch = await remote.chan(cfg.chan);
    await latSend((v) => ch.send(v));
    await remote.close();
  },

  async rawLatSend() {
    const { nc, js } = await raw();
    await latSend((v) => js.publish(cfg.subject, serialize(v)));
    await nc.drain();
  },

  async weftLatRecv() {
    const { connect } = await import(cfg.module);
    const remote = await connect({ servers: cfg.url });
    const ch = await remote.chan(cfg.chan);
    await latRecv(() => ch.recv());
  },

  async rawLatRecv() {
    const { js } = await raw();
    const c = await js.consumers.get(cfg.stream, 'recv');
    const msgs = await c.consume({ max_messages: 1 });
    const it = msgs[Symbol.asyncIterator]();
    await latRecv(async () => {
      const { value: m } = await it.next();
      const v = deserialize(m.data);
      if (cfg.ackAck) await m.ackAck();
      else m.ack();
      return v;
    });
  },

  // ---------------------------------------------------------------- RemoteQueue server
  async serve() {
    const { connect } = await import(cfg.module);
    const remote = await connect({ servers: cfg.url });
    const q = remote.queue(cfg.queue);
    const ac = new AbortController();
    process.on('message', (m) => m === 'stop' && ac.abort());
    const served = q.serve({ concurrency: cfg.concurrency, signal: ac.signal });
    await report({ ready: true });
    await served;
    await report({ done: true });
    process.exit(0);
  },
};

/** Sends cfg.count stamped values, each after the parent says 'next' (the previous one arrived). */
async function latSend(send) {
  const go = told('go');
  await report({ ready: true });
  await go;
  let resolveNext = null;
  process.on('message', (m) => m === 'next' && resolveNext?.());
  for (let i = 0; i < cfg.count; i++) {
    const next = new Promise((r) => { resolveNext = r; });
    await send({ i, t: Number(now()) });
    await next;
  }
  await report({ done: true });
}

/** Receives cfg.count values; the latency of each is (receive returned) − (its send started). */
async function latRecv(recv) {
  await report({ ready: true });
  const lat = [];
  for (let i = 0; i < cfg.count; i++) {
    const v = await recv();
    const us = (Number(now()) - v.t) / 1e3;
    if (v.i !== i) throw new Error(`latency: got value ${v.i}, expected ${i}`);
    lat.push(us);
    process.send('got');
  }
  await report({ done: true, lat });
  process.exit(0);
}

roles[role]().catch(async (e) => {
  await report({ error: `${e?.stack ?? e}` });
  process.exit(1);
});
