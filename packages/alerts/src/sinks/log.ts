import { appendFileSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Alert } from '../types';

/**
 * Recent alerts in a JSON-lines file (`$XDG_STATE_HOME/netwho/alerts.jsonl` in the apps), what
 * `netwho alerts` lists. Bounded: past `maxBytes` the older half is dropped. Writes that fail are
 * counted, never thrown.
 */
export class AlertLog {
  writeErrors = 0;

  constructor(
    readonly path: string,
    private readonly maxBytes = 1024 * 1024,
  ) {}

  append(alert: Alert): void {
    try {
      mkdirSync(dirname(this.path), { recursive: true });
      appendFileSync(this.path, `${JSON.stringify(alert)}\n`);
      if (statSync(this.path).size > this.maxBytes) this.trim();
    } catch {
      this.writeErrors++;
    }
  }

  /** The newest `limit` alerts, oldest first; [] when there is no file. Lines that do not parse are skipped. */
  recent(limit = 50): Alert[] {
    let text: string;
    try {
      text = readFileSync(this.path, 'utf8');
    } catch {
      return [];
    }
    const out: Alert[] = [];
    for (const line of text.split('\n').slice(-limit - 1)) {
      if (!line) continue;
      try {
        out.push(JSON.parse(line) as Alert);
      } catch {
        // a line cut by a crash mid-write
      }
    }
    return out.slice(-limit);
  }

  private trim(): void {
    const lines = readFileSync(this.path, 'utf8').split('\n').filter(Boolean);
    const kept = lines.slice(Math.floor(lines.length / 2));
    writeFileSync(`${this.path}.tmp`, `${kept.join('\n')}\n`);
    renameSync(`${this.path}.tmp`, this.path);
  }
}
