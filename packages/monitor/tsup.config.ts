import { defineConfig } from 'tsup';
import { libraryBuild } from '../../tsup.shared';

// `./grouping` is pure (no Node module behind it), for browser bundles such as the web dashboard's.
export default defineConfig(libraryBuild({ entry: { index: 'src/index.ts', grouping: 'src/grouping.ts' } }));
