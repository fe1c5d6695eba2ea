import { defaultDatabasePath, HistoryStore, isHistoryError, type ProgramId } from '@netwho/history';
import { serviceOf } from '@netwho/monitor';
import { type Command, Option } from 'commander';
import { CliError, Exit, integer } from '../errors';
import { rangeOf } from '../history/time';
import { bytes, endpoint, rate } from '../output/format';
import { colors, print, printJson } from '../output/style';
import { formatTable } from '../output/table';

const BY = ['program', 'unit', 'container', 'user', 'host', 'port'] as const;
type By = (typeof BY)[number];

interface HistoryOptions {
  since?: string;
  from?: string;
  to?: string;
  program?: string;
  by: By;
  connections?: boolean;
  limit: number;
  db?: string;
  json?: boolean;
}

export function registerHistory(program: Command): void {
  program
    .command('history')
    .description(
      'traffic per program, host or port over a past range, from what watch, web and agent recorded',
    )
    .option('--since <duration>', 'the last 30s, 10m, 1h, 2d, 1w... (default 1h)')
    .option('--from <time>', 'start: 2026-12-01, 2026-12-01T09:30, ms since 1970, or 3h (ago)')
    .option('--to <time>', 'end (default now)')
    .option('--program <name>', "only this program: its name, path or the path's file name")
    .addOption(new Option('--by <what>', `group by ${BY.join(', ')}`).choices(BY).default('program'))
    .option('--connections', 'list the connections that ended in the range, the latest first')
    .option('-n, --limit <rows>', 'at most this many rows', integer('--limit', 1, 100_000), 50)
    .option('--db <file>', 'the history file (default: $XDG_STATE_HOME/netwho/netwho.db)')
    .option('--json', 'print one JSON document (see the README for its fields)')
    .addHelpText(
      'after',
      [
        '',
        'Examples:',
        '  netwho history                          the last hour, per program',
        '  netwho history --since 1d --by host     the last day, per remote host',
        '  netwho history --from 2026-12-01 --to 2026-12-02 --program firefox --connections',
        '  netwho history --since 1w --by unit --json',
      ].join('\n'),
    )
    .action((options: HistoryOptions) => {
      const range = rangeOf(options, Date.now());
      const path = options.db ?? defaultDatabasePath();
      const store = openStore(path);
      try {
        report(store, path, range, options);
      } finally {
        store.close();
      }
    });
}

function openStore(path: string): HistoryStore {
  try {
    return HistoryStore.open({ path, readonly: true });
  } catch (error) {
    if (isHistoryError(error, 'E_NOT_FOUND'))
      throw new CliError(
        `no history at ${path} yet: netwho watch, web and agent record it as they run (or give --db FILE)`,
        Exit.NOT_FOUND,
      );
    if (isHistoryError(error, 'E_PERMISSION')) throw new CliError(error.message, Exit.PERMISSION);
    if (isHistoryError(error)) throw new CliError(error.message, Exit.ENVIRONMENT);
    throw error;
  }
}

function report(
  store: HistoryStore,
  path: string,
  range: { from: number; to: number },
  o: HistoryOptions,
): void {
  const query = { ...range, ...(o.program && { program: o.program }), limit: o.limit };
  const head = {
    db: path,
    from: new Date(range.from).toISOString(),
    to: new Date(range.to).toISOString(),
  };
  if (o.connections) {
    const rows = store.connections(query);
    if (o.json) {
      printJson({ ...head, connections: rows });
      return;
    }
    title(head, `${rows.length} connection${rows.length === 1 ? '' : 's'} that ended in the range`);
    const table = rows.map((c) => [
      time(c.end),
      programName(c.program),
      c.protocol,
      endpoint({ address: c.localAddress, port: c.localPort }),
      c.remoteName ?? endpoint({ address: c.remoteAddress, port: c.remotePort }),
      bytes(c.bytesIn),
      bytes(c.bytesOut),
      c.peer ? programName(c.peer) : [c.country, c.asn && `AS${c.asn}`].filter(Boolean).join(' '),
    ]);
    for (const line of formatTable(
      ['ENDED', 'PROGRAM', 'PROTO', 'LOCAL', 'REMOTE', 'DOWN', 'UP', 'OTHER END'],
      table,
      tableStyle,
    ))
      print(line);
    return;
  }
  if (o.by === 'host') {
    const rows = store.hosts(query);
    if (o.json) {
      printJson({ ...head, by: o.by, hosts: rows });
      return;
    }
    title(head, 'per remote host, of the connections that ended in the range');
    const table = rows.map((h) => [
      h.host,
      [h.country, h.asn && `AS${h.asn}`].filter(Boolean).join(' '),
      String(h.connections),
      bytes(h.bytesIn),
      bytes(h.bytesOut),
      h.programs.join(', '),
    ]);
    for (const line of formatTable(['HOST', 'WHERE', 'CONN', 'DOWN', 'UP', 'PROGRAMS'], table, {
      ...tableStyle,
      maxWidth: [40],
    }))
      print(line);
    totals(rows);
    return;
  }
  if (o.by === 'port') {
    const rows = store.ports(query);
    if (o.json) {
      printJson({ ...head, by: o.by, ports: rows });
      return;
    }
    title(head, 'per service port, of the connections that ended in the range');
    const table = rows.map((p) => [
      `${p.port}/${p.protocol.toLowerCase()}`,
      serviceOf(p.port, p.port),
      String(p.connections),
      bytes(p.bytesIn),
      bytes(p.bytesOut),
      p.programs.join(', '),
    ]);
    for (const line of formatTable(['PORT', 'SERVICE', 'CONN', 'DOWN', 'UP', 'PROGRAMS'], table, tableStyle))
      print(line);
    totals(rows);
    return;
  }
  const rows = store.programs({ ...query, by: o.by });
  if (o.json) {
    printJson({ ...head, by: o.by, programs: rows });
    return;
  }
  title(head, o.by === 'program' ? 'per program' : `per ${o.by}`);
  const name = (p: ProgramId) =>
    o.by === 'unit'
      ? p.unit || '(no unit)'
      : o.by === 'container'
        ? p.container || '(no container)'
        : o.by === 'user'
          ? p.user || '(unknown user)'
          : programName(p);
  const table = rows.map((r) => [
    name(r.program),
    bytes(r.bytesIn),
    bytes(r.bytesOut),
    rate(r.peakIn),
    rate(r.peakOut),
    String(r.connections),
    time(r.lastSeen),
    o.by === 'program' ? r.program.unit || r.program.path : '',
  ]);
  const header = [
    'PROGRAM',
    'DOWN',
    'UP',
    'PEAK DOWN',
    'PEAK UP',
    'CONN',
    'LAST SEEN',
    o.by === 'program' ? 'UNIT / PATH' : '',
  ];
  if (o.by !== 'program') header[0] = o.by.toUpperCase();
  for (const line of formatTable(header, table, { ...tableStyle, maxWidth: [28] })) print(line);
  totals(rows);
}

const tableStyle = { style: (h: string) => colors.bold(h) };

function title(head: { db: string; from: string; to: string }, what: string): void {
  print(colors.dim(`${time(Date.parse(head.from))} to ${time(Date.parse(head.to))}, ${what} (${head.db})`));
}

function totals(rows: readonly { bytesIn: number; bytesOut: number }[]): void {
  if (rows.length === 0) {
    print(colors.dim('nothing recorded in this range'));
    return;
  }
  const down = rows.reduce((n, r) => n + r.bytesIn, 0);
  const up = rows.reduce((n, r) => n + r.bytesOut, 0);
  print(
    colors.dim(`${rows.length} row${rows.length === 1 ? '' : 's'}: ${bytes(down)} down, ${bytes(up)} up`),
  );
}

function programName(p: ProgramId): string {
  if (p.name === '') return '(unattributed)';
  return p.container ? `${p.name} [${p.container}]` : p.name;
}

/** Local time to the second, as `date` prints it: 2026-12-01 09:30:05. */
function time(ms: number): string {
  const d = new Date(ms);
  const two = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${two(d.getMonth() + 1)}-${two(d.getDate())} ${two(d.getHours())}:${two(d.getMinutes())}:${two(d.getSeconds())}`;
}
