import { useState } from 'preact/hooks';
import type { ConnectionView } from '../../server/protocol';
import { bytes, endpoint, time } from '../format';
import type { Model } from '../store';
import { ProgramIcon } from './overview';

type Column =
  | 'program'
  | 'unit'
  | 'peer'
  | 'protocol'
  | 'local'
  | 'remote'
  | 'host'
  | 'service'
  | 'state'
  | 'in'
  | 'out'
  | 'first'
  | 'last';
const COLUMNS: Array<[Column, string, (c: ConnectionView) => string | number]> = [
  ['program', 'Program', (c) => (c.label.status === 'known' ? c.label.process.name : `~${c.label.status}`)],
  ['unit', 'Unit', (c) => c.unit ?? ''],
  ['peer', 'Other end', (c) => c.peerName ?? ''],
  ['protocol', 'Proto', (c) => c.protocol],
  ['local', 'Local', (c) => endpoint(c.local)],
  ['remote', 'Remote', (c) => endpoint(c.remote)],
  ['host', 'Host', (c) => c.host ?? ''],
  ['service', 'Service', (c) => c.service],
  ['state', 'State', (c) => c.state],
  ['in', 'In', (c) => c.bytesIn],
  ['out', 'Out', (c) => c.bytesOut],
  ['first', 'First seen', (c) => c.firstSeen],
  ['last', 'Last seen', (c) => c.lastSeen],
];

/** The connection table: sort by any column, filter by text, program, protocol, port; pause. */
export function Inspect({
  model,
  query,
  setPaused,
}: {
  model: Model;
  query: URLSearchParams;
  setPaused: (p: boolean) => void;
}) {
  const [sort, setSort] = useState<{ by: Column; desc: boolean }>({ by: 'last', desc: true });
  const [text, setText] = useState('');
  const [protocol, setProtocol] = useState('');
  const [port, setPort] = useState('');
  // One program key (pid:123), or a group's members, comma-separated (the Overview's programs).
  const program = query.get('program') ?? '';
  const members = new Set(program.split(',').filter(Boolean));
  const get = COLUMNS.find(([c]) => c === sort.by)![2];
  const rows = [...model.connections.values()]
    .filter(
      (c) =>
        (!program || members.has(c.program)) &&
        (!protocol || c.protocol === protocol) &&
        (!port || String(c.local.port) === port || String(c.remote.port) === port) &&
        (!text || JSON.stringify(c).toLowerCase().includes(text.toLowerCase())),
    )
    .sort((a, b) => {
      const x = get(a);
      const y = get(b);
      const order =
        typeof x === 'number' && typeof y === 'number' ? x - y : String(x).localeCompare(String(y));
      return sort.desc ? -order : order;
    })
    .slice(0, 500);
  const programRow = program ? model.programs.get(program.split(',')[0]!) : undefined;
  return (
    <section>
      <div class="filters">
        <input
          placeholder="filter…"
          value={text}
          onInput={(e) => setText(e.currentTarget.value)}
          data-testid="filter"
        />
        <select value={protocol} onChange={(e) => setProtocol(e.currentTarget.value)}>
          <option value="">all protocols</option>
          <option>TCP</option>
          <option>UDP</option>
          <option>ICMP</option>
        </select>
        <input
          placeholder="port"
          size={6}
          value={port}
          onInput={(e) => setPort(e.currentTarget.value.trim())}
        />
        {program ? (
          <a class="chip" href="#/inspect">
            {programRow?.process?.name ?? program} ✕
          </a>
        ) : null}
        <button type="button" onClick={() => setPaused(!model.paused)}>
          {model.paused ? 'resume' : 'pause'}
        </button>
        <span class="count">{rows.length} connections</span>
      </div>
      <table class="grid" data-testid="connections">
        <thead>
          <tr>
            {COLUMNS.map(([column, title]) => (
              <th
                key={column}
                onClick={() => setSort({ by: column, desc: sort.by === column ? !sort.desc : true })}
              >
                {title}
                {sort.by === column ? (sort.desc ? ' ▾' : ' ▴') : ''}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {rows.map((c) => {
            const owner = model.programs.get(c.program);
            return (
              <tr key={c.id} class={c.label.status === 'known' ? '' : 'unknown'}>
                <td>
                  {owner ? <ProgramIcon program={owner} /> : null}
                  {c.label.status === 'known'
                    ? c.label.process.name
                    : c.label.status === 'pending'
                      ? '…'
                      : `unknown (${c.label.reason})`}
                </td>
                <td>{c.unit ?? ''}</td>
                <td>{c.peerName ?? ''}</td>
                <td>{c.protocol}</td>
                <td>{endpoint(c.local)}</td>
                <td>{endpoint(c.remote)}</td>
                <td>{c.host ?? ''}</td>
                <td>{c.service}</td>
                <td>{c.state}</td>
                <td class="num">{bytes(c.bytesIn)}</td>
                <td class="num">{bytes(c.bytesOut)}</td>
                <td>{time(c.firstSeen)}</td>
                <td>{time(c.lastSeen)}</td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </section>
  );
}
