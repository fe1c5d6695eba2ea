import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { defaultDevice, listDevices } from '../src/index';

const linux = process.platform === 'linux';

describe.runIf(linux)('devices', () => {
  it('lists devices with addresses and state, loopback included', () => {
    const devices = listDevices();
    const lo = devices.find((d) => d.name === 'lo');
    expect(lo).toMatchObject({ loopback: true, up: true });
    expect(lo!.flags).toContain('LOOPBACK');
    expect(lo!.addresses.map((a) => a.address)).toContain('127.0.0.1');
    expect(devices.some((d) => d.name === 'any')).toBe(true);
  });

  it('picks the default route’s device by default', () => {
    const name = defaultDevice();
    expect(listDevices().some((d) => d.name === name)).toBe(true);
    const route = spawnSync('ip', ['-o', 'route', 'show', 'default'], { encoding: 'utf8' }).stdout;
    const routed = /dev (\S+)/.exec(route)?.[1];
    if (routed) expect(name).toBe(routed);
  });
});
