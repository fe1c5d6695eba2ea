import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadInNode, testPackageEntry } from '../../../test-utils/package-entry';

const dir = join(import.meta.dirname, '..');

describe('package entry', () => {
  testPackageEntry(dir, [
    'Attributor',
    'LruMap',
    'SocketTrafficPoller',
    'answerFor',
    'attributeFlows',
    'defaultPolicy',
    'systemOwners',
    'version',
  ]);
});

describe('workspace dependencies', () => {
  it.each(['@netwho/listeners', '@netwho/capture'])(
    'loads %s through its workspace:* link, ESM and CJS',
    (dep) => {
      const esm = loadInNode(dir, dep, 'import');
      const cjs = loadInNode(dir, dep, 'require');
      expect(esm.resolved).toMatch(/packages\/(listeners|capture)\/dist\/index\.js$/);
      expect(cjs.resolved).toMatch(/packages[\\/](listeners|capture)[\\/]dist[\\/]index\.cjs$/);
      expect(cjs.version).toBe(esm.version);
    },
  );
});
