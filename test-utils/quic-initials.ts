// QUIC client Initials built by tests from their own keys (RFC 9000 section 17.2.2, RFC 9001
// section 5), around a real ClientHello from Node's OpenSSL: for the decoders' tests and for
// sending real Initials over loopback to a live capture.
import { createCipheriv } from 'node:crypto';
import { createServer } from 'node:net';
import { connect as tlsConnect } from 'node:tls';

/** The keys protecting one direction's Initials (@netwho/capture's clientInitialKeys gives them). */
export interface InitialKeys {
  key: Buffer;
  iv: Buffer;
  hp: Buffer;
}

/** The connection ID of RFC 9001 Appendix A. */
export const DCID = Buffer.from('8394c8f03e515708', 'hex');

/** A real ClientHello handshake message (Node's OpenSSL), without the TLS record around it. */
export async function clientHelloMessage(servername: string): Promise<Uint8Array> {
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

export const varint2 = (n: number) => [0x40 | (n >> 8), n & 0xff];

/**
 * A client Initial laid out by RFC 9000 section 17.2.2 and protected as RFC 9001 sections 5.3-5.4
 * say: CRYPTO frames, padding to 1200 bytes, AES-128-GCM, then header protection with AES-ECB.
 */
export function initial(
  version: number,
  keys: InitialKeys,
  packetNumber: number,
  frames: number[],
  dcid: Uint8Array = DCID,
): Uint8Array {
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
    dcid.length,
    ...dcid,
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

export const crypto = (offset: number, data: Uint8Array) => [
  0x06,
  ...varint2(offset),
  ...varint2(data.length),
  ...data,
];
