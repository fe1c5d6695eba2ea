import { AlertLog } from '@netwho/alerts';
import type { Command } from 'commander';
import { alertLine, defaultAlertLogPath, openAlerts } from '../alerts/setup';
import { CliError, Exit, integer } from '../errors';
import { print, printJson } from '../output/style';

export function registerAlerts(program: Command): void {
  program
    .command('alerts')
    .description('the recent alerts of watch, web and agent; --check validates the alert rules')
    .option('-n, --limit <n>', 'this many, the newest last', integer('--limit', 1, 10_000), 20)
    .option(
      '--json',
      'print JSON: [{ at, rule: { id, kind }, program: { name, path, pid? }, message, figures, remote? }]',
    )
    .option(
      '--check',
      'read the config file and the flags, print the rules in force, exit 2 if one is not valid',
    )
    .option('--config <file>', 'the config file (default: $XDG_CONFIG_HOME/netwho/config.json)')
    .addHelpText(
      'after',
      [
        '',
        'Rules live in the config file under "alerts" (see the README); watch, web and agent also take',
        '--alert-rate, --alert-new-program, --blocklist and --webhook.',
        '',
        'Examples:',
        '  netwho alerts',
        '  netwho alerts --json -n 100 | jq ".[] | .message"',
        '  netwho alerts --check',
      ].join('\n'),
    )
    .action(async (options) => {
      if (options.check) {
        const alerts = openAlerts({ ...(options.config && { config: options.config }), notify: false });
        const rules = alerts?.rules ?? [];
        await alerts?.close();
        if (options.json) printJson(rules);
        else if (rules.length === 0) print('no alert rules');
        else for (const r of rules) print(`${r.id}: ${JSON.stringify(r)}`);
        return;
      }
      const recent = new AlertLog(defaultAlertLogPath()).recent(options.limit);
      if (options.json) {
        printJson(recent);
        return;
      }
      if (recent.length === 0) throw new CliError('no alerts recorded yet', Exit.NOT_FOUND);
      for (const a of recent) print(alertLine(a));
    });
}
