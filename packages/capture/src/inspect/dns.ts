import { ipv4Text, ipv6Text } from '../decode/address';
import type { DecodeError } from '../decode/errors';

/** Record types the name cache uses (RFC 1035 section 3.2.2, RFC 3596). */
export const DnsType = { A: 1, CNAME: 5, AAAA: 28 } as const;

export interface DnsQuestion {
  name: string;
  type: number;
}

/** An answer: A/AAAA carry `address`, CNAME carries `target`; other types only name, type and TTL. */
export interface DnsAnswer {
  name: string;
  type: number;
  ttl: number;
  address?: string;
  target?: string;
}

export interface DnsMessage {
  id: number;
  response: boolean;
  /** RCODE (0 no error, 3 NXDOMAIN). */
  rcode: number;
  questions: DnsQuestion[];
  answers: DnsAnswer[];
}

/** Bounds on what one message may make us do: records read, pointers followed, name length. */
export interface DnsLimits {
  maxRecords: number;
  maxPointers: number;
}

const HEADER = 12;
const MAX_NAME = 255;
const DEFAULTS: DnsLimits = { maxRecords: 64, maxPointers: 16 };

/**
 * Decodes a DNS message (RFC 1035 section 4.1: header, questions, answers; the authority and
 * additional sections are not read) from `data[start, end)`, as UDP carries it. Over TCP each
 * message has a 2-byte length before it (section 4.2.2): pass `tcp` to read it. Names follow
 * compression pointers (section 4.1.4) only backwards and at most `maxPointers` times, so a crafted
 * loop ends; at most `maxRecords` questions and answers are read. Never throws: a message cut short
 * is `truncated`, one whose fields contradict themselves `malformed`.
 */
export function decodeDns(
  data: Uint8Array,
  start: number,
  end: number,
  options: { tcp?: boolean; limits?: Partial<DnsLimits> } = {},
): DnsMessage | DecodeError {
  const limits = { ...DEFAULTS, ...options.limits };
  let at = start;
  if (options.tcp) {
    if (end - at < 2) return 'truncated';
    const length = (data[at]! << 8) | data[at + 1]!;
    at += 2;
    if (end - at < length) return 'truncated';
    end = at + length;
  }
  const base = at;
  if (end - at < HEADER) return 'truncated';
  const flags = (data[at + 2]! << 8) | data[at + 3]!;
  const qdcount = (data[at + 4]! << 8) | data[at + 5]!;
  const ancount = (data[at + 6]! << 8) | data[at + 7]!;
  const message: DnsMessage = {
    id: (data[at]! << 8) | data[at + 1]!,
    response: (flags & 0x8000) !== 0,
    rcode: flags & 0xf,
    questions: [],
    answers: [],
  };
  if (qdcount + ancount > limits.maxRecords) return 'malformed';
  at += HEADER;
  const cursor: Cursor = { at, error: undefined };
  for (let i = 0; i < qdcount; i++) {
    const name = readName(data, base, end, cursor, limits.maxPointers);
    if (name === undefined) return cursor.error!;
    if (end - cursor.at < 4) return 'truncated';
    message.questions.push({ name, type: (data[cursor.at]! << 8) | data[cursor.at + 1]! });
    cursor.at += 4;
  }
  for (let i = 0; i < ancount; i++) {
    const name = readName(data, base, end, cursor, limits.maxPointers);
    if (name === undefined) return cursor.error!;
    if (end - cursor.at < 10) return 'truncated';
    const o = cursor.at;
    const type = (data[o]! << 8) | data[o + 1]!;
    const ttl = ((data[o + 4]! << 24) | (data[o + 5]! << 16) | (data[o + 6]! << 8) | data[o + 7]!) >>> 0;
    const rdlength = (data[o + 8]! << 8) | data[o + 9]!;
    const rdata = o + 10;
    if (end - rdata < rdlength) return 'truncated';
    const answer: DnsAnswer = { name, type, ttl };
    if (type === DnsType.A) {
      if (rdlength !== 4) return 'malformed';
      answer.address = ipv4Text(data, rdata);
    } else if (type === DnsType.AAAA) {
      if (rdlength !== 16) return 'malformed';
      answer.address = ipv6Text(data, rdata);
    } else if (type === DnsType.CNAME) {
      const inner: Cursor = { at: rdata, error: undefined };
      const target = readName(data, base, rdata + rdlength, inner, limits.maxPointers);
      if (target === undefined) return inner.error!;
      answer.target = target;
    }
    message.answers.push(answer);
    cursor.at = rdata + rdlength;
  }
  return message;
}

/** Where a read is, and why it stopped when it did. */
interface Cursor {
  at: number;
  error: DecodeError | undefined;
}

/**
 * Reads a domain name at `cursor.at` (labels of up to 63 bytes, or a pointer to an earlier name),
 * moving the cursor past it; undefined with `cursor.error` set when it cannot. Pointers count from
 * the message start `base` and must point backwards.
 */
function readName(
  data: Uint8Array,
  base: number,
  end: number,
  cursor: Cursor,
  maxPointers: number,
): string | undefined {
  const fail = (error: DecodeError) => {
    cursor.error = error;
    return undefined;
  };
  let at = cursor.at;
  let jumped = false;
  let pointers = 0;
  let length = 0;
  const labels: string[] = [];
  for (;;) {
    if (at >= end) return fail('truncated');
    const len = data[at]!;
    if (len === 0) {
      if (!jumped) cursor.at = at + 1;
      break;
    }
    if ((len & 0xc0) === 0xc0) {
      if (at + 1 >= end) return fail('truncated');
      const target = base + (((len & 0x3f) << 8) | data[at + 1]!);
      if (!jumped) cursor.at = at + 2;
      if (target >= at || ++pointers > maxPointers) return fail('malformed');
      jumped = true;
      at = target;
      continue;
    }
    if (len & 0xc0) return fail('malformed'); // the 0x40 and 0x80 label types are not in use
    if (at + 1 + len > end) return fail('truncated');
    length += len + 1;
    if (length > MAX_NAME) return fail('malformed');
    labels.push(asciiLabel(data, at + 1, len));
    at += 1 + len;
  }
  return labels.join('.').toLowerCase();
}

function asciiLabel(data: Uint8Array, at: number, length: number): string {
  let out = '';
  for (let i = 0; i < length; i++) {
    const c = data[at + i]!;
    out +=
      c > 0x20 && c < 0x7f && c !== 0x2e ? String.fromCharCode(c) : `\\${c.toString(10).padStart(3, '0')}`;
  }
  return out;
}

/** The ports DNS is carried on that the name cache reads: DNS, mDNS, LLMNR. */
export function isDnsPort(port: number): boolean {
  return port === 53 || port === 5353 || port === 5355;
}
