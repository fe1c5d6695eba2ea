import type { SocketRecord as Socket } from '@netwho/listeners';
import { useEffect, useState } from 'preact/hooks';

/** Every open socket (@netwho/listeners), refreshed every 5 s and on demand. */
export function Ports() {
  const [data, setData] = useState<{ at: number; sockets: Socket[] } | undefined>();
  const [error, setError] = useState('');
  const [listenOnly, setListenOnly] = useState(true);
  const load = (fresh = false) =>
    fetch(`/api/ports${fresh ? '?fresh=1' : ''}`)
      .then((r) => (r.ok ? r.json() : Promise.reject(new Error(`HTTP ${r.status}`))))
      .then((d) => {
        setData(d as { at: number; sockets: Socket[] });
        setError('');
      })
      .catch((e: Error) => setError(e.message));
  useEffect(() => {
    void load();
    const timer = setInterval(() => void load(), 5000);
    return () => clearInterval(timer);
  }, []);
  const rows = (data?.sockets ?? [])
    .filter((s) => !listenOnly || s.state === 'Listen' || (s.protocol === 'UDP' && !s.remote))
    .sort((a, b) => a.local.port - b.local.port);
  const ep = (e: { address: string; port: number }) =>
    e.address.includes(':') ? `[${e.address}]:${e.port}` : `${e.address}:${e.port}`;
  return (
    <section>
      <div class="filters">
        <label>
          <input
            type="checkbox"
            checked={listenOnly}
            onChange={(e) => setListenOnly(e.currentTarget.checked)}
          />{' '}
          listening only
        </label>
        <button type="button" onClick={() => void load(true)}>
          refresh
        </button>
        <span class="count">
          {rows.length} sockets{data ? `, read ${new Date(data.at).toLocaleTimeString()}` : ''}
        </span>
        {error ? <span class="error">{error}</span> : null}
      </div>
      <table class="grid" data-testid="ports">
        <thead>
          <tr>
            <th>Proto</th>
            <th>Local</th>
            <th>Remote</th>
            <th>State</th>
            <th>PID</th>
            <th>Program</th>
            <th>Path</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((s) => (
            <tr key={`${s.protocol}${ep(s.local)}${s.remote ? ep(s.remote) : ''}`}>
              <td>
                {s.protocol}
                {s.family === 6 ? '6' : ''}
              </td>
              <td>{ep(s.local)}</td>
              <td>{s.remote ? ep(s.remote) : '*'}</td>
              <td>{s.state === 'Unknown' ? '' : s.state}</td>
              <td>{s.pid ?? ''}</td>
              <td>{s.program ?? <em>({s.unowned})</em>}</td>
              <td class="path">{s.path ?? ''}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}
