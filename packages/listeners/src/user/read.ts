import { readFileSync, statSync } from 'node:fs';
import { readProcessFile } from '../platform/linux/process-info';

/** The user a process runs as: its real uid and that user's name (`uid` as text when the name is unknown). */
export interface ProcessUser {
  uid: number;
  name: string;
}

/**
 * The user of a running process (Linux: the real uid of /proc/PID/status, named from /etc/passwd;
 * undefined elsewhere, or when the process is gone).
 */
export function processUser(pid: number): ProcessUser | undefined {
  if (process.platform !== 'linux' || !Number.isInteger(pid) || pid <= 0) return undefined;
  const status = readProcessFile(pid, 'status');
  if (status === undefined) return undefined;
  const uid = uidOf(status);
  return uid === undefined ? undefined : { uid, name: userName(uid) };
}

/** The real uid from a /proc/PID/status text (`Uid:\treal\teffective\tsaved\tfs`, proc(5)). */
export function uidOf(status: string): number | undefined {
  const m = /^Uid:\s+(\d+)/m.exec(status);
  return m ? Number(m[1]) : undefined;
}

/** Names by uid from passwd(5) lines (`name:x:uid:gid:...`); the first line for a uid wins. */
export function parsePasswd(text: string): Map<number, string> {
  const names = new Map<number, string>();
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const fields = line.split(':');
    const uid = Number(fields[2]);
    if (fields.length >= 3 && fields[0] && Number.isInteger(uid) && !names.has(uid))
      names.set(uid, fields[0]);
  }
  return names;
}

// /etc/passwd, read again when it changes (looked at once a minute at most).
let passwd: { names: Map<number, string>; mtimeMs: number; checkedAt: number } | undefined;

function userName(uid: number): string {
  const now = Date.now();
  if (!passwd || now - passwd.checkedAt > 60_000) {
    try {
      const mtimeMs = statSync('/etc/passwd').mtimeMs;
      if (!passwd || passwd.mtimeMs !== mtimeMs)
        passwd = { names: parsePasswd(readFileSync('/etc/passwd', 'utf8')), mtimeMs, checkedAt: now };
      else passwd.checkedAt = now;
    } catch {
      passwd = { names: new Map(), mtimeMs: 0, checkedAt: now };
    }
  }
  return passwd.names.get(uid) ?? String(uid);
}
