import { describe, expect, it } from 'vitest';
import { decodePacket } from '../src/decode/decode';
import { DecodedPacket } from '../src/decode/packet';
import { FlowNames } from '../src/inspect/flow-names';
import { bytes, ethernet, ipv4, tcp, udp } from './frames';

const ME = '10.0.0.1';
const text = (s: string) => [...new TextEncoder().encode(s)];
const decode = (frame: number[]) => decodePacket(bytes(frame), 1, new DecodedPacket());
const ACK_PSH = 0x18;

/** A DNS response (RFC 1035 4.1) to `name`: one A answer, the name compressed to the question. */
function dnsAnswer(name: string, address: number[]): number[] {
  const labels = name.split('.').flatMap((l) => [l.length, ...text(l)]);
  return [
    0,
    7,
    0x81,
    0x80,
    0,
    1,
    0,
    1,
    0,
    0,
    0,
    0,
    ...labels,
    0,
    0,
    1,
    0,
    1,
    0xc0,
    12,
    0,
    1,
    0,
    1,
    0,
    0,
    1,
    0,
    0,
    4,
    ...address,
  ];
}

describe('names of remote ends from the first packets', () => {
  it('what the program asked for first (HTTP Host), else the name of the DNS answer that gave the address', () => {
    const names = new FlowNames();
    names.add(
      decode(
        ethernet(0x0800, ipv4(17, '10.0.0.53', ME, udp(53, 40000, dnsAnswer('shop.test', [192, 0, 2, 7])))),
      ),
      1,
      false,
      0,
    );
    const request = text('GET / HTTP/1.1\r\nHost: www.Shop.test\r\n\r\n');
    names.add(
      decode(ethernet(0x0800, ipv4(6, ME, '192.0.2.7', tcp(50000, 80, ACK_PSH, request, { seq: 1 })))),
      2,
      true,
      1,
    );
    expect(names.nameOf(2, '192.0.2.7', 2)).toEqual({ name: 'www.shop.test', source: 'http-host' });
    // Another flow to the same address whose bytes name nothing: the DNS answer names it.
    names.add(
      decode(
        ethernet(
          0x0800,
          ipv4(6, ME, '192.0.2.7', tcp(50001, 22, ACK_PSH, text('SSH-2.0-x\r\n'), { seq: 1 })),
        ),
      ),
      3,
      true,
      1,
    );
    expect(names.nameOf(3, '192.0.2.7', 2)).toEqual({ name: 'shop.test', source: 'dns' });
    expect(names.nameOf(4, '192.0.2.99', 2)).toBeUndefined();
  });

  it('an HTTP request head over two segments is joined in order; a gap gives up', () => {
    const names = new FlowNames();
    const head = text('GET /long HTTP/1.1\r\nUser-Agent: t\r\nHost: split.test\r\n\r\n');
    const a = head.slice(0, 20);
    const b = head.slice(20);
    names.add(
      decode(ethernet(0x0800, ipv4(6, ME, '192.0.2.8', tcp(50002, 80, ACK_PSH, a, { seq: 100 })))),
      5,
      true,
      0,
    );
    expect(names.nameOf(5, '192.0.2.8', 0)).toBeUndefined();
    names.add(
      decode(ethernet(0x0800, ipv4(6, ME, '192.0.2.8', tcp(50002, 80, ACK_PSH, b, { seq: 120 })))),
      5,
      true,
      0,
    );
    expect(names.nameOf(5, '192.0.2.8', 0)).toEqual({ name: 'split.test', source: 'http-host' });
    names.add(
      decode(ethernet(0x0800, ipv4(6, ME, '192.0.2.9', tcp(50003, 80, ACK_PSH, a, { seq: 100 })))),
      6,
      true,
      0,
    );
    names.add(
      decode(ethernet(0x0800, ipv4(6, ME, '192.0.2.9', tcp(50003, 80, ACK_PSH, b, { seq: 999 })))),
      6,
      true,
      0,
    );
    expect(names.nameOf(6, '192.0.2.9', 0)).toBeUndefined();
  });

  it('bounded: past maxPending flows the oldest is given up', () => {
    const names = new FlowNames({ maxPending: 2 });
    const partial = text('GET / HTTP/1.1\r\n');
    for (let id = 10; id < 13; id++) {
      names.add(
        decode(
          ethernet(0x0800, ipv4(6, ME, '192.0.2.10', tcp(50010 + id, 80, ACK_PSH, partial, { seq: 1 }))),
        ),
        id,
        true,
        0,
      );
    }
    const rest = text('Host: late.test\r\n\r\n');
    names.add(
      decode(
        ethernet(
          0x0800,
          ipv4(6, ME, '192.0.2.10', tcp(50020, 80, ACK_PSH, rest, { seq: 1 + partial.length })),
        ),
      ),
      10,
      true,
      0,
    );
    names.add(
      decode(
        ethernet(
          0x0800,
          ipv4(6, ME, '192.0.2.10', tcp(50022, 80, ACK_PSH, rest, { seq: 1 + partial.length })),
        ),
      ),
      12,
      true,
      0,
    );
    expect(names.nameOf(10, '192.0.2.10', 0)).toBeUndefined(); // given up when 12 came
    expect(names.nameOf(12, '192.0.2.10', 0)).toEqual({ name: 'late.test', source: 'http-host' });
  });

  it('a flow past its first packets costs nothing and is never read; one still being read then is given up and counted', () => {
    const names = new FlowNames({ maxPackets: 4 });
    const partial = text('GET / HTTP/1.1\r\n');
    const at = (port: number, payload: number[], seq: number) =>
      decode(ethernet(0x0800, ipv4(6, ME, '192.0.2.11', tcp(port, 80, ACK_PSH, payload, { seq }))));
    // A whole request in a segment the flow's local end sent as its 20th packet: too late, not read.
    names.add(at(50030, text('GET / HTTP/1.1\r\nHost: late.test\r\n\r\n'), 1), 30, true, 0, 20);
    expect(names.nameOf(30, '192.0.2.11', 0)).toBeUndefined();
    // A request head that is not whole yet, then more packets than the first ones: given up when its 9th is seen.
    names.add(at(50031, partial, 1), 31, true, 0, 3);
    expect(names.stats()).toMatchObject({ pending: 1, unnamed: 0 });
    names.add(at(50031, text('Accept: */*\r\n'), 1 + partial.length), 31, true, 0, 9);
    expect(names.stats()).toMatchObject({ pending: 0, unnamed: 1, named: 0 });
  });
});
