// Issue 8, "One ABI": native/core/abi.h is the single definition of every code, tag and shared
// word layout; lib/internal/abi.ts is generated from it (scripts/gen-abi.mjs) and must be current; the
// addon reports the layout it was built with and lib/internal/native.ts refuses a mismatched build at
// import (checkAbi), on the main thread and in workers alike.
import { describe, it, expect } from 'vitest';
import { readFileSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
/** What scripts/gen-abi.mjs exports (a plain .mjs script, so it ships no declarations). */
interface GenAbi {
  generateAbi(source: string): string;
  headerPath: string;
  outputPath: string;
}
// The specifier is widened to string so tsc does not look for declarations of the .mjs.
const { generateAbi, headerPath, outputPath } = await import('../scripts/gen-abi.mjs' as string) as GenAbi;
import * as abiModule from '../dist/internal/abi.js';
import * as nativeModule from '../dist/internal/native.js';

// dist/internal/*.d.ts are stripped (@internal): the shapes this test relies on.
type Table = Readonly<Record<string, number>>;
type Layout = Record<string, number>;
interface AbiModule {
  readonly [name: string]: unknown;
  kAbiVersion: number;
  kStatusOpIdByteOffset: number;
  Code: Table;
  Kind: Table;
  StatusSlot: Table;
  MutexWord: Table;
}
interface NativeModule {
  native: { abi(): Layout };
  checkAbi(reported: Layout | undefined): void;
  Code: Table;
  Kind: Table;
  StatusSlot: Table;
}
const abi = abiModule as unknown as AbiModule;
const { checkAbi, native, Code, Kind, StatusSlot } = nativeModule as unknown as NativeModule;

const header = readFileSync(headerPath, 'utf8');

describe('lib/internal/abi.ts is generated from native/core/abi.h', () => {
  it('the committed lib/internal/abi.ts is exactly what the generator produces (run `npm run gen:abi`)', () => {
    expect(readFileSync(outputPath, 'utf8')).toBe(generateAbi(header));
  });

  it('the generator refuses lines it does not understand instead of skipping them', () => {
    const bad = header.replace('// abi:end', 'constexpr int kStray = 3;\n// abi:end');
    expect(() => generateAbi(bad)).toThrow(/unsupported line/);
    const badMember = header.replace('  Retry = 9,', '  Retry = 0x9,');
    expect(() => generateAbi(badMember)).toThrow(/Member = value/);
    expect(() => generateAbi('nothing here')).toThrow(/abi:begin/);
  });

  it('a changed value in abi.h changes the generated file (the staleness check can fail)', () => {
    const changed = header.replace(/inline constexpr uint32_t kAbiVersion = \d+;/, 'inline constexpr uint32_t kAbiVersion = 77;');
    expect(changed).not.toBe(header);
    expect(generateAbi(changed)).toContain('export const kAbiVersion = 77;');
    expect(generateAbi(changed)).not.toBe(readFileSync(outputPath, 'utf8'));
  });

  it('enum values are distinct within each enum, and native.ts re-exports the same objects', () => {
    for (const [name, v] of Object.entries(abi)) {
      if (typeof v !== 'object' || v === null) continue;
      const values = Object.values(v);
      expect(new Set(values).size, name).toBe(values.length);
      expect(Object.isFrozen(v), name).toBe(true);
    }
    expect(Code).toBe(abi.Code);
    expect(Kind).toBe(abi.Kind);
    expect(StatusSlot).toBe(abi.StatusSlot);
    expect(Code.Pending).toBe(5);
    expect(Kind.Payload).toBe(15);
  });
});

describe('the addon reports its layout and a mismatch fails at import', () => {
  it('abi() of this build agrees with lib/internal/abi.ts entry by entry', () => {
    const reported = native.abi();
    expect(reported.kAbiVersion).toBe(abi.kAbiVersion);
    expect(reported['StatusSlot.Refs']).toBe(abi.StatusSlot.Refs);
    expect(reported['MutexWord.Owner']).toBe(abi.MutexWord.Owner);
    expect(reported.kStatusOpIdByteOffset).toBe(abi.kStatusOpIdByteOffset);
    expect(Object.keys(reported).length).toBeGreaterThanOrEqual(15);
    expect(() => checkAbi(reported)).not.toThrow();
  });

  it('a different version names both versions', () => {
    const fake = { ...native.abi(), kAbiVersion: abi.kAbiVersion + 41 };
    let err: Error | undefined;
    try { checkAbi(fake); } catch (e) { err = e as Error; }
    expect(err).toBeInstanceOf(Error);
    expect(err?.message).toContain(`ABI version ${abi.kAbiVersion + 41}`);
    expect(err?.message).toContain(`lib/internal/abi.ts ABI version ${abi.kAbiVersion}`);
  });

  it('the same version with a moved word or slot is still refused, naming the entry', () => {
    const fake = { ...native.abi(), 'MutexWord.Owner': 3, kStatusBytes: 64 };
    expect(() => checkAbi(fake)).toThrow(/MutexWord\.Owner: addon 3, lib\/internal\/abi\.ts 2/);
    expect(() => checkAbi(fake)).toThrow(/kStatusBytes: addon 64, lib\/internal\/abi\.ts 32/);
    expect(() => checkAbi({ ...native.abi(), 'Bogus.Entry': 1 })).toThrow(/Bogus\.Entry: addon 1, lib\/internal\/abi\.ts missing/);
  });

  it('an addon that reports no layout (older build) is refused', () => {
    expect(() => checkAbi(undefined)).toThrow(/ABI version unknown does not match lib\/internal\/abi\.ts ABI version \d+ \(the addon reports no layout\)/);
  });

  it('a worker thread imports weft through the same check and sees the same layout', async () => {
    const url = new URL('../dist/internal/native.js', import.meta.url).href;
    const w = new Worker(
      `import('${url}').then((m) => require('node:worker_threads').parentPort.postMessage(m.native.abi()),
        (e) => require('node:worker_threads').parentPort.postMessage(String(e)))`,
      { eval: true },
    );
    const got = await new Promise((resolve, reject) => {
      w.once('message', resolve);
      w.once('error', reject);
    });
    await w.terminate();
    expect(got).toEqual(native.abi());
  }, 30_000);
});
