import { accessSync, constants, writeFileSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { lookUpIcon } from '@netwho/picon';
import type { Command } from 'commander';
import { CliError, Exit, integer } from '../errors';
import { print, printJson } from '../output/style';

export function registerIcon(program: Command): void {
  program
    .command('icon')
    .description("a program's icon (PNG or SVG), from its path or name")
    .argument('<program>', 'executable path, or a program name looked up on PATH')
    .option('-o, --output <file>', 'write the icon to this file')
    .option(
      '-s, --size <px>',
      'wanted size in pixels (the closest available is used)',
      integer('--size', 1, 1024),
      48,
    )
    .option('--json', 'print JSON: { format, width, height, source, output }')
    .addHelpText(
      'after',
      '\nExamples:\n  netwho icon firefox -o firefox.png\n  netwho icon /usr/bin/vim --size 128 --json',
    )
    .action((name: string, options) => {
      const path = name.includes('/') ? name : onPath(name);
      const found = lookUpIcon(
        { ...(path && { path }), name: name.split('/').pop()! },
        { size: options.size },
      );
      if (!found.icon) {
        throw new CliError(
          `no icon for ${name}: ${found.reason}${found.detail ? ` (${found.detail})` : ''}`,
          Exit.NOT_FOUND,
        );
      }
      const icon = found.icon;
      let output: string | undefined;
      if (options.output) {
        // The file asked for, exactly; a name that says another format gets a warning, not a new name.
        output = String(options.output);
        if (!output.toLowerCase().endsWith(`.${icon.format}`)) {
          process.stderr.write(
            `netwho: warning: the icon is ${icon.format.toUpperCase()} but ${output} does not end in .${icon.format}; written as it is\n`,
          );
        }
        try {
          writeFileSync(output, icon.data);
        } catch (error) {
          throw new CliError(`cannot write ${output}: ${(error as Error).message}`, Exit.PERMISSION);
        }
      }
      const size = icon.width ? `${icon.width}x${icon.height}` : 'scalable';
      if (options.json) {
        printJson({
          format: icon.format,
          width: icon.width ?? null,
          height: icon.height ?? null,
          source: icon.source,
          output: output ?? null,
        });
      } else {
        print(
          `${icon.format} ${size} from ${icon.source.file}${icon.source.via ? ` (via ${icon.source.via})` : ''}`,
        );
        if (output) print(`written to ${output}`);
      }
    });
}

/** The first executable called `name` on PATH. */
function onPath(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    try {
      accessSync(join(dir, name), constants.X_OK);
      return join(dir, name);
    } catch {
      // not here
    }
  }
  return undefined;
}
