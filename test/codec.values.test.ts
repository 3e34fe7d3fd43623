// API.md §0 "Values": regression tests for values that used to arrive wrong. Each value goes
// main -> worker -> main (or main -> worker, where the worker checks what only it can see)
// through structured channels and must be what postMessage / structuredClone gives.
import { describe, it, expect, afterEach } from 'vitest';
import { fixture } from './fixture.js';
import crypto from 'node:crypto';
import net from 'node:net';
import { MessageChannel } from 'node:worker_threads';
import { Chan, Mutex, WaitGroup, DataCloneError } from 'weft';
import { spawnWith, cleanup, within } from './helpers.js';
import type { Received } from './helpers.js';
import { sameClone, checkShared } from './fixtures/codec-compare.js';

afterEach(cleanup);

const MODULE = fixture('codec-scenarios');

// A self-signed test certificate (P-256, CN=weft-test, valid until 2126).
const CERT = `-----BEGIN CERTIFICATE-----
MIIBgDCCASWgAwIBAgIUe2UFrsF4XsFpSakR9jv8ABFV5dwwCgYIKoZIzj0EAwIw
FDESMBAGA1UEAwwJd2VmdC10ZXN0MCAXDTI2MTIwMTE2MTUxOVoYDzIxMjYxMTA3
MTYxNTE5WjAUMRIwEAYDVQQDDAl3ZWZ0LXRlc3QwWTATBgcqhkjOPQIBBggqhkjO
PQMBBwNCAASv0WBAlsrUFZYlBTZBi2iBX6SoTPcxW1GSyX8hiWEDqWAMaJA7DWAs
DrFz3qYdy0awivLaqPqOiZfSXmqH2s7zo1MwUTAdBgNVHQ4EFgQUgEGgI50PeBn8
cpeSCGursV5h6pgwHwYDVR0jBBgwFoAUgEGgI50PeBn8cpeSCGursV5h6pgwDwYD
VR0TAQH/BAUwAwEB/zAKBggqhkjOPQQDAgNJADBGAiEAoCXOOYyorXeeZQWK/E4H
DTNfv10Izi4hFiBc35SiEXsCIQC/jJILXXFKo8ZJFAQZSE+SK9zarNvhOcpXpVhC
oTP7tg==
-----END CERTIFICATE-----`;

/** Sends each value through an echo worker and returns what came back. */
async function roundTrip(...values: unknown[]): Promise<Received[]> {
  const input = new Chan(values.length);
  const output = new Chan(values.length);
  const w = spawnWith({ module: MODULE }, 'echoAll', input, output);
  for (const v of values) await input.send(v);
  input.close();
  const got: Received[] = [];
  for (let i = 0; i < values.length; i++) got.push(await within(output.recv(), 20_000, 'echo'));
  await w.done();
  return got;
}

/** Round trip of values structuredClone can clone too: compares with it in every detail. */
async function expectLikeStructuredClone(value: unknown): Promise<Received> {
  const [got] = await roundTrip(value);
  checkShared(sameClone(got, structuredClone(value)));
  return got;
}

describe('codec: Node objects postMessage clones arrive as such', () => {
  it('Blob (and File, which postMessage turns into a Blob) keep bytes and type', async () => {
    const bytes = crypto.randomBytes(100_000);
    const blob = new Blob([bytes], { type: 'application/x-test' });
    const file = new File(['file body'], 'f.txt', { type: 'text/plain' });
    const empty = new Blob([]);
    const [got] = await roundTrip({ blob, file, empty, again: blob });
    expect(got.blob).toBeInstanceOf(Blob);
    expect(got.blob.type).toBe('application/x-test');
    expect(Buffer.compare(Buffer.from(await got.blob.arrayBuffer()), bytes)).toBe(0);
    expect(Object.getPrototypeOf(got.file)).toBe(Object.getPrototypeOf(structuredClone(file)));
    expect(await got.file.text()).toBe('file body');
    expect(got.file.type).toBe('text/plain');
    expect(got.empty.size).toBe(0);
    expect(got.again).toBe(got.blob);
  });

  it('a Blob is readable in the receiving worker', async () => {
    const input = new Chan(1);
    const output = new Chan(1);
    const w = spawnWith({ module: MODULE }, 'inspectOne', input, output);
    await input.send({ blob: new Blob(['héllo']), blobs: [new Blob(['a']), new Blob(['b', 'c'])] });
    await within(output.recv(), 20_000, 'echo');
    const facts = await w.done();
    expect(facts.blobText).toBe('héllo');
    expect(facts.blobTexts).toEqual(['a', 'bc']);
  });

  it('KeyObject (secret, public, private) arrives as an equal KeyObject', async () => {
    const secret = crypto.createSecretKey(crypto.randomBytes(32));
    const { publicKey, privateKey } = crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const ed = crypto.generateKeyPairSync('ed25519').privateKey;
    const [got] = await roundTrip([secret, publicKey, privateKey, ed]);
    const ref = structuredClone([secret, publicKey, privateKey, ed]);
    for (let i = 0; i < ref.length; i++) {
      expect(Object.getPrototypeOf(got[i])).toBe(Object.getPrototypeOf(ref[i]));
      expect(got[i].type).toBe(ref[i].type);
      expect(got[i].equals(ref[i])).toBe(true);
    }
    const sig = crypto.sign(null, Buffer.from('x'), got[3]);
    expect(crypto.verify(null, Buffer.from('x'), crypto.createPublicKey(ed), sig)).toBe(true);
  });

  it('SocketAddress and BlockList arrive as such', async () => {
    const sa = new net.SocketAddress({ address: 'fe80::1', family: 'ipv6', port: 443, flowlabel: 7 });
    const bl = new net.BlockList();
    bl.addAddress('1.2.3.4');
    bl.addRange('10.0.0.1', '10.0.0.9');
    bl.addSubnet('8.0.0.0', 8);
    bl.addSubnet('fe80::', 10, 'ipv6');
    const [got] = await roundTrip({ sa, bl });
    expect(Object.getPrototypeOf(got.sa) === Object.getPrototypeOf(structuredClone(sa))).toBe(true);
    expect(Object.getPrototypeOf(got.bl) === Object.getPrototypeOf(structuredClone(bl))).toBe(true);
    expect(got.sa).toBeInstanceOf(net.SocketAddress);
    // toJSON() is in Node's SocketAddress but not in @types/node 20
    const json = (x: unknown) => ({ ...(x as { toJSON(): object }).toJSON() });
    expect(json(got.sa)).toEqual(json(structuredClone(sa)));
    expect(got.bl).toBeInstanceOf(net.BlockList);
    expect(got.bl.rules).toEqual(structuredClone(bl).rules);
    expect(got.bl.check('10.0.0.5')).toBe(true);
    expect(got.bl.check('11.0.0.5')).toBe(false);
  });

  it('X509Certificate arrives as such', async () => {
    const cert = new crypto.X509Certificate(CERT);
    const [got] = await roundTrip(cert);
    const ref = structuredClone(cert);
    expect(Object.getPrototypeOf(got) === Object.getPrototypeOf(ref)).toBe(true);
    expect(got.subject).toBe('CN=weft-test');
    expect(got.fingerprint256).toBe(ref.fingerprint256);
    expect(Buffer.compare(got.raw, ref.raw)).toBe(0);
  });

  it('an untransferred MessagePort, a Proxy, a WeakMap, a Symbol object throw DataCloneError; nothing is sent', () => {
    const ch = new Chan(4);
    const { port1 } = new MessageChannel();
    for (const bad of [port1, new Proxy({}, {}), new Proxy([], {}), new WeakMap(), Object(Symbol('s')), Promise.resolve(), new ReadableStream()]) {
      expect(() => structuredClone({ x: [bad] })).toThrow();
      expect(() => ch.trySend({ x: [bad] })).toThrow(DataCloneError);
    }
    port1.close();
    expect(ch.length).toBe(0);
  });
});

describe('codec: identity, holes, properties', () => {
  it('an object referenced twice arrives as one object; cycles survive (also inside Map/Set)', async () => {
    const o = { k: 1 };
    const cyc: { name: string; self?: unknown } = { name: 'c' };
    cyc.self = cyc;
    const m = new Map();
    m.set(m, o).set('o', o);
    const s = new Set();
    s.add(s).add(o);
    const got = await expectLikeStructuredClone({ a: o, b: o, cyc, m, s, arr: [o, [o]] });
    expect(got.a).toBe(got.b);
    expect(got.arr[1][0]).toBe(got.a);
    expect(got.cyc.self).toBe(got.cyc);
    expect(got.m.get(got.m)).toBe(got.a);
    expect(got.s.has(got.s)).toBe(true);
  });

  it('sparse arrays keep their holes; named array properties travel', async () => {
    const sparse = [1, , 3, , undefined]; // eslint-disable-line no-sparse-arrays
    const named = Object.assign([1, 2], { x: 'x', y: { z: 1 } });
    const big: unknown[] & { tag?: string } = new Array(1_000_000);
    big[5] = 'five';
    big[999_999] = 'last';
    big.tag = 't';
    const longNamed = Object.assign(Array.from({ length: 100 }, (_, i) => i), { extra: true });
    const got = await expectLikeStructuredClone({ sparse, named, big, longNamed });
    expect(1 in got.sparse).toBe(false);
    expect(4 in got.sparse).toBe(true);
    expect(got.named.x).toBe('x');
    expect(got.big.length).toBe(1_000_000);
    expect(Object.keys(got.big)).toEqual(['5', '999999', 'tag']);
    expect(got.longNamed.extra).toBe(true);
  });

  it('only own enumerable properties travel; an enumerable throwing `constructor` on a prototype is harmless', async () => {
    class P {
      own: number;
      constructor() {
        this.own = 1;
      }
    }
    Object.defineProperty(P.prototype, 'constructor', { enumerable: true, get() { throw new Error('must not be read'); } });
    Object.defineProperty(P.prototype, 'inherited', { enumerable: true, value: 2 });
    const inh = Object.create({ fromProto: 1 });
    inh.own = 2;
    const got = await expectLikeStructuredClone({ p: new P(), inh, nul: Object.assign(Object.create(null), { a: 1 }) });
    expect(got.p).toEqual({ own: 1 });
    expect(Object.getPrototypeOf(got.p)).toBe(Object.prototype);
    expect(Object.keys(got.inh)).toEqual(['own']);
    expect(Object.getPrototypeOf(got.nul)).toBe(Object.prototype);
  });

  it('class instances and Error subclasses clone as structuredClone does (getters run, extra props dropped)', async () => {
    class Point {
      x: number;
      constructor() {
        this.x = 1;
      }
      get y() {
        return 2;
      }
    }
    class MyErr extends TypeError {
      extra: number;
      constructor(m: string) {
        super(m, { cause: { why: 'because' } });
        this.extra = 5;
      }
    }
    const named = new Error('n');
    named.name = 'RangeError';
    const withGetter = { get g() { return 'got'; } };
    const got = await expectLikeStructuredClone({ p: new Point(), e: new MyErr('m'), named, withGetter, agg: new AggregateError([1], 'agg') });
    expect(got.e).toBeInstanceOf(TypeError);
    expect(got.e.cause).toEqual({ why: 'because' });
    expect('extra' in got.e).toBe(false);
    expect(got.named).toBeInstanceOf(RangeError);
    expect(got.withGetter.g).toBe('got');
  });

  it('an Error whose cause contains it cannot be cloned (postMessage cannot deliver it): DataCloneError at the send', () => {
    const e = new Error('loop');
    e.cause = { e };
    const ch = new Chan(1);
    expect(() => ch.trySend(e)).toThrow(DataCloneError);
    expect(ch.length).toBe(0);
  });

  it('a getter that sends on another channel while the value is being encoded does not disturb it', async () => {
    const side = new Chan(1);
    const shared = { s: 1 };
    const value = {
      a: shared,
      get g() {
        side.trySend({ inner: [shared, shared], n: 2 });
        return 'g';
      },
      b: shared,
    };
    const [got] = await roundTrip(value);
    expect(got.g).toBe('g');
    expect(got.a).toBe(got.b);
    const inner = side.tryRecv().value as Received;
    expect(inner.inner[0]).toBe(inner.inner[1]);
    expect(inner.n).toBe(2);
  });

  it('boxed primitives, RegExp (lastIndex reset), -0, NaN, bigint, lone surrogates', async () => {
    const re = /a+/giy;
    re.lastIndex = 3;
    await expectLikeStructuredClone([new Number(-0), new String('s\uD800'), new Boolean(false), Object(-5n), re, -0, NaN, 2n ** 70n, 'x\uDFFF']);
  });
});

describe('codec: strings as V8 holds them', () => {
  it('long strings (one-byte Latin-1, two-byte, lone surrogates, ASCII) and keys arrive exactly, around the 64-character line', async () => {
    const latin1 = (n: number) => Array.from({ length: n }, (_, i) => String.fromCharCode(0x20 + ((i * 37) % 0xe0))).join('');
    const twoByte = (n: number) => Array.from({ length: n }, (_, i) => String.fromCharCode(0x100 + ((i * 7919) % 0xfe00))).join('');
    const values: unknown[] = [];
    for (const n of [63, 64, 65, 1000, 70_000]) {
      values.push(latin1(n), twoByte(n), 'x'.repeat(n), `${latin1(n)}\uD800`, `\uDFFF${'a'.repeat(n)}`);
    }
    values.push({ [latin1(100)]: twoByte(100), nested: [latin1(3000), { k: twoByte(3000) }] });
    values.push('é'.repeat(5_000_000)); // one large Latin-1 string (5 MB)
    const got = await roundTrip(...values);
    expect(got.length).toBe(values.length);
    for (let i = 0; i < values.length; i++) expect(got[i], `value ${i}`).toEqual(values[i]);
    // The same values on one thread (the scratch area, not a worker's copy).
    const ch = new Chan(1);
    for (const v of values) {
      ch.sendSync(v);
      expect(ch.recvSync()).toEqual(v);
    }
  }, 60_000);
});

describe('codec: buffers', () => {
  it('a SharedArrayBuffer (and views on it) is shared, not copied, across threads', async () => {
    const sab = new SharedArrayBuffer(16);
    const input = new Chan(1);
    const output = new Chan(1);
    const w = spawnWith({ module: MODULE }, 'inspectOne', input, output);
    await input.send({ sab, view: new Int32Array(sab, 4, 2) });
    const back: Received = await within(output.recv(), 20_000, 'echo');
    const facts = await w.done();
    expect(facts).toMatchObject({ sabIsShared: true, viewSharesSab: true });
    expect(new Int32Array(sab)[0]).toBe(4242); // written by the worker
    new Int32Array(sab)[1] = 7;
    expect(back.view[0]).toBe(7);
    expect(back.view.buffer).toBe(back.sab);
  });

  it('views of one buffer stay views of one buffer, also in a cyclic or very deep value', async () => {
    const ab = new ArrayBuffer(16);
    const value: { a: Uint8Array; b: DataView; c: ArrayBuffer; self?: unknown } = { a: new Uint8Array(ab, 2, 4), b: new DataView(ab), c: ab };
    value.self = value;
    let deep: object = { value };
    for (let i = 0; i < 300; i++) deep = { deep };
    const got = await expectLikeStructuredClone(deep);
    let d = got;
    while (d.deep) d = d.deep;
    expect(d.value.a.buffer).toBe(d.value.c);
    expect(d.value.b.buffer).toBe(d.value.c);
    expect(d.value.self).toBe(d.value);
  });

  it('a resizable ArrayBuffer keeps resizable/maxByteLength; length-tracking views keep tracking', async () => {
    const rab = new ArrayBuffer(8, { maxByteLength: 64 });
    const got = await expectLikeStructuredClone({ rab, tracking: new Uint8Array(rab, 2), fixed: new Uint16Array(rab, 0, 2) });
    expect(got.rab.resizable).toBe(true);
    expect(got.rab.maxByteLength).toBe(64);
    got.rab.resize(32);
    expect(got.tracking.length).toBe(30);
    expect(got.fixed.length).toBe(2);
  });

  it('a growable SharedArrayBuffer stays growable and shared', async () => {
    const gsab = new SharedArrayBuffer(8, { maxByteLength: 32 });
    const [got] = await roundTrip({ gsab, v: new Uint8Array(gsab) });
    expect(got.gsab.growable).toBe(true);
    expect(got.gsab.maxByteLength).toBe(32);
    gsab.grow(16);
    expect(got.gsab.byteLength).toBe(16); // the same memory, grown by the sender
    expect(got.v.length).toBe(16);
  });

  it('a shared WebAssembly.Memory is shared; a WebAssembly.Module arrives compiled', async () => {
    const mem = new WebAssembly.Memory({ initial: 1, maximum: 2, shared: true });
    // (module (func (export "answer") (result i32) i32.const 42))
    const mod = new WebAssembly.Module(new Uint8Array([
      0, 97, 115, 109, 1, 0, 0, 0, 1, 5, 1, 96, 0, 1, 127, 3, 2, 1, 0, 7, 10, 1, 6, 97, 110, 115, 119,
      101, 114, 0, 0, 10, 6, 1, 4, 0, 65, 42, 11,
    ]));
    const input = new Chan(1);
    const output = new Chan(1);
    const w = spawnWith({ module: MODULE }, 'inspectOne', input, output);
    await input.send({ mem, mod });
    const back: Received = await within(output.recv(), 20_000, 'echo');
    expect(await w.done()).toMatchObject({ memIsMemory: true, modAnswer: 42 });
    expect(new Uint8Array(mem.buffer)[1]).toBe(99);
    expect(back.mem).toBeInstanceOf(WebAssembly.Memory);
    expect(back.mod).toBeInstanceOf(WebAssembly.Module);
    expect(() => new Chan(1).trySend(new WebAssembly.Memory({ initial: 1 }))).toThrow(DataCloneError);
  });
});

describe('codec: weft objects anywhere', () => {
  it('weft objects inside a cycle, deeper than 100 levels, in an Error cause, in a class instance, in Map keys', async () => {
    const ch = new Chan(3);
    const mu = new Mutex();
    const wg = new WaitGroup();
    class Holder {
      ch: Chan;
      constructor() {
        this.ch = ch;
      }
    }
    const cyc: { ch: Chan; self?: unknown } = { ch };
    cyc.self = cyc;
    let deep: object = { mu };
    for (let i = 0; i < 150; i++) deep = { deep };
    const err = new Error('with cause', { cause: { wg, ch } });
    const [got] = await roundTrip({ cyc, deep, err, holder: new Holder(), map: new Map([[ch, mu]]), twice: [ch, ch] });
    expect(got.cyc.self).toBe(got.cyc);
    expect(got.cyc.ch).toBeInstanceOf(Chan);
    let d = got.deep;
    while (d.deep) d = d.deep;
    expect(d.mu).toBeInstanceOf(Mutex);
    expect(got.err.cause.wg).toBeInstanceOf(WaitGroup);
    // (no toEqual on channels: its iterable check would iterate, i.e. receive from, them)
    expect(Object.getPrototypeOf(got.holder)).toBe(Object.prototype);
    expect(Object.keys(got.holder)).toEqual(['ch']);
    expect(got.holder.ch).toBe(got.cyc.ch);
    expect([...got.map.keys()][0]).toBe(got.cyc.ch);
    expect(got.twice[0]).toBe(got.twice[1]);
    // still the same channel
    await got.cyc.ch.send('ping');
    expect(await ch.recv()).toBe('ping');
    expect(d.mu.tryLock()).toBe(true);
    expect(mu.tryLock()).toBe(false);
    mu.unlock();
  });
});
