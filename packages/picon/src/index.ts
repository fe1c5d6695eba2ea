import { IconFinder } from './finder';
import type { Icon, IconLookup, IconOptions, ProgramRef } from './types';

export { fallbackIcon } from './fallback';
export { IconFinder, type IconFinderOptions } from './finder';
export { execProgram, localized, parseDesktopEntry, parseExec, unescapeValue } from './linux/desktop-entry';
export type { AppEntry } from './linux/desktop-index';
export { parseThemeIndex } from './linux/icon-theme';
export { decodeXpm } from './linux/xpm';
export { readIcnsPngs } from './macos/icns';
export { type PlistValue, parseBinaryPlist, parsePlist, parseXmlPlist } from './macos/plist';
export type { Icon, IconLookup, IconOptions, IconSource, NoIconReason, ProgramRef } from './types';
export { version } from './version';

let shared: IconFinder | undefined;

/** The icon of a program (a path, a name, or both), or undefined with the reason. Uses a shared IconFinder. */
export function lookUpIcon(program: ProgramRef | string, options?: IconOptions): IconLookup {
  shared ??= new IconFinder();
  return shared.lookUp(program, options);
}

/** The icon of a program, or undefined (see lookUpIcon for the reason). */
export async function getIcon(
  program: ProgramRef | string,
  options?: IconOptions,
): Promise<Icon | undefined> {
  return lookUpIcon(program, options).icon;
}
