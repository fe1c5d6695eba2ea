import { defineConfig } from 'tsup';
import { libraryBuild } from '../../tsup.shared';

// The CLI is an executable, not a library: one ESM file with a shebang, no types.
export default defineConfig(
  libraryBuild({
    entry: { netwho: 'src/main.ts' },
    format: ['esm'],
    dts: false,
    banner: { js: '#!/usr/bin/env node' },
    // The live view (Ink, React) is a chunk of its own, loaded only by `watch` on a terminal.
    splitting: true,
  }),
);
