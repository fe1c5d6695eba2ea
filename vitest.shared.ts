import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { defineConfig } from 'vitest/config';

/**
 * The test settings every package shares. Tests that touch the real OS (sockets, capture,
 * namespaces) can take seconds, more on a loaded 2-core CI machine: timeouts are generous on
 * purpose, since a slow machine must never fail a test.
 */
export function packageTests(dir: string) {
  const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as {
    name: string;
    version: string;
  };
  return defineConfig({
    define: { __PKG_VERSION__: JSON.stringify(pkg.version) },
    test: {
      name: pkg.name,
      root: dir,
      include: ['test/**/*.test.ts'],
      testTimeout: 60_000,
      hookTimeout: 60_000,
      pool: 'forks',
      // Besides the console, each package writes its results where scripts/test-summary.mjs adds
      // them up into the one closing line for the whole repo.
      reporters: [
        'default',
        [
          'json',
          { outputFile: join(dir, '../../.cache/test-results', `${pkg.name.replace('/', '__')}.json`) },
        ],
      ],
    },
  });
}
