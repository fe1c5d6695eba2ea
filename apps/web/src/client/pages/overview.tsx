import { GROUPINGS, type Grouping, groupPrograms, type ProgramGroup } from '@netwho/monitor/grouping';
import { useState } from 'preact/hooks';
import type { ProgramView } from '../../server/protocol';
import { TrafficChart } from '../chart';
import { bytes, place, rate } from '../format';
import type { Model } from '../store';

/** Traffic over time, the top programs as bars, top remote hosts and services. */
export function Overview({ model, go }: { model: Model; go: (hash: string) => void }) {
  const [by, setBy] = useState<Grouping>('program');
  // Groups opened into their processes (▸).
  const [open, setOpen] = useState<ReadonlySet<string>>(new Set());
  const toggle = (key: string) =>
    setOpen((o) => {
      const next = new Set(o);
      if (!next.delete(key)) next.add(key);
      return next;
    });
  // The server's clock, for the grace period: the time of its last tick.
  const now = model.history.at(-1)?.[0] ?? Date.now();
  const programs = groupPrograms([...model.programs.values()], { by, now }).sort(
    (a, b) =>
      b.rateIn + b.rateOut - (a.rateIn + a.rateOut) || b.bytesIn + b.bytesOut - (a.bytesIn + a.bytesOut),
  );
  const top = programs.slice(0, 12);
  const viewOf = (g: ProgramGroup) => model.programs.get(g.members[0]!);
  const inspect = (g: ProgramGroup) => `#/inspect?program=${encodeURIComponent(g.members.join(','))}`;
  const maxTotal = Math.max(1, ...top.map((p) => p.bytesIn + p.bytesOut));
  // Remote hosts by name (the name a program asked for; a CDN's many addresses are one host), else address.
  const hosts = new Map<string, { name: string; bytes: number; service: string; place: string }>();
  const services = new Map<string, number>();
  for (const c of model.connections.values()) {
    const name = c.host ?? c.remote.address;
    const h = hosts.get(name) ?? { name, bytes: 0, service: c.service, place: place(c) };
    h.bytes += c.bytesIn + c.bytesOut;
    hosts.set(name, h);
    if (c.service) services.set(c.service, (services.get(c.service) ?? 0) + c.bytesIn + c.bytesOut);
  }
  const topHosts = [...hosts.values()].sort((a, b) => b.bytes - a.bytes).slice(0, 8);
  const topServices = [...services.entries()].sort((a, b) => b[1] - a[1]).slice(0, 8);
  return (
    <section>
      <h2>Traffic</h2>
      <TrafficChart points={model.history} />
      <div class="columns">
        <div class="wide">
          <h2>
            Programs{' '}
            <select
              value={by}
              aria-label="group by"
              data-testid="group-by"
              onChange={(e) => setBy(e.currentTarget.value as Grouping)}
            >
              {GROUPINGS.map((g) => (
                <option key={g} value={g}>
                  by {g}
                </option>
              ))}
            </select>
          </h2>
          <ul class="bars" data-testid="top-programs">
            {top.map((p) => (
              <li key={p.key}>
                <a
                  href={inspect(p)}
                  title={`${p.process?.path || 'not attributed (yet)'}: ${p.processes} process${p.processes === 1 ? '' : 'es'} now${p.inactive ? `, ${p.inactive} idle or exited` : ''}`}
                  onClick={(e) => {
                    e.preventDefault();
                    go(inspect(p));
                  }}
                >
                  {viewOf(p) ? <ProgramIcon program={viewOf(p)!} /> : null}
                  <span class="name">{p.label}</span>
                  {p.processes + p.inactive > 1 ? (
                    <span class="count"> ×{p.processes + p.inactive}</span>
                  ) : null}
                </a>
                <span class="bar">
                  <span class="in" style={{ width: `${(100 * p.bytesIn) / maxTotal}%` }} />
                  <span class="out" style={{ width: `${(100 * p.bytesOut) / maxTotal}%` }} />
                </span>
                <span class="num">↓ {rate(p.rateIn)}</span>
                <span class="num">↑ {rate(p.rateOut)}</span>
                <span class="num total">{bytes(p.bytesIn + p.bytesOut)}</span>
                <a class="detail" href={`#/program/${encodeURIComponent(p.members[0]!)}`}>
                  details
                </a>
                {p.members.length > 0 ? (
                  <button
                    type="button"
                    class="expand"
                    aria-expanded={open.has(p.key)}
                    data-testid="expand"
                    onClick={() => toggle(p.key)}
                  >
                    {open.has(p.key) ? '▾' : '▸'} {p.members.length} process
                    {p.members.length === 1 ? '' : 'es'}
                  </button>
                ) : null}
                {open.has(p.key) ? (
                  <ul class="members" data-testid="members">
                    {p.members.map((key) => {
                      const m = model.programs.get(key);
                      return m ? (
                        <li key={key}>
                          <a href={`#/program/${encodeURIComponent(key)}`}>
                            {m.process?.name ?? 'unknown'} ({m.process?.pid ?? '-'})
                          </a>
                          <span class="num">↓ {rate(m.rateIn)}</span>
                          <span class="num">↑ {rate(m.rateOut)}</span>
                          <span class="num total">{bytes(m.bytesIn + m.bytesOut)}</span>
                        </li>
                      ) : null;
                    })}
                  </ul>
                ) : null}
              </li>
            ))}
            {top.length === 0 ? <li class="empty">no traffic yet</li> : null}
          </ul>
        </div>
        <div>
          <h2>Remote hosts</h2>
          <table data-testid="top-hosts">
            <tbody>
              {topHosts.map((h) => (
                <tr key={h.name}>
                  <td>
                    <a href={`#/inspect?host=${encodeURIComponent(h.name)}`}>{h.name}</a>
                  </td>
                  <td>{h.place}</td>
                  <td>{h.service}</td>
                  <td class="num">{bytes(h.bytes)}</td>
                </tr>
              ))}
            </tbody>
          </table>
          <h2>Services</h2>
          <table>
            <tbody>
              {topServices.map(([s, b]) => (
                <tr key={s}>
                  <td>{s}</td>
                  <td class="num">{bytes(b)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </div>
    </section>
  );
}

export function ProgramIcon({ program }: { program: ProgramView }) {
  return program.icon ? (
    <img class="icon" src={program.icon} alt="" width={20} height={20} />
  ) : (
    <span class="icon unknown">?</span>
  );
}
