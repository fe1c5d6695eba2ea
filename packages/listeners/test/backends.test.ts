import koffi from 'koffi';
import { describe, expect, it } from 'vitest';
import { createApi } from '../src/api';
import { decodePcbList, joinOwners, kinfoComm, socketOwners } from '../src/platform/freebsd/decode';
import { KINFO_PROC, XFILE, XINPCB, XINPGEN, XTCPCB } from '../src/platform/freebsd/structs';
import { decodeSocketFdInfo, pidList, queryGrowing, socketFds } from '../src/platform/macos/decode';
import { SOCKET_FDINFO, socket_fdinfo, tcp_sockinfo } from '../src/platform/macos/structs';
import { type OwnedTableSource, ownedTablePlatform } from '../src/platform/owned-table';
import { callGrowing, decodeIpTable, decodeProcessEntry } from '../src/platform/windows/decode';
import { PROCESSENTRY32W } from '../src/platform/windows/structs';
import { SocketTable } from '../src/socket-table';
import type { Process } from '../src/types';
import { testPublicBehaviour } from './behaviour';
import {
  fdList,
  kinfoProc,
  processEntry,
  socketFdInfo,
  tcpPcbList,
  udpPcbList,
  winTcp4,
  winTcp6,
  winUdp4,
  winUdp6,
  xfiles,
} from './struct-buffers';

const rows = (table: SocketTable) => createApi(ownedTablePlatform(fixedTable(table, new Map()))).getAllSync();

/** An OwnedTableSource over a table already decoded, and fixed process names. */
function fixedTable(table: SocketTable, names: Map<number, Process>, name = 'fake'): OwnedTableSource {
  return {
    name,
    source: 'iphlpapi',
    readTable(options, into) {
      for (let row = 0; row < table.count; row++) {
        const protocol = table.protocol[row] === 6 ? 'TCP' : 'UDP';
        if (!options.protocols.includes(protocol) || !options.families.includes(table.family[row] as 4 | 6))
          continue;
        into.addRow();
        into.copyFrom(table, row, into.count - 1);
      }
    },
    processes: (pids) => new Map([...names].filter(([pid]) => pids.has(pid))),
  };
}

// ---------------------------------------------------------------------------------------------
describe('Windows: iphlpapi tables and Toolhelp entries', () => {
  const tcp4 = winTcp4([
    { state: 2, local: '0.0.0.0', localPort: 445, pid: 4 },
    { state: 5, local: '192.168.1.5', localPort: 50123, remote: '93.184.216.34', remotePort: 443, pid: 3000 },
    { state: 11, local: '192.168.1.5', localPort: 50100, remote: '93.184.216.34', remotePort: 443, pid: 0 },
  ]);
  const tcp6 = winTcp6([{ state: 2, local: '::', localPort: 135, pid: 900 }]);
  const udp4 = winUdp4([{ local: '0.0.0.0', localPort: 5353, pid: 3000 }]);
  const udp6 = winUdp6([{ local: 'fe80::1', localPort: 546, pid: 1200 }]);

  it('decode every row: ports, addresses, states, pids; TIME_WAIT has no owner', () => {
    const table = new SocketTable(4);
    expect(decodeIpTable('tcp4', tcp4, tcp4.length, table)).toBe(true);
    expect(decodeIpTable('tcp6', tcp6, tcp6.length, table)).toBe(true);
    expect(decodeIpTable('udp4', udp4, udp4.length, table)).toBe(true);
    expect(decodeIpTable('udp6', udp6, udp6.length, table)).toBe(true);
    const names = new Map<number, Process>([
      [4, { pid: 4, name: 'System', path: '' }],
      [3000, { pid: 3000, name: 'firefox.exe', path: 'C:\\Program Files\\Mozilla Firefox\\firefox.exe' }],
      [900, { pid: 900, name: 'svchost.exe', path: 'C:\\Windows\\System32\\svchost.exe' }],
      [1200, { pid: 1200, name: 'svchost.exe', path: '' }],
    ]);
    const all = createApi(ownedTablePlatform(fixedTable(table, names))).getAllSync();
    expect(
      all.map((l) => [
        l.protocol,
        l.family,
        `${l.socket.address}:${l.socket.port}`,
        l.remote && `${l.remote.address}:${l.remote.port}`,
        l.state,
        l.process?.pid ?? l.unowned,
      ]),
    ).toEqual([
      ['TCP', 4, '0.0.0.0:445', undefined, 'Listen', 4],
      ['TCP', 4, '192.168.1.5:50123', '93.184.216.34:443', 'Established', 3000],
      ['TCP', 4, '192.168.1.5:50100', '93.184.216.34:443', 'TimeWait', 'none'],
      ['TCP', 6, ':::135', undefined, 'Listen', 900],
      ['UDP', 4, '0.0.0.0:5353', undefined, 'Unknown', 3000],
      ['UDP', 6, 'fe80::1:546', undefined, 'Unknown', 1200],
    ]);
  });

  it('a truncated answer (more rows announced than bytes) adds nothing and says so', () => {
    const table = new SocketTable(4);
    expect(decodeIpTable('tcp4', tcp4, tcp4.length - 1, table)).toBe(false);
    expect(decodeIpTable('tcp6', tcp6.subarray(0, 3), 3, table)).toBe(false);
    expect(table.count).toBe(0);
  });

  it('grows the buffer while the table grows between the size query and the read', () => {
    const sizes = [100, 5_000, 20_000]; // what the table needs at each call: it grows twice
    let call = 0;
    const answer = callGrowing((buffer, size) => {
      const need = sizes[Math.min(call++, sizes.length - 1)]!;
      if (buffer.length < need) {
        size[0] = need;
        return 122; // ERROR_INSUFFICIENT_BUFFER
      }
      size[0] = need;
      return 0;
    }, 50);
    expect(answer).toMatchObject({ length: 20_000 });
    expect(call).toBe(4);
    expect(callGrowing(() => 87)).toEqual({ error: 87 });
  });

  it('reads PROCESSENTRY32W: pid and exe name', () => {
    expect(PROCESSENTRY32W.size).toBe(568);
    expect(decodeProcessEntry(processEntry(3000, 'firefox.exe'))).toEqual({
      pid: 3000,
      exeFile: 'firefox.exe',
    });
    expect(decodeProcessEntry(processEntry(1, 'x'.repeat(260)))).toEqual({
      pid: 1,
      exeFile: 'x'.repeat(260),
    });
  });
});

// ---------------------------------------------------------------------------------------------
describe('macOS: libproc socket_fdinfo', () => {
  it('the koffi declarations have the sizes and offsets of <sys/proc_info.h>', () => {
    expect(koffi.sizeof(socket_fdinfo)).toBe(792);
    expect(koffi.sizeof(tcp_sockinfo)).toBe(120); // 80 + state, timer[4], mss, flags, rfu_1, then the 8-aligned tcpsi_tp
    expect(SOCKET_FDINFO).toMatchObject({
      so: 160,
      protocol: 180,
      family: 184,
      kind: 256,
      fport: 264,
      lport: 268,
      vflag: 288,
      faddr: 296,
      laddr: 312,
      tcpState: 344,
    });
  });

  it('decodes TCP and UDP over IPv4, IPv6 and IPv4-mapped; skips others; lists a shared socket once', () => {
    const table = new SocketTable(4);
    const seen = new Set<bigint>();
    const add = (s: Parameters<typeof socketFdInfo>[0], pid: number) => {
      const buf = socketFdInfo(s);
      return decodeSocketFdInfo(buf, buf.length, pid, table, seen);
    };
    expect(
      add({ family: 'inet', protocol: 6, local: '127.0.0.1', localPort: 8080, state: 1, handle: 1n }, 200),
    ).toBe('added');
    expect(
      add(
        {
          family: 'inet6',
          protocol: 6,
          local: '2001:db8::5',
          localPort: 50000,
          remote: '2001:db8::9',
          remotePort: 443,
          state: 4,
          handle: 2n,
        },
        200,
      ),
    ).toBe('added');
    expect(
      add(
        {
          family: 'inet6',
          protocol: 6,
          mapped: true,
          local: '10.0.0.2',
          localPort: 50001,
          remote: '10.0.0.9',
          remotePort: 22,
          state: 10,
          handle: 3n,
        },
        201,
      ),
    ).toBe('added');
    expect(add({ family: 'inet', protocol: 17, local: '0.0.0.0', localPort: 5353, handle: 4n }, 300)).toBe(
      'added',
    );
    expect(add({ family: 'unix', protocol: 6, local: '0.0.0.0', localPort: 0, handle: 5n }, 300)).toBe(
      'not-inet',
    );
    expect(
      add({ family: 'inet', protocol: 6, local: '127.0.0.1', localPort: 8080, state: 1, handle: 1n }, 199),
    ).toBe('duplicate');
    const all = rows(table);
    expect(
      all.map((l) => [
        l.protocol,
        l.family,
        l.socket.address,
        l.socket.port,
        l.remote?.address,
        l.remote?.port,
        l.state,
        l.uid,
      ]),
    ).toEqual([
      ['TCP', 4, '127.0.0.1', 8080, undefined, undefined, 'Listen', 501],
      ['TCP', 6, '2001:db8::5', 50000, '2001:db8::9', 443, 'Established', 501],
      ['TCP', 4, '10.0.0.2', 50001, '10.0.0.9', 22, 'TimeWait', 501],
      ['UDP', 4, '0.0.0.0', 5353, undefined, undefined, 'Unknown', 501],
    ]);
  });

  it('refuses truncated answers', () => {
    const table = new SocketTable(4);
    const buf = socketFdInfo({ family: 'inet', protocol: 6, local: '127.0.0.1', localPort: 1, handle: 9n });
    expect(decodeSocketFdInfo(buf, 300, 1, table, new Set())).toBe('truncated');
    expect(decodeSocketFdInfo(buf, 346, 1, table, new Set())).toBe('truncated'); // TCP needs tcpsi_state
    expect(decodeSocketFdInfo(buf, 9999, 1, table, new Set())).toBe('truncated');
    expect(table.count).toBe(0);
  });

  it('lists socket fds and pids; asks again when a list grows between the two calls', () => {
    expect(
      socketFds(
        fdList([
          [0, 1],
          [3, 2],
          [4, 6],
          [7, 2],
        ]),
        32,
      ),
    ).toEqual([3, 7]);
    expect(
      socketFds(
        fdList([
          [3, 2],
          [7, 2],
        ]),
        12,
      ),
    ).toEqual([3]); // a partial record is not read
    const pids = Buffer.alloc(16);
    pids.writeInt32LE(1, 0);
    pids.writeInt32LE(77, 4);
    expect(pidList(pids, 16)).toEqual([1, 77]);
    // The kernel first says 4000 bytes; by the read, the list has grown to fill whatever is offered twice.
    let full = 2;
    const grown = queryGrowing((buffer, size) => {
      if (!buffer) return 4000;
      if (full-- > 0) return size; // filled to the brim: maybe more
      return 12_000;
    });
    expect(grown?.bytes).toBe(12_000);
    expect(grown!.buffer.length).toBeGreaterThan(12_000);
  });
});

// ---------------------------------------------------------------------------------------------
describe('FreeBSD: pcblist joined with kern.file', () => {
  it('the koffi declarations have the sizes and offsets of the FreeBSD headers', () => {
    expect(XINPCB).toMatchObject({
      size: 400,
      so: 16,
      uid: 128,
      incFlags: 248,
      fport: 252,
      lport: 254,
      faddr: 256,
      laddr: 272,
      vflag: 392,
    });
    expect(XTCPCB).toEqual({ inp: 8, state: 568 });
    expect(XINPGEN).toEqual({ size: 64, gen: 16 });
    expect(XFILE).toMatchObject({ size: 128, pid: 8, fd: 16, type: 32, data: 56 });
    expect(KINFO_PROC.comm).toBe(447);
  });

  const tcp = tcpPcbList([
    { local: '0.0.0.0', localPort: 22, state: 1, socket: 0xfffff80001000000n, uid: 0 },
    {
      local: '10.0.0.2',
      localPort: 22,
      remote: '10.0.0.9',
      remotePort: 50000,
      state: 4,
      socket: 0xfffff80002000000n,
    },
    {
      v6: true,
      local: '2001:db8::2',
      localPort: 443,
      remote: '2001:db8::7',
      remotePort: 40000,
      state: 4,
      socket: 0xfffff80003000000n,
    },
    { local: '10.0.0.2', localPort: 41000, remote: '10.0.0.9', remotePort: 80, state: 10, socket: 0n },
  ]);
  const udp = udpPcbList([{ local: '0.0.0.0', localPort: 514, socket: 0xfffff80004000000n }]);
  const files = xfiles([
    { pid: 700, fd: 3, type: 2, data: 0xfffff80001000000n },
    { pid: 812, fd: 4, type: 2, data: 0xfffff80002000000n },
    { pid: 800, fd: 4, type: 2, data: 0xfffff80002000000n }, // inherited: the newer pid names it
    { pid: 900, fd: 5, type: 2, data: 0xfffff80003000000n },
    { pid: 910, fd: 1, type: 1, data: 0xfffff80004000000n }, // a vnode with a colliding address: not a socket
    { pid: 920, fd: 6, type: 2, data: 0xfffff80004000000n },
  ]);

  it('decodes TCP and UDP records, states, addresses, uids; joins owners by socket address', () => {
    const table = new SocketTable(4);
    expect(decodePcbList(tcp, tcp.length, 6, table)).toBe('complete');
    expect(decodePcbList(udp, udp.length, 17, table)).toBe('complete');
    joinOwners(table, socketOwners(files, files.length));
    expect([...table.pid.subarray(0, table.count)]).toEqual([700, 812, 900, -1, 920]);
    const all = rows(table);
    expect(
      all.map((l) => [l.protocol, l.family, l.socket.address, l.socket.port, l.remote?.port, l.state, l.uid]),
    ).toEqual([
      ['TCP', 4, '0.0.0.0', 22, undefined, 'Listen', 0],
      ['TCP', 4, '10.0.0.2', 22, 50000, 'Established', 1001],
      ['TCP', 6, '2001:db8::2', 443, 40000, 'Established', 1001],
      ['TCP', 4, '10.0.0.2', 41000, 80, 'TimeWait', 1001],
      ['UDP', 4, '0.0.0.0', 514, undefined, 'Unknown', 1001],
    ]);
  });

  it('a table that changed while copied is `changed`; a cut one is `truncated`; neither adds rows', () => {
    const table = new SocketTable(4);
    const changed = tcpPcbList([{ local: '0.0.0.0', localPort: 22, state: 1, socket: 1n }], 7n, 8n);
    expect(decodePcbList(changed, changed.length, 6, table)).toBe('changed');
    expect(decodePcbList(tcp, tcp.length - 100, 6, table)).toBe('truncated');
    expect(decodePcbList(tcp, 10, 6, table)).toBe('truncated');
    expect(table.count).toBe(0);
  });

  it('reads ki_comm only from a whole kinfo_proc', () => {
    expect(kinfoComm(kinfoProc(700, 'sshd'), 1088)).toBe('sshd');
    expect(kinfoComm(kinfoProc(700, 'sshd'), 400)).toBeUndefined();
    const other = kinfoProc(700, 'sshd');
    other.writeInt32LE(1000, 0);
    expect(kinfoComm(other, 1088)).toBeUndefined();
  });
});

// ---------------------------------------------------------------------------------------------
// The public behaviour every backend shares, run over the Windows, macOS and FreeBSD decoders
// with their OS calls replaced by the buffers above.
const backends: Array<[string, () => OwnedTableSource]> = [
  [
    'Windows',
    () => ({
      name: 'windows',
      source: 'iphlpapi',
      readTable(options, table) {
        const tables = {
          tcp4: winTcp4([
            { state: 2, local: '0.0.0.0', localPort: 445, pid: 4 },
            { state: 2, local: '127.0.0.1', localPort: 8080, pid: 3000 },
          ]),
          tcp6: winTcp6([]),
          udp4: winUdp4([{ local: '0.0.0.0', localPort: 5353, pid: 3000 }]),
          udp6: winUdp6([]),
        };
        for (const p of options.protocols)
          for (const f of options.families) {
            const kind = `${p.toLowerCase()}${f}` as keyof typeof tables;
            decodeIpTable(kind, tables[kind], tables[kind].length, table);
          }
      },
      processes: (pids) => {
        const entries = [processEntry(4, 'System'), processEntry(3000, 'node.exe')].map((e) =>
          decodeProcessEntry(e),
        );
        return new Map(
          entries
            .filter((e) => pids.has(e.pid))
            .map((e) => [e.pid, { pid: e.pid, name: e.exeFile, path: '' }]),
        );
      },
    }),
  ],
  [
    'macOS',
    () => ({
      name: 'macos',
      source: 'libproc',
      readTable(_options, table) {
        const seen = new Set<bigint>();
        for (const [s, pid] of [
          [
            socketFdInfo({
              family: 'inet',
              protocol: 6,
              local: '127.0.0.1',
              localPort: 8080,
              state: 1,
              handle: 1n,
            }),
            3000,
          ],
          [
            socketFdInfo({ family: 'inet', protocol: 17, local: '0.0.0.0', localPort: 5353, handle: 2n }),
            3000,
          ],
        ] as const)
          decodeSocketFdInfo(s, s.length, pid, table, seen);
      },
      processes: (pids) =>
        new Map(
          [...pids]
            .filter((p) => p === 3000)
            .map((p) => [p, { pid: p, name: 'node', path: '/usr/local/bin/node' }]),
        ),
    }),
  ],
  [
    'FreeBSD',
    () => ({
      name: 'freebsd',
      source: 'sysctl',
      readTable(_options, table) {
        const t = tcpPcbList([{ local: '127.0.0.1', localPort: 8080, state: 1, socket: 11n }]);
        const u = udpPcbList([{ local: '0.0.0.0', localPort: 5353, socket: 12n }]);
        decodePcbList(t, t.length, 6, table);
        decodePcbList(u, u.length, 17, table);
        const f = xfiles([
          { pid: 3000, fd: 3, type: 2, data: 11n },
          { pid: 3000, fd: 4, type: 2, data: 12n },
        ]);
        joinOwners(table, socketOwners(f, f.length));
      },
      processes: (pids) =>
        new Map(
          [...pids]
            .filter((p) => p === 3000)
            .map((p) => [
              p,
              { pid: p, name: kinfoComm(kinfoProc(p, 'node'), 1088)!, path: '/usr/local/bin/node' },
            ]),
        ),
    }),
  ],
];

describe.each(backends)('%s backend: the shared public behaviour', (_name, make) => {
  const api = createApi(ownedTablePlatform(make()));
  testPublicBehaviour(api, { unusedPort: async () => 9 });

  it('finds the TCP listener and the UDP socket of pid 3000', async () => {
    await expect(api.getProcessByPort(8080, 'TCP')).resolves.toMatchObject({ pid: 3000 });
    await expect(api.getProcessByPort(5353, 'UDP')).resolves.toMatchObject({ pid: 3000 });
    const mine = await api.getByPid(3000);
    expect(mine.map((l) => `${l.protocol}:${l.socket.port}`).sort()).toEqual(['TCP:8080', 'UDP:5353']);
    expect(api.isStillOwner(mine[0]!)).toBe(false); // no cheap check on these OSes
  });
});
