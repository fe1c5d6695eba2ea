import { closeSync, openSync, readSync } from 'node:fs';
import { fallbackIcon } from './fallback';
import { type AppEntry, DesktopIndex } from './linux/desktop-index';
import { xdgEnvironment } from './linux/environment';
import { freedesktopIcon } from './linux/freedesktop';
import { IconThemes } from './linux/icon-theme';
import { bundleIcon, outermostBundle } from './macos/bundle';
import type { IconLookup, IconOptions, ProgramRef } from './types';
import { mtimeOf } from './util/files';
import { Lru } from './util/lru';
import { appxIcon } from './windows/appx';
import { exeIcon } from './windows/exe-icon';

export interface IconFinderOptions {
  /** Environment for the XDG folders (default process.env). */
  env?: NodeJS.ProcessEnv;
  /** Icon theme to try first (default: the user's GTK setting). */
  theme?: string;
  /** Answers kept (by path, its mtime, name and size). Default 512. */
  cacheSize?: number;
}

/**
 * Finds program icons. Every strategy is pure TypeScript over files, so each runs on any OS: a path
 * inside an `.app` bundle is read as macOS, a PE file (MZ) or `.exe` as Windows (AppX manifest
 * first), anything else through freedesktop desktop entries and icon themes. Never throws on odd
 * input: missing, unreadable or broken files give `{ icon: undefined, reason }`.
 */
export class IconFinder {
  private readonly index: DesktopIndex;
  private readonly themes: IconThemes;
  private readonly cache: Lru<string, IconLookup>;

  constructor(options: IconFinderOptions = {}) {
    const env = xdgEnvironment(options.env);
    this.index = new DesktopIndex(env);
    this.themes = new IconThemes(env, options.theme);
    this.cache = new Lru(options.cacheSize ?? 512);
  }

  /** The application desktop entries found (Linux and other freedesktop systems), in precedence order. */
  desktopEntries(): readonly AppEntry[] {
    return this.index.all();
  }

  lookUp(program: ProgramRef | string, options: IconOptions = {}): IconLookup {
    const ref =
      typeof program === 'string'
        ? program.includes('/') || program.includes('\\')
          ? { path: program }
          : { name: program }
        : program;
    const size = options.size && options.size > 0 ? Math.round(options.size) : 48;
    const key = `${ref.path ?? ''}\0${ref.path ? mtimeOf(ref.path) : ''}\0${ref.name ?? ''}\0${size}`;
    let found = this.cache.get(key);
    if (!found) {
      found = this.resolve(ref, size);
      this.cache.set(key, found);
    }
    if (!found.icon && options.fallback) return { icon: fallbackIcon() };
    return found;
  }

  private resolve(ref: ProgramRef, size: number): IconLookup {
    if (!ref.path && !ref.name) return { icon: undefined, reason: 'no-program' };
    const path = ref.path;
    try {
      if (path && outermostBundle(path)) {
        const bundled = bundleIcon(path, size);
        if (bundled) return bundled;
      }
      if (path && isWindowsProgram(path)) return appxIcon(path, size) ?? exeIcon(path, size);
      return freedesktopIcon(ref, size, this.index, this.themes);
    } catch (error) {
      // A file system surprise (a folder turning unreadable mid-read): an answer, not a crash.
      return {
        icon: undefined,
        reason: 'unreadable',
        detail: error instanceof Error ? error.message : String(error),
      };
    }
  }
}

/** `.exe`/`.dll` paths, and any file that starts with the DOS "MZ" header. */
function isWindowsProgram(path: string): boolean {
  if (/\.(exe|dll)$/i.test(path)) return true;
  try {
    const fd = openSync(path, 'r');
    try {
      const head = Buffer.alloc(2);
      return readSync(fd, head, 0, 2, 0) === 2 && head[0] === 0x4d && head[1] === 0x5a;
    } finally {
      closeSync(fd);
    }
  } catch {
    return false;
  }
}
