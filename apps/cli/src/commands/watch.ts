import type { Alert } from '@netwho/alerts';
import { GROUPINGS, type Grouping } from '@netwho/monitor';
import { type Command, Option } from 'commander';
import { createElement } from 'react';
import { type Alerts, addAlertOptions, openAlerts, withAlerts } from '../alerts/setup';
import { integer } from '../errors';
import { openRecording } from '../history/recording';
import { addNameOptions, namesFrom } from '../names/options';
import { print } from '../output/style';
import { openMonitor } from '../watch/monitor';
import { rawLines } from '../watch/raw';
import { loadViewState, saveViewState, type ViewState, viewStateFile } from '../watch/remember';
import { hostMatcher, withHosts } from '../watch/views';

export function registerWatch(program: Command): void {
  addAlertOptions(
    addNameOptions(
      program
        .command('watch', { isDefault: false })
        .description('live traffic per program (up/down rates, totals, connections, remote hosts)')
        .option('-i, --interface <device...>', "capture on these devices (default: the default route's)")
        .option('-f, --filter <bpf>', 'BPF capture filter, e.g. "tcp port 443"')
        .option(
          '--raw',
          'print JSON lines (one per program and per connection per tick) instead of the live view',
        )
        .option('--no-dns', 'no reverse DNS (names from SNI, HTTP Host and DNS answers stay)')
        .option('--no-capture', 'do not capture: TCP traffic from kernel socket counters (no rights needed)')
        .option('--capture', 'require packet capture: fail (exit 3) rather than fall back')
        .option('--no-ebpf', 'do not load the eBPF owner programs: owners from the socket table only')
        .option(
          '--reader-cpu <cpu>',
          "read packets on this CPU alone, this process's other threads off it (Linux; steadier label latency)",
          integer('--reader-cpu', 0, 1023),
        )
        .option(
          '--interval <ms>',
          'refresh interval in milliseconds',
          integer('--interval', 100, 60_000),
          1000,
        )
        .option(
          '-d, --duration <seconds>',
          'stop after this many seconds',
          integer('--duration', 1, 31_536_000),
        )
        .addOption(
          new Option(
            '--by <grouping>',
            'group the Programs view (and the group lines of --raw) by program, pid, unit, container or user',
          )
            .choices(GROUPINGS)
            .default('program'),
        )
        .option(
          '--host <pattern>',
          'only connections whose remote address or name matches, e.g. "*.example.com" or "10.0.*"',
        )
        .option('--remember', "keep this terminal's view, sort and grouping for its next watch")
        .option('--db <file>', 'keep history in this file (default: $XDG_STATE_HOME/netwho/netwho.db)')
        .option('--no-history', 'record nothing (netwho history reads what watch, web and agent record)'),
    ),
  )
    .addHelpText(
      'after',
      [
        '',
        'Keys: tab or 1-3 switch view, up/down and enter open a program into its processes, g group (program,',
        'pid, unit, container, user), s sort, p pause, q quit.',
        'Without capture rights it says so once and shows TCP traffic from the kernel instead.',
        '',
        'Examples:',
        '  sudo netwho watch',
        '  netwho watch -i eth0 --filter "not port 22"',
        '  netwho watch --raw --duration 10 | jq \'select(.type == "program")\'',
        '  netwho watch --no-history        # keep nothing once it quits',
      ].join('\n'),
    )
    .action(async (options) => {
      // commander turns --no-capture / --capture into one boolean-or-undefined `capture` option.
      const capture =
        options.capture === false ? 'never' : process.argv.includes('--capture') ? 'required' : 'auto';
      const names = namesFrom(options);
      const history = openRecording({ db: options.db, history: options.history });
      const opened = openMonitor({
        devices: options.interface,
        filter: options.filter,
        capture,
        names,
        ebpf: options.ebpf !== false,
        ...(options.readerCpu !== undefined && { readerCpu: options.readerCpu }),
        ...(history.onConnectionEnd && { onConnectionEnd: history.onConnectionEnd }),
      });
      const notice =
        [opened.notice, opened.readerCpuUnbound, history.notice].filter(Boolean).join('; ') || undefined;
      const alerts = openAlerts(options, { ...(history.recording && { history: history.recording.store }) });
      const raw = options.raw || !process.stdout.isTTY || !process.stdin.isTTY;
      // --raw: one line per alert among the others; the live view shows the latest ones.
      const onAlert = raw ? (a: Alert) => print(JSON.stringify({ type: 'alert', ...a })) : undefined;
      const choice = { monitor: withAlerts(history.wrap(opened.monitor), alerts, onAlert), notice, alerts };
      const stop = () => {
        history.close(opened.monitor);
        choice.monitor.close();
      };
      try {
        if (raw) {
          await runRaw(
            choice.monitor,
            choice.notice,
            options.interval,
            options.duration,
            options.by,
            options.host,
          );
        } else {
          await runInteractive(choice, options);
        }
      } finally {
        stop();
        await alerts?.close(); // the webhook's queue, within its 2 s
      }
    });
}

async function runRaw(
  monitor: ReturnType<typeof openMonitor>['monitor'],
  notice: string | undefined,
  intervalMs: number,
  durationS: number | undefined,
  grouping: Grouping,
  host: string | undefined,
): Promise<void> {
  const match = host ? hostMatcher(host) : undefined;
  if (notice) process.stderr.write(`netwho: ${notice}\n`);
  monitor.snapshot(); // the baseline for rates
  const end = durationS === undefined ? Number.POSITIVE_INFINITY : Date.now() + durationS * 1000;
  let stopped = false;
  const onSignal = () => {
    stopped = true;
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  while (!stopped && Date.now() < end) {
    await new Promise((resolve) => setTimeout(resolve, Math.min(intervalMs, Math.max(0, end - Date.now()))));
    for (const line of rawLines(withHosts(monitor.snapshot(), match), grouping)) print(line);
  }
}

async function runInteractive(
  choice: ReturnType<typeof openMonitor> & { alerts?: Alerts | undefined },
  options: {
    interval: number;
    duration?: number;
    dns: boolean;
    interface?: string[];
    by: Grouping;
    host?: string;
    remember?: boolean;
  },
): Promise<void> {
  // Ink draws only the last frame when it thinks it runs in CI; on a terminal the user wants the
  // live view, so the CI hint is dropped before Ink (loaded only for this view) reads it.
  delete process.env.CI;
  const [{ render }, { WatchApp }] = await Promise.all([import('ink'), import('../watch/app')]);
  const devices = options.interface?.join(', ') ?? 'the default device';
  // --remember: this terminal's last view (a --by given now wins over the remembered grouping).
  const file = options.remember ? viewStateFile() : undefined;
  const remembered = file ? loadViewState(file) : undefined;
  const byGiven = process.argv.includes('--by');
  const app = render(
    createElement(WatchApp, {
      monitor: choice.monitor,
      notice: choice.notice,
      ...(choice.alerts && { alerts: choice.alerts }),
      intervalMs: options.interval,
      devices,
      grouping: options.by,
      ...(options.host && { host: options.host }),
      ...(remembered && { initial: byGiven ? { ...remembered, grouping: options.by } : remembered }),
      ...(file && { onViewChange: (state: ViewState) => saveViewState(file, state) }),
    }),
  );
  const timer = options.duration ? setTimeout(() => app.unmount(), options.duration * 1000) : undefined;
  await app.waitUntilExit();
  if (timer) clearTimeout(timer);
}
