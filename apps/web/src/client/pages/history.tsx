import type { ConnectionRecord, HostTotal, ProgramId, ProgramTotal, Series } from '@netwho/history';
import { useEffect, useState } from 'preact/hooks';
import { bytes, flag, rate } from '../format';
import { StackedChart } from '../stacked-chart';

// The shapes /api/history/* returns: @netwho/history's own (types only: nothing of it is bundled).
type Connection = ConnectionRecord;

const RANGES: Array<[string, number]> = [
  ['Last hour', 3_600_000],
  ['Last day', 86_400_000],
  ['Last week', 7 * 86_400_000],
];

/** 10 s, 5 min, 1 h, 3 h. */
function stepName(ms: number): string {
  if (ms < 60_000) return `${ms / 1000} s`;
  if (ms < 3_600_000) return `${ms / 60_000} min`;
  return ms === 3_600_000 ? 'hour' : `${ms / 3_600_000} h`;
}

const nameOf = (p: ProgramId | 'other') =>
  p === 'other' ? 'other' : p.name === '' ? '(unattributed)' : p.name;

/** For a datetime-local input: local time, to the minute. */
function local(ms: number): string {
  const d = new Date(ms - new Date(ms).getTimezoneOffset() * 60_000);
  return d.toISOString().slice(0, 16);
}

async function get<T>(path: string): Promise<T> {
  const res = await fetch(path);
  const body = (await res.json()) as T & { error?: string };
  if (!res.ok) throw new Error(body.error ?? `HTTP ${res.status}`);
  return body;
}

/** What was recorded: a range picker, a stacked chart per program, the top programs and hosts, a program's connections. */
export function History({ enabled }: { enabled: boolean }) {
  const [span, setSpan] = useState<number | 'custom'>(3_600_000);
  const [custom, setCustom] = useState(() => ({ from: Date.now() - 3_600_000, to: Date.now() }));
  const [data, setData] = useState<
    { series: Series; programs: ProgramTotal[]; hosts: HostTotal[] } | undefined
  >();
  const [error, setError] = useState<string | undefined>();
  /** The program whose connections are listed: what the API filters by (its path), and its name. */
  const [program, setProgram] = useState<{ match: string; name: string } | undefined>();
  const [connections, setConnections] = useState<Connection[] | undefined>();
  const range = span === 'custom' ? custom : { from: Date.now() - span, to: Date.now() };
  const q = `from=${Math.round(range.from)}&to=${Math.round(range.to)}`;

  useEffect(() => {
    if (!enabled) return;
    let live = true;
    Promise.all([
      get<Series>(`/api/history/series?${q}&top=8`),
      get<ProgramTotal[]>(`/api/history/programs?${q}&limit=15`),
      get<HostTotal[]>(`/api/history/hosts?${q}&limit=15`),
    ])
      .then(([series, programs, hosts]) => {
        if (!live) return;
        setData({ series, programs, hosts });
        setError(undefined);
      })
      .catch((e: Error) => live && setError(e.message));
    return () => {
      live = false;
    };
  }, [enabled, span, custom.from, custom.to]);

  useEffect(() => {
    if (!program) return setConnections(undefined);
    get<Connection[]>(`/api/history/connections?${q}&program=${encodeURIComponent(program.match)}&limit=200`)
      .then(setConnections)
      .catch((e: Error) => setError(e.message));
  }, [program, span, custom.from, custom.to]);

  if (!enabled)
    return (
      <section>
        <p class="empty" data-testid="history-off">
          No history is kept (netwho web --no-history and no history file). netwho watch, web and agent record
          it by default.
        </p>
      </section>
    );
  return (
    <section>
      <div class="filters" data-testid="history-ranges">
        {RANGES.map(([label, ms]) => (
          <button
            type="button"
            key={label}
            class={span === ms ? 'chip active' : 'chip'}
            onClick={() => setSpan(ms)}
          >
            {label}
          </button>
        ))}
        <button
          type="button"
          class={span === 'custom' ? 'chip active' : 'chip'}
          onClick={() => setSpan('custom')}
        >
          Custom
        </button>
        {span === 'custom' ? (
          <>
            <input
              type="datetime-local"
              aria-label="from"
              value={local(custom.from)}
              onChange={(e) =>
                setCustom({ ...custom, from: new Date((e.target as HTMLInputElement).value).getTime() })
              }
            />
            <input
              type="datetime-local"
              aria-label="to"
              value={local(custom.to)}
              onChange={(e) =>
                setCustom({ ...custom, to: new Date((e.target as HTMLInputElement).value).getTime() })
              }
            />
          </>
        ) : null}
      </div>
      {error ? <p class="error">{error}</p> : null}
      {data ? (
        <>
          <h2>Bytes per {stepName(data.series.step)}, per program</h2>
          <StackedChart
            buckets={data.series.buckets}
            series={data.series.series.map((s) => ({
              label: nameOf(s.program),
              values: s.bytesIn.map((v, i) => v + s.bytesOut[i]!),
            }))}
          />
          <div class="columns">
            <div class="wide">
              <h2>Programs</h2>
              <table data-testid="history-programs">
                <thead>
                  <tr>
                    <th>Program</th>
                    <th class="num">Down</th>
                    <th class="num">Up</th>
                    <th class="num">Peak down</th>
                    <th class="num">Peak up</th>
                    <th class="num">Conn</th>
                  </tr>
                </thead>
                <tbody>
                  {data.programs.map((p) => (
                    <tr
                      key={`${p.program.name}\0${p.program.path}`}
                      class={program?.name === p.program.name ? 'selected' : ''}
                    >
                      <td>
                        <button
                          type="button"
                          class="link"
                          title={p.program.path || p.program.unit}
                          onClick={() =>
                            setProgram({ match: p.program.path || p.program.name, name: nameOf(p.program) })
                          }
                        >
                          {nameOf(p.program)}
                        </button>
                      </td>
                      <td class="num">{bytes(p.bytesIn)}</td>
                      <td class="num">{bytes(p.bytesOut)}</td>
                      <td class="num">{rate(p.peakIn)}</td>
                      <td class="num">{rate(p.peakOut)}</td>
                      <td class="num">{p.connections}</td>
                    </tr>
                  ))}
                  {data.programs.length === 0 ? (
                    <tr>
                      <td class="empty">nothing recorded in this range</td>
                    </tr>
                  ) : null}
                </tbody>
              </table>
            </div>
            <div>
              <h2>Remote hosts</h2>
              <table data-testid="history-hosts">
                <tbody>
                  {data.hosts.map((h) => (
                    <tr key={h.host}>
                      <td title={h.programs.join(', ')}>{h.host}</td>
                      <td>
                        {[h.country && `${flag(h.country)} ${h.country}`, h.asn && `AS${h.asn}`]
                          .filter(Boolean)
                          .join(' ')}
                      </td>
                      <td class="num">{bytes(h.bytesIn + h.bytesOut)}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          </div>
          {program && connections ? (
            <>
              <h2>Connections of {program.name} that ended in the range</h2>
              <table data-testid="history-connections">
                <thead>
                  <tr>
                    <th>Ended</th>
                    <th>Proto</th>
                    <th>Local</th>
                    <th>Remote</th>
                    <th class="num">Down</th>
                    <th class="num">Up</th>
                  </tr>
                </thead>
                <tbody>
                  {connections.map((c, i) => (
                    <tr key={i}>
                      <td>
                        {new Date(c.end).toLocaleString()}
                        {c.open ? ' (open)' : ''}
                      </td>
                      <td>{c.protocol}</td>
                      <td>{`${c.localAddress}:${c.localPort}`}</td>
                      <td>{c.remoteName ?? `${c.remoteAddress}:${c.remotePort}`}</td>
                      <td class="num">{bytes(c.bytesIn)}</td>
                      <td class="num">{bytes(c.bytesOut)}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </>
          ) : null}
        </>
      ) : error ? null : (
        <p class="empty">loading…</p>
      )}
    </section>
  );
}
