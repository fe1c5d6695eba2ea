import { defineConfig } from 'tsup';
import { libraryBuild } from '../../tsup.shared';

// The walk worker is a second entry: a thread loads dist/walk-worker.js by its path (see
// src/platform/linux/parallel-walk.ts). Shims give the CommonJS build import.meta.url to find it.
export default defineConfig(
  libraryBuild({
    entry: { index: 'src/index.ts', 'walk-worker': 'src/platform/linux/walk-worker.ts' },
    dts: { entry: 'src/index.ts' },
    shims: true,
  }),
);
