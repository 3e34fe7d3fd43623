import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    pool: 'forks',
    include: ['test/**/*.test.ts'],
    // Type-checks test/ (tsc -p test/tsconfig.json; any error fails the run) and compiles the
    // fixtures that workers and child processes load into .test-build/.
    globalSetup: ['test/global-setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    fileParallelism: true,
    // Type tests (test/types/*.test-d.ts) run with every `vitest run`: tsc checks them against
    // the built public declarations (dist/index.d.ts).
    typecheck: {
      enabled: true,
      include: ['test/types/**/*.test-d.ts'],
      tsconfig: 'test/types/tsconfig.json',
      ignoreSourceErrors: false,
    },
  },
});
