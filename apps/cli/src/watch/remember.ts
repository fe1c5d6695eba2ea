import { mkdirSync, readFileSync, readlinkSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { defaultDatabasePath } from '@netwho/history';
import { GROUPINGS, type Grouping } from '@netwho/monitor';
import { SORT_KEYS, type SortKey } from './views';

/** What `watch --remember` keeps for the terminal it runs on. */
export interface ViewState {
  tab: number;
  sort: SortKey;
  grouping: Grouping;
}

/**
 * The file for this terminal session: one per pseudo-terminal (`/dev/pts/3` ->
 * `$XDG_STATE_HOME/netwho/watch-pts-3.json`), so two terminals keep their own views; undefined
 * when standard input is not a terminal netwho can name.
 */
export function viewStateFile(env: NodeJS.ProcessEnv = process.env, tty = terminalOf()): string | undefined {
  if (!tty) return undefined;
  const name = tty.replace(/^\/dev\//, '').replace(/[^a-zA-Z0-9]+/g, '-');
  return join(dirname(defaultDatabasePath(env)), `watch-${name}.json`);
}

function terminalOf(): string | undefined {
  try {
    const target = readlinkSync('/proc/self/fd/0');
    return /^\/dev\/(pts\/\d+|tty\w*)$/.test(target) ? target : undefined;
  } catch {
    return undefined;
  }
}

/** The remembered view, or undefined when there is none or it is not one we understand. */
export function loadViewState(file: string): ViewState | undefined {
  try {
    const v = JSON.parse(readFileSync(file, 'utf8')) as Partial<ViewState>;
    if (
      Number.isInteger(v.tab) &&
      v.tab! >= 0 &&
      v.tab! <= 2 &&
      SORT_KEYS.includes(v.sort as SortKey) &&
      GROUPINGS.includes(v.grouping as Grouping)
    )
      return { tab: v.tab!, sort: v.sort!, grouping: v.grouping! };
  } catch {
    // None yet, or damaged: the defaults.
  }
  return undefined;
}

/** Writes the view (whole or not at all: a temporary file renamed over the old one). */
export function saveViewState(file: string, state: ViewState): void {
  try {
    mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
    writeFileSync(`${file}.tmp`, `${JSON.stringify(state)}\n`);
    renameSync(`${file}.tmp`, file);
  } catch {
    // A view not remembered is not worth stopping the live view for.
  }
}
