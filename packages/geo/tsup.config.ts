import { defineConfig } from 'tsup';
import { libraryBuild } from '../../tsup.shared';

// Shims give the CommonJS build import.meta.url, to find the bundled databases (src/defaults.ts).
export default defineConfig(libraryBuild({ shims: true }));
