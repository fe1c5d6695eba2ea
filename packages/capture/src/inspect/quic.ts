import { createCipheriv, createDecipheriv, createHmac } from 'node:crypto';
import type { DecodeError } from '../decode/errors';
import { type ClientHello, MAX_CLIENT_HELLO, readClientHello } from './tls';

/**
 * The QUIC versions whose client Initials can be read: their Initial salt and key labels
 * (RFC 9001 section 5.2, RFC 9369 section 3.3) and the long-header type of an Initial (RFC 9369
 * section 3.2: v2 renumbered them).
 */
const VERSIONS = new Map<number, { salt: Buffer; prefix: string; initialType: number }>([
  [
    0x00000001,
    { salt: Buffer.from('38762cf7f55934b34d179ae6a4c80cadccbb7f0a', 'hex'), prefix: 'quic', initialType: 0 },
  ],
  [
    0x6b3343cf,
    {
      salt: Buffer.from('0dede3def700a6db819381be6e269dcbf9bd2ed9', 'hex'),
      prefix: 'quicv2',
      initialType: 1,
    },
  ],
]);

/** The client's Initial keys (AEAD_AES_128_GCM: key, IV; header protection key). */
export interface InitialKeys {
  key: Buffer;
  iv: Buffer;
  hp: Buffer;
}

/** HKDF-Expand-Label (RFC 8446 section 7.1) with SHA-256, for outputs of up to 32 bytes. */
function expandLabel(secret: Buffer, label: string, length: number): Buffer {
  const full = Buffer.from(`tls13 ${label}`, 'latin1');
  const info = Buffer.concat([
    Buffer.from([length >> 8, length & 0xff, full.length]),
    full,
    Buffer.from([0, 1]),
  ]);
  return createHmac('sha256', secret).update(info).digest().subarray(0, length);
}

/**
 * The keys a client protects its Initial packets with, derived from the Destination Connection ID
 * it chose (RFC 9001 section 5.2): anyone on the path can derive them, which is what lets us read
 * the ClientHello. undefined for a version we do not know.
 */
export function clientInitialKeys(version: number, dcid: Uint8Array): InitialKeys | undefined {
  const v = VERSIONS.get(version);
  if (!v) return undefined;
  const initial = createHmac('sha256', v.salt).update(dcid).digest(); // HKDF-Extract
  const client = expandLabel(initial, 'client in', 32);
  return {
    key: expandLabel(client, `${v.prefix} key`, 16),
    iv: expandLabel(client, `${v.prefix} iv`, 12),
    hp: expandLabel(client, `${v.prefix} hp`, 16),
  };
}

/** A QUIC variable-length integer (RFC 9000 section 16) at `at`: [value, bytes], or undefined past `end`. */
function varint(data: Uint8Array, at: number, end: number): [number, number] | undefined {
  if (at >= end) return undefined;
  const length = 1 << (data[at]! >> 6);
  if (at + length > end) return undefined;
  let value = data[at]! & 0x3f;
  for (let i = 1; i < length; i++) value = value * 256 + data[at + i]!;
  return [value, length];
}

/** CRYPTO frame data of one client Initial, by offset in the crypto stream. */
export interface CryptoData {
  offset: number;
  data: Uint8Array;
}

/**
 * Removes header protection from, and decrypts, the client Initial packet at the start of a UDP
 * datagram `data[start, end)` (RFC 9000 section 17.2.2, RFC 9001 sections 5.3-5.4), and returns
 * its CRYPTO frames. `unsupported`: not a long-header Initial of a known version; `malformed`:
 * lengths that do not fit, a tag that does not authenticate, or frames an Initial may not carry.
 */
export function decryptClientInitial(
  data: Uint8Array,
  start: number,
  end: number,
): CryptoData[] | DecodeError {
  if (end - start < 7) return 'truncated';
  const first = data[start]!;
  if ((first & 0xc0) !== 0xc0) return 'unsupported'; // long header, fixed bit
  const version =
    ((data[start + 1]! << 24) | (data[start + 2]! << 16) | (data[start + 3]! << 8) | data[start + 4]!) >>> 0;
  const v = VERSIONS.get(version);
  if (!v || ((first >> 4) & 0x03) !== v.initialType) return 'unsupported';
  let at = start + 5;
  const dcidLength = data[at]!;
  if (dcidLength > 20 || at + 1 + dcidLength >= end) return 'malformed';
  const dcid = data.subarray(at + 1, at + 1 + dcidLength);
  at += 1 + dcidLength;
  const scidLength = data[at]!;
  if (scidLength > 20) return 'malformed';
  at += 1 + scidLength;
  const token = varint(data, at, end);
  if (!token) return 'truncated';
  at += token[1] + token[0];
  const length = varint(data, at, end);
  if (!length) return 'truncated';
  at += length[1];
  const pnOffset = at;
  const packetEnd = pnOffset + length[0];
  if (packetEnd > end) return 'truncated';
  if (pnOffset + 4 + 16 > packetEnd) return 'malformed';
  const keys = clientInitialKeys(version, dcid)!;
  // Header protection: a mask from the 16 bytes that follow a 4-byte packet number (section 5.4.2).
  const hp = createCipheriv('aes-128-ecb', keys.hp, null);
  const mask = hp.update(data.subarray(pnOffset + 4, pnOffset + 20));
  const header = Buffer.from(data.subarray(start, pnOffset + 4));
  header[0] = first ^ (mask[0]! & 0x0f);
  const pnLength = (header[0]! & 0x03) + 1;
  let packetNumber = 0;
  for (let i = 0; i < pnLength; i++) {
    const b = header[pnOffset - start + i]! ^ mask[1 + i]!;
    header[pnOffset - start + i] = b;
    packetNumber = packetNumber * 256 + b;
  }
  const aad = header.subarray(0, pnOffset - start + pnLength);
  const nonce = Buffer.from(keys.iv);
  for (let i = 0; i < 8; i++) nonce[11 - i]! ^= Math.floor(packetNumber / 2 ** (8 * i)) & 0xff;
  const sealed = data.subarray(pnOffset + pnLength, packetEnd);
  if (sealed.length < 16) return 'malformed';
  let plain: Buffer;
  try {
    const aead = createDecipheriv('aes-128-gcm', keys.key, nonce);
    aead.setAAD(aad);
    aead.setAuthTag(sealed.subarray(sealed.length - 16));
    plain = Buffer.concat([aead.update(sealed.subarray(0, sealed.length - 16)), aead.final()]);
  } catch {
    return 'malformed'; // the tag did not authenticate: not a client Initial for these keys
  }
  return cryptoFrames(plain);
}

/** The CRYPTO frames of an Initial's payload (RFC 9000 section 19; an Initial carries only these kinds). */
function cryptoFrames(p: Uint8Array): CryptoData[] | DecodeError {
  const out: CryptoData[] = [];
  for (let at = 0; at < p.length; ) {
    const type = p[at]!;
    if (type === 0x00 || type === 0x01) {
      at++; // PADDING, PING
    } else if (type === 0x02 || type === 0x03) {
      // ACK: largest, delay, range count, first range, then ranges (and ECN counts for 0x03)
      let o = at + 1;
      const fields: number[] = [];
      for (let i = 0; i < 4; i++) {
        const f = varint(p, o, p.length);
        if (!f) return 'malformed';
        fields.push(f[0]);
        o += f[1];
      }
      for (let i = 0; i < fields[2]! * 2 + (type === 0x03 ? 3 : 0); i++) {
        const f = varint(p, o, p.length);
        if (!f) return 'malformed';
        o += f[1];
      }
      at = o;
    } else if (type === 0x06) {
      const offset = varint(p, at + 1, p.length);
      if (!offset) return 'malformed';
      const length = varint(p, at + 1 + offset[1], p.length);
      if (!length) return 'malformed';
      const dataAt = at + 1 + offset[1] + length[1];
      if (dataAt + length[0] > p.length) return 'malformed';
      out.push({ offset: offset[0], data: p.subarray(dataAt, dataAt + length[0]) });
      at = dataAt + length[0];
    } else if (type === 0x1c) {
      return out; // CONNECTION_CLOSE: what came before stands
    } else return 'malformed';
  }
  return out;
}

/**
 * A client's crypto stream as its Initial packets carry it, reassembled in bounded memory (at most
 * MAX_CLIENT_HELLO bytes), until the ClientHello in it is whole: QUIC clients send one over several
 * Initials when it is large (post-quantum key shares), in any order.
 */
export class QuicClientHello {
  private readonly buffer = new Uint8Array(MAX_CLIENT_HELLO);
  /** Bytes known from offset 0 on. */
  private contiguous = 0;
  /** Ranges received (bounded: a frame past MAX_CLIENT_HELLO is refused, and at most 64 are kept). */
  private readonly pieces: CryptoData[] = [];

  /** Adds the CRYPTO frames of one decrypted Initial; returns the ClientHello once it is whole. */
  add(frames: readonly CryptoData[]): ClientHello | DecodeError {
    for (const f of frames) {
      if (f.offset + f.data.length > MAX_CLIENT_HELLO || this.pieces.length >= 64) return 'malformed';
      this.buffer.set(f.data, f.offset);
      this.pieces.push({ offset: f.offset, data: this.buffer.subarray(f.offset, f.offset + f.data.length) });
    }
    // Grow the contiguous prefix over every piece that starts within it.
    for (let grew = true; grew; ) {
      grew = false;
      for (const p of this.pieces) {
        if (p.offset <= this.contiguous && p.offset + p.data.length > this.contiguous) {
          this.contiguous = p.offset + p.data.length;
          grew = true;
        }
      }
    }
    if (this.contiguous < 4) return 'truncated';
    const need = 4 + ((this.buffer[1]! << 16) | (this.buffer[2]! << 8) | this.buffer[3]!);
    if (need > MAX_CLIENT_HELLO) return 'malformed';
    if (this.contiguous < need) return 'truncated';
    return readClientHello(this.buffer.subarray(0, need));
  }
}

/** The ClientHello of a QUIC connection from its client's first datagrams (each holding an Initial). */
export function quicClientHello(datagrams: readonly Uint8Array[]): ClientHello | DecodeError {
  const stream = new QuicClientHello();
  let result: ClientHello | DecodeError = 'truncated';
  for (const d of datagrams) {
    const frames = decryptClientInitial(d, 0, d.length);
    if (typeof frames === 'string') return frames;
    result = stream.add(frames);
    if (typeof result !== 'string' || result !== 'truncated') return result;
  }
  return result;
}
