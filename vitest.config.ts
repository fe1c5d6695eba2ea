import { defineConfig } from 'vitest/config';

// One root config: `pnpm coverage` runs every package's tests in one process tree and merges coverage.
// Each package also has its own vitest.config.ts so `pnpm --filter <pkg> test` works alone.
export default defineConfig({
  test: {
    projects: ['packages/*', 'apps/*'],
    coverage: {
      provider: 'v8',
      include: ['packages/*/src/**', 'apps/*/src/**'],
      reporter: ['text-summary', 'html'],
    },
  },
});
