import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { describeCaptureBackend, fixture } from './conformance';
import { isRoot } from './tools';

// libpcap through `cap`: the engine off Linux, and Linux's fallback.
describeCaptureBackend('cap', `nwc${process.pid % 10000}`);

describe.runIf(process.platform === 'linux' && isRoot)('cap backend', () => {
  it('closed captures survive garbage collection (cap’s destructor would crash Node)', () => {
    const out = execFileSync(process.execPath, ['--expose-gc', fixture('open-close-gc.mjs')], {
      encoding: 'utf8',
    });
    expect(out).toBe('ok');
  });
});
