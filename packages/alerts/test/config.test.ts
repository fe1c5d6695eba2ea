import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Blocklist, loadAlertConfig, parseAlertConfig, parseBytes, parseDuration } from '../src/index';

describe('the alerts config', () => {
  it('reads rules, sizes, durations and a webhook', () => {
    const c = parseAlertConfig({
      alerts: {
        rules: [
          { kind: 'rate', above: '10MB/s', program: 'curl' },
          { kind: 'volume', id: 'big-download', above: '1GiB', window: '1h', direction: 'in' },
          { kind: 'new-program' },
        ],
        every: '10m',
        webhook: { url: 'http://127.0.0.1:9/hook', timeout: '2s', retries: 1 },
        notify: false,
      },
    });
    expect(c.rules).toEqual([
      { kind: 'rate', id: 'rate-1', program: 'curl', above: 10e6, direction: 'both' },
      { kind: 'volume', id: 'big-download', above: 1024 ** 3, windowMs: 3_600_000, direction: 'in' },
      { kind: 'new-program', id: 'new-program-3' },
    ]);
    expect(c).toMatchObject({ everyMs: 600_000, notify: false, webhook: { timeoutMs: 2000, retries: 1 } });
  });

  it.each([
    [{ alerts: { rules: [{ kind: 'speed' }] } }, /alerts\.rules\[0\]\.kind: must be one of rate, volume/],
    [{ alerts: { rules: [{ kind: 'rate', above: 'fast' }] } }, /alerts\.rules\[0\]\.above: must be a size/],
    [
      { alerts: { rules: [{ kind: 'volume', above: '1GB' }] } },
      /alerts\.rules\[0\]\.window: must be a duration/,
    ],
    [
      { alerts: { rules: [{ kind: 'rate', above: 1, treshold: 2 }] } },
      /alerts\.rules\[0\]\.treshold: is not a known setting/,
    ],
    [{ alerts: { rules: [{ kind: 'blocklist', files: [] }] } }, /files: must be a non-empty array/],
    [
      {
        alerts: {
          rules: [
            { kind: 'new-as', id: 'x' },
            { kind: 'new-country', id: 'x' },
          ],
        },
      },
      /"x" is used by another rule/,
    ],
    [{ alerts: { webhook: { url: 'ftp://x' } } }, /webhook\.url: must be http or https/],
    [{ alerts: { every: 'soon' } }, /alerts\.every: must be a duration/],
    [[], /the config is not a JSON object/],
  ])('%j is refused: %s', (value, message) => {
    expect(() => parseAlertConfig(value, 'config.json')).toThrow(message);
  });

  it('a missing file is an empty config; a file that is not JSON says so', () => {
    const dir = mkdtempSync(join(tmpdir(), 'netwho-config-'));
    expect(loadAlertConfig(join(dir, 'none.json')).rules).toEqual([]);
    writeFileSync(join(dir, 'bad.json'), '{ "alerts": ');
    expect(() => loadAlertConfig(join(dir, 'bad.json'))).toThrow(/bad\.json: is not valid JSON/);
  });

  it('sizes and durations', () => {
    expect(parseBytes('10MB/s')).toBe(10e6);
    expect(parseBytes('1.5 KiB')).toBe(1536);
    expect(parseBytes(42)).toBe(42);
    expect(parseBytes('-1')).toBeUndefined();
    expect(parseDuration('500ms')).toBe(500);
    expect(parseDuration('2h')).toBe(7_200_000);
    expect(parseDuration('0s')).toBeUndefined();
  });
});

describe('Blocklist', () => {
  it('addresses and CIDR blocks, both families, comments; what does not parse is reported', () => {
    const list = Blocklist.parse([
      {
        file: 'a.txt',
        text: '# comment\n203.0.113.7\n198.51.100.0/24 # docs\n\n2001:db8:bad::/48\n::ffff:192.0.2.0/120\nnot-an-ip\n10.0.0.0/33\n',
      },
    ]);
    expect(list.entries).toBe(4);
    expect(list.problems.map((p) => [p.line, p.text])).toEqual([
      [7, 'not-an-ip'],
      [8, '10.0.0.0/33'],
    ]);
    for (const yes of [
      '203.0.113.7',
      '198.51.100.255',
      '2001:db8:bad:1::1',
      '192.0.2.9',
      '::ffff:203.0.113.7',
    ])
      expect(list.has(yes)).toBe(true);
    for (const no of ['203.0.113.8', '198.51.101.0', '2001:db8:bae::1', '192.0.3.1', 'garbage'])
      expect(list.has(no)).toBe(false);
  });
});
