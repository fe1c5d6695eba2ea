import { execFileSync } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { Resolver } from 'node:dns/promises';
import { once } from 'node:events';
import { mkdtempSync, readFileSync } from 'node:fs';
import { request } from 'node:http';
import { createServer, connect as netConnect, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer as createTlsServer, connect as tlsConnect } from 'node:tls';
import { clientInitialKeys } from '@netwho/capture';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clientHelloMessage, crypto, initial } from '../../../test-utils/quic-initials';
import { CaptureMonitor, type ConnectionRow, type EndedConnection } from '../src/index';
import { isRoot, waitFor } from './system';

// The made-up DNS server and the host its answer names: 127.x addresses, on loopback only.
const DNS_SERVER = '127.77.0.53';
const ANSWERED = '127.77.0.9';

/**
 * Real peers on this machine, each naming its remote end one way: a TLS client sending an SNI to a
 * server with a certificate the test makes, an HTTP request with a Host, a DNS server on port 53
 * answering a made-up name and a connection to the address it gave, and QUIC Initials built from
 * the test's own keys. The capture reads them off loopback.
 */
describe.runIf(process.platform === 'linux' && isRoot)('names of remote ends, live on loopback', () => {
  let monitor: CaptureMonitor;
  const ended: EndedConnection[] = [];
  const servers: Array<Server | ReturnType<typeof createSocket>> = [];

  beforeAll(async () => {
    monitor = CaptureMonitor.open({
      device: 'lo',
      filter: 'tcp or udp',
      connections: false,
      flowTable: { closedTimeoutMs: 200 },
      names: { reverseDns: true },
      onConnectionEnd: (c) => ended.push(c),
    });
  });
  afterAll(() => {
    monitor?.close();
    for (const s of servers) s.close();
  });

  const rowTo = (port: number): ConnectionRow | undefined =>
    monitor.snapshot().connections.find((c) => c.remote.port === port && c.label !== undefined);
  const endedTo = (port: number) => ended.find((c) => c.remote.port === port);

  it('a TLS client: the SNI it sent, once its ClientHello is seen (the SYN had none)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'netwho-tls-'));
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:P-256',
        '-nodes',
        '-days',
        '1',
        '-subj',
        '/CN=secure.example.test',
        '-addext',
        'subjectAltName=DNS:secure.example.test',
        '-keyout',
        join(dir, 'key.pem'),
        '-out',
        join(dir, 'cert.pem'),
      ],
      { stdio: 'ignore' },
    );
    const cert = readFileSync(join(dir, 'cert.pem'));
    const server = createTlsServer({ key: readFileSync(join(dir, 'key.pem')), cert }, (s) =>
      s.on('error', () => {}).end('hello'),
    );
    servers.push(server);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as { port: number }).port;
    const client = tlsConnect({ host: '127.0.0.1', port, servername: 'secure.example.test', ca: cert }).on(
      'error',
      () => {},
    );
    await once(client, 'secureConnect'); // verified against the test's certificate
    expect(await waitFor(() => rowTo(port)?.remoteName === 'secure.example.test', 3000)).toBe(true);
    expect(rowTo(port)).toMatchObject({ remoteNameSource: 'tls-sni', remoteScope: 'loopback' });
    client.destroy();
    expect(await waitFor(() => endedTo(port) !== undefined, 5000)).toBe(true);
    expect(endedTo(port)).toMatchObject({ remoteName: 'secure.example.test', remoteNameSource: 'tls-sni' });
  });

  it('an HTTP request: its Host, without the port', async () => {
    const server = createServer((s) =>
      s.on('error', () => {}).on('data', () => s.end('HTTP/1.1 204 No Content\r\n\r\n')),
    );
    servers.push(server);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as { port: number }).port;
    const req = request({ host: '127.0.0.1', port, headers: { host: `web.example.test:${port}` } });
    req.on('error', () => {});
    req.end();
    expect(await waitFor(() => rowTo(port)?.remoteName === 'web.example.test', 3000)).toBe(true);
    expect(rowTo(port)?.remoteNameSource).toBe('http-host');
    req.destroy();
  });

  it('a DNS answer for a made-up name, then a connection to the answered address: that name', async () => {
    const dns = createSocket('udp4');
    servers.push(dns);
    dns.on('message', (query, from) => dns.send(answerA(query, ANSWERED, 60), from.port, from.address));
    await new Promise<void>((r) => dns.bind(53, DNS_SERVER, r));
    const target = createServer((s) => s.on('error', () => {}).resume());
    servers.push(target);
    await new Promise<void>((r) => target.listen(0, ANSWERED, r));
    const port = (target.address() as { port: number }).port;
    const resolver = new Resolver({ timeout: 2000, tries: 1 });
    resolver.setServers([DNS_SERVER]);
    expect(await resolver.resolve4('made-up.example.test')).toEqual([ANSWERED]);
    const socket = netConnect(port, ANSWERED).on('error', () => {});
    await once(socket, 'connect');
    expect(await waitFor(() => rowTo(port)?.remoteName === 'made-up.example.test', 3000)).toBe(true);
    expect(rowTo(port)?.remoteNameSource).toBe('dns'); // before /etc/hosts, which names no 127.77 address
    socket.destroy();
  });

  it('QUIC: the SNI inside client Initials built from the test’s own keys', async () => {
    const sink = createSocket('udp4');
    servers.push(sink);
    await new Promise<void>((r) => sink.bind(0, '127.0.0.1', r));
    const port = sink.address().port;
    const dcid = Buffer.from('0123456789abcdef', 'hex');
    const keys = clientInitialKeys(1, dcid)!;
    const hello = await clientHelloMessage('video.example.test');
    const half = Math.floor(hello.length / 2);
    const client = createSocket('udp4');
    servers.push(client);
    for (const packet of [
      initial(1, keys, 0, crypto(0, hello.subarray(0, half)), dcid),
      initial(1, keys, 1, crypto(half, hello.subarray(half)), dcid),
    ])
      await new Promise((r) => client.send(packet, port, '127.0.0.1', r));
    expect(await waitFor(() => rowTo(port)?.remoteName === 'video.example.test', 3000)).toBe(true);
    expect(rowTo(port)?.remoteNameSource).toBe('quic-sni');
  });

  it('a loopback connection nothing else names: localhost from /etc/hosts', async () => {
    const server = createServer((s) => s.on('error', () => {}).resume());
    servers.push(server);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as { port: number }).port;
    const socket = netConnect(port, '127.0.0.1').on('error', () => {});
    await once(socket, 'connect');
    const unnamed = monitor.snapshot().names!.unnamed;
    socket.write('no name in these bytes');
    // Once its first bytes were read and found to carry no name:
    expect(await waitFor(() => monitor.snapshot().names!.unnamed > unnamed, 3000)).toBe(true);
    expect(rowTo(port)).toMatchObject({
      remoteName: 'localhost',
      remoteNameSource: 'hosts',
      remoteScope: 'loopback',
    });
    socket.destroy();
  });

  it('counts what it named and what it could not', () => {
    const names = monitor.snapshot().names!;
    expect(names.named).toBeGreaterThanOrEqual(4);
    expect(names.unnamed).toBeGreaterThanOrEqual(1);
    expect(names.evicted).toBe(0);
    expect(names.dns.answers).toBeGreaterThanOrEqual(1);
  });
});

/** A DNS response (RFC 1035 section 4.1) to `query` with one A record for its question. */
function answerA(query: Buffer, address: string, ttl: number): Buffer {
  let end = 12;
  while (query[end]! !== 0) end += query[end]! + 1; // the question's name, uncompressed in a query
  end += 5; // the root label, QTYPE, QCLASS
  const header = Buffer.from(query.subarray(0, 12));
  header.writeUInt16BE(0x8180, 2); // a response, recursion desired and available, no error
  header.writeUInt16BE(1, 4);
  header.writeUInt16BE(1, 6);
  header.writeUInt32BE(0, 8);
  const answer = Buffer.alloc(16);
  answer.writeUInt16BE(0xc00c, 0); // a pointer to the question's name
  answer.writeUInt16BE(1, 2); // A
  answer.writeUInt16BE(1, 4); // IN
  answer.writeUInt32BE(ttl, 6);
  answer.writeUInt16BE(4, 10);
  Buffer.from(address.split('.').map(Number)).copy(answer, 12);
  return Buffer.concat([header, query.subarray(12, end), answer]);
}
