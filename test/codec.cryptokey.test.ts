// API.md §0 "Values": a Web Crypto CryptoKey sent through a structured channel arrives as the
// CryptoKey postMessage / structuredClone gives: same type, extractable, algorithm, usages and
// key material. Keys go main -> worker -> main; the worker also signs with what it received.
import { describe, it, expect, afterEach } from 'vitest';
import { fixture } from './fixture.js';
import { Chan } from 'weft';
import { spawnWith, cleanup, within } from './helpers.js';

afterEach(cleanup);

const ECHO = fixture('codec-scenarios');
const SIGN = fixture('cryptokey-scenarios');
const { subtle } = globalThis.crypto;
const data = new TextEncoder().encode('signed in the worker');

/** Sends each value through an echo worker and returns what came back. */
async function roundTrip<T extends unknown[]>(...values: T): Promise<T> {
  const input = new Chan(values.length);
  const output = new Chan(values.length);
  const w = spawnWith({ module: ECHO }, 'echoAll', input, output);
  for (const v of values) await input.send(v);
  input.close();
  const got: unknown[] = [];
  for (let i = 0; i < values.length; i++) got.push(await within(output.recv(), 60_000, 'echo'));
  await w.done();
  return got as T; // the echo sends back a clone of each value
}

/** `got` is a CryptoKey equal field by field to structuredClone(`orig`). */
function expectSameKey(got: CryptoKey, orig: CryptoKey) {
  const ref = structuredClone(orig);
  expect(got).toBeInstanceOf(globalThis.CryptoKey);
  expect(Object.getPrototypeOf(got)).toBe(Object.getPrototypeOf(ref));
  expect(got.type).toBe(ref.type);
  expect(got.extractable).toBe(ref.extractable);
  expect(got.algorithm).toEqual(ref.algorithm);
  expect(got.usages).toEqual(ref.usages);
}

describe('codec: CryptoKey', () => {
  it('HMAC (extractable and not), AES-GCM and an ECDSA pair arrive as equal CryptoKeys', async () => {
    const hmac = await subtle.generateKey({ name: 'HMAC', hash: 'SHA-256' }, true, ['sign', 'verify']);
    const hmacLocked = await subtle.generateKey({ name: 'HMAC', hash: 'SHA-384', length: 200 }, false, ['sign', 'verify']);
    const aes = await subtle.generateKey({ name: 'AES-GCM', length: 256 }, false, ['encrypt', 'decrypt']);
    const pair = await subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-384' }, false, ['sign', 'verify']);
    const v = { hmac, hmacLocked, aes, pair, again: pair.publicKey };
    const [got] = await roundTrip(v);
    for (const k of ['hmac', 'hmacLocked', 'aes'] as const) expectSameKey(got[k], v[k]);
    expectSameKey(got.pair.publicKey, pair.publicKey);
    expectSameKey(got.pair.privateKey, pair.privateKey);
    expect(got.again).toBe(got.pair.publicKey);

    // Same material: raw export byte-identical; signatures and ciphertexts interoperate.
    expect(Buffer.from(await subtle.exportKey('raw', got.hmac)).equals(Buffer.from(await subtle.exportKey('raw', hmac)))).toBe(true);
    const sig = await subtle.sign('HMAC', hmacLocked, data);
    expect(await subtle.verify('HMAC', got.hmacLocked, sig, data)).toBe(true);
    expect(await subtle.verify('HMAC', got.hmacLocked, sig, new Uint8Array(3))).toBe(false);
    const iv = globalThis.crypto.getRandomValues(new Uint8Array(12));
    const ct = await subtle.encrypt({ name: 'AES-GCM', iv }, got.aes, data);
    expect(Buffer.from(await subtle.decrypt({ name: 'AES-GCM', iv }, aes, ct)).equals(Buffer.from(data))).toBe(true);
    const ecdsa = { name: 'ECDSA', hash: 'SHA-384' };
    const ecSig = await subtle.sign(ecdsa, got.pair.privateKey, data);
    expect(await subtle.verify(ecdsa, pair.publicKey, ecSig, data)).toBe(true);
    expect(await subtle.verify(ecdsa, got.pair.publicKey, await subtle.sign(ecdsa, pair.privateKey, data), data)).toBe(true);
  }, 120_000);

  it('the receiving worker can sign with the keys it got; main verifies with the originals', async () => {
    const hmac = await subtle.generateKey({ name: 'HMAC', hash: 'SHA-256' }, false, ['sign', 'verify']);
    const pair = await subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, false, ['sign', 'verify']);
    const input = new Chan<{ hmac: CryptoKey; pair: CryptoKeyPair }>(1);
    const output = new Chan(2);
    const w = spawnWith({ module: SIGN }, 'signAndEcho', input, output);
    await input.send({ hmac, pair });
    const back = (await within(output.recv(), 60_000, 'echo')) as { hmac: CryptoKey; pair: CryptoKeyPair };
    const facts = (await within(output.recv(), 60_000, 'signatures')) as { isKey: boolean; hmacSig: ArrayBuffer; ecSig: ArrayBuffer };
    await w.done();
    expect(facts.isKey).toBe(true);
    expect(await subtle.verify('HMAC', hmac, facts.hmacSig, data)).toBe(true);
    expect(await subtle.verify({ name: 'ECDSA', hash: 'SHA-256' }, pair.publicKey, facts.ecSig, data)).toBe(true);
    expectSameKey(back.hmac, hmac);
    expectSameKey(back.pair.privateKey, pair.privateKey);
    expect(await subtle.verify('HMAC', back.hmac, facts.hmacSig, data)).toBe(true);
  }, 120_000);

  it('Ed25519, RSA-PSS, AES-KW, HKDF and ECDH keys keep their algorithm; tryRecv decodes them synchronously', async () => {
    const ed = await subtle.generateKey({ name: 'Ed25519' }, true, ['sign', 'verify']);
    const rsa = await subtle.generateKey(
      { name: 'RSA-PSS', modulusLength: 1024, publicExponent: new Uint8Array([1, 0, 1]), hash: 'SHA-256' }, false, ['sign', 'verify']);
    const kw = await subtle.generateKey({ name: 'AES-KW', length: 128 }, true, ['wrapKey', 'unwrapKey']);
    const [got] = await roundTrip([ed.privateKey, rsa.publicKey, rsa.privateKey, kw]);
    [ed.privateKey, rsa.publicKey, rsa.privateKey, kw].forEach((k, i) => expectSameKey(got[i], k));
    const ch = new Chan<CryptoKey>(1);
    ch.trySend(kw);
    const r = ch.tryRecv();
    expect(r.ok).toBe(true);
    expectSameKey(r.value!, kw);
    // Key-derivation and key-agreement keys too (HKDF/PBKDF2 keys are never extractable).
    const hkdf = await subtle.importKey('raw', new Uint8Array(16), 'HKDF', false, ['deriveBits']);
    const ecdh = await subtle.generateKey({ name: 'ECDH', namedCurve: 'P-256' }, false, ['deriveBits']);
    for (const k of [hkdf, ecdh.publicKey, ecdh.privateKey]) {
      ch.trySend(k);
      expectSameKey(ch.tryRecv().value!, k);
    }
  }, 120_000);
});
