import { useEffect, useState } from 'preact/hooks';
import type { HistoryPoint } from '../../server/protocol';
import { TrafficChart } from '../chart';
import { bytes, endpoint, rate } from '../format';
import type { Model } from '../store';

/** One program: icon, name, path, its traffic chart and its connections. */
export function ProgramDetail({ model, programKey }: { model: Model; programKey: string }) {
  const [history, setHistory] = useState<HistoryPoint[]>([]);
  const program = model.programs.get(programKey);
  useEffect(() => {
    void fetch(`/api/programs/${encodeURIComponent(programKey)}`)
      .then((r) => (r.ok ? r.json() : undefined))
      .then((d) => d && setHistory((d as { history: HistoryPoint[] }).history));
  }, [programKey]);
  useEffect(() => {
    if (program && model.at > (history.at(-1)?.[0] ?? 0))
      setHistory((h) => [...h, [model.at, program.rateIn, program.rateOut] as HistoryPoint].slice(-300));
  }, [model.at]);
  if (!program) return <p>This program has no traffic now.</p>;
  const connections = [...model.connections.values()].filter((c) => c.program === programKey);
  return (
    <section>
      <h2 class="program-title">
        {program.icon ? <img src={`${program.icon}?size=48`} alt="" width={48} height={48} /> : null}
        {program.process?.name ?? 'unknown'}{' '}
        {program.process ? <small>pid {program.process.pid}</small> : null}
      </h2>
      <p class="path">{program.process?.path}</p>
      <p>
        ↓ {rate(program.rateIn)} ↑ {rate(program.rateOut)}, totals ↓ {bytes(program.bytesIn)} ↑{' '}
        {bytes(program.bytesOut)}, {program.connections} open connections
      </p>
      <TrafficChart points={history} height={180} />
      <table class="grid">
        <tbody>
          {connections.map((c) => (
            <tr key={c.id}>
              <td>{c.protocol}</td>
              <td>{endpoint(c.local)}</td>
              <td>{c.host ?? endpoint(c.remote)}</td>
              <td>{c.service}</td>
              <td class="num">{bytes(c.bytesIn)}</td>
              <td class="num">{bytes(c.bytesOut)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}
