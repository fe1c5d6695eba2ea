import { describe, expect, it } from 'vitest';
import { formatIPv6, writeAddressBytes } from '../src/address';
import { localPortFilter } from '../src/platform/linux/bytecode';
import { isExiting } from '../src/platform/linux/fd-walk';
import { parseProcNet } from '../src/platform/linux/proc-net';
import { fullName } from '../src/platform/linux/process-info';
import { decodeDiagMessages, encodeDumpRequest } from '../src/platform/linux/sock-diag';
import { IPPROTO_TCP, IPPROTO_UDP, SocketTable } from '../src/socket-table';

/**
 * One netlink message carrying a struct inet_diag_msg (<linux/inet_diag.h>), laid out field by field:
 * nlmsghdr (len, type 20 = SOCK_DIAG_BY_FAMILY, flags, seq, pid), then family, state, timer, retrans,
 * inet_diag_sockid (sport, dport big-endian; src, dst 16 bytes each; if; cookie[2]), expires, rqueue,
 * wqueue, uid, inode.
 */
type DiagFields = {
  seq: number;
  family: number;
  state: number;
  sport: number;
  dport: number;
  src: number[];
  dst: number[];
  uid: number;
  inode: number;
};
/** Fields not given default to an IPv4 listener on 0.0.0.0 of uid 0. */
const IPV4_LISTENER: DiagFields = {
  seq: 1,
  family: 2,
  state: 10,
  sport: 0,
  dport: 0,
  src: [0, 0, 0, 0],
  dst: [0, 0, 0, 0],
  uid: 0,
  inode: 0,
};
function diagMessage(given: Partial<DiagFields>): Buffer {
  const f = { ...IPV4_LISTENER, ...given };
  const m = Buffer.alloc(16 + 72);
  m.writeUInt32LE(m.length, 0);
  m.writeUInt16LE(20, 4);
  m.writeUInt16LE(2, 6); // NLM_F_MULTI
  m.writeUInt32LE(f.seq, 8);
  m[16] = f.family;
  m[17] = f.state;
  m.writeUInt16BE(f.sport, 20);
  m.writeUInt16BE(f.dport, 22);
  Buffer.from(f.src).copy(m, 24);
  Buffer.from(f.dst).copy(m, 40);
  m.writeUInt32LE(0xabcd, 60); // cookie[0]
  m.writeUInt32LE(f.uid, 80);
  m.writeUInt32LE(f.inode, 84);
  return m;
}
function control(seq: number, type: 2 | 3, error = 0): Buffer {
  const m = Buffer.alloc(20);
  m.writeUInt32LE(20, 0);
  m.writeUInt16LE(type, 4);
  m.writeUInt32LE(seq, 8);
  m.writeInt32LE(error, 16);
  return m;
}

const loopback6 = [...new Array(15).fill(0), 1];

describe('sock_diag decoding', () => {
  it('decodes IPv4 and IPv6 rows and stops at NLMSG_DONE', () => {
    const buf = Buffer.concat([
      diagMessage({ seq: 7, sport: 8080, src: [127, 0, 0, 1], uid: 1000, inode: 4242 }),
      diagMessage({
        seq: 7,
        family: 10,
        state: 1,
        sport: 443,
        dport: 51000,
        src: loopback6,
        dst: loopback6,
        inode: 99,
      }),
      control(7, 3),
    ]);
    const table = new SocketTable(1);
    expect(decodeDiagMessages(buf, buf.length, 7, IPPROTO_TCP, table)).toEqual({ done: true, error: 0 });
    expect(table.count).toBe(2);
    expect([table.family[0], table.state[0], table.localPort[0], table.uid[0], table.inode[0]]).toEqual([
      4, 10, 8080, 1000, 4242,
    ]);
    expect([...table.localAddress.subarray(0, 4)]).toEqual([127, 0, 0, 1]);
    expect([
      table.family[1],
      table.state[1],
      table.localPort[1],
      table.remotePort[1],
      table.inode[1],
    ]).toEqual([6, 1, 443, 51000, 99]);
    expect(table.cookie[0]).toBe(0xabcd);
  });

  it('UDP rows carry no state; rows of another sequence number are ignored', () => {
    const buf = Buffer.concat([
      diagMessage({ seq: 8, state: 7, sport: 53, inode: 1 }),
      diagMessage({ state: 7, sport: 54, inode: 2 }),
    ]);
    const table = new SocketTable();
    expect(decodeDiagMessages(buf, buf.length, 8, IPPROTO_UDP, table)).toEqual({ done: false, error: 0 });
    expect(table.count).toBe(1);
    expect(table.state[0]).toBe(0);
  });

  it('keep() filters rows before they are copied', () => {
    const buf = Buffer.concat([1, 2, 3].map((inode) => diagMessage({ sport: inode, inode })));
    const table = new SocketTable();
    decodeDiagMessages(buf, buf.length, 1, IPPROTO_TCP, table, (inode) => inode === 2);
    expect(table.count).toBe(1);
    expect(table.localPort[0]).toBe(2);
  });

  it('reports NLMSG_ERROR as a positive errno', () => {
    const buf = control(3, 2, -2);
    expect(decodeDiagMessages(buf, buf.length, 3, IPPROTO_UDP, new SocketTable())).toEqual({
      done: true,
      error: 2,
    });
  });

  it('never reads past a truncated or lying datagram', () => {
    const good = diagMessage({ sport: 1, inode: 5 });
    for (let cut = 0; cut < good.length; cut++) {
      const table = new SocketTable();
      const result = decodeDiagMessages(good.subarray(0, cut), cut, 1, IPPROTO_TCP, table);
      expect(table.count).toBe(0);
      expect(result.error === 0 || result.error === 22).toBe(true);
    }
    const lying = Buffer.from(good);
    lying.writeUInt32LE(10_000, 0); // claims more bytes than the datagram has
    expect(decodeDiagMessages(lying, lying.length, 1, IPPROTO_TCP, new SocketTable())).toEqual({
      done: true,
      error: 22,
    });
    const tiny = Buffer.from(good);
    tiny.writeUInt32LE(4, 0); // shorter than its own header: would loop forever if trusted
    expect(decodeDiagMessages(tiny, tiny.length, 1, IPPROTO_TCP, new SocketTable())).toEqual({
      done: true,
      error: 22,
    });
  });

  it('encodes a dump request with the bytecode attribute aligned and counted in nlmsg_len', () => {
    const filter = localPortFilter(8080);
    const req = encodeDumpRequest(4, IPPROTO_TCP, 9, filter);
    expect(req.length).toBe(16 + 56 + 4 + 16);
    expect(req.readUInt32LE(0)).toBe(req.length);
    expect(req.readUInt16LE(6)).toBe(0x301); // NLM_F_REQUEST | NLM_F_DUMP
    expect(req[16]).toBe(2); // AF_INET
    expect(req.readUInt32LE(20)).toBe(0xffe); // TCP states ESTABLISHED..CLOSING
    expect(req.readUInt16LE(72)).toBe(20); // nla_len
    expect(req.readUInt16LE(74)).toBe(1); // INET_DIAG_REQ_BYTECODE
  });
});

describe('address text to bytes (the eBPF map key)', () => {
  const addressBytes = (text: string, family: 4 | 6) => {
    const into = new Uint8Array(family === 4 ? 4 : 16);
    return writeAddressBytes(into, 0, text, family) ? into : undefined;
  };

  it('parses IPv4, v4-mapped IPv6 as IPv4, and IPv6 in its text forms, back to what formatIPv6 writes', () => {
    expect([...addressBytes('10.0.0.255', 4)!]).toEqual([10, 0, 0, 255]);
    expect([...addressBytes('::ffff:127.0.0.1', 4)!]).toEqual([127, 0, 0, 1]);
    expect([...addressBytes('::FFFF:192.168.1.2', 4)!]).toEqual([192, 168, 1, 2]);
    expect([...addressBytes('255.255.255.255', 4)!]).toEqual([255, 255, 255, 255]);
    for (const text of ['::', '::1', 'fe80::1:2', '2001:db8::', '2001:db8:0:1:2:3:4:5']) {
      expect(formatIPv6(addressBytes(text, 6)!, 0)).toBe(text);
    }
    expect(formatIPv6(addressBytes('2001:DB8:0:0:0:0:0:1', 6)!, 0)).toBe('2001:db8::1');
  });

  it('refuses what does not parse instead of guessing', () => {
    for (const text of [
      '10.0.0',
      '10.0.0.256',
      'a.b.c.d',
      '',
      '1..2.3',
      '1.2.3.4.',
      '.1.2.3',
      '1.2.3.4.5',
      ' 1.2.3.4',
      '0x1.2.3.4',
      '1.2.3.0004',
    ]) {
      expect(addressBytes(text, 4)).toBeUndefined();
    }
    for (const text of ['1::2::3', '1:2:3:4:5:6:7:8:9', '1:2:3:4:5:6:7:8::', '12zz::1', '1:2', '']) {
      expect(addressBytes(text, 6)).toBeUndefined();
    }
  });
});

describe('port filter bytecode', () => {
  it('is S_GE port then S_LE port, each rejecting past the end', () => {
    const bc = localPortFilter(443);
    // op: code, yes, no (u16); operand op: no = port
    expect([bc[0], bc[1], bc.readUInt16LE(2)]).toEqual([2, 8, 20]);
    expect(bc.readUInt16LE(6)).toBe(443);
    expect([bc[8], bc[9], bc.readUInt16LE(10)]).toEqual([3, 8, 12]);
    expect(bc.readUInt16LE(14)).toBe(443);
  });
});

describe('/proc/net parsing', () => {
  const header =
    '  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n';
  it('reads IPv4 rows: host-order address words, hex ports and state, decimal uid and inode', () => {
    const text = Buffer.from(
      `${header}   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 41235 1 0000000000000000 100 0 0 10 0\n` +
        '   1: 0100007F:C350 0100007F:1F90 01 00000000:00000000 00:00000000 00000000     0        0 0 1 0000000000000000\n',
    );
    const table = new SocketTable();
    expect(parseProcNet(text, IPPROTO_TCP, 4, table)).toBe(2);
    expect([table.localPort[0], table.state[0], table.uid[0], table.inode[0]]).toEqual([
      8080, 10, 1000, 41235,
    ]);
    expect([...table.localAddress.subarray(0, 4)]).toEqual([127, 0, 0, 1]);
    expect([table.localPort[1], table.remotePort[1], table.state[1], table.inode[1]]).toEqual([
      50000, 8080, 1, 0,
    ]);
  });

  it('a socket the kernel printed twice (its table changed between two reads of the file) is added once', () => {
    const line = (sl: number, inode: number) =>
      `   ${sl}: 0100007F:C350 0100007F:1F90 01 00000000:00000000 00:00000000 00000000     0        0 ${inode} 1 0000000000000000\n`;
    const text = Buffer.from(
      `${header}${line(0, 500)}${line(1, 501)}${line(2, 500)}${line(3, 0)}${line(4, 0)}`,
    );
    const table = new SocketTable();
    expect(parseProcNet(text, IPPROTO_TCP, 4, table)).toBe(4); // 500 once, 501, and both inode-0 rows
  });

  it('reads IPv6 rows as four host-order words', () => {
    const text = Buffer.from(
      `${header}   0: 00000000000000000000000001000000:0035 00000000000000000000000000000000:0000 07 00000000:00000000 00:00000000 00000000   101        0 777 2\n`,
    );
    const table = new SocketTable();
    expect(parseProcNet(text, IPPROTO_UDP, 6, table)).toBe(1);
    expect(formatIPv6(table.localAddress, 0)).toBe('::1');
    expect([table.localPort[0], table.state[0], table.uid[0], table.inode[0]]).toEqual([53, 0, 101, 777]);
  });

  it('skips malformed and truncated lines without adding half a row', () => {
    const row =
      '   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 41235 1';
    const broken = [
      '   0: 0100007G:1F90 00000000:0000 0A 0 0 0 0 0 1',
      '   1: 0100007F',
      'garbage',
      '',
      '   2: 0100007F:1F90 00000000:0000 0A 0:0 0:0 0 x 0 5',
    ];
    for (let cut = 0; cut < row.length; cut++) {
      const table = new SocketTable();
      parseProcNet(Buffer.from(`${header}${row.slice(0, cut)}\n`), IPPROTO_TCP, 4, table);
      expect(table.count).toBeLessThanOrEqual(1);
    }
    const table = new SocketTable();
    expect(parseProcNet(Buffer.from(`${header}${broken.join('\n')}\n${row}\n`), IPPROTO_TCP, 4, table)).toBe(
      1,
    );
    expect(table.inode[0]).toBe(41235);
    expect(parseProcNet(Buffer.from(''), IPPROTO_TCP, 4, new SocketTable())).toBe(0);
  });
});

describe('address text (RFC 5952)', () => {
  const v6 = (hex: string) => formatIPv6(Buffer.from(hex.replace(/:/g, ''), 'hex'), 0);
  it.each([
    ['0000:0000:0000:0000:0000:0000:0000:0001', '::1'],
    ['0000:0000:0000:0000:0000:0000:0000:0000', '::'],
    ['fe80:0000:0000:0000:0202:b3ff:fe1e:8329', 'fe80::202:b3ff:fe1e:8329'],
    ['2001:0db8:0000:0001:0000:0000:0000:0001', '2001:db8:0:1::1'],
    ['2001:0db8:0000:0000:0001:0000:0000:0001', '2001:db8::1:0:0:1'],
    ['2001:0db8:0001:0001:0001:0001:0001:0001', '2001:db8:1:1:1:1:1:1'],
    ['2001:0db8:0000:0001:0001:0001:0001:0001', '2001:db8:0:1:1:1:1:1'],
    ['0000:0000:0000:0000:0000:ffff:c000:0280', '::ffff:192.0.2.128'],
  ])('%s -> %s', (hex, text) => expect(v6(hex)).toBe(text));
});

describe('program name', () => {
  it('keeps a short comm as it is', () => {
    expect(fullName('python3', '/usr/bin/python3.11', () => 'python3\0app.py\0')).toBe('python3');
  });
  it('uses the executable name when comm was cut at 15 characters', () => {
    expect(fullName('gnome-terminal-', '/usr/libexec/gnome-terminal-server', () => undefined)).toBe(
      'gnome-terminal-server',
    );
  });
  it('falls back to argv[0] when the executable name does not extend comm', () => {
    expect(
      fullName('netwho-test-soc', '/usr/bin/node', () => '/tmp/x/netwho-test-socket-holder\0a.mjs\0'),
    ).toBe('netwho-test-socket-holder');
  });
  it('keeps the cut comm when nothing longer matches, and never throws on empty input', () => {
    expect(fullName('averyveryverylo', '', () => undefined)).toBe('averyveryverylo');
    expect(fullName('', '', () => undefined)).toBe('');
  });
});

describe('/proc/<pid>/stat: is the process exiting?', () => {
  // Fields after the command name: state ppid pgrp session tty_nr tpgid flags minflt ...
  const stat = (comm: string, state: string, flags: number) =>
    Buffer.from(`4351 (${comm}) ${state} 4349 4349 3651 0 -1 ${flags} 100 0 0 0 0 0 0 0 20 0 1 0\n`);

  it('a running process without PF_EXITING is not', () => {
    expect(isExiting(stat('cat', 'R', 0x400000))).toBe(false);
    expect(isExiting(stat('node', 'S', 0x400100))).toBe(false);
  });
  it('PF_EXITING (0x4) set, whatever the state, is', () => {
    expect(isExiting(stat('node', 'R', 0x400104))).toBe(true);
    expect(isExiting(stat('node', 'D', 0x4))).toBe(true);
  });
  it('zombies (Z) and processes being reaped (X) are', () => {
    expect(isExiting(stat('node', 'Z', 0x400000))).toBe(true);
    expect(isExiting(stat('node', 'X', 0))).toBe(true);
  });
  it('reads past a command name that holds ") " and digits', () => {
    expect(isExiting(stat('a) R 1 2 3 4 5 4 (b', 'S', 0x400000))).toBe(false);
    expect(isExiting(stat('a) S 1 2 3 4 5 0 (b', 'S', 0x404))).toBe(true);
  });
});
