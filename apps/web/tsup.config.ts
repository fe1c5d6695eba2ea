import { defineConfig } from 'tsup';
import { libraryBuild } from '../../tsup.shared';

// The server library (ESM + CJS + types) and the `start` script; the browser app is built by Vite
// into dist/client first (clean: false keeps it).
export default defineConfig([
  libraryBuild({ clean: false, shims: true }),
  libraryBuild({
    entry: { start: 'src/bin/start.ts' },
    format: ['esm'],
    dts: false,
    clean: false,
    banner: { js: '#!/usr/bin/env node' },
  }),
]);
