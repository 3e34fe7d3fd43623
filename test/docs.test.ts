// Every export of the package root is documented: each exported symbol, and each public member
// of the exported classes and interfaces, has a non-empty TSDoc comment in the published
// declarations (dist/index.d.ts and the files it re-exports, after `tsc -p tsconfig.json`),
// which is what editors show and what `npm run docs` (typedoc) renders. The main entry points
// also carry an @example.
import { describe, expect, test } from 'vitest';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import ts from 'typescript';

const root = fileURLToPath(new URL('..', import.meta.url));
const dist = path.join(root, 'dist');
const entry = path.join(dist, 'index.d.ts');
const WITH_EXAMPLE = ['Chan', 'select', 'Mutex', 'WaitGroup', 'withCancel', 'Timer'];

function load() {
  const program = ts.createProgram([entry], {
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    target: ts.ScriptTarget.ES2022,
    types: ['node'],
    noEmit: true,
  });
  const checker = program.getTypeChecker();
  const source = program.getSourceFile(entry);
  if (source === undefined) throw new Error(`${entry} not found: build with tsc first`);
  const mod = checker.getSymbolAtLocation(source);
  if (mod === undefined) throw new Error(`${entry} has no module symbol`);
  return { checker, exports: checker.getExportsOfModule(mod) };
}

const { checker, exports } = load();

function resolve(sym: ts.Symbol) {
  return sym.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(sym) : sym;
}

function docOf(sym: ts.Symbol) {
  return ts.displayPartsToString(sym.getDocumentationComment(checker)).trim();
}

/** Declared in weft's own declarations (not inherited from lib.d.ts, e.g. Error's message). */
function ours(sym: ts.Symbol) {
  return (sym.declarations ?? []).some((d) => d.getSourceFile().fileName.startsWith(dist));
}

/** Public: not `#private` (tsc's placeholder for private fields), not `private`/`protected`. */
function isPublic(sym: ts.Symbol) {
  if (sym.name.startsWith('#') || sym.name === 'prototype') return false;
  return !(sym.declarations ?? []).some(
    (d: ts.Declaration) => ts.getCombinedModifierFlags(d) & (ts.ModifierFlags.Private | ts.ModifierFlags.Protected),
  );
}

/** `Chan.send`, `Chan.constructor`, ... for each undocumented public member of a class/interface. */
function undocumentedMembers(name: string, sym: ts.Symbol) {
  const missing: unknown[] = [];
  const decl = sym.declarations?.[0];
  const members = [...checker.getPropertiesOfType(checker.getDeclaredTypeOfSymbol(sym))];
  if (sym.flags & ts.SymbolFlags.Class) {
    members.push(...checker.getPropertiesOfType(checker.getTypeOfSymbolAtLocation(sym, decl!)));
    const ctor = sym.members?.get('__constructor' as ts.__String);
    if (ctor !== undefined) {
      // Every overload of the constructor (a class without one declared inherits its base's).
      for (const d of ctor.declarations ?? []) {
        const sig = checker.getSignatureFromDeclaration(d as ts.SignatureDeclaration);
        if (ts.displayPartsToString(sig?.getDocumentationComment(checker)).trim() === '' && docOf(sym) === '') {
          missing.push(`${name}.constructor`);
        }
      }
    }
  }
  for (const m of members) {
    if (!ours(m) || !isPublic(m)) continue;
    if (docOf(m) === '') missing.push(`${name}.${m.name}`);
  }
  return missing;
}

describe('API reference (TSDoc on the public declarations)', () => {
  test('the package root exports something', () => {
    expect(exports.length).toBeGreaterThan(40);
  });

  test('every exported symbol has a documentation comment', () => {
    const missing = exports.filter((e) => docOf(resolve(e)) === '').map((e) => e.name);
    expect(missing).toEqual([]);
  });

  test('every public member of an exported class or interface has a documentation comment', () => {
    const missing: unknown[] = [];
    for (const e of exports) {
      const sym = resolve(e);
      if (sym.flags & (ts.SymbolFlags.Class | ts.SymbolFlags.Interface)) missing.push(...undocumentedMembers(e.name, sym));
    }
    expect(missing).toEqual([]);
  });

  test('the main exports carry an @example', () => {
    const without = WITH_EXAMPLE.filter((name) => {
      const e = exports.find((x) => x.name === name);
      if (e === undefined) return true;
      const sym = resolve(e);
      const tags = [...sym.getJsDocTags(checker)];
      // A function's tags may sit on its (first) signature.
      for (const d of sym.declarations ?? []) {
        if (ts.isFunctionDeclaration(d)) tags.push(...(checker.getSignatureFromDeclaration(d)?.getJsDocTags() ?? []));
      }
      return !tags.some((t) => t.name === 'example');
    });
    expect(without).toEqual([]);
  });

  test('no internal member leaks into the declarations', () => {
    const leaked: unknown[] = [];
    for (const e of exports) {
      const sym = resolve(e);
      if (!(sym.flags & ts.SymbolFlags.Class)) continue;
      const decl = sym.declarations![0];
      const all = [
        ...checker.getPropertiesOfType(checker.getDeclaredTypeOfSymbol(sym)),
        ...checker.getPropertiesOfType(checker.getTypeOfSymbolAtLocation(sym, decl)),
      ];
      // Symbol-keyed members (`__@iterator@12`) are public; `_x` members are internal.
      for (const m of all) if (/^_[^_@]/.test(m.name) && ours(m)) leaked.push(`${e.name}.${m.name}`);
    }
    expect(leaked).toEqual([]);
  });
});
