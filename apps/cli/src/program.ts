import { Command } from 'commander';
import { registerAgent } from './commands/agent';
import { registerAlerts } from './commands/alerts';
import { registerCapture } from './commands/capture';
import { registerHistory } from './commands/history';
import { registerIcon } from './commands/icon';
import { registerRead } from './commands/read';
import { registerSocketCommands } from './commands/sockets';
import { registerWatch } from './commands/watch';
import { registerWeb } from './commands/web';
import { version } from './version';

/** The command tree. Each command lives in its own file under commands/ and registers itself here. */
export function buildProgram(): Command {
  const program = new Command('netwho')
    .description('Which program is behind this connection? Sockets, ports and live traffic per program.')
    .version(version, '-V, --version', 'print the version and exit')
    .showHelpAfterError('(run netwho --help for usage)')
    .addHelpText(
      'after',
      [
        '',
        'Exit codes: 0 ok, 1 not found, 2 usage, 3 permission, 4 environment (e.g. no libpcap).',
        'Colours only on a terminal, never with NO_COLOR set.',
        '',
        'Examples:',
        '  sudo netwho watch          live traffic per program',
        '  netwho ports --listen      who listens where',
        '  netwho port 8080           who owns TCP port 8080',
        '  netwho history --since 1d  what each program moved today',
      ].join('\n'),
    );
  registerSocketCommands(program);
  registerWatch(program);
  registerCapture(program);
  registerRead(program);
  registerHistory(program);
  registerIcon(program);
  registerWeb(program);
  registerAgent(program);
  registerAlerts(program);
  // Commander exits 1 on usage errors; netwho documents 2 for usage, 0 for --help/--version.
  const exitOverride = (err: { exitCode: number }) => {
    process.exit(err.exitCode === 0 ? 0 : 2);
  };
  program.exitOverride(exitOverride);
  for (const command of program.commands) command.exitOverride(exitOverride);
  return program;
}
