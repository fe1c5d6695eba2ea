import { chmodSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { IconFinder } from '../src/index';
import { DesktopIndex } from '../src/linux/desktop-index';
import { IconThemes } from '../src/linux/icon-theme';
import { decodePng, solidPng } from './images';

/**
 * A whole freedesktop world in a temp dir: XDG data folders with desktop entries, a user theme
 * inheriting hicolor, pixmaps, programs on a PATH (one through a symlink).
 */
let root: string;
let env: NodeJS.ProcessEnv;
const write = (path: string, data: string | Buffer) => {
  mkdirSync(join(path, '..'), { recursive: true });
  writeFileSync(path, data);
};
const program = (path: string) => {
  write(path, '#!/bin/sh\n');
  chmodSync(path, 0o755);
};
const entry = (fields: Record<string, string>) =>
  `[Desktop Entry]\n${Object.entries(fields)
    .map(([k, v]) => `${k}=${v}`)
    .join('\n')}\n`;

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'picon-linux-'));
  const home = join(root, 'home');
  const user = join(home, '.local/share');
  const system = join(root, 'usr/share');
  const bin = join(root, 'bin');
  env = {
    HOME: home,
    XDG_DATA_HOME: user,
    XDG_DATA_DIRS: system,
    XDG_CONFIG_HOME: join(home, '.config'),
    PATH: `${bin}:/usr/bin`,
    LANG: 'de_DE.UTF-8',
  };
  // Programs: a real file reached through a symlink on PATH, and others.
  program(join(root, 'opt/editor/editor-real'));
  mkdirSync(bin, { recursive: true });
  symlinkSync(join(root, 'opt/editor/editor-real'), join(bin, 'editor'));
  program(join(bin, 'gnome-terminal-server'));
  program(join(bin, 'plain'));
  program(join(bin, 'oldxpm'));

  // Desktop entries: system, user override, a subfolder id, TryExec missing, Hidden, NoDisplay.
  write(
    join(system, 'applications/editor.desktop'),
    entry({ Type: 'Application', Name: 'Editor', Exec: 'editor %F', Icon: 'editor-icon' }),
  );
  write(
    join(system, 'applications/term.desktop'),
    entry({ Type: 'Application', Name: 'Terminal', Exec: 'gnome-terminal-server', Icon: 'term' }),
  );
  write(
    join(system, 'applications/ghost.desktop'),
    entry({ Type: 'Application', Exec: 'plain', TryExec: 'not-installed', Icon: 'ghost' }),
  );
  write(
    join(system, 'applications/hidden.desktop'),
    entry({ Type: 'Application', Exec: 'plain', Hidden: 'true', Icon: 'ghost' }),
  );
  write(
    join(system, 'applications/vendor/plain.desktop'),
    entry({ Type: 'Application', Exec: 'plain', Icon: join(root, 'abs/plain.png'), NoDisplay: 'true' }),
  );
  write(
    join(system, 'applications/oldxpm.desktop'),
    entry({ Type: 'Application', Exec: 'oldxpm', Icon: 'oldxpm' }),
  );
  write(
    join(system, 'applications/noicon.desktop'),
    entry({ Type: 'Application', Exec: '/usr/bin/noicon-program' }),
  );
  write(
    join(system, 'applications/missing.desktop'),
    entry({ Type: 'Application', Exec: '/usr/bin/missing-icon-program', Icon: 'nowhere' }),
  );
  write(
    join(system, 'applications/wm.desktop'),
    entry({
      Type: 'Application',
      Exec: 'python3 /opt/tool.py',
      StartupWMClass: 'BigTool',
      Icon: 'editor-icon',
    }),
  );
  write(
    join(system, 'applications/vector.desktop'),
    entry({ Type: 'Application', Exec: '/usr/bin/vector-app', Icon: 'term' }),
  );
  write(
    join(user, 'applications/term.desktop'),
    entry({ Type: 'Application', Name: 'Mine', Exec: 'gnome-terminal-server', Icon: 'term-user' }),
  );

  // hicolor: 16, 48 (PNG), scalable (SVG); the user theme "Mine" has its own 48 px term-user.
  write(
    join(system, 'icons/hicolor/index.theme'),
    '[Icon Theme]\nName=Hicolor\nDirectories=16x16/apps,48x48/apps,scalable/apps\n[16x16/apps]\nSize=16\nType=Fixed\n[48x48/apps]\nSize=48\nType=Fixed\n[scalable/apps]\nSize=128\nMinSize=1\nMaxSize=512\nType=Scalable\n',
  );
  write(join(system, 'icons/hicolor/16x16/apps/editor-icon.png'), solidPng(16));
  write(join(system, 'icons/hicolor/48x48/apps/editor-icon.png'), solidPng(48));
  write(join(system, 'icons/hicolor/scalable/apps/term.svg'), '<svg xmlns="http://www.w3.org/2000/svg"/>');
  write(join(system, 'icons/hicolor/48x48/apps/term.png'), solidPng(48));
  write(
    join(home, '.icons/Mine/index.theme'),
    '[Icon Theme]\nName=Mine\nInherits=hicolor\nDirectories=48x48/apps\n[48x48/apps]\nSize=48\n',
  );
  write(join(home, '.icons/Mine/48x48/apps/term-user.png'), solidPng(48, [0, 0, 255, 255]));
  write(join(home, '.config/gtk-3.0/settings.ini'), '[Settings]\ngtk-icon-theme-name=Mine\n');
  write(join(root, 'abs/plain.png'), solidPng(32));
  write(
    join(system, 'pixmaps/oldxpm.xpm'),
    '/* XPM */\nstatic char *x[] = {\n"2 2 3 1",\n"  c None",\n"r c #FF0000",\n"b c #00f",\n"r ",\n" b"};\n',
  );
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('freedesktop icons from desktop entries and icon themes', () => {
  it('matches the executable path through PATH and symlinks, then picks the closest size', () => {
    const finder = new IconFinder({ env });
    const big = finder.lookUp({ path: join(root, 'opt/editor/editor-real') }, { size: 48 });
    expect(big.icon?.source).toEqual({
      kind: 'freedesktop',
      file: join(root, 'usr/share/icons/hicolor/48x48/apps/editor-icon.png'),
      via: join(root, 'usr/share/applications/editor.desktop'),
    });
    expect(big.icon).toMatchObject({ format: 'png', width: 48, height: 48 });
    expect(finder.lookUp({ path: join(root, 'opt/editor/editor-real') }, { size: 16 }).icon?.width).toBe(16);
    expect(finder.lookUp({ path: join(root, 'opt/editor/editor-real') }, { size: 20 }).icon?.width).toBe(16);
  });

  it('the user folder overrides the system entry, and the user theme comes before hicolor', () => {
    const r = new IconFinder({ env }).lookUp({ path: join(root, 'bin/gnome-terminal-server') });
    expect(r.icon?.source.file).toBe(join(root, 'home/.icons/Mine/48x48/apps/term-user.png'));
    expect(r.icon?.source.via).toBe(join(root, 'home/.local/share/applications/term.desktop'));
  });

  it('matches a 15-character kernel name to the full program name', () => {
    const r = new IconFinder({ env }).lookUp({ name: 'gnome-terminal-' });
    expect(r.icon?.source.via).toContain('term.desktop');
  });

  it('matches StartupWMClass and desktop ids by name; an absolute Icon= path is read as it is', () => {
    const finder = new IconFinder({ env });
    expect(finder.lookUp('bigtool').icon?.source.via).toBe(join(root, 'usr/share/applications/wm.desktop'));
    const plain = finder.lookUp({ path: join(root, 'bin/plain') });
    expect(plain.icon?.source).toMatchObject({
      file: join(root, 'abs/plain.png'),
      via: join(root, 'usr/share/applications/vendor/plain.desktop'),
    });
  });

  it('an SVG is returned as it is when it is the closest', () => {
    const finder = new IconFinder({ env });
    const r = finder.lookUp({ path: '/usr/bin/vector-app' }, { size: 256 });
    expect(r.icon?.format).toBe('svg');
    expect(r.icon?.data.toString()).toContain('<svg');
  });

  it('converts XPM from pixmaps to PNG with transparency', () => {
    const r = new IconFinder({ env }).lookUp({ path: join(root, 'bin/oldxpm') });
    expect(r.icon).toMatchObject({ format: 'png', width: 2, height: 2 });
    const png = decodePng(r.icon!.data);
    expect(png.pixel(0, 0)).toEqual([255, 0, 0, 255]);
    expect(png.pixel(1, 0)).toEqual([0, 0, 0, 0]);
    expect(png.pixel(1, 1)).toEqual([0, 0, 255, 255]);
  });

  it('says why there is no icon, and offers a fallback on request; never throws', () => {
    const finder = new IconFinder({ env });
    expect(finder.lookUp({ path: '/usr/bin/noicon-program' })).toMatchObject({
      icon: undefined,
      reason: 'no-icon-named',
    });
    expect(finder.lookUp({ path: '/usr/bin/missing-icon-program' })).toMatchObject({
      icon: undefined,
      reason: 'icon-not-found',
    });
    expect(finder.lookUp({ path: '/nonexistent/thing' })).toMatchObject({
      icon: undefined,
      reason: 'no-desktop-entry',
    });
    expect(finder.lookUp({})).toMatchObject({ icon: undefined, reason: 'no-program' });
    expect(finder.lookUp({ name: 'ghost' }).icon).toBeUndefined(); // TryExec missing, Hidden: ignored
    const fallback = finder.lookUp({ path: '/nonexistent/thing' }, { fallback: true });
    expect(fallback.icon).toMatchObject({ format: 'svg', source: { kind: 'fallback' } });
  });

  it('notices new desktop entries (folders re-read when they change)', async () => {
    const finder = new IconFinder({ env });
    expect(finder.lookUp({ name: 'latecomer' }, { size: 48 }).icon).toBeUndefined();
    write(
      join(root, 'usr/share/applications/latecomer.desktop'),
      entry({ Type: 'Application', Exec: '/usr/bin/latecomer', Icon: 'editor-icon' }),
    );
    await new Promise((r) => setTimeout(r, 2100));
    expect(finder.lookUp({ name: 'latecomer' }, { size: 47 }).icon?.width).toBe(48);
  });

  it('lookups after the first read no desktop entry or icon theme again (the indexes are kept)', () => {
    type Themes = { themes: Map<string, unknown>; load(name: string): unknown };
    const proto = IconThemes.prototype as unknown as Themes;
    const originalLoad = proto.load;
    let themeReads = 0; // loads the theme cache could not answer
    const load = vi.spyOn(proto, 'load').mockImplementation(function (this: Themes, name: string) {
      if (!this.themes.has(name)) themeReads++;
      return originalLoad.call(this, name);
    });
    const build = vi.spyOn(DesktopIndex.prototype as unknown as { build(): unknown }, 'build');
    try {
      const finder = new IconFinder({ env });
      finder.lookUp({ name: 'editor' });
      const before = [build.mock.calls.length, themeReads];
      expect(before[0]).toBe(1);
      expect(before[1]).toBeGreaterThan(0);
      const start = performance.now();
      for (let i = 0; i < 200; i++)
        finder.lookUp({ name: i % 2 ? `program-${i}` : 'editor', path: `/opt/p${i}/bin/x` });
      console.log(`200 icon lookups: ${(performance.now() - start).toFixed(1)} ms`);
      expect([build.mock.calls.length, themeReads]).toEqual(before);
    } finally {
      build.mockRestore();
      load.mockRestore();
    }
  });
});

describe('the real system', () => {
  it('answers for every program the installed desktop entries name, without throwing', () => {
    const finder = new IconFinder();
    const seen = finder.desktopEntries();
    for (const e of seen) {
      const r = finder.lookUp({
        name: e.execNames[0] ?? e.id,
        ...(e.execPaths[0] && { path: e.execPaths[0] }),
      });
      if (r.icon) expect(['png', 'svg']).toContain(r.icon.format);
      else expect(r.reason).toBeTruthy();
    }
  });
});
