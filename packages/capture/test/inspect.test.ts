import { createSocket } from 'node:dgram';
import { Resolver } from 'node:dns/promises';
import { request } from 'node:http';
import { createServer } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { describe, expect, it } from 'vitest';
import { DnsType, decodeDns } from '../src/inspect/dns';
import { decodeHttpHost } from '../src/inspect/http';
import { decodeClientHello } from '../src/inspect/tls';

/** The first bytes a real client sends to a TCP server on loopback (the server only listens). */
async function firstBytes(connect: (port: number) => void, wanted = 1): Promise<Uint8Array> {
  const chunks: Buffer[] = [];
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const got = new Promise<Uint8Array>((resolve) =>
    server.on('connection', (socket) => {
      socket.on('data', (d) => {
        chunks.push(d);
        if (Buffer.concat(chunks).length >= wanted) {
          resolve(new Uint8Array(Buffer.concat(chunks)));
          socket.destroy();
        }
      });
      socket.on('error', () => {});
    }),
  );
  connect((server.address() as { port: number }).port);
  const bytes = await got;
  server.close();
  return bytes;
}

describe('TLS ClientHello', () => {
  it('reads SNI and ALPN from a real client’s ClientHello (Node’s OpenSSL)', async () => {
    const bytes = await firstBytes((port) => {
      const s = tlsConnect({
        host: '127.0.0.1',
        port,
        servername: 'Shop.Example.TEST',
        ALPNProtocols: ['h2', 'http/1.1'],
      });
      s.on('error', () => {});
    }, 100);
    expect(decodeClientHello(bytes, 0, bytes.length)).toEqual({
      serverName: 'shop.example.test',
      alpn: ['h2', 'http/1.1'],
    });
  });

  it('a ClientHello split over several records and cut at every byte: truncated until whole', async () => {
    const bytes = await firstBytes((port) => {
      const s = tlsConnect({ host: '127.0.0.1', port, servername: 'split.example.test' });
      s.on('error', () => {});
    }, 100);
    // Re-frame the one handshake message as records of 100 bytes each, as a client may send it.
    const message = bytes.subarray(5, 5 + ((bytes[3]! << 8) | bytes[4]!));
    const records: number[] = [];
    for (let at = 0; at < message.length; at += 100) {
      const part = message.subarray(at, Math.min(message.length, at + 100));
      records.push(22, 3, 1, part.length >> 8, part.length & 255, ...part);
    }
    const framed = Uint8Array.from(records);
    expect(decodeClientHello(framed, 0, framed.length)).toMatchObject({ serverName: 'split.example.test' });
    for (let cut = 0; cut < framed.length; cut += 7)
      expect(decodeClientHello(framed, 0, cut)).toBe('truncated');
  });

  it('not TLS is unsupported; contradicting lengths are malformed, never a throw', () => {
    const http = new TextEncoder().encode('GET / HTTP/1.1\r\n');
    expect(decodeClientHello(http, 0, http.length)).toBe('unsupported');
    const bad = Uint8Array.from([22, 3, 1, 0, 8, 1, 0, 0, 4, 3, 3, 0, 0]);
    expect(decodeClientHello(bad, 0, bad.length)).toBe('malformed');
  });
});

describe('HTTP/1.x Host', () => {
  it('reads the Host of a real request, without its port', async () => {
    const bytes = await firstBytes((port) => {
      const r = request({ host: '127.0.0.1', port, path: '/x', headers: { Host: 'API.Example.TEST:8080' } });
      r.on('error', () => {});
      r.end();
    }, 20);
    expect(decodeHttpHost(bytes, 0, bytes.length)).toEqual({ host: 'api.example.test' });
  });

  it('truncated until the Host line is there; not HTTP is unsupported; no Host is malformed', () => {
    const text = (s: string) => new TextEncoder().encode(s);
    const whole = text('POST /a HTTP/1.1\r\nUser-Agent: t\r\nHost: [::1]:80\r\n\r\n');
    expect(decodeHttpHost(whole, 0, whole.length)).toEqual({ host: '::1' });
    expect(decodeHttpHost(whole, 0, 20)).toBe('truncated');
    expect(decodeHttpHost(whole, 0, 3)).toBe('truncated');
    expect(decodeHttpHost(text('SSH-2.0-OpenSSH\r\n'), 0, 17)).toBe('unsupported');
    // Before the first line ends: a method's start, or a method and more, is a request on its way.
    for (const start of ['G', 'DELE', 'OPTIONS ', 'CONNECT x', 'PATCH /ab']) {
      expect(decodeHttpHost(text(start), 0, start.length)).toBe('truncated');
    }
    for (const start of ['hello', 'GETX', 'get /', 'POSTS /']) {
      expect(decodeHttpHost(text(start), 0, start.length)).toBe('unsupported');
    }
    const none = text('GET / HTTP/1.0\r\nAccept: */*\r\n\r\n');
    expect(decodeHttpHost(none, 0, none.length)).toBe('malformed');
  });
});

describe('DNS', () => {
  it('reads the question of a real resolver’s query', async () => {
    const server = createSocket('udp4');
    await new Promise<void>((resolve) => server.bind(0, '127.0.0.1', resolve));
    const got = new Promise<Uint8Array>((resolve) =>
      server.once('message', (m) => resolve(new Uint8Array(m))),
    );
    const resolver = new Resolver({ timeout: 200, tries: 1 });
    resolver.setServers([`127.0.0.1:${server.address().port}`]);
    resolver.resolve4('Made-Up.Example.TEST').catch(() => {});
    const query = await got;
    server.close();
    resolver.cancel();
    expect(decodeDns(query, 0, query.length)).toMatchObject({
      response: false,
      questions: [{ name: 'made-up.example.test', type: DnsType.A }],
      answers: [],
    });
  });

  /** A response laid out by RFC 1035 section 4.1: www.example.test CNAME cdn.example.test (compressed), A 192.0.2.7. */
  function response(): Uint8Array {
    const name = (labels: string[]) => labels.flatMap((l) => [l.length, ...new TextEncoder().encode(l)]);
    const header = [0x12, 0x34, 0x81, 0x80, 0, 1, 0, 2, 0, 0, 0, 0];
    const question = [...name(['www', 'example', 'test']), 0, 0, 1, 0, 1]; // at offset 12
    const cname = [
      0xc0,
      12,
      0,
      5,
      0,
      1,
      0,
      0,
      0x0e,
      0x10,
      0,
      6,
      3,
      ...new TextEncoder().encode('cdn'),
      0xc0,
      16,
    ];
    const cnameAt = 12 + question.length;
    const a = [0xc0, cnameAt + 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 192, 0, 2, 7];
    return Uint8Array.from([...header, ...question, ...cname, ...a]);
  }

  it('answers with compressed names, a CNAME chain and TTLs; over TCP with its length prefix', () => {
    const bytes = response();
    const message = decodeDns(bytes, 0, bytes.length);
    expect(message).toEqual({
      id: 0x1234,
      response: true,
      rcode: 0,
      questions: [{ name: 'www.example.test', type: 1 }],
      answers: [
        { name: 'www.example.test', type: 5, ttl: 3600, target: 'cdn.example.test' },
        { name: 'cdn.example.test', type: 1, ttl: 60, address: '192.0.2.7' },
      ],
    });
    const tcp = Uint8Array.from([bytes.length >> 8, bytes.length & 255, ...bytes]);
    expect(decodeDns(tcp, 0, tcp.length, { tcp: true })).toEqual(message);
    for (let cut = 0; cut < bytes.length; cut++) expect(decodeDns(bytes, 0, cut)).toBe('truncated');
  });

  it('a pointer loop, a forward pointer and too many records are malformed', () => {
    const loop = Uint8Array.from([0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0xc0, 12, 0, 1, 0, 1]);
    expect(decodeDns(loop, 0, loop.length)).toBe('malformed');
    const forward = Uint8Array.from([0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0xc0, 20, 0, 1, 0, 1, 0, 0, 0]);
    expect(decodeDns(forward, 0, forward.length)).toBe('malformed');
    const many = Uint8Array.from([0, 1, 0, 0, 0xff, 0xff, 0, 0, 0, 0, 0, 0]);
    expect(decodeDns(many, 0, many.length)).toBe('malformed');
  });
});

describe('fuzz: mutated inputs give a result or a typed error, never a throw', () => {
  it('100,000 mutations of each fixture', () => {
    let seed = 1;
    const random = () => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed / 0x7fffffff;
    };
    const text = new TextEncoder().encode('GET / HTTP/1.1\r\nHost: a.example\r\n\r\n');
    const hello = Uint8Array.from([
      22,
      3,
      1,
      0,
      60,
      1,
      0,
      0,
      56,
      3,
      3,
      ...new Array(32).fill(7),
      0,
      0,
      2,
      0x13,
      1,
      1,
      0,
      0,
      13,
      0,
      0,
      0,
      9,
      0,
      7,
      0,
      0,
      4,
      0x61,
      0x2e,
      0x62,
      0x63,
    ]);
    const dns = Uint8Array.from([
      0x12, 0x34, 0x81, 0x80, 0, 1, 0, 1, 0, 0, 0, 0, 1, 0x61, 0, 0, 1, 0, 1, 0xc0, 12, 0, 1, 0, 1, 0, 0, 0,
      60, 0, 4, 1, 2, 3, 4,
    ]);
    const kinds = ['object', 'string'];
    for (const [fixture, decode] of [
      [text, (b: Uint8Array) => decodeHttpHost(b, 0, b.length)],
      [hello, (b: Uint8Array) => decodeClientHello(b, 0, b.length)],
      [dns, (b: Uint8Array) => decodeDns(b, 0, b.length)],
    ] as const) {
      for (let i = 0; i < 100_000; i++) {
        const b = Uint8Array.from(fixture);
        for (let n = 1 + Math.floor(random() * 4); n > 0; n--)
          b[Math.floor(random() * b.length)] = Math.floor(random() * 256);
        const length = random() < 0.2 ? Math.floor(random() * b.length) : b.length;
        expect(kinds).toContain(typeof decode(b.subarray(0, length)));
      }
    }
  });
});
