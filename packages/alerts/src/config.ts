import { readFileSync } from 'node:fs';
import { AlertConfigError } from './errors';
import type { AlertRule, Direction } from './types';
import { parseBytes, parseDuration } from './units';

/** Where alerts go besides the app that raised them. */
export interface WebhookConfig {
  url: string;
  /** Per attempt (default 5,000 ms). */
  timeoutMs: number;
  /** Attempts after the first (default 3), with backoff doubling from 1 s. */
  retries: number;
  headers: Record<string, string>;
}

export interface AlertConfig {
  rules: AlertRule[];
  /** The same rule for the same program at most this often (default 5 min). */
  everyMs: number;
  maxPerMinute: number;
  webhook?: WebhookConfig;
  /** Desktop notifications through notify-send (default true where it exists). */
  notify: boolean;
}

const KINDS = ['rate', 'volume', 'new-program', 'new-country', 'new-as', 'blocklist'] as const;
const KEYS: Record<string, string[]> = {
  rate: ['above', 'direction', 'program'],
  volume: ['above', 'window', 'direction', 'program'],
  'new-program': [],
  'new-country': ['program'],
  'new-as': ['program'],
  blocklist: ['files'],
};

/**
 * The `alerts` section of netwho's config file (`$XDG_CONFIG_HOME/netwho/config.json`):
 *
 *   { "alerts": {
 *       "rules": [
 *         { "kind": "rate", "above": "10MB/s", "program": "curl" },
 *         { "kind": "volume", "above": "1GiB", "window": "1h", "direction": "in" },
 *         { "kind": "new-program" }, { "kind": "new-country" }, { "kind": "new-as" },
 *         { "kind": "blocklist", "files": ["/etc/netwho/blocklist.txt"] } ],
 *       "every": "5m", "maxPerMinute": 60,
 *       "webhook": { "url": "https://hooks.example/netwho", "timeout": "5s", "retries": 3, "headers": {} },
 *       "notify": true } }
 *
 * Every field is checked: an unknown key, a kind, a size or a duration that does not parse is an
 * AlertConfigError naming where (`alerts.rules[1].above`).
 */
export function parseAlertConfig(value: unknown, file?: string): AlertConfig {
  const fail = (at: string, message: string): never => {
    throw new AlertConfigError(file, at, message);
  };
  const root = value ?? {};
  if (!isObject(root)) fail('', 'the config is not a JSON object');
  const section = (root as Record<string, unknown>).alerts ?? {};
  if (!isObject(section)) fail('alerts', 'must be an object');
  const a = section as Record<string, unknown>;
  unknownKeys(a, ['rules', 'every', 'maxPerMinute', 'webhook', 'notify'], 'alerts', fail);
  const rulesRaw = a.rules ?? [];
  if (!Array.isArray(rulesRaw)) fail('alerts.rules', 'must be an array');
  const ids = new Set<string>();
  const rules = (rulesRaw as unknown[]).map((raw, i) => {
    const at = `alerts.rules[${i}]`;
    if (!isObject(raw)) fail(at, 'must be an object');
    const r = raw as Record<string, unknown>;
    const kind = r.kind;
    if (typeof kind !== 'string' || !(KINDS as readonly string[]).includes(kind))
      fail(`${at}.kind`, `must be one of ${KINDS.join(', ')}`);
    unknownKeys(r, ['kind', 'id', ...KEYS[kind as string]!], at, fail);
    const id = r.id === undefined ? `${kind}-${i + 1}` : r.id;
    if (typeof id !== 'string' || id === '') fail(`${at}.id`, 'must be a non-empty string');
    if (ids.has(id as string)) fail(`${at}.id`, `"${id}" is used by another rule`);
    ids.add(id as string);
    const program = r.program;
    if (program !== undefined && (typeof program !== 'string' || program === ''))
      fail(`${at}.program`, 'must be a non-empty string (a glob over the name or path)');
    const direction = (r.direction ?? 'both') as Direction;
    if (!['in', 'out', 'both'].includes(direction)) fail(`${at}.direction`, 'must be in, out or both');
    const base = { id: id as string, ...(program !== undefined && { program: program as string }) };
    switch (kind) {
      case 'rate':
      case 'volume': {
        const above = parseBytes(r.above);
        if (above === undefined || above <= 0)
          fail(
            `${at}.above`,
            `must be a size such as "10MB/s", "1GiB" or a number of bytes (got ${JSON.stringify(r.above)})`,
          );
        if (kind === 'rate') return { kind, ...base, above: above as number, direction };
        const windowMs = parseDuration(r.window);
        if (windowMs === undefined)
          fail(`${at}.window`, `must be a duration such as "10m" or "1h" (got ${JSON.stringify(r.window)})`);
        if ((windowMs as number) > 7_200_000) fail(`${at}.window`, 'must be at most 2h');
        return { kind, ...base, above: above as number, windowMs: windowMs as number, direction };
      }
      case 'blocklist': {
        const files = r.files;
        if (
          !Array.isArray(files) ||
          files.length === 0 ||
          files.some((f) => typeof f !== 'string' || f === '')
        )
          fail(`${at}.files`, 'must be a non-empty array of file paths');
        return { kind, id: id as string, files: files as string[] };
      }
      default:
        return { kind, ...base } as AlertRule;
    }
  });
  const everyMs = a.every === undefined ? 300_000 : parseDuration(a.every);
  if (everyMs === undefined) fail('alerts.every', 'must be a duration such as "5m"');
  const maxPerMinute = a.maxPerMinute ?? 60;
  if (typeof maxPerMinute !== 'number' || !Number.isInteger(maxPerMinute) || maxPerMinute < 1)
    fail('alerts.maxPerMinute', 'must be a whole number of at least 1');
  const notify = a.notify ?? true;
  if (typeof notify !== 'boolean') fail('alerts.notify', 'must be true or false');
  const config: AlertConfig = {
    rules,
    everyMs: everyMs as number,
    maxPerMinute: maxPerMinute as number,
    notify: notify as boolean,
  };
  if (a.webhook !== undefined) config.webhook = webhook(a.webhook, fail);
  return config;
}

/** Reads and parses a config file; a file that does not exist is an empty config. */
export function loadAlertConfig(file: string): AlertConfig {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return parseAlertConfig({}, file);
    throw new AlertConfigError(file, '', `cannot be read (${(error as NodeJS.ErrnoException).code})`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new AlertConfigError(file, '', `is not valid JSON: ${(error as Error).message}`);
  }
  return parseAlertConfig(json, file);
}

/** A webhook given as a URL alone (e.g. `--webhook`), or its config object. */
export function webhook(
  value: unknown,
  fail: (at: string, message: string) => never = (at, m) => {
    throw new AlertConfigError(undefined, at, m);
  },
): WebhookConfig {
  const w = typeof value === 'string' ? { url: value } : value;
  if (!isObject(w)) return fail('alerts.webhook', 'must be a URL or an object with a url');
  const o = w as Record<string, unknown>;
  unknownKeys(o, ['url', 'timeout', 'retries', 'headers'], 'alerts.webhook', fail);
  let url: URL | undefined;
  try {
    url = new URL(String(o.url));
  } catch {
    fail('alerts.webhook.url', `must be an http(s) URL (got ${JSON.stringify(o.url)})`);
  }
  if (url!.protocol !== 'http:' && url!.protocol !== 'https:')
    fail('alerts.webhook.url', 'must be http or https');
  const timeoutMs = o.timeout === undefined ? 5000 : parseDuration(o.timeout);
  if (timeoutMs === undefined) fail('alerts.webhook.timeout', 'must be a duration such as "5s"');
  const retries = o.retries ?? 3;
  if (typeof retries !== 'number' || !Number.isInteger(retries) || retries < 0 || retries > 10)
    fail('alerts.webhook.retries', 'must be a whole number from 0 to 10');
  const headers = o.headers ?? {};
  if (!isObject(headers) || Object.values(headers).some((v) => typeof v !== 'string'))
    fail('alerts.webhook.headers', 'must be an object of strings');
  return {
    url: url!.toString(),
    timeoutMs: timeoutMs as number,
    retries: retries as number,
    headers: headers as Record<string, string>,
  };
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function unknownKeys(
  o: Record<string, unknown>,
  allowed: string[],
  at: string,
  fail: (at: string, m: string) => never,
): void {
  for (const key of Object.keys(o))
    if (!allowed.includes(key))
      fail(at ? `${at}.${key}` : key, `is not a known setting (known: ${allowed.join(', ')})`);
}
