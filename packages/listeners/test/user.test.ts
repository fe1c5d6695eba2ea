import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { describe, expect, it } from 'vitest';
import { parsePasswd, processUser, uidOf } from '../src/index';

describe('the user of a process', () => {
  it('reads the real uid of a /proc status text and names from passwd lines', () => {
    expect(uidOf('Name:\tcurl\nUid:\t1000\t0\t0\t0\nGid:\t1000\n')).toBe(1000);
    expect(uidOf('Name:\tx\n')).toBeUndefined();
    const names = parsePasswd(
      '# comment\nroot:x:0:0:root:/root:/bin/sh\nalice:x:1000:1000::/home/alice:/bin/sh\nbad line\nalias:x:0:0::/:/bin/sh\n',
    );
    expect([...names]).toEqual([
      [0, 'root'],
      [1000, 'alice'],
    ]);
  });

  it.runIf(process.platform === 'linux' && process.getuid?.() === 0)(
    'a real process run as nobody is nobody; one that is gone is undefined',
    async () => {
      expect(processUser(process.pid)).toEqual({ uid: 0, name: 'root' });
      const child = spawn('setpriv', ['--reuid=nobody', '--regid=nogroup', '--clear-groups', 'sleep', '5'], {
        stdio: 'ignore',
      });
      await new Promise((r) => setTimeout(r, 200));
      expect(processUser(child.pid!)).toMatchObject({ name: 'nobody' });
      child.kill();
      await once(child, 'exit');
      expect(processUser(child.pid!)).toBeUndefined();
      expect(processUser(-1)).toBeUndefined();
    },
  );
});
