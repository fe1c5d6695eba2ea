import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';

interface EntryReport {
  resolved: string;
  version: string;
  keys: string[];
}

/** Loads `name` the way a user's program would: a fresh `node` started in `cwd`, ESM or CJS. */
export function loadInNode(cwd: string, name: string, kind: 'import' | 'require'): EntryReport {
  const load =
    kind === 'import'
      ? `const m = await import(${JSON.stringify(name)}); const resolved = import.meta.resolve(${JSON.stringify(name)});`
      : `const { createRequire } = await import('node:module'); const r = createRequire(process.cwd() + '/'); const m = r(${JSON.stringify(name)}); const resolved = r.resolve(${JSON.stringify(name)});`;
  const script = `${load} console.log(JSON.stringify({ resolved, version: m.version, keys: Object.keys(m).filter((k) => k !== 'default' && k !== 'module.exports').sort() }));`;
  const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], {
    cwd,
    encoding: 'utf8',
  });
  return JSON.parse(out) as EntryReport;
}

/**
 * The published shape of a package, checked from its built output: `import` and `require` of the
 * package name both resolve through its `exports` map to dist/, expose the same names, and the
 * version baked in at build time is the one in package.json.
 */
export function testPackageEntry(dir: string, expectedExports: string[]): void {
  const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as {
    name: string;
    version: string;
  };

  it(`import('${pkg.name}') resolves to the built ESM entry`, () => {
    const esm = loadInNode(dir, pkg.name, 'import');
    expect(esm.resolved).toMatch(/dist\/index\.js$/);
    expect(esm.version).toBe(pkg.version);
    expect(esm.keys).toEqual(expect.arrayContaining(expectedExports));
  });

  it(`require('${pkg.name}') resolves to the built CJS entry with the same exports`, () => {
    const cjs = loadInNode(dir, pkg.name, 'require');
    const esm = loadInNode(dir, pkg.name, 'import');
    expect(cjs.resolved).toMatch(/dist[\\/]index\.cjs$/);
    expect(cjs.version).toBe(pkg.version);
    expect(cjs.keys).toEqual(esm.keys);
  });
}
