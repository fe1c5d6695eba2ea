import {
  cgroupLabel,
  type Family,
  getAll,
  getByPid,
  getProcessByPort,
  type Listener,
  type Protocol,
  processCgroup,
  socketRecord,
} from '@netwho/listeners';
import type { Command } from 'commander';
import { CliError, Exit, integer } from '../errors';
import { endpoint } from '../output/format';
import { colors, print, printJson } from '../output/style';
import { formatTable } from '../output/table';

const SORTS = {
  proto: (a: Listener, b: Listener) => a.protocol.localeCompare(b.protocol) || a.socket.port - b.socket.port,
  port: (a: Listener, b: Listener) => a.socket.port - b.socket.port,
  local: (a: Listener, b: Listener) => endpoint(a.socket).localeCompare(endpoint(b.socket)),
  remote: (a: Listener, b: Listener) => endpoint(a.remote).localeCompare(endpoint(b.remote)),
  state: (a: Listener, b: Listener) => a.state.localeCompare(b.state),
  pid: (a: Listener, b: Listener) => (a.process?.pid ?? -1) - (b.process?.pid ?? -1),
  program: (a: Listener, b: Listener) => (a.process?.name ?? '~').localeCompare(b.process?.name ?? '~'),
};

/** Where each owner runs (systemd unit, container, pod), read once per pid. */
function unitsOf(): (pid: number) => string {
  const units = new Map<number, string>();
  return (pid) => {
    if (!units.has(pid)) units.set(pid, cgroupLabel(processCgroup(pid)) ?? '');
    return units.get(pid)!;
  };
}

/** The --json record of a socket: socketRecord's fields and `unit` (null when none applies). */
function jsonRecords(listeners: Listener[]) {
  const unitOf = unitsOf();
  return listeners.map((l) => ({ ...socketRecord(l), unit: (l.process && unitOf(l.process.pid)) || null }));
}

function printSockets(listeners: Listener[]): void {
  const unitOf = unitsOf();
  const rows = listeners.map((l) => [
    l.protocol + (l.family === 6 ? '6' : ''),
    endpoint(l.socket),
    endpoint(l.remote),
    l.state === 'Unknown' ? '' : l.state,
    l.process ? String(l.process.pid) : '-',
    l.process?.name ?? colors.dim(`(${l.unowned})`),
    l.process ? unitOf(l.process.pid) : '',
    l.process?.path ?? '',
  ]);
  for (const line of formatTable(
    ['PROTO', 'LOCAL', 'REMOTE', 'STATE', 'PID', 'PROGRAM', 'UNIT', 'PATH'],
    rows,
    {
      maxWidth: [6, 46, 46, 11, 8, 28, 30, 60],
      style: colors.bold,
    },
  )) {
    print(line);
  }
}

export function registerSocketCommands(program: Command): void {
  program
    .command('ports')
    .description('every open socket with its program, like `ss -tunap` but readable')
    .option('--tcp', 'TCP sockets only')
    .option('--udp', 'UDP sockets only')
    .option('-l, --listen', 'listening TCP sockets and bound UDP sockets only')
    .option('-4', 'IPv4 only')
    .option('-6', 'IPv6 only')
    .option('-p, --program <name>', 'only sockets of programs whose name contains this')
    .option('--port <port>', 'only sockets whose local or remote port is this', integer('--port', 1, 65535))
    .option('-s, --sort <column>', `sort by ${Object.keys(SORTS).join(', ')}`, 'proto')
    .option('--json', 'print JSON (an array of sockets; see the README)')
    .addHelpText(
      'after',
      '\nExamples:\n  netwho ports --listen\n  netwho ports --tcp --program firefox\n  netwho ports --port 443 --json',
    )
    .action(async (options) => {
      const sort = SORTS[options.sort as keyof typeof SORTS];
      if (!sort) throw new CliError(`--sort must be one of ${Object.keys(SORTS).join(', ')}`, Exit.USAGE);
      const protocols: Protocol[] =
        options.tcp && !options.udp ? ['TCP'] : options.udp && !options.tcp ? ['UDP'] : ['TCP', 'UDP'];
      const families: Family[] =
        options['4'] && !options['6'] ? [4] : options['6'] && !options['4'] ? [6] : [4, 6];
      let listeners = await getAll({ protocols, families });
      if (options.listen)
        listeners = listeners.filter((l) => l.state === 'Listen' || (l.protocol === 'UDP' && !l.remote));
      if (options.program) {
        const needle = String(options.program).toLowerCase();
        listeners = listeners.filter((l) => l.process?.name.toLowerCase().includes(needle));
      }
      if (options.port)
        listeners = listeners.filter(
          (l) => l.socket.port === options.port || l.remote?.port === options.port,
        );
      listeners.sort(sort);
      if (options.json) printJson(jsonRecords(listeners));
      else printSockets(listeners);
    });

  program
    .command('port')
    .description('who owns this local port (exit code 1 when nobody does)')
    .argument('<port>', 'port number, 1-65535', integer('port', 1, 65535))
    .option('-u, --udp', 'the UDP port (default TCP)')
    .option('--json', 'print JSON: { port, protocol, pid, name, path }')
    .addHelpText('after', '\nExamples:\n  netwho port 8080\n  netwho port 53 --udp --json')
    .action(async (port: number, options) => {
      const protocol: Protocol = options.udp ? 'UDP' : 'TCP';
      const p = await getProcessByPort(port, protocol);
      if (options.json) printJson({ port, protocol, pid: p.pid, name: p.name, path: p.path || null });
      else
        print(`${protocol} port ${port}: ${colors.bold(p.name)} (pid ${p.pid})${p.path ? ` ${p.path}` : ''}`);
    });

  program
    .command('pid')
    .description('the sockets of one process')
    .argument('<pid>', 'process id', integer('pid', 0, 0x7fffffff))
    .option('--json', 'print JSON (an array of sockets, like ports --json)')
    .addHelpText('after', '\nExamples:\n  netwho pid 1234\n  netwho pid "$(pgrep -n firefox)" --json')
    .action(async (pid: number, options) => {
      const listeners = (await getByPid(pid)).sort(SORTS.proto);
      if (options.json) printJson(jsonRecords(listeners));
      else if (listeners.length === 0) print(`pid ${pid} has no TCP or UDP sockets`);
      else printSockets(listeners);
    });
}
