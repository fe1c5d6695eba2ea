import { describe, expect, it } from 'vitest';
import { clientHelloMessage, crypto, DCID, initial } from '../../../test-utils/quic-initials';
import { clientInitialKeys, decryptClientInitial, quicClientHello } from '../src/inspect/quic';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

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
