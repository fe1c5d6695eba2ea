import { useState } from 'preact/hooks';
import type { ConnectionView } from '../../server/protocol';
import { bytes, endpoint, flag, network, place, time } from '../format';
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
  | 'where'
  | 'network'
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
  ['where', 'Where', (c) => place(c)],
  ['network', 'Network (AS)', (c) => network(c)],
  ['service', 'Service', (c) => c.service],
  ['state', 'State', (c) => c.state],
  ['in', 'In', (c) => c.bytesIn],
  ['out', 'Out', (c) => c.bytesOut],
  ['first', 'First seen', (c) => c.firstSeen],
  ['last', 'Last seen', (c) => c.lastSeen],
];

/** `*.example.com`-style globs (case-insensitive, `*` any run, `?` one character), else a substring. */
function hostTest(pattern: string): (host: string) => boolean {
  const p = pattern.trim().toLowerCase();
  if (!p) return () => true;
  if (!/[*?]/.test(p)) return (h) => h.toLowerCase().includes(p);
  const re = new RegExp(
    `^${[...p].map((ch) => (ch === '*' ? '.*' : ch === '?' ? '.' : ch.replace(/[.+^${}()|[\]\\]/g, '\\$&'))).join('')}$`,
  );
  return (h) => re.test(h.toLowerCase());
}

/** The connection table: sort by any column, filter by text, program, protocol, port, host, country, AS; pause. */
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
  // Host, country and AS filters start from the URL (#/inspect?host=*.example.com&country=US&asn=15169).
  const [host, setHost] = useState(query.get('host') ?? '');
  const [country, setCountry] = useState(query.get('country') ?? '');
  const [asn, setAsn] = useState(query.get('asn') ?? '');
  const hostMatches = hostTest(host);
  // One program key (pid:123), or a group's members, comma-separated (the Overview's programs).
  const program = query.get('program') ?? '';
  const members = new Set(program.split(',').filter(Boolean));
  const get = COLUMNS.find(([c]) => c === sort.by)![2];
  const all = [...model.connections.values()];
  // The choices the country and AS filters offer: what the connections here have.
  const countries = [...new Set(all.map((c) => c.country).filter((x): x is string => Boolean(x)))].sort();
  const networks = new Map<number, string>();
  for (const c of all) if (c.asn !== undefined && !networks.has(c.asn)) networks.set(c.asn, network(c));
  const rows = all
    .filter(
      (c) =>
        (!program || members.has(c.program)) &&
        (!protocol || c.protocol === protocol) &&
        (!port || String(c.local.port) === port || String(c.remote.port) === port) &&
        (!host || hostMatches(c.host ?? '') || hostMatches(c.remote.address)) &&
        (!country || c.country === country || c.remoteScope === country) &&
        (!asn || String(c.asn) === asn) &&
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
        <input
          placeholder="host, e.g. *.example.com"
          value={host}
          onInput={(e) => setHost(e.currentTarget.value)}
          data-testid="host-filter"
        />
        <select
          value={country}
          onChange={(e) => setCountry(e.currentTarget.value)}
          data-testid="country-filter"
        >
          <option value="">all countries</option>
          {countries.map((cc) => (
            <option key={cc} value={cc}>
              {flag(cc)} {cc}
            </option>
          ))}
          <option value="loopback">loopback</option>
          <option value="private">private</option>
        </select>
        <select value={asn} onChange={(e) => setAsn(e.currentTarget.value)} data-testid="asn-filter">
          <option value="">all networks</option>
          {[...networks.entries()]
            .sort((a, b) => a[0] - b[0])
            .map(([n, text]) => (
              <option key={n} value={String(n)}>
                {text}
              </option>
            ))}
        </select>
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
                  {c.label.status === 'known' ? (
                    <>
                      {c.label.process.name}
                      {c.label.exited ? (
                        <span
                          class="count"
                          title="it had exited when its flow was seen: the kernel's name, no path"
                        >
                          {' '}
                          (exited)
                        </span>
                      ) : null}
                    </>
                  ) : c.label.status === 'pending' ? (
                    '…'
                  ) : (
                    `unknown (${c.label.reason})`
                  )}
                </td>
                <td>{c.unit ?? ''}</td>
                <td>{c.peerName ?? ''}</td>
                <td>{c.protocol}</td>
                <td>{endpoint(c.local)}</td>
                <td>{endpoint(c.remote)}</td>
                <td title={c.remoteNameSource ? `name from ${c.remoteNameSource}` : ''}>{c.host ?? ''}</td>
                <td title={c.remoteScope ?? ''}>{place(c)}</td>
                <td>{network(c)}</td>
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
