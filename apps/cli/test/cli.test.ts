import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const bin = join(import.meta.dirname, '..', 'dist', 'netwho.js');
const pkg = JSON.parse(readFileSync(join(import.meta.dirname, '..', 'package.json'), 'utf8')) as {
  version: string;
  bin: Record<string, string>;
};
const run = (...args: string[]) => spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8' });

describe('the built netwho binary', () => {
  it('is the bin named netwho in package.json and starts with a node shebang', () => {
    expect(pkg.bin.netwho).toBe('./dist/netwho.js');
    expect(readFileSync(bin, 'utf8').startsWith('#!/usr/bin/env node\n')).toBe(true);
  });

  it('prints its version with --version and exits 0', () => {
    const r = run('--version');
    expect(r.status).toBe(0);
    expect(r.stdout.trim()).toBe(pkg.version);
  });

  it('prints usage with --help and exits 0', () => {
    const r = run('--help');
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('Usage: netwho');
  });

  it('exits 2 on an unknown option, with a hint on stderr', () => {
    const r = run('--no-such-option');
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('unknown option');
  });
});
