import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { listDir, mtimeOf } from '../util/files';
import { parseDesktopEntry } from './desktop-entry';
import type { XdgEnvironment } from './environment';

/** One directory of a theme, as its index.theme describes it (Icon Theme Specification). */
export interface ThemeDirectory {
  path: string; // relative, e.g. "48x48/apps"
  size: number;
  scale: number;
  type: 'Fixed' | 'Scalable' | 'Threshold';
  minSize: number;
  maxSize: number;
  threshold: number;
}

export interface ThemeIndex {
  name: string;
  inherits: string[];
  directories: ThemeDirectory[];
}

/** Parses an index.theme (a desktop-entry style file). Pure. */
export function parseThemeIndex(name: string, text: string): ThemeIndex {
  const { groups } = parseDesktopEntry(text);
  const head = groups.get('Icon Theme') ?? new Map<string, string>();
  const list = (key: string) =>
    (head.get(key) ?? '')
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
  const directories: ThemeDirectory[] = [];
  for (const path of [...list('Directories'), ...list('ScaledDirectories')]) {
    const g = groups.get(path);
    const size = Number(g?.get('Size'));
    if (!g || !Number.isFinite(size) || size <= 0) continue;
    const type = g.get('Type');
    const num = (key: string, fallback: number) => {
      const n = Number(g.get(key));
      return Number.isFinite(n) && g.has(key) ? n : fallback;
    };
    directories.push({
      path,
      size,
      scale: num('Scale', 1),
      type: type === 'Fixed' || type === 'Scalable' ? type : 'Threshold',
      minSize: num('MinSize', size),
      maxSize: num('MaxSize', size),
      threshold: num('Threshold', 2),
    });
  }
  return { name, inherits: list('Inherits'), directories };
}

/** DirectoryMatchesSize of the spec. */
export function directoryMatchesSize(d: ThemeDirectory, size: number, scale = 1): boolean {
  if (d.scale !== scale) return false;
  if (d.type === 'Fixed') return d.size === size;
  if (d.type === 'Scalable') return d.minSize <= size && size <= d.maxSize;
  return d.size - d.threshold <= size && size <= d.size + d.threshold;
}

/** DirectorySizeDistance of the spec. */
export function directorySizeDistance(d: ThemeDirectory, size: number, scale = 1): number {
  const want = size * scale;
  if (d.type === 'Fixed') return Math.abs(d.size * d.scale - want);
  if (d.type === 'Scalable') {
    if (want < d.minSize * d.scale) return d.minSize * d.scale - want;
    if (want > d.maxSize * d.scale) return want - d.maxSize * d.scale;
    return 0;
  }
  if (want < (d.size - d.threshold) * d.scale) return d.minSize * d.scale - want;
  if (want > (d.size + d.threshold) * d.scale) return want - d.maxSize * d.scale;
  return 0;
}

const EXTENSIONS = ['png', 'svg', 'xpm'] as const;
const RECHECK_MS = 2000;

interface LoadedTheme {
  index: ThemeIndex;
  /** icon name -> where it exists: directory index and absolute file. */
  files: Map<string, Array<{ dir: number; file: string }>>;
}

/**
 * Icon lookup through the user's theme (best effort, from GTK settings), its parents, `hicolor`,
 * then /usr/share/pixmaps. Each theme's folders are listed once into a name index, rebuilt when a
 * theme's folders change (checked at most every 2 s).
 */
export class IconThemes {
  private readonly themes = new Map<string, LoadedTheme | null>();
  private stamps = '';
  private checkedAt = -Infinity;

  constructor(
    private readonly env: XdgEnvironment,
    private readonly preferredTheme?: string,
  ) {}

  baseDirs(): string[] {
    return [
      join(this.env.home, '.icons'),
      join(this.env.dataHome, 'icons'),
      ...this.env.dataDirs.map((d) => join(d, 'icons')),
    ];
  }

  /** The best file for `name` at `size` px, or undefined. */
  find(name: string, size: number): string | undefined {
    this.refresh();
    const plain = name.replace(/\.(png|svg|xpm)$/i, '');
    for (const theme of this.chain()) {
      const found = this.lookUp(theme, plain, size);
      if (found) return found;
    }
    for (const dir of [...this.env.dataDirs.map((d) => join(d, 'pixmaps')), '/usr/share/pixmaps']) {
      const files = listDir(dir);
      for (const ext of EXTENSIONS)
        if (files.includes(`${plain}.${ext}`)) return join(dir, `${plain}.${ext}`);
    }
    return undefined;
  }

  /** The themes to search, in order: the user's, what it inherits (depth first), then hicolor. */
  chain(): LoadedTheme[] {
    const order: LoadedTheme[] = [];
    const visit = (name: string, depth: number) => {
      if (depth > 10 || order.some((t) => t.index.name === name)) return;
      const theme = this.load(name);
      if (!theme) return;
      order.push(theme);
      for (const parent of theme.index.inherits) visit(parent, depth + 1);
    };
    const user = this.preferredTheme ?? userThemeName(this.env);
    if (user) visit(user, 0);
    visit('hicolor', 0);
    return order;
  }

  private lookUp(theme: LoadedTheme, name: string, size: number): string | undefined {
    const candidates = theme.files.get(name);
    if (!candidates) return undefined;
    let best: string | undefined;
    let bestScore = Number.POSITIVE_INFINITY;
    for (const { dir, file } of candidates) {
      const d = theme.index.directories[dir]!;
      const distance = directoryMatchesSize(d, size) ? 0 : directorySizeDistance(d, size);
      // Among equals: PNG before SVG before XPM, bigger scaled-down before smaller scaled-up.
      const ext = EXTENSIONS.indexOf(file.slice(file.lastIndexOf('.') + 1) as (typeof EXTENSIONS)[number]);
      const score = distance * 10 + ext + (d.size < size ? 0.5 : 0);
      if (score < bestScore) {
        best = file;
        bestScore = score;
      }
    }
    return best;
  }

  private load(name: string): LoadedTheme | undefined {
    if (this.themes.has(name)) return this.themes.get(name) ?? undefined;
    let index: ThemeIndex | undefined;
    for (const base of this.baseDirs()) {
      try {
        index = parseThemeIndex(name, readFileSync(join(base, name, 'index.theme'), 'utf8'));
        break;
      } catch {
        // not in this base folder
      }
    }
    if (!index) {
      this.themes.set(name, null);
      return undefined;
    }
    const files = new Map<string, Array<{ dir: number; file: string }>>();
    index.directories.forEach((d, dir) => {
      for (const base of this.baseDirs()) {
        const folder = join(base, name, d.path);
        for (const entry of listDir(folder)) {
          const dot = entry.lastIndexOf('.');
          const ext = entry.slice(dot + 1);
          if (dot <= 0 || !(EXTENSIONS as readonly string[]).includes(ext)) continue;
          const icon = entry.slice(0, dot);
          let list = files.get(icon);
          if (!list) {
            list = [];
            files.set(icon, list);
          }
          list.push({ dir, file: join(folder, entry) });
        }
      }
    });
    const theme = { index, files };
    this.themes.set(name, theme);
    return theme;
  }

  private refresh(): void {
    const now = Date.now();
    if (now - this.checkedAt < RECHECK_MS) return;
    this.checkedAt = now;
    const stamps = this.baseDirs()
      .flatMap((base) => [base, ...listDir(base).map((t) => join(base, t))])
      .map((d) => `${d}:${mtimeOf(d)}`)
      .join('|');
    if (stamps !== this.stamps) {
      this.stamps = stamps;
      this.themes.clear();
    }
  }
}

/** The icon theme the user chose in GTK's settings.ini (gtk-4.0, then gtk-3.0), if any. */
export function userThemeName(env: XdgEnvironment): string | undefined {
  for (const version of ['gtk-4.0', 'gtk-3.0']) {
    try {
      const text = readFileSync(join(env.configHome, version, 'settings.ini'), 'utf8');
      const m = /^\s*gtk-icon-theme-name\s*=\s*"?([^"\n]+?)"?\s*$/m.exec(text);
      if (m) return m[1];
    } catch {
      // no settings for this version
    }
  }
  return undefined;
}
