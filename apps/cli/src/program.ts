import { Command } from 'commander';
import { version } from './version';

/** The command tree. Each command lives in its own file under commands/ and registers itself here. */
export function buildProgram(): Command {
  const program = new Command('netwho')
    .description('Which program is behind this connection? Sockets, ports and live traffic per program.')
    .version(version, '-V, --version', 'print the version and exit')
    .showHelpAfterError('(run netwho --help for usage)')
    .exitOverride((err) => {
      // Commander exits 1 on usage errors; netwho documents 2 for usage, 0 for --help/--version.
      process.exit(err.exitCode === 0 ? 0 : 2);
    });
  return program;
}
