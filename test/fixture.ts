// Where the compiled fixtures live. test/global-setup.ts compiles test/ (fixtures included)
// into .test-build/ before every run, because worker threads and child processes load the
// fixtures as plain JavaScript. .test-build/ sits next to test/, so this resolves the same from
// the source (test/fixture.ts, as vitest runs it) and from the output (.test-build/fixture.js).
// No imports on purpose: tests that must not load weft in their own process can use it.

/** URL of the compiled form of test/fixtures/`name`.ts (e.g. fixture('worker')). */
export function fixture(name: string): URL {
  return new URL(`../.test-build/fixtures/${name}.js`, import.meta.url);
}
