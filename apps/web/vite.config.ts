import { defineConfig } from 'vite';

// The browser app: Preact + uPlot, built into dist/client, which the server serves.
export default defineConfig({
  root: 'src/client',
  base: '/',
  build: { outDir: '../../dist/client', emptyOutDir: true, target: 'es2022', sourcemap: true },
  oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
});
