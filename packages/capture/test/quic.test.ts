import { createCipheriv } from 'node:crypto';
import { createServer } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { describe, expect, it } from 'vitest';
import {
  clientInitialKeys,
  decryptClientInitial,
  type InitialKeys,
  quicClientHello,
} from '../src/inspect/quic';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const DCID = Buffer.from('8394c8f03e515708', 'hex'); // the connection ID of RFC 9001 Appendix A

describe('QUIC Initial keys', () => {
  it('v1: the client keys of RFC 9001 Appendix A.1', () => {
    const k = clientInitialKeys(1, DCID)!;
    expect([hex(k.key), hex(k.iv), hex(k.hp)]).toEqual([
      '1f369613dd76d5467730efcbe3b1a22d',
      'fa044b2f42a3fd3b46fb255c',
      '9f50449e04a0e810283a1e9933adedd2',
    ]);
  });
  it('v2: the client keys of RFC 9369 Appendix A.1', () => {
    const k = clientInitialKeys(0x6b3343cf, DCID)!;
    expect([hex(k.key), hex(k.iv), hex(k.hp)]).toEqual([
      '8b1a0bc121284290a29e0971b5cd045d',
      '91f73e2351d8fa91660e909f',
      '45b95e15235d6f45a6b19cbcb0294ba9',
    ]);
  });
});

/** A real ClientHello handshake message (Node's OpenSSL), without the TLS record around it. */
async function clientHelloMessage(servername: string): Promise<Uint8Array> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const bytes = await new Promise<Buffer>((resolve) => {
    server.on('connection', (s) => s.once('data', (d) => resolve(d)).on('error', () => {}));
    tlsConnect({
      host: '127.0.0.1',
      port: (server.address() as { port: number }).port,
      servername,
      ALPNProtocols: ['h3'],
    }).on('error', () => {});
  });
  server.close();
  return new Uint8Array(bytes.subarray(5, 5 + bytes.readUInt16BE(3)));
}

const varint2 = (n: number) => [0x40 | (n >> 8), n & 0xff];

/**
 * A client Initial laid out by RFC 9000 section 17.2.2 and protected as RFC 9001 sections 5.3-5.4
 * say: CRYPTO frames, padding to 1200 bytes, AES-128-GCM, then header protection with AES-ECB.
 */
function initial(version: number, keys: InitialKeys, packetNumber: number, frames: number[]): Uint8Array {
  const typeBits = version === 1 ? 0 : 1;
  const pnLength = 2;
  const payload = [...frames];
  while (payload.length < 1100) payload.push(0); // PADDING
  const header = [
    0xc0 | (typeBits << 4) | (pnLength - 1),
    (version >>> 24) & 255,
    (version >> 16) & 255,
    (version >> 8) & 255,
    version & 255,
    DCID.length,
    ...DCID,
    0,
    0,
    ...varint2(pnLength + payload.length + 16),
    packetNumber >> 8,
    packetNumber & 255,
  ];
  const nonce = Buffer.from(keys.iv);
  nonce[11]! ^= packetNumber & 255;
  nonce[10]! ^= packetNumber >> 8;
  const aead = createCipheriv('aes-128-gcm', keys.key, nonce);
  aead.setAAD(Buffer.from(header));
  const sealed = Buffer.concat([aead.update(Buffer.from(payload)), aead.final(), aead.getAuthTag()]);
  const packet = Buffer.concat([Buffer.from(header), sealed]);
  const pnOffset = header.length - pnLength;
  const mask = createCipheriv('aes-128-ecb', keys.hp, null).update(
    packet.subarray(pnOffset + 4, pnOffset + 20),
  );
  packet[0]! ^= mask[0]! & 0x0f;
  for (let i = 0; i < pnLength; i++) packet[pnOffset + i]! ^= mask[1 + i]!;
  return new Uint8Array(packet);
}

const crypto = (offset: number, data: Uint8Array) => [
  0x06,
  ...varint2(offset),
  ...varint2(data.length),
  ...data,
];

describe('QUIC client Initials', () => {
  for (const version of [1, 0x6b3343cf]) {
    it(`v${version === 1 ? 1 : 2}: the SNI of a ClientHello spread over two Initials, in either order`, async () => {
      const hello = await clientHelloMessage('video.example.test');
      const keys = clientInitialKeys(version, DCID)!;
      const half = Math.floor(hello.length / 2);
      const a = initial(version, keys, 0, crypto(0, hello.subarray(0, half)));
      const b = initial(version, keys, 1, [0x01, ...crypto(half, hello.subarray(half))]);
      expect(quicClientHello([a, b])).toEqual({ serverName: 'video.example.test', alpn: ['h3'] });
      expect(quicClientHello([b, a])).toEqual({ serverName: 'video.example.test', alpn: ['h3'] });
      expect(quicClientHello([a])).toBe('truncated');
    });
  }

  it('a wrong tag, a short header, another version, a short-header packet: typed errors, no throw', () => {
    const keys = clientInitialKeys(1, DCID)!;
    const good = initial(1, keys, 0, crypto(0, new Uint8Array([1, 0, 0, 0])));
    const tampered = Uint8Array.from(good);
    tampered[tampered.length - 1]! ^= 1;
    expect(decryptClientInitial(tampered, 0, tampered.length)).toBe('malformed');
    expect(decryptClientInitial(good, 0, 30)).toBe('truncated');
    const other = Uint8Array.from(good);
    other[4] = 2;
    expect(decryptClientInitial(other, 0, other.length)).toBe('unsupported');
    expect(decryptClientInitial(Uint8Array.from([0x40, 1, 2, 3, 4, 5, 6, 7]), 0, 8)).toBe('unsupported');
    let seed = 7;
    for (let i = 0; i < 2000; i++) {
      const b = Uint8Array.from(good);
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      b[seed % b.length] = seed & 255;
      expect(['object', 'string']).toContain(typeof decryptClientInitial(b, 0, b.length - (seed % 3)));
    }
  });
});
