import { existsSync } from 'node:fs';
import { defaultDatabasePath, HistoryStore } from '@netwho/history';
import type { Command } from 'commander';
import { addAlertOptions, openAlerts } from '../alerts/setup';
import { CliError, Exit, integer } from '../errors';
import { addNameOptions, namesFrom } from '../names/options';
import { print } from '../output/style';

export function registerWeb(program: Command): void {
  addAlertOptions(
    addNameOptions(
      program
        .command('web')
        .description('start the local web dashboard (overview, inspect, ports, program details)')
        .option('--host <address>', 'address to bind; anything but loopback requires a token', '127.0.0.1')
        .option('-p, --port <port>', 'port (0: any free one)', integer('--port', 0, 65535), 7777)
        .option('--token <token>', 'token for non-loopback binds (generated and printed when not given)')
        .option('-i, --interface <device...>', "capture on these devices (default: the default route's)")
        .option('-f, --filter <bpf>', 'BPF capture filter')
        .option('--no-capture', 'do not capture: TCP traffic from kernel socket counters')
        .option('--no-ebpf', 'do not load the eBPF owner programs: owners from the socket table only')
        .option(
          '--reader-cpu <cpu>',
          "read packets on this CPU alone, this process's other threads off it (Linux)",
          integer('--reader-cpu', 0, 1023),
        )
        .option('--no-dns', 'no reverse DNS (names from SNI, HTTP Host and DNS answers stay)')
        .option('--db <file>', 'the history file (default: $XDG_STATE_HOME/netwho/netwho.db)')
        .option('--no-history', 'record nothing (the History page still reads --db when it exists)'),
    ),
  )
    .addHelpText(
      'after',
      '\nExamples:\n  sudo netwho web\n  sudo netwho web --host 0.0.0.0 --port 8080   # prints a URL with a token',
    )
    .action(async (options) => {
      // The server (Hono, ws, the page) is loaded only for this command.
      const { startDashboard } = await import('@netwho/web');
      const names = namesFrom(options);
      // The programs the history file has seen are not new to a new-program rule.
      const known = knownFrom(options);
      const alerts = openAlerts(options, { ...(known && { history: known }) });
      known?.close();
      let dashboard: Awaited<ReturnType<typeof startDashboard>>;
      try {
        dashboard = await startDashboard({
          host: options.host,
          port: options.port,
          ...(options.token && { token: options.token }),
          ...(options.interface && { devices: options.interface }),
          ...(options.filter && { filter: options.filter }),
          capture: options.capture === false ? 'never' : 'auto',
          ebpf: options.ebpf !== false,
          ...(options.readerCpu !== undefined && { readerCpu: options.readerCpu }),
          dns: options.dns !== false,
          names,
          ...(alerts && { alerts }),
          ...historyOption(options),
        });
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'EADDRINUSE') {
          throw new CliError(`port ${options.port} is in use: pick another with --port`, Exit.USAGE);
        }
        throw error;
      }
      if (dashboard.status.banner) process.stderr.write(`netwho: ${dashboard.status.banner}\n`);
      print(`netwho dashboard: ${dashboard.openUrl}`);
      await new Promise<void>((resolve) => {
        process.once('SIGINT', resolve);
        process.once('SIGTERM', resolve);
      });
      await dashboard.close();
      await alerts?.close();
    });
}

/** Record into --db (or the default file) unless --no-history; then only read it, if it exists. */
function historyOption(options: { db?: string; history?: boolean }) {
  const path = options.db ?? defaultDatabasePath();
  if (options.history !== false) return { history: { path } };
  return existsSync(path) ? { history: { path, record: false } } : {};
}

/** The history file read-only, for the programs it knows (undefined when there is none, or it cannot be read). */
function knownFrom(options: { db?: string }): HistoryStore | undefined {
  const path = options.db ?? defaultDatabasePath();
  if (!existsSync(path)) return undefined;
  try {
    return HistoryStore.open({ path, readonly: true });
  } catch {
    return undefined;
  }
}
