import { describe, expect, it } from 'vitest';
import { decodePacket } from '../src/decode/decode';
import { LinkType } from '../src/decode/link-types';
import { adaptToCookedSocket } from '../src/live/filter/cooked';
import { rejectLoopbackOutgoing } from '../src/live/filter/loopback';
import { Bpf, compileFilter, instructionsOf, SKF_AD_OFF, SKF_AD_PROTOCOL } from '../src/live/filter/program';
import { ReusedPacket } from '../src/live/packet';
import { TP_STATUS_USER, TP_STATUS_VLAN_VALID } from '../src/live/ring/constants';
import { Block, Frame, SockaddrLl } from '../src/live/ring/structs';
import { blockReady, ringMemory, walkBlock } from '../src/live/ring/walk';
import { udpFrame } from './frames';

const BLOCK = 4096;

/**
 * One retired block laid out as the kernel writes it (<linux/if_packet.h>: tpacket_block_desc, then
 * tpacket3_hdr + sockaddr_ll + data per frame, each frame at a 16-byte boundary), machine byte order.
 */
function block(
  frames: Array<{ data: Uint8Array; wire?: number; mac?: number; vlan?: number; cooked?: boolean }>,
) {
  const memory = new ArrayBuffer(BLOCK);
  const ring = ringMemory(memory, BLOCK, 1);
  const v = new DataView(memory);
  const le = true;
  v.setUint32(Block.STATUS, TP_STATUS_USER, le);
  v.setUint32(Block.NUM_PKTS, frames.length, le);
  v.setUint32(Block.OFFSET_TO_FIRST_PKT, 48, le);
  let at = 48;
  frames.forEach((f, i) => {
    const mac = f.mac ?? 82; // TPACKET_ALIGN(68 + 16) - 14 for a raw socket
    const data = f.cooked ? f.data.subarray(14) : f.data;
    const size = (mac + data.length + 15) & ~15;
    v.setUint32(at + Frame.NEXT_OFFSET, i === frames.length - 1 ? 0 : size, le);
    v.setUint32(at + Frame.SEC, 1_700_000_000 + i, le);
    v.setUint32(at + Frame.NSEC, 123_456_789, le);
    v.setUint32(at + Frame.SNAPLEN, data.length, le);
    v.setUint32(at + Frame.LEN, f.wire ?? data.length, le);
    v.setUint32(at + Frame.STATUS, TP_STATUS_USER | (f.vlan !== undefined ? TP_STATUS_VLAN_VALID : 0), le);
    v.setUint16(at + Frame.MAC, mac, le);
    v.setUint32(at + Frame.VLAN_TCI, f.vlan ?? 0, le);
    const sll = at + Frame.SOCKADDR;
    v.setUint16(sll + SockaddrLl.FAMILY, 17, le);
    v.setUint16(sll + SockaddrLl.PROTOCOL, 0x0800); // big-endian, as the kernel writes it
    v.setInt32(sll + SockaddrLl.IFINDEX, 7, le);
    v.setUint16(sll + SockaddrLl.HATYPE, 1, le);
    v.setUint8(sll + SockaddrLl.PKTTYPE, 4);
    v.setUint8(sll + SockaddrLl.HALEN, 6);
    new Uint8Array(memory).set([2, 0, 0, 0, 0, 9], sll + SockaddrLl.ADDR);
    new Uint8Array(memory).set(data, at + mac);
    at += size;
  });
  return ring;
}

function walk(ring: ReturnType<typeof block>, cooked = false) {
  const out: Array<{ bytes: Uint8Array; wire: number; truncated: boolean; seconds: number; type: number }> =
    [];
  const linkType = cooked ? LinkType.LINUX_SLL2 : LinkType.ETHERNET;
  const n = walkBlock(ring, 0, { cooked, linkType }, new ReusedPacket(), (p) =>
    out.push({
      bytes: p.data.slice(),
      wire: p.wireLength,
      truncated: p.truncated,
      seconds: p.seconds,
      type: p.packetType,
    }),
  );
  return { n, out };
}

describe('TPACKET_V3 block walk (blocks laid out from <linux/if_packet.h>)', () => {
  it('delivers each frame in place with its lengths, time and packet type', () => {
    const ring = block([{ data: udpFrame(10) }, { data: udpFrame(100), wire: 1000 }]);
    expect(blockReady(ring, 0)).toBe(true);
    const { n, out } = walk(ring);
    expect(n).toBe(2);
    expect(out[0]).toMatchObject({
      bytes: udpFrame(10),
      wire: 52,
      truncated: false,
      seconds: 1_700_000_000,
      type: 4,
    });
    expect(out[1]).toMatchObject({ wire: 1000, truncated: true, seconds: 1_700_000_001 });
  });

  it('puts a stripped 802.1Q tag back after the MAC addresses', () => {
    const { out } = walk(block([{ data: udpFrame(4), vlan: 0x2064 }]));
    const p = decodePacket(out[0]!.bytes, LinkType.ETHERNET);
    expect(out[0]!.bytes.length).toBe(46 + 4);
    expect(out[0]!.wire).toBe(50);
    expect(p).toMatchObject({
      error: undefined,
      vlan: 100,
      etherType: 0x0800,
      dstPort: 53,
      payloadLength: 4,
    });
  });

  it('writes an SLL2 header in front of cooked frames, from the sockaddr_ll', () => {
    const { out } = walk(block([{ data: udpFrame(4), mac: 96, cooked: true }]), true);
    const bytes = out[0]!.bytes;
    const v = new DataView(bytes.buffer);
    expect([v.getUint16(0), v.getUint32(4), v.getUint16(8), bytes[10], bytes[11]]).toEqual([
      0x0800, 7, 1, 4, 6,
    ]);
    expect([...bytes.subarray(12, 18)]).toEqual([2, 0, 0, 0, 0, 9]);
    expect(decodePacket(bytes, LinkType.LINUX_SLL2)).toMatchObject({
      error: undefined,
      dstPort: 53,
      linuxPacketType: 4,
    });
  });

  it('a cooked frame with a VLAN tag gets the tag after the SLL2 header', () => {
    const { out } = walk(block([{ data: udpFrame(4), mac: 96, cooked: true, vlan: 7 }]), true);
    const p = decodePacket(out[0]!.bytes, LinkType.LINUX_SLL2);
    expect(new DataView(out[0]!.bytes.buffer).getUint16(0)).toBe(0x8100);
    expect(p).toMatchObject({ error: undefined, vlan: 7, etherType: 0x0800, dstPort: 53 });
  });

  it('stops at a frame whose offsets leave the block, and says so', () => {
    const ring = block([{ data: udpFrame(4) }, { data: udpFrame(4) }]);
    new DataView(ring.u32.buffer).setUint32(48 + Frame.NEXT_OFFSET, BLOCK * 2, true);
    expect(walk(ring).n).toBe(-1);
    const bad = block([{ data: udpFrame(4) }]);
    new DataView(bad.u32.buffer).setUint32(48 + Frame.SNAPLEN, BLOCK, true);
    expect(walk(bad).n).toBe(-1);
  });
});

describe('kernel filters', () => {
  it.runIf(process.platform === 'linux')(
    'moves loads past the cooked header and maps its fields to ancillary loads',
    () => {
      const program = compileFilter('udp port 53', LinkType.LINUX_SLL2, 262144);
      const before = instructionsOf(program);
      expect(adaptToCookedSocket(program)).toBe(true);
      const after = instructionsOf(program);
      before.forEach((insn, i) => {
        const load = (insn.code & 0x07) === Bpf.LD || (insn.code & 0x07) === Bpf.LDX;
        const mode = insn.code & 0xe0;
        if (load && insn.k === 0 && mode === Bpf.ABS) expect(after[i]!.k).toBe(SKF_AD_OFF + SKF_AD_PROTOCOL);
        else if (load && (mode === Bpf.ABS || mode === Bpf.IND || mode === Bpf.MSH))
          expect(after[i]!.k).toBe(insn.k - 20);
        else if ((insn.code & 0x07) === Bpf.RET && insn.k > 0) expect(after[i]!.k).toBe(insn.k - 20);
        else expect(after[i]).toEqual(insn);
      });
    },
  );

  it.runIf(process.platform === 'linux')(
    'compiles for raw IP devices (tun, WireGuard): LINKTYPE_RAW is DLT_RAW to libpcap',
    () => {
      const program = instructionsOf(compileFilter('udp', LinkType.RAW, 128));
      expect(program.length).toBeGreaterThan(2);
      expect(program.at(-1)).toMatchObject({ code: Bpf.RET, k: 0 });
      expect(program.some((insn) => insn.code === Bpf.RET && insn.k === 128)).toBe(true);
    },
  );

  it('a field of the cooked header the kernel cannot give (the link address) is refused', () => {
    const program = new Uint8Array(8);
    new DataView(program.buffer).setUint16(0, Bpf.LD | Bpf.W | Bpf.ABS, true);
    new DataView(program.buffer).setUint32(4, 12, true);
    expect(adaptToCookedSocket(program)).toBe(false);
  });

  it('the loopback prefix jumps past itself into the program unchanged', () => {
    const program = compileFilter('', LinkType.ETHERNET, 128);
    const prefixed = instructionsOf(rejectLoopbackOutgoing(program, 1));
    expect(prefixed).toHaveLength(6);
    expect(prefixed[1]).toMatchObject({ k: 1, jf: 3 });
    expect(prefixed[4]).toMatchObject({ code: Bpf.RET, k: 0 });
    expect(prefixed[5]).toMatchObject({ code: Bpf.RET, k: 128 });
  });
});
