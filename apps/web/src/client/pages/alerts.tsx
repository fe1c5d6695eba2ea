import type { WebAlert } from '../../server/protocol';
import { time } from '../format';

/** Every recent alert, newest first: when, the rule, the program, what it did, the remote end. */
export function Alerts({ alerts }: { alerts: WebAlert[] }) {
  const list = [...alerts].reverse();
  return (
    <section>
      <h2>Alerts</h2>
      {list.length === 0 ? (
        <p class="empty">
          No alerts. Rules come from the config file ("alerts") or netwho web's --alert-rate,
          --alert-new-program, --blocklist.
        </p>
      ) : (
        <table class="grid" data-testid="alerts">
          <thead>
            <tr>
              <th>When</th>
              <th>Rule</th>
              <th>Program</th>
              <th>What</th>
              <th>Remote</th>
            </tr>
          </thead>
          <tbody>
            {list.map((a) => (
              <tr key={`${a.at}-${a.rule.id}-${a.program.path}-${a.remote?.address ?? ''}`}>
                <td>{time(a.at)}</td>
                <td>{a.rule.id}</td>
                <td title={a.program.path}>{a.program.name}</td>
                <td>{a.message}</td>
                <td>{a.remote ? (a.remote.name ?? a.remote.address) : ''}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}

/** The alerts of the last ticks, each shown for a few seconds. */
export function Toasts({ alerts, dismiss }: { alerts: WebAlert[]; dismiss: (a: WebAlert) => void }) {
  return (
    <div class="toasts" data-testid="toasts">
      {alerts.map((a) => (
        <div key={`${a.at}-${a.rule.id}-${a.program.path}`} class="toast" role="status">
          <a href="#/alerts">{a.message}</a>
          <button type="button" aria-label="dismiss" onClick={() => dismiss(a)}>
            ✕
          </button>
        </div>
      ))}
    </div>
  );
}
