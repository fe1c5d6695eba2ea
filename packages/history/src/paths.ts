import { homedir } from 'node:os';
import { join } from 'node:path';

/**
 * Where netwho keeps its history by default: `$XDG_STATE_HOME/netwho/netwho.db`, or
 * `~/.local/state/netwho/netwho.db` when XDG_STATE_HOME is unset or not absolute (XDG Base
 * Directory Specification 0.8: "If $XDG_STATE_HOME is either not set or empty, a default equal
 * to $HOME/.local/state should be used"; relative paths are to be ignored).
 */
export function defaultDatabasePath(env: NodeJS.ProcessEnv = process.env): string {
  const state = env.XDG_STATE_HOME;
  const base = state?.startsWith('/') ? state : join(env.HOME || homedir(), '.local', 'state');
  return join(base, 'netwho', 'netwho.db');
}
