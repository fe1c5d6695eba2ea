import { spawn, spawnSync } from 'node:child_process';
import type { Alert } from '../types';

/**
 * Desktop notifications through `notify-send` (libnotify), where it exists and a session bus does:
 * one short-lived process per alert, at most `parallel` at once (more are dropped and counted).
 */
export class DesktopNotifier {
  readonly available: boolean;
  private running = 0;
  sent = 0;
  dropped = 0;

  constructor(
    private readonly command = 'notify-send',
    private readonly parallel = 4,
  ) {
    this.available =
      spawnSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' }).status === 0 &&
      (process.env.DBUS_SESSION_BUS_ADDRESS !== undefined || process.env.DISPLAY !== undefined);
  }

  send(alert: Alert): void {
    if (!this.available) return;
    if (this.running >= this.parallel) {
      this.dropped++;
      return;
    }
    this.running++;
    this.sent++;
    const child = spawn(this.command, ['--app-name=netwho', `netwho: ${alert.rule.kind}`, alert.message], {
      stdio: 'ignore',
    });
    const done = () => {
      this.running--;
    };
    child.once('exit', done);
    child.once('error', () => {
      this.dropped++;
    });
  }
}
