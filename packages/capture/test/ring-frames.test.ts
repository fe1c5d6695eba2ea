import { describe, expect, it } from 'vitest';
import { decodePacket } from '../src/decode/decode';
import { LinkType } from '../src/decode/link-types';
import { ReusedPacket } from '../src/live/packet';
import { TP_STATUS_USER, TP_STATUS_VLAN_VALID } from '../src/live/ring/constants';
import { frameCount, frameReady, walkFrames } from '../src/live/ring/frames';
import { Frame2, SockaddrLl } from '../src/live/ring/structs';
import { ringMemory } from '../src/live/ring/walk';
import { udpFrame } from './frames';

const BLOCK = 4096;
const FRAME = 1024; // 4 frames per block
const le = true;

/** Two blocks of TPACKET_V2 frames (<linux/if_packet.h>: tpacket2_hdr + sockaddr_ll + data), machine byte order. */
function ring() {
  const memory = new ArrayBuffer(2 * BLOCK);
  return {
    ring: ringMemory(memory, BLOCK, 2, FRAME),
    view: new DataView(memory),
    bytes: new Uint8Array(memory),
  };
}

/** Writes a packet into frame `index` as tpacket_rcv does, and hands it to the reader. */
function put(
  r: ReturnType<typeof ring>,
  index: number,
  data: Uint8Array,
  options: { vlan?: number; mac?: number; seconds?: number } = {},
) {
  const at = Math.floor(index / 4) * BLOCK + (index % 4) * FRAME;
  const mac = options.mac ?? 66; // TPACKET_ALIGN(52 + 16) - 14 for a raw socket
  const v = r.view;
  v.setUint32(at + Frame2.LEN, data.length, le);
  v.setUint32(at + Frame2.SNAPLEN, data.length, le);
  v.setUint16(at + Frame2.MAC, mac, le);
  v.setUint32(at + Frame2.SEC, options.seconds ?? 1_700_000_000, le);
  v.setUint32(at + Frame2.NSEC, 5_000, le);
  v.setUint16(at + Frame2.VLAN_TCI, options.vlan ?? 0, le);
  const sll = at + Frame2.SOCKADDR;
  v.setUint16(sll + SockaddrLl.PROTOCOL, 0x0800);
  v.setUint8(sll + SockaddrLl.PKTTYPE, 0);
  r.bytes.set(data, at + mac);
  v.setUint32(
    at + Frame2.STATUS,
    TP_STATUS_USER | (options.vlan !== undefined ? TP_STATUS_VLAN_VALID : 0),
    le,
  );
}

const shape = { cooked: false, linkType: LinkType.ETHERNET };

describe('TPACKET_V2 frames (immediate delivery)', () => {
  it('walks ready frames in order across blocks, gives each back, and wraps around', () => {
    const r = ring();
    expect(frameCount(r.ring)).toBe(8);
    for (let i = 0; i < 6; i++) put(r, i, udpFrame(10 + i), { seconds: 1_700_000_000 + i });
    const at = { index: 0, delivered: 0, corrupt: 0 };
    const seen: Array<{ length: number; seconds: number }> = [];
    const deliver = (p: ReusedPacket) => seen.push({ length: p.length, seconds: p.seconds });
    expect(walkFrames(r.ring, at, shape, new ReusedPacket(), deliver, 100)).toBe(6);
    expect(seen.map((s) => s.length)).toEqual([52, 53, 54, 55, 56, 57]);
    expect(seen.map((s) => s.seconds - 1_700_000_000)).toEqual([0, 1, 2, 3, 4, 5]);
    expect(at).toEqual({ index: 6, delivered: 6, corrupt: 0 });
    for (let i = 0; i < 8; i++) expect(frameReady(r.ring, i)).toBe(false);
    // The kernel goes on at frame 6, 7, then 0.
    for (const i of [6, 7, 0]) put(r, i, udpFrame(1));
    expect(walkFrames(r.ring, at, shape, new ReusedPacket(), deliver, 2)).toBe(2);
    expect(at.index).toBe(0);
    expect(walkFrames(r.ring, at, shape, new ReusedPacket(), deliver, 100)).toBe(1);
    expect(at).toEqual({ index: 1, delivered: 9, corrupt: 0 });
  });

  it('delivers packets the decoders read in place, VLAN tags put back', () => {
    const r = ring();
    put(r, 0, udpFrame(4), { vlan: 100 });
    const packets: Uint8Array[] = [];
    const at = { index: 0, delivered: 0, corrupt: 0 };
    walkFrames(r.ring, at, shape, new ReusedPacket(), (p) => packets.push(p.data.slice()), 100);
    expect(packets).toHaveLength(1);
    const decoded = decodePacket(packets[0]!, LinkType.ETHERNET);
    expect(decoded).toMatchObject({ error: undefined, vlan: 100, dstPort: 53, payloadLength: 4 });
  });

  it('a frame whose offsets point outside it is counted and skipped; a listener that throws loses no frame', () => {
    const r = ring();
    put(r, 0, udpFrame(4), { mac: 4 }); // data over the header
    put(r, 1, udpFrame(4));
    put(r, 2, udpFrame(4));
    const at = { index: 0, delivered: 0, corrupt: 0 };
    let calls = 0;
    const throwing = () => {
      calls++;
      throw new Error('listener');
    };
    expect(() => walkFrames(r.ring, at, shape, new ReusedPacket(), throwing, 100)).toThrow('listener');
    expect(at).toEqual({ index: 2, delivered: 1, corrupt: 1 });
    expect(frameReady(r.ring, 1)).toBe(false); // given back although its listener threw
    expect(walkFrames(r.ring, at, shape, new ReusedPacket(), () => calls++, 100)).toBe(1);
    expect(calls).toBe(2);
  });
});
