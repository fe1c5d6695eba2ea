import { spawn, spawnSync } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { once } from 'node:events';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  BIN,
  hasTool,
  isRoot,
  netwho,
  netwhoAsync,
  STATE_HOME,
  sleep,
  startTraffic,
  type Traffic,
} from './helpers';

const ESC = '\u001b[';
const CGROUP_V2 = ['/sys/fs/cgroup/unified', '/sys/fs/cgroup'].find((d) =>
  existsSync(join(d, 'cgroup.procs')),
);

describe.runIf(process.platform === 'linux')('netwho ports / port / pid against real processes', () => {
  let traffic: Traffic;
  beforeAll(async () => {
    traffic = await startTraffic('netwho-holder', [0, 60_000]);
  });
  afterAll(() => traffic?.stop());

  it('ports lists the listener with its pid, program and path (text, no colour when not a TTY)', () => {
    const r = netwho(['ports', '--tcp', '--listen', '--port', String(traffic.port)]);
    expect(r.code).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^PROTO\s+LOCAL\s+REMOTE\s+STATE\s+PID\s+PROGRAM\s+UNIT\s+PATH$/);
    expect(lines).toHaveLength(2);
    expect(lines[1]).toMatch(
      new RegExp(
        `^TCP\\s+127\\.0\\.0\\.1:${traffic.port}\\s+\\*\\s+Listen\\s+${traffic.pid}\\s+netwho-holder\\s+/`,
      ),
    );
    expect(r.stdout).not.toContain(ESC);
  });

  it('ports --json is the documented array; filters by program', () => {
    const r = netwho(['ports', '--json', '--program', 'netwho-holder']);
    const sockets = JSON.parse(r.stdout) as Array<Record<string, unknown>>;
    expect(sockets).toContainEqual({
      protocol: 'TCP',
      family: 4,
      local: { address: '127.0.0.1', port: traffic.port },
      remote: null,
      state: 'Listen',
      pid: traffic.pid,
      program: 'netwho-holder',
      path: expect.stringMatching(/node/),
      unowned: null,
      unit: null, // the test's processes run in no systemd unit or container
    });
    expect(sockets.every((s) => s.program === 'netwho-holder')).toBe(true);
  });

  it('port <port> names the owner; --json; exit 1 when nobody owns it, 2 for a bad port', () => {
    const text = netwho(['port', String(traffic.port)]);
    expect(text.code).toBe(0);
    expect(text.stdout).toContain(`TCP port ${traffic.port}: netwho-holder (pid ${traffic.pid})`);
    expect(JSON.parse(netwho(['port', String(traffic.port), '--json']).stdout)).toMatchObject({
      port: traffic.port,
      protocol: 'TCP',
      pid: traffic.pid,
      name: 'netwho-holder',
    });
    const udp = netwho(['port', String(traffic.port), '--udp']);
    expect(udp.code).toBe(1);
    expect(udp.stderr).toBe(`netwho: no process owns UDP port ${traffic.port}\n`);
    for (const bad of ['0', '70000', 'http', '-5']) expect(netwho(['port', bad]).code).toBe(2);
  });

  it('pid <pid> lists the sockets of one process; exit 1 for no such process', () => {
    const sockets = JSON.parse(netwho(['pid', String(traffic.pid), '--json']).stdout) as Array<{
      pid: number;
      local: { port: number };
    }>;
    expect(sockets.some((s) => s.local.port === traffic.port)).toBe(true);
    expect(sockets.every((s) => s.pid === traffic.pid)).toBe(true);
    const gone = netwho(['pid', '2147483646']);
    expect(gone.code).toBe(1);
    expect(gone.stderr).toContain('no process with pid 2147483646');
  });

  it('usage errors exit 2 with a hint; every command has --help with examples', () => {
    expect(netwho(['ports', '--sort', 'colour']).code).toBe(2);
    expect(netwho(['nonsense']).code).toBe(2);
    for (const command of ['ports', 'port', 'pid', 'watch', 'capture', 'read', 'history', 'icon', 'web']) {
      const r = netwho([command, '--help']);
      expect(r.code).toBe(0);
      expect(r.stdout).toContain('Examples:');
    }
  });
});

describe.runIf(process.platform === 'linux' && isRoot)('netwho watch / capture / read on loopback', () => {
  let traffic: Traffic;
  let dir: string;
  beforeAll(async () => {
    traffic = await startTraffic('netwho-traffic', [0, 100, 20_000]);
    dir = mkdtempSync(join(tmpdir(), 'netwho-cli-files-'));
  });
  afterAll(async () => {
    await traffic?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('watch --raw prints JSON lines in which the program making traffic has bytes', async () => {
    const r = await netwhoAsync([
      'watch',
      '-i',
      'lo',
      '--filter',
      `tcp port ${traffic.port}`,
      '--raw',
      '--duration',
      '3',
    ]);
    expect(r.code).toBe(0);
    const lines = r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    const mine = lines.filter((l) => l.type === 'program' && l.pid === traffic.pid);
    expect(mine.length).toBeGreaterThan(0);
    const last = mine.at(-1)!;
    expect(last).toMatchObject({ name: 'netwho-traffic', mode: 'capture' });
    // Every program line has the same keys, known or not (a process gone before /proc was read).
    for (const l of lines.filter((l) => l.type === 'program')) {
      expect(Object.keys(l)).toEqual(expect.arrayContaining(['unit', 'container', 'pod']));
    }
    expect(last.bytesOut as number).toBeGreaterThan(100_000);
    expect(last.bytesIn as number).toBeGreaterThan(100_000);
    const connections = lines.filter((l) => l.type === 'connection' && l.pid === traffic.pid);
    expect(connections.length).toBeGreaterThan(0);
    for (const c of connections) expect(c.exited).toBe(false); // it runs: named with its path
    // And one line per program, its processes' pids with it.
    const group = lines.filter((l) => l.type === 'group' && l.name === 'netwho-traffic').at(-1)!;
    expect(group).toMatchObject({ by: 'program', processes: 1 });
    expect(group.pids).toContain(traffic.pid);
    expect(group.bytesOut).toBe(last.bytesOut);
  });

  it('watch --reader-cpu reads on that CPU alone, and says why when it cannot', async () => {
    const cpus = availableParallelism();
    const bound = await netwhoAsync([
      'watch',
      '-i',
      'lo',
      '--raw',
      '--duration',
      '2',
      '--reader-cpu',
      String(cpus - 1),
    ]);
    expect(bound.code).toBe(0);
    const capture = bound.stdout
      .trim()
      .split('\n')
      .map(
        (l) =>
          JSON.parse(l) as { type: string; readerCpu?: { cpu?: number; moved: number; reason?: string } },
      )
      .filter((l) => l.type === 'capture')
      .at(-1)!;
    if (cpus >= 2) {
      expect(capture.readerCpu).toMatchObject({ cpu: cpus - 1 });
      expect(capture.readerCpu!.moved).toBeGreaterThan(0);
    } else expect(capture.readerCpu?.reason).toMatch(/one CPU only/);
    const unbound = await netwhoAsync([
      'watch',
      '-i',
      'lo',
      '--raw',
      '--duration',
      '1',
      '--reader-cpu',
      '1023',
    ]);
    expect(unbound.code).toBe(0);
    expect(unbound.stderr).toMatch(/--reader-cpu 1023: not bound \(CPU 1023 is not one this process may use/);
    const bad = await netwhoAsync(['watch', '--raw', '--reader-cpu', 'x']);
    expect(bad.code).toBe(2);
  });

  it('watch records history that netwho history reads back, per program, port and connection', async () => {
    const db = join(dir, 'history.db');
    const r = await netwhoAsync([
      'watch',
      '-i',
      'lo',
      '--filter',
      `tcp port ${traffic.port}`,
      '--raw',
      '--duration',
      '3',
      '--db',
      db,
    ]);
    expect(r.code).toBe(0);
    const live = r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, number | string>)
      .filter((l) => l.type === 'program' && l.pid === traffic.pid)
      .at(-1)!;
    const h = netwho(['history', '--db', db, '--since', '5m', '--json']);
    expect(h.code).toBe(0);
    const doc = JSON.parse(h.stdout) as {
      programs: { program: { name: string }; bytesOut: number; bytesIn: number }[];
    };
    const mine = doc.programs.find((p) => p.program.name === 'netwho-traffic')!;
    // History has everything watch showed, and the last moment after its last line.
    expect(mine.bytesOut).toBeGreaterThanOrEqual(live.bytesOut as number);
    expect(mine.bytesOut).toBeLessThan((live.bytesOut as number) * 3);
    // The service port is the lower of a connection's two ports (both are ephemeral here), so
    // look for the program rather than the server's port.
    const ports = JSON.parse(netwho(['history', '--db', db, '--by', 'port', '--json']).stdout) as {
      ports: { port: number; programs: string[] }[];
    };
    expect(ports.ports.some((p) => p.programs.includes('netwho-traffic'))).toBe(true);
    const conns = JSON.parse(netwho(['history', '--db', db, '--connections', '--json']).stdout) as {
      connections: { localPort: number; remotePort: number; program: { name: string } }[];
    };
    expect(
      conns.connections.some(
        (c) =>
          c.program.name === 'netwho-traffic' &&
          (c.remotePort === traffic.port || c.localPort === traffic.port),
      ),
    ).toBe(true);
    const table = netwho(['history', '--db', db]);
    expect(table.stdout).toMatch(/PROGRAM\s+DOWN\s+UP\s+PEAK DOWN/);
    expect(table.stdout).toContain('netwho-traffic');
  });

  it('history says what is wrong: no file yet (exit 1), a bad range (exit 2)', () => {
    const missing = netwho(['history', '--db', join(dir, 'none.db')]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('no history at');
    const bad = netwho(['history', '--since', 'yesterday']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--since');
    expect(netwho(['history', '--by', 'colour']).code).toBe(2);
  });

  it('watch --host keeps only the connections whose remote end matches', async () => {
    const args = [
      'watch',
      '-i',
      'lo',
      '--filter',
      `tcp port ${traffic.port}`,
      '--raw',
      '--duration',
      '2',
      '--no-history',
    ];
    const parse = (out: string) =>
      out
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as { type: string; remote?: string });
    const all = parse((await netwhoAsync([...args, '--host', '127.0.0.*'])).stdout).filter(
      (l) => l.type === 'connection',
    );
    expect(all.length).toBeGreaterThan(0);
    expect(all.every((l) => l.remote!.startsWith('127.0.0.'))).toBe(true);
    const none = parse((await netwhoAsync([...args, '--host', '192.0.2.*'])).stdout);
    expect(none.filter((l) => l.type === 'connection')).toEqual([]);
    expect(none.some((l) => l.type === 'program')).toBe(true); // programs are not filtered
  });

  it('watch --no-capture uses kernel socket counters', async () => {
    const r = await netwhoAsync(['watch', '--no-capture', '--raw', '--duration', '3']);
    expect(r.code).toBe(0);
    expect(r.stderr).toContain('no capture');
    const mine = r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>)
      .filter((l) => l.type === 'program' && l.pid === traffic.pid);
    expect(mine.at(-1)).toMatchObject({ mode: 'socket-table', name: 'netwho-traffic' });
    expect(mine.at(-1)!.bytesOut as number).toBeGreaterThan(0);
  });

  it('without capture rights watch says so once and falls back; --capture makes it exit 3', async () => {
    const fallback = await netwhoAsync(['watch', '--raw', '--duration', '2', '-i', 'lo'], { user: 'nobody' });
    expect(fallback.code).toBe(0);
    expect(fallback.stderr.match(/packet capture is not permitted/g)).toHaveLength(1);
    expect(fallback.stderr).toContain('setcap cap_net_raw,cap_net_admin=eip');
    const required = await netwhoAsync(['watch', '--capture', '--raw', '--duration', '2', '-i', 'lo'], {
      user: 'nobody',
    });
    expect(required.code).toBe(3);
  });

  it('watch on a device that does not exist exits 2 and names the devices there are', () => {
    const r = netwho(['watch', '-i', 'nosuchdev0', '--raw', '--duration', '1']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('lo');
  });

  it.runIf(hasTool('tshark'))(
    'capture writes a pcapng whose packets name their program; read summarises it',
    async () => {
      const file = join(dir, 'out.pcapng');
      const r = await netwhoAsync([
        'capture',
        '-i',
        'lo',
        '-w',
        file,
        '-c',
        '200',
        'tcp',
        'port',
        String(traffic.port),
      ]);
      expect(r.code).toBe(0);
      expect(existsSync(file)).toBe(true);
      const fields = spawnSync('tshark', ['-r', file, '-T', 'fields', '-e', 'frame.comment'], {
        encoding: 'utf8',
      });
      const comments = fields.stdout.replace(/\n$/, '').split('\n'); // one line per packet, empty without a comment
      expect(comments).toHaveLength(200);
      const labelled = comments.filter((c) => c.includes(`pid=${traffic.pid} name=netwho-traffic`));
      expect(labelled.length).toBeGreaterThan(180); // all but packets of connections caught mid-way
      const read = netwho(['read', file, '--json']);
      const summary = JSON.parse(read.stdout) as {
        packets: number;
        flows: Array<{ program: string | null; pid: number | null }>;
      };
      expect(summary.packets).toBe(200);
      expect(summary.flows.some((f) => f.program === 'netwho-traffic' && f.pid === traffic.pid)).toBe(true);
      expect(netwho(['read', file]).stdout).toContain(`netwho-traffic (${traffic.pid})`);
    },
  );

  it.runIf(hasTool('tshark') && CGROUP_V2 !== undefined)(
    'the comments name both ends of a loopback flow and the unit the client runs in; read shows them',
    async () => {
      const file = join(dir, 'units.pcapng');
      const slice = join(CGROUP_V2!, `nwcli${process.pid}.slice`);
      const group = join(slice, `nwcli${process.pid}-client.service`);
      mkdirSync(group, { recursive: true });
      try {
        const capture = netwhoAsync([
          'capture',
          '-i',
          'lo',
          '-w',
          file,
          '--duration',
          '3',
          'tcp',
          'port',
          String(traffic.port),
        ]);
        await sleep(1000);
        // A client that joins the group before it runs (the shell moves itself, then becomes node).
        const connectOnce = `const c=require('net').connect(${traffic.port},'127.0.0.1',()=>c.end('hello'));c.on('data',()=>{});c.on('close',()=>process.exit(0))`;
        const client = spawn(
          'sh',
          ['-c', `echo $$ > ${group}/cgroup.procs && exec ${process.execPath} -e "${connectOnce}"`],
          {
            stdio: 'ignore',
          },
        );
        await once(client, 'exit');
        expect((await capture).code).toBe(0);
        const unit = `nwcli${process.pid}-client.service`;
        const fields = spawnSync('tshark', ['-r', file, '-T', 'fields', '-e', 'frame.comment'], {
          encoding: 'utf8',
        });
        const mine = fields.stdout.split('\n').filter((c) => c.startsWith(`pid=${client.pid} `));
        expect(mine.length).toBeGreaterThan(0);
        for (const c of mine) {
          expect(c).toContain(` unit=${unit} `);
          expect(c).toContain(` peer_pid=${traffic.pid} peer_name=netwho-traffic `);
        }
        const summary = JSON.parse(netwho(['read', file, '--json']).stdout) as {
          flows: Array<Record<string, unknown>>;
        };
        expect(summary.flows.find((f) => f.pid === client.pid)).toMatchObject({
          unit,
          container: null,
          pod: null,
          peerPid: traffic.pid,
          peerName: 'netwho-traffic',
        });
        const table = netwho(['read', file]).stdout;
        expect(table).toMatch(/PROGRAM\s+PEER\s+UNIT/);
        expect(table).toMatch(
          new RegExp(`node \\(${client.pid}\\)\\s+netwho-traffic \\(${traffic.pid}\\)\\s+${unit}`),
        );
      } finally {
        rmdirSync(group);
        rmdirSync(slice);
      }
    },
  );

  it('capture -w - -U --immediate-mode: a packet reaches the reader while the capture runs, not at its end', async () => {
    const receiver = createSocket('udp4');
    await new Promise<void>((resolve) => receiver.bind(0, '127.0.0.1', resolve));
    const port = receiver.address().port;
    const child = spawn(
      process.execPath,
      [BIN, 'capture', '-i', 'lo', '-w', '-', '-U', '--immediate-mode', 'udp', 'dst', 'port', String(port)],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let out = Buffer.alloc(0);
    child.stdout!.on('data', (d: Buffer) => (out = Buffer.concat([out, d])));
    const sender = createSocket('udp4');
    const marker = Buffer.from('netwho-packet-buffered-marker');
    // The capture says nothing when it is ready: send until the datagram comes out of the pipe.
    for (const end = Date.now() + 15_000; Date.now() < end && !out.includes(marker); ) {
      sender.send(marker, port, '127.0.0.1');
      await sleep(100);
    }
    const whileRunning = out.includes(marker);
    const exited = once(child, 'exit');
    child.kill('SIGINT');
    const [code] = await exited;
    sender.close();
    receiver.close();
    expect(whileRunning).toBe(true);
    expect(code).toBe(0);
    expect(out.readUInt32LE(0)).toBe(0x0a0d0d0a); // a pcapng Section Header Block first
  });

  it.runIf(hasTool('tshark') && hasTool('capinfos'))(
    'capture -w - streams pcapng to standard output, ends with its counts, and writes them as ISBs',
    async () => {
      const child = spawn(
        process.execPath,
        [BIN, 'capture', '-i', 'lo', '-w', '-', '-c', '150', '--json', 'tcp', 'port', String(traffic.port)],
        { stdio: ['ignore', 'pipe', 'pipe'] },
      );
      const chunks: Buffer[] = [];
      let stderr = '';
      child.stdout!.on('data', (d: Buffer) => chunks.push(d));
      child.stderr!.on('data', (d) => (stderr += d));
      const [code] = await once(child, 'exit');
      expect(code).toBe(0);
      const summary = JSON.parse(stderr.trim().split('\n').at(-1)!) as CaptureSummaryJson;
      expect(summary).toMatchObject({ file: '-', written: 150, backend: 'ring' });
      if (process.getuid?.() === 0) expect(summary.owners).toMatchObject({ ebpf: true });
      expect(summary.devices[0]).toMatchObject({
        name: 'lo',
        kernelDropped: 0,
        netwhoDropped: 0,
        state: 'up',
      });
      expect(summary.devices[0]!.received).toBeGreaterThanOrEqual(150);
      const file = join(dir, 'stdout.pcapng');
      writeFileSync(file, Buffer.concat(chunks));
      const frames = spawnSync('tshark', ['-r', file, '-T', 'fields', '-e', 'frame.comment'], {
        encoding: 'utf8',
      });
      expect(frames.stdout.replace(/\n$/, '').split('\n')).toHaveLength(150); // empty lines: no comment
      const info = spawnSync('capinfos', [file], { encoding: 'utf8' }).stdout;
      expect(info).toMatch(/Number of stat entries = 1/);
      // The human summary: tcpdump's closing lines.
      const human = await netwhoAsync([
        'capture',
        '-i',
        'lo',
        '-w',
        join(dir, 'h.pcapng'),
        '-c',
        '20',
        '--no-ebpf',
        'tcp',
        'port',
        String(traffic.port),
      ]);
      expect(human.stderr).toMatch(/netwho: 20 packets written to .*h\.pcapng, \d+ with their program/);
      expect(human.stderr).toMatch(
        /netwho: owners: 0 connection ends from eBPF, \d+ from the socket table \(eBPF off: turned off\)/,
      );
      expect(human.stderr).toMatch(
        /netwho: \d+ packets received by filter, 0 dropped by kernel, 0 dropped by netwho/,
      );
    },
  );

  it('read names the remote end of each flow from what the client sent (HTTP Host, TLS SNI)', async () => {
    const server = createServer((s) => s.on('data', () => s.end()).on('error', () => {}));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as { port: number }).port;
    const file = join(dir, 'names.pcapng');
    const capture = netwhoAsync(['capture', '-i', 'lo', '-w', file, '-d', '3', 'tcp', 'port', String(port)]);
    await sleep(1500);
    const { request } = await import('node:http');
    const { connect: tlsConnect } = await import('node:tls');
    const http = request({ host: '127.0.0.1', port, headers: { Host: 'shop.example.test' } });
    http.on('error', () => {});
    http.end();
    tlsConnect({ host: '127.0.0.1', port, servername: 'secure.example.test' }).on('error', () => {});
    expect((await capture).code).toBe(0);
    server.close();
    const summary = JSON.parse(netwho(['read', file, '--json']).stdout) as {
      flows: Array<{ remoteName: string | null; remoteNameSource: string | null }>;
    };
    const named = summary.flows.map((f) => [f.remoteName, f.remoteNameSource]);
    expect(named).toContainEqual(['shop.example.test', 'http-host']);
    expect(named).toContainEqual(['secure.example.test', 'tls-sni']);
    expect(netwho(['read', file]).stdout).toMatch(/NAME/);
  });

  it('read: a missing file exits 1, a file that is not a capture exits 2, a truncated one is summarised as far as it goes', () => {
    expect(netwho(['read', join(dir, 'missing.pcap')])).toMatchObject({
      code: 1,
      stderr: expect.stringContaining('no such file'),
    });
    const broken = join(dir, 'broken.pcap');
    writeFileSync(broken, 'not a capture file at all');
    expect(netwho(['read', broken])).toMatchObject({
      code: 2,
      stderr: expect.stringContaining('not a pcap or pcapng file'),
    });
    const whole = readFileSync(join(dir, 'out.pcapng'));
    const cut = join(dir, 'cut.pcapng');
    writeFileSync(cut, whole.subarray(0, Math.floor(whole.length / 2)));
    const r = netwho(['read', cut, '--json']);
    expect(r.code).toBe(0);
    expect(r.stderr).toContain('is truncated');
    const summary = JSON.parse(r.stdout) as { packets: number; format: string };
    expect(summary.format).toBe('pcapng');
    expect(summary.packets).toBeGreaterThan(50);
    expect(summary.packets).toBeLessThan(200);
  });

  it.runIf(hasTool('tmux'))(
    'the interactive watch shows the program on a terminal, and quits on q',
    async () => {
      const session = `netwho-test-${process.pid}`;
      const tmux = (...args: string[]) => spawnSync('tmux', args, { encoding: 'utf8' });
      tmux(
        'new-session',
        '-d',
        '-s',
        session,
        '-x',
        '160',
        '-y',
        '40',
        '-e',
        `XDG_STATE_HOME=${STATE_HOME}`,
        process.execPath,
        join(import.meta.dirname, '..', 'dist', 'netwho.js'),
        'watch',
        '-i',
        'lo',
        '--filter',
        `tcp port ${traffic.port}`,
        '--no-dns',
        '--no-history',
        '--remember',
      );
      try {
        let screen = '';
        for (let i = 0; i < 40 && !screen.includes('netwho-traffic'); i++) {
          await sleep(250);
          screen = tmux('capture-pane', '-p', '-t', session).stdout;
        }
        expect(screen).toContain('netwho watch');
        expect(screen).toContain('netwho-traffic');
        // Per program by default (its processes counted), per process after g.
        expect(screen).toMatch(/PROGRAM\s+PROCS/);
        expect(screen).toContain('by: program');
        tmux('send-keys', '-t', session, 'g');
        for (let i = 0; i < 20 && !screen.includes('by: pid'); i++) {
          await sleep(250);
          screen = tmux('capture-pane', '-p', '-t', session).stdout;
        }
        expect(screen).toMatch(/PROGRAM\s+PID/);
        expect(screen).toContain(String(traffic.pid));
        // Back to per program (g cycles through pid, unit, container, user), then enter opens the
        // program under the cursor into its processes: the traffic's pid on a line of its own.
        // All four at once: keys that arrive together each count (Ink hands them over as one string).
        tmux('send-keys', '-t', session, 'gggg');
        for (let i = 0; i < 20 && !screen.includes('by: program'); i++) {
          await sleep(250);
          screen = tmux('capture-pane', '-p', '-t', session).stdout;
        }
        tmux('send-keys', '-t', session, 'Enter');
        const member = new RegExp(`^\\s{4}netwho-traffic\\s+${traffic.pid}\\b`, 'm');
        for (let i = 0; i < 20 && !member.test(screen); i++) {
          await sleep(250);
          screen = tmux('capture-pane', '-p', '-t', session).stdout;
        }
        expect(screen).toMatch(member);
        tmux('send-keys', '-t', session, '2');
        await sleep(1500);
        expect(tmux('capture-pane', '-p', '-t', session).stdout).toContain('REMOTE');
        tmux('send-keys', '-t', session, 'q');
        let alive = true;
        for (let i = 0; i < 20 && alive; i++) {
          await sleep(100);
          alive = tmux('has-session', '-t', session).status === 0;
        }
        expect(alive).toBe(false);
        // --remember kept this terminal's view: the Connections tab, grouped by pid.
        const { readdirSync } = await import('node:fs');
        const kept = readdirSync(join(STATE_HOME, 'netwho')).filter((f) => /^watch-.*\.json$/.test(f));
        expect(kept.length).toBeGreaterThan(0);
        const views = kept.map((f) => JSON.parse(readFileSync(join(STATE_HOME, 'netwho', f), 'utf8')));
        expect(views).toContainEqual({ tab: 1, sort: 'rate', grouping: 'program' });
      } finally {
        tmux('kill-session', '-t', session);
      }
    },
  );
});

describe('netwho icon', () => {
  it('writes the icon a desktop entry names, and exits 1 with the reason when there is none', async () => {
    const { mkdtempSync, mkdirSync, writeFileSync, readFileSync, rmSync, chmodSync } = await import(
      'node:fs'
    );
    const { PNG } = await import('pngjs');
    const dir = mkdtempSync(join(tmpdir(), 'netwho-icon-'));
    try {
      const png = new PNG({ width: 32, height: 32 });
      png.data.fill(200);
      const data = PNG.sync.write(png);
      mkdirSync(join(dir, 'share/applications'), { recursive: true });
      mkdirSync(join(dir, 'share/icons/hicolor/32x32/apps'), { recursive: true });
      mkdirSync(join(dir, 'bin'));
      writeFileSync(join(dir, 'bin/fancy-tool'), '#!/bin/sh\n');
      chmodSync(join(dir, 'bin/fancy-tool'), 0o755);
      writeFileSync(
        join(dir, 'share/applications/fancy.desktop'),
        '[Desktop Entry]\nType=Application\nExec=fancy-tool\nIcon=fancy\n',
      );
      writeFileSync(
        join(dir, 'share/icons/hicolor/index.theme'),
        '[Icon Theme]\nDirectories=32x32/apps\n[32x32/apps]\nSize=32\n',
      );
      writeFileSync(join(dir, 'share/icons/hicolor/32x32/apps/fancy.png'), data);
      const env = {
        XDG_DATA_DIRS: join(dir, 'share'),
        XDG_DATA_HOME: join(dir, 'nothing'),
        PATH: `${join(dir, 'bin')}:${process.env.PATH}`,
      };
      const out = join(dir, 'out.png');
      const r = netwho(['icon', 'fancy-tool', '-o', out, '--json'], env);
      expect(r.code).toBe(0);
      expect(JSON.parse(r.stdout)).toMatchObject({
        format: 'png',
        width: 32,
        output: out,
        source: { kind: 'freedesktop' },
      });
      expect(readFileSync(out).equals(data)).toBe(true);
      // -o FILE writes FILE exactly, whatever its name says, and warns when the name says another format.
      for (const name of ['icon', 'icon.svg']) {
        const exact = netwho(['icon', 'fancy-tool', '-o', join(dir, name)], env);
        expect(exact.code).toBe(0);
        expect(readFileSync(join(dir, name)).equals(data)).toBe(true);
        expect(exact.stderr).toMatch(/warning: the icon is PNG/);
      }
      expect(existsSync(join(dir, 'icon.png'))).toBe(false);
      const none = netwho(['icon', 'no-such-program-anywhere'], env);
      expect(none.code).toBe(1);
      expect(none.stderr).toContain('no icon for no-such-program-anywhere: no-desktop-entry');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe.runIf(process.platform === 'linux')('netwho web', () => {
  it('starts the dashboard, prints its URL, serves it, and stops on SIGTERM', async () => {
    const child = spawn(process.execPath, [BIN, 'web', '--port', '0', '--no-capture', '--no-dns'], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, XDG_STATE_HOME: STATE_HOME }, // its history goes to the test's folder
    });
    try {
      let out = '';
      child.stdout!.on('data', (d) => (out += d));
      for (let i = 0; i < 100 && !out.includes('http://'); i++) await sleep(100);
      const url = /http:\/\/127\.0\.0\.1:\d+\//.exec(out)?.[0];
      expect(url).toBeDefined();
      const status = (await (await fetch(`${url}api/status`)).json()) as { mode: string };
      expect(status.mode).toBe('socket-table');
      child.kill('SIGTERM');
      const [code] = await once(child, 'exit');
      expect(code).toBe(0);
    } finally {
      child.kill();
    }
  });
});

interface CaptureSummaryJson {
  file: string;
  written: number;
  backend: string;
  owners: { ebpf: boolean; ebpfReason?: string; fromEbpf: number; fromSocketTable: number };
  devices: Array<{
    name: string;
    received: number | null;
    kernelDropped: number | null;
    netwhoDropped: number;
    state: string;
  }>;
}
