import { buildProgram } from './program';

// Entry point of the `netwho` binary: parse, run, and turn a thrown CliError into its exit code.
const program = buildProgram();
program.parseAsync(process.argv).catch((error: unknown) => {
  process.stderr.write(`netwho: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
});
