import { dirname, join, sep } from 'node:path';
import type { IconLookup } from '../types';
import { isFile, readFileOrUndefined } from '../util/files';
import { IcnsError, pickIcnsImage, readIcnsPngs } from './icns';
import { PlistError, type PlistValue, parsePlist } from './plist';

/** The outermost `.app` bundle a path lies in (`/Applications/Xcode.app/…/Simulator.app/…` -> Xcode.app). */
export function outermostBundle(path: string): string | undefined {
  const parts = path.split('/');
  const at = parts.findIndex((p) => p.endsWith('.app'));
  return at > 0 ? parts.slice(0, at + 1).join('/') || sep : undefined;
}

/** The icon of the .app bundle holding `path`: Info.plist's CFBundleIconFile (or IconName) .icns, best PNG. */
export function bundleIcon(path: string, size: number): IconLookup | undefined {
  const bundle = outermostBundle(path);
  if (!bundle) return undefined;
  const plistPath = join(bundle, 'Contents', 'Info.plist');
  const raw = readFileOrUndefined(plistPath);
  if (!raw) return { icon: undefined, reason: 'unreadable', detail: plistPath };
  let info: PlistValue;
  try {
    info = parsePlist(raw);
  } catch (error) {
    if (error instanceof PlistError)
      return { icon: undefined, reason: 'malformed', detail: `${plistPath}: ${error.message}` };
    throw error;
  }
  const dict =
    info &&
    typeof info === 'object' &&
    !Array.isArray(info) &&
    !(info instanceof Uint8Array) &&
    !(info instanceof Date)
      ? info
      : {};
  const names = [dict.CFBundleIconFile, dict.CFBundleIconName].filter(
    (n): n is string => typeof n === 'string' && n !== '',
  );
  if (names.length === 0) return { icon: undefined, reason: 'no-icon-named', detail: plistPath };
  const resources = join(bundle, 'Contents', 'Resources');
  for (const name of names) {
    const file = [join(resources, name), join(resources, `${name}.icns`)].find(
      (f) => f.endsWith('.icns') && isFile(f),
    );
    if (!file) continue;
    const data = readFileOrUndefined(file);
    if (!data) return { icon: undefined, reason: 'unreadable', detail: file };
    try {
      const best = pickIcnsImage(readIcnsPngs(data), size);
      if (!best) return { icon: undefined, reason: 'icon-not-found', detail: `${file} has no PNG images` };
      return {
        icon: {
          format: 'png',
          data: Buffer.from(best.png),
          width: best.size,
          height: best.size,
          source: { kind: 'macos-bundle', file, via: plistPath },
        },
      };
    } catch (error) {
      if (error instanceof IcnsError)
        return { icon: undefined, reason: 'malformed', detail: `${file}: ${error.message}` };
      throw error;
    }
  }
  return {
    icon: undefined,
    reason: 'icon-not-found',
    detail: `${names.join(', ')} in ${dirname(plistPath)}`,
  };
}
