import { readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import type { ProgramRef } from '../types';
import { isFile, listDir, mtimeOf, realPath } from '../util/files';
import { execProgram, localized, parseDesktopEntry, parseExec } from './desktop-entry';
import type { XdgEnvironment } from './environment';

/** What matching needs of one application's desktop entry. */
export interface AppEntry {
  /** Desktop file id: its path under applications/ with `/` as `-`. */
  id: string;
  file: string;
  icon: string | undefined;
  name: string | undefined;
  /** The program Exec (or TryExec) runs, resolved through PATH and symlinks. */
  execPaths: string[];
  /** Base names of those programs, as written and resolved. */
  execNames: string[];
  wmClass: string | undefined;
  /** Flatpak app id, for `flatpak run` entries. */
  appId: string | undefined;
  noDisplay: boolean;
}

const KERNEL_NAME_LENGTH = 15;
const RECHECK_MS = 2000;

/**
 * Every application desktop entry of the system and the user, in precedence order ($XDG_DATA_HOME,
 * then each $XDG_DATA_DIRS, then Flatpak and Snap exports), built once and rebuilt when one of the
 * folders changes (checked at most every 2 s).
 */
export class DesktopIndex {
  private entries: AppEntry[] = [];
  private stamps = '';
  private checkedAt = -Infinity;

  constructor(private readonly env: XdgEnvironment) {}

  applicationDirs(): string[] {
    const { dataHome, dataDirs, home } = this.env;
    return [
      join(dataHome, 'applications'),
      ...dataDirs.map((d) => join(d, 'applications')),
      join(home, '.local/share/flatpak/exports/share/applications'),
      '/var/lib/flatpak/exports/share/applications',
      '/var/lib/snapd/desktop/applications',
    ].filter((dir, i, all) => all.indexOf(dir) === i);
  }

  all(): AppEntry[] {
    const now = Date.now();
    if (now - this.checkedAt < RECHECK_MS) return this.entries;
    this.checkedAt = now;
    const dirs = this.applicationDirs();
    const stamps = dirs.map((d) => `${d}:${mtimeOf(d)}`).join('|');
    if (stamps !== this.stamps) {
      this.stamps = stamps;
      this.entries = this.build(dirs);
    }
    return this.entries;
  }

  /** The entry of a program: by its executable, then by its name. */
  match(program: ProgramRef): AppEntry | undefined {
    const entries = this.all();
    const real = program.path ? realPath(program.path) : undefined;
    const base = program.path ? basename(program.path) : undefined;
    const names = [program.name, base].filter((n): n is string => !!n).map((n) => n.toLowerCase());
    const rank = (e: AppEntry): number => {
      if (real && e.execPaths.includes(real)) return 4;
      if (base && e.execNames.includes(base)) return 3;
      const keys = [
        ...e.execNames,
        e.id.replace(/\.desktop$/, ''),
        e.wmClass,
        e.appId,
        e.appId?.split('.').at(-1),
      ]
        .filter((k): k is string => !!k)
        .map((k) => k.toLowerCase());
      if (names.some((n) => keys.includes(n))) return 2;
      // The kernel keeps 15 characters of a name: "gnome-terminal-" for gnome-terminal-server.
      if (names.some((n) => n.length === KERNEL_NAME_LENGTH && keys.some((k) => k.startsWith(n)))) return 1;
      return 0;
    };
    let best: AppEntry | undefined;
    let bestRank = 0;
    for (const e of entries) {
      const r = rank(e) * 2 + (e.noDisplay ? 0 : 1);
      if (r > bestRank && rank(e) > 0) {
        best = e;
        bestRank = r;
      }
    }
    return best;
  }

  private build(dirs: string[]): AppEntry[] {
    const seen = new Set<string>();
    const out: AppEntry[] = [];
    for (const dir of dirs) {
      for (const { file, id } of desktopFiles(dir, '')) {
        if (seen.has(id)) continue; // an earlier folder overrides
        seen.add(id);
        const entry = this.read(file, id);
        if (entry) out.push(entry);
      }
    }
    return out;
  }

  private read(file: string, id: string): AppEntry | undefined {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      return undefined;
    }
    const group = parseDesktopEntry(text).groups.get('Desktop Entry');
    if (group?.get('Type') !== 'Application' || group.get('Hidden') === 'true') return undefined;
    const tryExec = localized(group, 'TryExec');
    const tryExecPath = tryExec ? this.resolveProgram(tryExec) : undefined;
    if (tryExec && !tryExecPath) return undefined; // not installed: the spec says ignore it
    const exec = localized(group, 'Exec');
    const args = exec ? parseExec(exec) : undefined;
    const { program, appId } = args ? execProgram(args) : {};
    const execPaths: string[] = [];
    const execNames: string[] = [];
    for (const p of [program, tryExec]) {
      if (!p || (appId && p === program)) continue;
      execNames.push(basename(p));
      const resolved = this.resolveProgram(p);
      if (resolved) {
        execPaths.push(resolved);
        execNames.push(basename(resolved));
      }
    }
    return {
      id,
      file,
      icon: localized(group, 'Icon', this.env.locale) || undefined,
      name: localized(group, 'Name', this.env.locale),
      execPaths,
      execNames: [...new Set(execNames)],
      wmClass: group.get('StartupWMClass'),
      appId,
      noDisplay: group.get('NoDisplay') === 'true',
    };
  }

  /** An Exec program as an absolute real path: searched in PATH when it has no slash. */
  private resolveProgram(program: string): string | undefined {
    if (program.includes('/')) return isFile(program) ? realPath(program) : undefined;
    for (const dir of this.env.path) {
      const candidate = join(dir, program);
      if (isFile(candidate)) return realPath(candidate);
    }
    return undefined;
  }
}

function* desktopFiles(dir: string, prefix: string): Generator<{ file: string; id: string }> {
  for (const name of listDir(dir).sort()) {
    const file = join(dir, name);
    if (name.endsWith('.desktop')) yield { file, id: prefix + name };
    else if (!name.includes('.') && !isFile(file)) yield* desktopFiles(file, `${prefix}${name}-`);
  }
}
