import { basename, extname } from 'node:path';
import type { Icon, IconLookup, ProgramRef } from '../types';
import { readFileOrUndefined } from '../util/files';
import { encodePng, pngSize } from '../util/png';
import type { DesktopIndex } from './desktop-index';
import type { IconThemes } from './icon-theme';
import { decodeXpm, XpmError } from './xpm';

/**
 * Linux and other freedesktop systems: the program's desktop entry (by executable, then name),
 * its `Icon=` through the icon themes. A program without an entry is tried by its own name as an
 * icon name (many themes ship icons named after programs).
 */
export function freedesktopIcon(
  program: ProgramRef,
  size: number,
  index: DesktopIndex,
  themes: IconThemes,
): IconLookup {
  const entry = index.match(program);
  const iconName = entry?.icon;
  if (entry && !iconName) return { icon: undefined, reason: 'no-icon-named', detail: entry.file };
  if (iconName) {
    const file = iconName.startsWith('/') ? iconName : themes.find(iconName, size);
    if (!file)
      return { icon: undefined, reason: 'icon-not-found', detail: `${iconName} (from ${entry!.file})` };
    return loadIconFile(file, entry!.file);
  }
  for (const name of [program.name, program.path && basename(program.path)]) {
    const file = name ? themes.find(name, size) : undefined;
    if (file) return loadIconFile(file);
  }
  return { icon: undefined, reason: 'no-desktop-entry' };
}

/** Reads an icon file: PNG and SVG as they are, XPM converted to PNG. */
export function loadIconFile(file: string, via?: string): IconLookup {
  const data = readFileOrUndefined(file, 8 * 1024 * 1024);
  if (!data) return { icon: undefined, reason: 'unreadable', detail: file };
  const source = { kind: 'freedesktop' as const, file, ...(via && { via }) };
  const ext = extname(file).toLowerCase();
  if (ext === '.svg' || ext === '.svgz') {
    return { icon: { format: 'svg', data, source } };
  }
  if (ext === '.xpm') {
    try {
      const { width, height, rgba } = decodeXpm(data.toString('latin1'));
      return { icon: { format: 'png', data: encodePng(rgba, width, height), width, height, source } };
    } catch (error) {
      if (error instanceof XpmError)
        return { icon: undefined, reason: 'malformed', detail: `${file}: ${error.message}` };
      throw error;
    }
  }
  const size = pngSize(data);
  if (!size) return { icon: undefined, reason: 'malformed', detail: `${file} is not a PNG` };
  const icon: Icon = { format: 'png', data, width: size.width, height: size.height, source };
  return { icon };
}
