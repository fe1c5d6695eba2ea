import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { Alerts, Toasts } from './pages/alerts';
import { History } from './pages/history';
import { Inspect } from './pages/inspect';
import { Overview } from './pages/overview';
import { Ports } from './pages/ports';
import { ProgramDetail } from './pages/program';
import { Store } from './store';
import './style.css';

const store = new Store();
store.connect();

function useHash(): [string, (hash: string) => void] {
  const [hash, setHash] = useState(location.hash || '#/overview');
  useEffect(() => {
    const on = () => setHash(location.hash || '#/overview');
    window.addEventListener('hashchange', on);
    return () => window.removeEventListener('hashchange', on);
  }, []);
  return [hash, (h) => (location.hash = h)];
}

function App() {
  const [model, setModel] = useState(store.model);
  useEffect(() => store.subscribe(setModel), []);
  const [hash, go] = useHash();
  const [path, search = ''] = hash.slice(1).split('?');
  const query = new URLSearchParams(search);
  const page = path?.split('/')[1] ?? 'overview';
  const tabs: Array<[string, string]> = [
    ['overview', 'Overview'],
    ['inspect', 'Inspect'],
    ['ports', 'Ports'],
    ['history', 'History'],
    ['alerts', model.alerts.length > 0 ? `Alerts (${model.alerts.length})` : 'Alerts'],
  ];
  // A toast stays 8 s.
  useEffect(() => {
    if (model.fresh.length === 0) return;
    const oldest = model.fresh[0]!;
    const t = setTimeout(() => store.dismiss(oldest), 8000);
    return () => clearTimeout(t);
  }, [model.fresh]);
  return (
    <>
      <header>
        <h1>netwho</h1>
        <nav>
          {tabs.map(([id, title]) => (
            <a key={id} href={`#/${id}`} class={page === id ? 'active' : ''}>
              {title}
            </a>
          ))}
        </nav>
        {model.owners ? (
          <span
            class="owners"
            data-testid="owners"
            title={
              model.owners.ebpfReason ??
              (model.owners.ebpfMissing ?? []).map((m) => `${m.hook}: ${m.reason}`).join('\n')
            }
          >
            {!model.owners.ebpf
              ? 'owners: socket table (no eBPF)'
              : model.owners.ebpfMissing?.length
                ? `owners: eBPF (without ${model.owners.ebpfMissing.map((m) => m.hook).join(', ')}) + socket table`
                : 'owners: eBPF + socket table'}
          </span>
        ) : null}
        <span class={`live ${model.connected ? 'on' : 'off'}`}>
          {model.connected ? (model.paused ? 'paused' : 'live') : 'reconnecting…'}
        </span>
      </header>
      {model.status?.banner ? (
        <div class="banner" role="alert" data-testid="banner">
          {model.status.banner}
        </div>
      ) : null}
      {model.capture && model.capture.kernelDropped + model.capture.netwhoDropped > 0 ? (
        <div class="banner drops" role="status" data-testid="drops">
          {`dropped: ${model.capture.kernelDropped} by the kernel (ring full), ${model.capture.netwhoDropped} by netwho, of ${
            model.capture.received ?? model.capture.delivered + model.capture.kernelDropped
          } received`}
        </div>
      ) : null}
      <main>
        {page === 'inspect' ? (
          <Inspect model={model} query={query} setPaused={(p) => store.setPaused(p)} />
        ) : page === 'ports' ? (
          <Ports />
        ) : page === 'alerts' ? (
          <Alerts alerts={model.alerts} />
        ) : page === 'history' ? (
          <History enabled={model.status?.history ?? false} />
        ) : page === 'program' ? (
          <ProgramDetail model={model} programKey={decodeURIComponent(path!.split('/')[2] ?? '')} />
        ) : (
          <Overview model={model} go={go} />
        )}
      </main>
      <Toasts alerts={model.fresh} dismiss={(a) => store.dismiss(a)} />
      {model.status?.geo ? (
        <footer data-testid="geo-attribution">
          {model.status.geo.text} <a href={model.status.geo.href}>{model.status.geo.linkText}</a>
        </footer>
      ) : null}
    </>
  );
}

render(<App />, document.getElementById('app')!);
