import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import {
  type Alert,
  type AlertConfig,
  AlertEngine,
  AlertLog,
  type AlertRule,
  BlocklistFiles,
  DesktopNotifier,
  isAlertConfigError,
  loadAlertConfig,
  parseAlertConfig,
  programKey,
  WebhookSink,
  webhook,
} from '@netwho/alerts';
import { defaultDatabasePath, type HistoryStore } from '@netwho/history';
import type { TrafficMonitor, TrafficSnapshot } from '@netwho/monitor';
import type { Command } from 'commander';
import { CliError, Exit } from '../errors';

/** `$XDG_CONFIG_HOME/netwho/config.json` (`~/.config/netwho/config.json` when unset). */
export function defaultConfigPath(): string {
  const base = process.env.XDG_CONFIG_HOME || join(homedir(), '.config');
  return join(base, 'netwho', 'config.json');
}

/** `$XDG_STATE_HOME/netwho/alerts.jsonl`, beside the history file: what `netwho alerts` lists. */
export function defaultAlertLogPath(): string {
  return join(dirname(defaultDatabasePath()), 'alerts.jsonl');
}

/** The alert options of watch, web and agent (rules also come from the config file). */
export function addAlertOptions(command: Command): Command {
  return command
    .option(
      '--config <file>',
      'the config file with alert rules (default: $XDG_CONFIG_HOME/netwho/config.json)',
    )
    .option('--alert-rate <rate>', 'alert when a program moves more than this, e.g. 10MB/s')
    .option('--alert-new-program', 'alert when a program uses the network for the first time')
    .option(
      '--blocklist <file...>',
      'alert on connections to addresses in these files (IPs and CIDRs, one a line)',
    )
    .option('--webhook <url>', 'POST each alert as JSON to this URL')
    .option('--no-notify', 'no desktop notifications (notify-send) for alerts');
}

export interface AlertFlags {
  config?: string;
  alertRate?: string;
  alertNewProgram?: boolean;
  blocklist?: string[];
  webhook?: string;
  notify?: boolean;
}

export interface Alerts {
  /** Rules in force (from the file and the flags). */
  rules: AlertRule[];
  /** Alerts for this snapshot, already sent to the webhook, the desktop and the log. */
  observe(snapshot: TrafficSnapshot): Alert[];
  /** The latest alerts, newest last (at most 50). */
  recent(): Alert[];
  /** What was fired, held back and lost on the way, for the apps to show. */
  stats(): {
    fired: number;
    suppressed: number;
    webhookDropped: number;
    notifyDropped: number;
    logErrors: number;
  };
  close(): Promise<void>;
}

/**
 * The alerts the config file and the flags ask for, or undefined when there are no rules. A file
 * or flag that is not valid is a CliError (exit 2) naming where.
 */
export function openAlerts(
  flags: AlertFlags,
  options: { history?: HistoryStore; notifyDefault?: boolean } = {},
): Alerts | undefined {
  let config: AlertConfig;
  const file = flags.config ?? defaultConfigPath();
  try {
    config = loadAlertConfig(file);
    const extra: unknown[] = [];
    if (flags.alertRate) extra.push({ kind: 'rate', id: 'flag-rate', above: flags.alertRate });
    if (flags.alertNewProgram) extra.push({ kind: 'new-program', id: 'flag-new-program' });
    if (flags.blocklist?.length)
      extra.push({ kind: 'blocklist', id: 'flag-blocklist', files: flags.blocklist });
    if (extra.length > 0) {
      const fromFlags = parseAlertConfig({ alerts: { rules: extra } }, 'the command line');
      config.rules.push(...fromFlags.rules);
    }
    if (flags.webhook) config.webhook = webhook(flags.webhook);
  } catch (error) {
    if (isAlertConfigError(error))
      throw new CliError(error.message.replace(/^\[netwho\/alerts\]\s*/, ''), Exit.USAGE);
    throw error;
  }
  if (config.rules.length === 0) return undefined;
  const blocklists = new Map<string, BlocklistFiles>();
  for (const rule of config.rules)
    if (rule.kind === 'blocklist') blocklists.set(rule.id, openBlocklist(rule.files));
  const engine = new AlertEngine(config.rules, {
    everyMs: config.everyMs,
    maxPerMinute: config.maxPerMinute,
    blocklists,
    ...(options.history && { known: knownPrograms(options.history) }),
  });
  const hook = config.webhook ? new WebhookSink(config.webhook) : undefined;
  const notifier =
    config.notify && flags.notify !== false && (options.notifyDefault ?? true)
      ? new DesktopNotifier()
      : undefined;
  const log = new AlertLog(defaultAlertLogPath());
  const recent: Alert[] = [];
  return {
    rules: config.rules,
    observe(snapshot) {
      const alerts = engine.observe(snapshot);
      for (const a of alerts) {
        hook?.send(a);
        notifier?.send(a);
        log.append(a);
        recent.push(a);
        if (recent.length > 50) recent.shift();
      }
      return alerts;
    },
    recent: () => [...recent],
    stats() {
      const e = engine.stats();
      return {
        fired: e.fired,
        suppressed: e.suppressed,
        webhookDropped: hook?.stats().dropped ?? 0,
        notifyDropped: notifier?.dropped ?? 0,
        logErrors: log.writeErrors,
      };
    },
    close: async () => {
      await hook?.close();
    },
  };
}

/**
 * Blocklist files, read (and read again on change) by @netwho/alerts: one that cannot be read is a
 * CliError (exit 2); lines that are not addresses or blocks are said once and skipped.
 */
export function openBlocklist(files: string[]): BlocklistFiles {
  let list: BlocklistFiles;
  try {
    list = new BlocklistFiles(files);
  } catch (error) {
    if (isAlertConfigError(error))
      throw new CliError(error.message.replace(/^\[netwho\/alerts\]\s*/, ''), Exit.USAGE);
    throw error;
  }
  for (const p of list.list.problems.slice(0, 5))
    process.stderr.write(`netwho: ${p.file}:${p.line}: not an address or CIDR block, skipped: ${p.text}\n`);
  return list;
}

/** The programs the history store has seen, by the engine's key: not "new" however long ago they ran. */
function knownPrograms(store: HistoryStore): string[] {
  try {
    return store
      .programs({ from: 0, to: Date.now(), by: 'program', limit: 100_000 })
      .filter((p) => p.program.name || p.program.path)
      .map((p) => programKey(p.program));
  } catch {
    return [];
  }
}

/** The monitor with every snapshot the app takes also looked at for alerts (`onAlert` for each). */
export function withAlerts(
  monitor: TrafficMonitor,
  alerts: Alerts | undefined,
  onAlert: (alert: Alert) => void = () => {},
): TrafficMonitor {
  if (!alerts) return monitor;
  return {
    mode: monitor.mode,
    snapshot() {
      const s = monitor.snapshot();
      for (const a of alerts.observe(s)) onAlert(a);
      return s;
    },
    close: () => monitor.close(),
  };
}

/** An alert as a line for people: `12:01:07 rate-1: curl moved 12.0 MiB/s (above 9.5 MiB/s)`. */
export function alertLine(a: Alert): string {
  return `${new Date(a.at).toLocaleTimeString()} ${a.rule.id}: ${a.message}`;
}
