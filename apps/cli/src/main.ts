import { toCliError } from './errors';
import { buildProgram } from './program';

// Entry point of the `netwho` binary: parse, run, and turn errors into a short message and their
// documented exit code.
// A closed pipe (`netwho watch --raw | head`) ends the command quietly, as it does for other tools.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code === 'EPIPE') process.exit(0);
  throw error;
});

const program = buildProgram();
program.parseAsync(process.argv).then(
  // Live views leave timers and capture handles behind them: once the command is done, exit, after
  // stdout has drained (a pipe may still hold output).
  () => exitAfterOutput(Number(process.exitCode ?? 0)),
  (error: unknown) => {
    const cli = toCliError(error);
    process.stderr.write(`netwho: ${cli.message}\n`);
    exitAfterOutput(cli.exitCode);
  },
);

function exitAfterOutput(code: number): void {
  process.stdout.write('', () => process.exit(code));
}
