import { parseArgs } from 'node:util';
import { startDashboard } from '../index';

// `pnpm --filter @netwho/web start`: starts the dashboard and prints its URL.
const { values } = parseArgs({
  options: {
    host: { type: 'string', default: '127.0.0.1' },
    port: { type: 'string', default: '7777' },
    token: { type: 'string' },
    interface: { type: 'string', short: 'i', multiple: true },
    filter: { type: 'string', short: 'f' },
    'no-capture': { type: 'boolean', default: false },
    'no-dns': { type: 'boolean', default: false },
  },
});
const port = Number(values.port);
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  process.stderr.write(`netwho web: --port must be 0-65535, got ${values.port}\n`);
  process.exit(2);
}
try {
  const dashboard = await startDashboard({
    host: values.host,
    port,
    ...(values.token && { token: values.token }),
    ...(values.interface && { devices: values.interface }),
    ...(values.filter && { filter: values.filter }),
    capture: values['no-capture'] ? 'never' : 'auto',
    dns: !values['no-dns'],
  });
  if (dashboard.status.banner) process.stderr.write(`netwho web: ${dashboard.status.banner}\n`);
  process.stdout.write(`netwho dashboard: ${dashboard.openUrl}\n`);
  const stop = () => void dashboard.close().then(() => process.exit(0));
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
} catch (error) {
  process.stderr.write(`netwho web: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(
    (error as { code?: string }).code === 'E_PERMISSION'
      ? 3
      : (error as { code?: string }).code === 'EADDRINUSE'
        ? 2
        : 4,
  );
}
