import { basename, dirname, extname, join } from 'node:path';
import type { IconLookup } from '../types';
import { isFile, listDir, readFileOrUndefined } from '../util/files';
import { pngSize } from '../util/png';

/**
 * UWP/MSIX apps: the executable sits in a package folder with an AppxManifest.xml whose
 * `uap:VisualElements` names `Square44x44Logo` / `Square150x150Logo` and whose `Properties` name
 * `Logo`. The file on disk usually carries a qualifier: `Assets\Logo.scale-200.png`,
 * `Assets\Square44x44Logo.targetsize-48.png`.
 */
export function findManifest(exe: string): string | undefined {
  let dir = dirname(exe);
  for (let depth = 0; depth < 6; depth++) {
    const candidate = join(dir, 'AppxManifest.xml');
    if (isFile(candidate)) return candidate;
    const parent = dirname(dir);
    if (parent === dir) break;
    dir = parent;
  }
  return undefined;
}

/** Logo paths a manifest names, best first. Pure. */
export function manifestLogos(xml: string): string[] {
  const out: string[] = [];
  for (const attr of ['Square44x44Logo', 'Square150x150Logo']) {
    const m = new RegExp(`<[\\w:]*VisualElements\\b[^>]*\\b${attr}="([^"]+)"`).exec(xml);
    if (m) out.push(m[1]!);
  }
  const logo = /<Properties\b[\s\S]*?<Logo>([^<]+)<\/Logo>/.exec(xml);
  if (logo) out.push(logo[1]!.trim());
  return out;
}

export function appxIcon(exe: string, size: number): IconLookup | undefined {
  const manifest = findManifest(exe);
  if (!manifest) return undefined;
  const xml = readFileOrUndefined(manifest)?.toString('utf8');
  if (!xml) return { icon: undefined, reason: 'unreadable', detail: manifest };
  const logos = manifestLogos(xml);
  if (logos.length === 0) return { icon: undefined, reason: 'no-icon-named', detail: manifest };
  const root = dirname(manifest);
  for (const logo of logos) {
    const relative = logo.replace(/\\/g, '/');
    const dir = join(root, dirname(relative));
    const stem = basename(relative, extname(relative));
    const ext = extname(relative).toLowerCase();
    // The file as named, or with a scale-/targetsize- qualifier: pick the size closest to the request.
    const files = listDir(dir).filter(
      (f) => f.toLowerCase().endsWith(ext) && (f === basename(relative) || f.startsWith(`${stem}.`)),
    );
    let best: { file: string; data: Buffer; width: number } | undefined;
    for (const f of files) {
      const data = readFileOrUndefined(join(dir, f));
      const dims = data && pngSize(data);
      if (!data || !dims) continue;
      const better =
        !best ||
        (dims.width >= size
          ? best.width < size || dims.width < best.width
          : dims.width > best.width && best.width < size);
      if (better) best = { file: join(dir, f), data, width: dims.width };
    }
    if (best) {
      const { width, height } = pngSize(best.data)!;
      return {
        icon: {
          format: 'png',
          data: best.data,
          width,
          height,
          source: { kind: 'appx', file: best.file, via: manifest },
        },
      };
    }
  }
  return { icon: undefined, reason: 'icon-not-found', detail: `${logos.join(', ')} under ${root}` };
}
