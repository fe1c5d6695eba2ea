import { basename } from 'node:path';

/**
 * A process name the OS cut short (Linux comm: 15 characters, macOS proc_name: 32, FreeBSD ki_comm:
 * 19), made whole from the executable's file name when that starts with it; otherwise the short
 * name, or the file name when there is no short one.
 */
export function extendedName(short: string, path: string): string {
  const fromPath = path ? basename(path) : '';
  return fromPath?.startsWith(short) ? fromPath : short || fromPath;
}
