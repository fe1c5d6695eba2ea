import { join } from 'node:path';
import { describe } from 'vitest';
import { testPackageEntry } from '../../../test-utils/package-entry';

describe('package entry', () => {
  testPackageEntry(join(import.meta.dirname, '..'), [
    'AlertConfigError',
    'AlertEngine',
    'AlertLog',
    'Blocklist',
    'BlocklistFiles',
    'DesktopNotifier',
    'WebhookSink',
    'loadAlertConfig',
    'parseAlertConfig',
    'programKey',
    'version',
  ]);
});
