import type { IconLookup } from '../types';
import { readFileOrUndefined } from '../util/files';
import { IcoError, iconImageToPng, parseGroupIcon, pickEntry } from './ico';
import { PeError, RT_GROUP_ICON, RT_ICON, readResources } from './pe';

/** The icon of a PE executable: its first icon group, the image closest to `size`, as PNG. */
export function exeIcon(path: string, size: number): IconLookup {
  const data = readFileOrUndefined(path);
  if (!data) return { icon: undefined, reason: 'unreadable', detail: path };
  try {
    const resources = readResources(data, [RT_ICON, RT_GROUP_ICON]);
    // The first group (lowest id, as Explorer shows) is the program's icon.
    const groups = resources
      .filter((r) => r.type === RT_GROUP_ICON)
      .sort((a, b) =>
        typeof a.id === typeof b.id ? (a.id < b.id ? -1 : 1) : typeof a.id === 'string' ? -1 : 1,
      );
    if (groups.length === 0) return { icon: undefined, reason: 'no-icon-resource', detail: path };
    const entry = pickEntry(parseGroupIcon(groups[0]!.data), size);
    const image = entry && resources.find((r) => r.type === RT_ICON && r.id === entry.iconId);
    if (!image)
      return { icon: undefined, reason: 'malformed', detail: `${path}: icon group names a missing image` };
    const { png, width, height } = iconImageToPng(image.data);
    return { icon: { format: 'png', data: png, width, height, source: { kind: 'windows-pe', file: path } } };
  } catch (error) {
    if (error instanceof PeError || error instanceof IcoError) {
      return { icon: undefined, reason: 'malformed', detail: `${path}: ${error.message}` };
    }
    throw error;
  }
}
