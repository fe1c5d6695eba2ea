import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadInNode, testPackageEntry } from '../../../test-utils/package-entry';

const dir = join(import.meta.dirname, '..');

describe('package entry', () => {
  testPackageEntry(dir, [
    'CaptureMonitor',
    'GROUPINGS',
    'ReverseDns',
    'SocketTableMonitor',
    'groupPrograms',
    'programKeyOf',
    'serviceOf',
    'version',
  ]);
});

describe('workspace dependencies', () => {
  it.each(['@netwho/listeners', '@netwho/capture', '@netwho/attributor'])(
    'loads %s through its workspace:* link, ESM and CJS',
    (dep) => {
      const esm = loadInNode(dir, dep, 'import');
      const cjs = loadInNode(dir, dep, 'require');
      expect(esm.resolved).toMatch(/packages\/(listeners|capture|attributor)\/dist\/index\.js$/);
      expect(cjs.resolved).toMatch(/packages[\\/](listeners|capture|attributor)[\\/]dist[\\/]index\.cjs$/);
      expect(cjs.version).toBe(esm.version);
    },
  );
});
