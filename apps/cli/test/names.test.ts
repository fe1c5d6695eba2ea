import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect as tlsConnect } from 'node:tls';
import { PcapWriter, parseCaptureFile } from '@netwho/capture';
import { describe, expect, it } from 'vitest';
import { isRoot, netwho, netwhoAsync, sleep } from './helpers';

const dir = mkdtempSync(join(tmpdir(), 'netwho-names-'));

/** An IPv4 + UDP datagram (RFC 791, RFC 768) from `src` to `dst`, for a file only: never sent. */
function udp4(src: string, dst: string, srcPort: number, dstPort: number, payload = 8): Uint8Array {
  const length = 20 + 8 + payload;
  const b = Buffer.alloc(length);
  b[0] = 0x45;
  b.writeUInt16BE(length, 2);
  b[8] = 64;
  b[9] = 17;
  Buffer.from(src.split('.').map(Number)).copy(b, 12);
  Buffer.from(dst.split('.').map(Number)).copy(b, 16);
  b.writeUInt16BE(srcPort, 20);
  b.writeUInt16BE(dstPort, 22);
  b.writeUInt16BE(8 + payload, 24);
  return b;
}

describe('netwho read places each remote end with the bundled databases', () => {
  const file = join(dir, 'public.pcap');
  const writer = new PcapWriter(file, { linkType: 101 }); // LINKTYPE_RAW: IPv4 packets
  const peers = ['8.8.8.8', '1.1.1.1', '193.0.6.139', '10.1.2.3', '100.64.0.7'];
  for (const [i, peer] of peers.entries())
    writer.writePacket({
      data: udp4('192.168.7.2', peer, 40000 + i, 443),
      seconds: 1_700_000_000 + i,
      nanoseconds: 0,
    });
  writer.close();

  it('--json: scope, country and AS per flow (8.8.8.8 US AS15169, 1.1.1.1 AS13335, 193.0.6.139 NL AS3333)', () => {
    const r = netwho(['read', file, '--json']);
    expect(r.code).toBe(0);
    const flows = (
      JSON.parse(r.stdout) as {
        flows: Array<{
          remote: { address: string };
          remoteScope: string;
          country: string | null;
          asn: number | null;
          asOrg: string | null;
        }>;
      }
    ).flows;
    const by = new Map(flows.map((f) => [f.remote.address, f]));
    expect(by.get('8.8.8.8')).toMatchObject({
      remoteScope: 'public',
      country: 'US',
      asn: 15169,
      asOrg: 'Google LLC',
    });
    expect(by.get('1.1.1.1')).toMatchObject({ remoteScope: 'public', asn: 13335 });
    expect(by.get('193.0.6.139')).toMatchObject({ remoteScope: 'public', country: 'NL', asn: 3333 });
    expect(by.get('10.1.2.3')).toMatchObject({ remoteScope: 'private', country: null, asn: null });
    expect(by.get('100.64.0.7')).toMatchObject({ remoteScope: 'cgnat', country: null, asn: null });
  });

  it('the table has a WHERE column; --no-geo leaves the fields out', () => {
    expect(netwho(['read', file]).stdout).toMatch(/WHERE[\s\S]*US AS15169 Google LLC/);
    const flows = (JSON.parse(netwho(['read', file, '--json', '--no-geo']).stdout) as { flows: object[] })
      .flows;
    expect(flows[0]).not.toHaveProperty('country');
  });

  it('--blocklist marks the flows to listed addresses and says so (a blocklisted address in a pcap replay)', () => {
    const list = join(dir, 'block.txt');
    writeFileSync(list, '# known bad\n193.0.6.0/24\n2001:db8::/32\n');
    const r = netwho(['read', file, '--json', '--blocklist', list]);
    expect(r.code).toBe(0);
    const flows = (
      JSON.parse(r.stdout) as { flows: Array<{ remote: { address: string }; blocked: boolean }> }
    ).flows;
    expect(flows.filter((f) => f.blocked).map((f) => f.remote.address)).toEqual(['193.0.6.139']);
    expect(r.stderr).toMatch(
      /alert: a flow talked to 193\.0\.6\.139 \(193\.0\.6\.139:443\), which is in a blocklist/,
    );
  });

  it('a database that cannot be read or is not one exits 2 and says which', () => {
    const missing = netwho(['read', file, '--geoip', join(dir, 'missing.mmdb')]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/missing\.mmdb: cannot read \(ENOENT\)/);
    const text = join(dir, 'text.mmdb');
    writeFileSync(text, 'not a database');
    const bad = netwho(['read', file, '--asn', text]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/text\.mmdb: not an MMDB database/);
  });
});

describe.runIf(process.platform === 'linux' && isRoot)(
  'names live, in watch --raw and capture comments',
  () => {
    it('a TLS client’s SNI names its connection in watch --raw and in the pcapng comments of capture', async () => {
      const server = createServer((s) => s.on('error', () => {}).resume());
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
      const port = (server.address() as { port: number }).port;
      const file = join(dir, 'sni.pcapng');
      const watch = netwhoAsync([
        'watch',
        '--raw',
        '-i',
        'lo',
        '--duration',
        '3',
        '--no-history',
        '-f',
        `tcp port ${port}`,
      ]);
      const capture = netwhoAsync([
        'capture',
        '-i',
        'lo',
        '-w',
        file,
        '-d',
        '3',
        'tcp',
        'port',
        String(port),
      ]);
      await sleep(1500);
      // A ClientHello with an SNI; the server never answers, which is enough to be named.
      const client = tlsConnect({ host: '127.0.0.1', port, servername: 'secure.example.test' }).on(
        'error',
        () => {},
      );
      const [w, c] = await Promise.all([watch, capture]);
      client.destroy();
      server.close();
      expect(w.code).toBe(0);
      const lines = w.stdout
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as Record<string, unknown>);
      const connection = lines.find((l) => l.type === 'connection' && l.remoteName === 'secure.example.test');
      expect(connection).toMatchObject({
        remoteNameSource: 'tls-sni',
        remoteScope: 'loopback',
        country: null,
        asn: null,
      });
      expect(lines.find((l) => l.type === 'capture')).toHaveProperty('namesFound');
      expect(c.code).toBe(0);
      const comments: string[] = [];
      await parseCaptureFile(file, (p) => {
        if (p.comment) comments.push(p.comment);
      });
      expect(
        comments.some((t) => t.includes('remote_name=secure.example.test remote_name_source=tls-sni')),
      ).toBe(true);
    });
  },
);
