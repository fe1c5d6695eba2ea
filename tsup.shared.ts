import { readFileSync } from 'node:fs';
import type { Options } from 'tsup';

/** The build every library package shares: ESM + CJS + .d.ts for Node 20.19+, version baked in. */
export function libraryBuild(overrides: Options = {}): Options {
  const pkg = JSON.parse(readFileSync('package.json', 'utf8')) as { version: string };
  return {
    entry: ['src/index.ts'],
    format: ['esm', 'cjs'],
    dts: true,
    clean: true,
    sourcemap: true,
    target: 'node20',
    platform: 'node',
    splitting: false,
    define: { __PKG_VERSION__: JSON.stringify(pkg.version) },
    ...overrides,
  };
}
