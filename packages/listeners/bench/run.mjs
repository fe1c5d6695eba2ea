#!/usr/bin/env node
// Benchmark of @netwho/listeners against the tools people use today, on the same load, in one run.
//
//   pnpm bench                  # loads 10x100, 100x1000, 1000x10000 (processes x sockets)
//   pnpm bench -- --loads 10x100
//
// For each load: a C program (load.c) forks the processes, which open the sockets on loopback and
// write the ground truth. Each contender runs several times; the table shows medians and how many
// times slower each is than ours. Not a test: nothing here fails because a machine is slow.
import { execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import findProcess from 'find-process';
import { portToPid } from 'pid-port';
import si from 'systeminformation';
import * as listeners from '../dist/index.js';

const args = process.argv.slice(2);
const loadsArg = args.includes('--loads') ? args[args.indexOf('--loads') + 1] : '10x100,100x1000,1000x10000';
const loads = loadsArg.split(',').map((l) => l.split('x').map(Number));
const work = mkdtempSync(join(tmpdir(), 'netwho-bench-'));
const loadBin = join(work, 'load');
execFileSync('cc', ['-O2', '-o', loadBin, join(import.meta.dirname, 'load.c')]);
const has = (cmd) => {
  try {
    execFileSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
};

async function startLoad(procs, sockets) {
  const truthFile = join(work, `truth-${procs}x${sockets}.txt`);
  const child = spawn(loadBin, [String(procs), String(sockets), truthFile], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const [line] = await once(createInterface({ input: child.stdout }), 'line');
  if (line !== 'ready') throw new Error(`load generator said ${line}`);
  const truth = readFileSync(truthFile, 'utf8')
    .trim()
    .split('\n')
    .map((l) => {
      const [pid, protocol, port, kind, remotePort] = l.split(' ');
      return { pid: Number(pid), protocol, port: Number(port), kind, remotePort: Number(remotePort ?? 0) };
    });
  return {
    truth,
    async stop() {
      child.stdin.end();
      await once(child, 'exit');
    },
  };
}

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

/** Median milliseconds of `runs` calls of `fn` (after one warm-up call). */
async function time(fn, runs) {
  await fn();
  const samples = [];
  for (let i = 0; i < runs; i++) {
    const start = performance.now();
    await fn();
    samples.push(performance.now() - start);
  }
  return median(samples);
}

/** Medians of `runs` calls of `a` and of `b`, called in turn (after one warm-up call each). */
async function timeAlternating(a, b, runs) {
  await a();
  await b();
  const samples = [[], []];
  for (let i = 0; i < runs; i++) {
    for (const [k, fn] of [a, b].entries()) {
      const start = performance.now();
      await fn();
      samples[k].push(performance.now() - start);
    }
  }
  return samples.map(median);
}

// Command-line tools write to /dev/null, as one times them in a shell: reading megabytes of their
// output into this process would charge its garbage collection to whatever is timed next.
const sh = (cmd, cmdArgs) => () => execFileSync(cmd, cmdArgs, { stdio: 'ignore' });
const fmt = (ms) => (ms < 10 ? ms.toFixed(2) : ms.toFixed(1));

const firstCallScript = `import(${JSON.stringify(new URL('../dist/index.js', import.meta.url).href)}).then((l) => {
  const start = performance.now();
  l.getAllSync();
  console.log(performance.now() - start);
});`;
/** Milliseconds of the first getAll() in a new Node process. */
const firstGetAll = () =>
  Number(
    execFileSync(process.execPath, ['--input-type=module', '-e', firstCallScript], { encoding: 'utf8' }),
  );

const rows = [];
for (const [procs, sockets] of loads) {
  const load = await startLoad(procs, sockets);
  try {
    const slowRuns = sockets >= 10000 ? 3 : 5;
    const fastRuns = 20;
    // The cost of a port lookup depends on where its owner comes in the walk (newest processes are
    // read first), so lookups are timed for 9 listening ports whose owners run from the oldest
    // process of the load to the newest, and the median reported, with the oldest as the worst case.
    const listens = load.truth
      .filter((t) => t.kind === 'listen' && t.protocol === 'TCP')
      .sort((a, b) => a.pid - b.pid);
    const sample = [0, 1, 2, 3, 4, 5, 6, 7, 8].map(
      (i) => listens[Math.round((i * (listens.length - 1)) / 8)],
    );
    const listen = sample[0];
    const unusedPort = 1; // tcpmux: nothing listens on it here
    const all = listeners.getAllSync();
    // A socket is named by protocol, local port and peer port: a client's ephemeral port can equal
    // another process's listening port, since only the whole 4-tuple must be unique.
    const byKey = new Map(all.map((l) => [`${l.protocol} ${l.socket.port} ${l.remote?.port ?? 0}`, l]));
    const correct = load.truth.filter(
      (t) => byKey.get(`${t.protocol} ${t.port} ${t.remotePort}`)?.process?.pid === t.pid,
    ).length;

    const result = {
      load: `${procs}×${sockets}`,
      sockets: all.length,
      correct: `${correct}/${load.truth.length}`,
    };
    // Ours and ss alternate, so that a machine slowing down or speeding up (a shared host does)
    // weighs on both alike; each figure is the median of its runs.
    [result.getAll, result.ss] = await timeAlternating(
      () => listeners.getAllSync(),
      sh('ss', ['-tunap']),
      sockets >= 10000 ? 9 : 15,
    );
    // A process's first call pays for loading koffi and, as root, the BPF iterator, and reads
    // every owner's name and path; later calls reuse what has not changed. Timed in fresh processes.
    result.firstCall = median([firstGetAll(), firstGetAll(), firstGetAll()]);
    result.lsof = has('lsof') ? await time(sh('lsof', ['-nP', '-i']), slowRuns) : undefined;
    result.si = await time(() => si.networkConnections(), slowRuns);
    const perPort = [];
    for (const t of sample) perPort.push(await time(() => listeners.getProcessByPortSync(t.port, 'TCP'), 5));
    result.portActive = median(perPort);
    result.portOldest = await time(() => listeners.getProcessByPortSync(listen.port, 'TCP'), fastRuns);
    result.portUnused = await time(() => {
      try {
        listeners.getProcessByPortSync(unusedPort, 'TCP');
      } catch {}
    }, fastRuns);
    const pidPortPerPort = [];
    for (const t of sample) {
      pidPortPerPort.push(
        await time(() => portToPid({ port: t.port, host: '127.0.0.1' }).catch(() => undefined), 1),
      );
    }
    result.pidPort = median(pidPortPerPort);
    result.findProcess = await time(() => findProcess('port', listen.port), slowRuns);
    rows.push(result);
    console.error(`done ${result.load}`);
  } finally {
    await load.stop();
  }
}

const ratio = (other, ours) =>
  other === undefined ? 'n/a' : `${fmt(other)} ms (${(other / ours).toFixed(1)}×)`;
console.log(
  `\nnode ${process.version}, ${process.platform} ${process.arch}, run as uid ${process.getuid()}; medians; (N×) = how many times slower than ours\n`,
);
console.log(
  '| load (procs×sockets) | sockets seen | truth matched | getAll | ss -tunap | lsof -nP -i | systeminformation | getAll, first call of a process |',
);
console.log('|---|---|---|---|---|---|---|---|');
for (const r of rows) {
  console.log(
    `| ${r.load} | ${r.sockets} | ${r.correct} | ${fmt(r.getAll)} ms | ${ratio(r.ss, r.getAll)} | ${ratio(r.lsof, r.getAll)} | ${ratio(r.si, r.getAll)} | ${fmt(r.firstCall)} ms (ss ${(r.ss / r.firstCall).toFixed(1)}×) |`,
  );
}
console.log(
  '\n| load | getProcessByPort (active, median of 9 owners) | pid-port portToPid | find-process | active, owner oldest (worst case) | getProcessByPort (unused) |',
);
console.log('|---|---|---|---|---|---|');
for (const r of rows) {
  console.log(
    `| ${r.load} | ${fmt(r.portActive)} ms | ${ratio(r.pidPort, r.portActive)} | ${ratio(r.findProcess, r.portActive)} | ${fmt(r.portOldest)} ms (pid-port ${(r.pidPort / r.portOldest).toFixed(1)}×) | ${fmt(r.portUnused)} ms |`,
  );
}
if (!existsSync(loadBin)) process.exitCode = 1;
