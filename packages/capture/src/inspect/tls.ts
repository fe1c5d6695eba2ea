import type { DecodeError } from '../decode/errors';

/** What a TLS ClientHello says of where the client is going. */
export interface ClientHello {
  /** server_name (RFC 6066 section 3), lowercased; undefined when the client sent none. */
  serverName: string | undefined;
  /** application_layer_protocol_negotiation (RFC 7301): e.g. ['h2', 'http/1.1']. */
  alpn: string[];
}

const RECORD_HANDSHAKE = 22;
const HANDSHAKE_CLIENT_HELLO = 1;
const EXT_SERVER_NAME = 0;
const EXT_ALPN = 16;
/** A ClientHello is at most this long here (they are 200-2000 bytes; post-quantum key shares ~1.5 KiB more). */
export const MAX_CLIENT_HELLO = 16 * 1024;

/**
 * Reads the ClientHello at the start of a TLS client's first bytes `data[start, end)`: TLS records
 * (RFC 8446 section 5.1: type, legacy version, length) of type handshake, whose fragments are
 * joined until the handshake message (section 4: type, 24-bit length) is whole, so a ClientHello
 * spread over several records or TCP segments is read once its bytes are all there. `truncated`
 * means more bytes are needed; `unsupported` that this is not a TLS handshake; `malformed` that
 * its lengths contradict each other.
 */
export function decodeClientHello(data: Uint8Array, start: number, end: number): ClientHello | DecodeError {
  // Join the fragments of the handshake records into one message (no copy when it fits one record).
  let at = start;
  let message: Uint8Array | undefined;
  let joined: Uint8Array | undefined;
  let have = 0;
  let need = -1;
  while (need < 0 || have < need) {
    if (end - at < 5) return 'truncated';
    if (data[at] !== RECORD_HANDSHAKE || data[at + 1] !== 3) return 'unsupported';
    const length = (data[at + 3]! << 8) | data[at + 4]!;
    if (length === 0 || length > 16384 + 256) return 'malformed';
    const fragment = at + 5;
    const available = Math.min(length, end - fragment);
    if (need < 0) {
      if (available < 4) return 'truncated';
      if (data[fragment] !== HANDSHAKE_CLIENT_HELLO) return 'unsupported';
      need = 4 + ((data[fragment + 1]! << 16) | (data[fragment + 2]! << 8) | data[fragment + 3]!);
      if (need > MAX_CLIENT_HELLO) return 'malformed';
      if (length >= need) {
        if (available < need) return 'truncated';
        message = data.subarray(fragment, fragment + need);
        break;
      }
      joined = new Uint8Array(need);
    }
    const take = Math.min(available, need - have);
    joined!.set(data.subarray(fragment, fragment + take), have);
    have += take;
    if (available < length && have < need) return 'truncated';
    at = fragment + length;
  }
  return readClientHello(message ?? joined!);
}

/**
 * A whole ClientHello handshake message (4-byte header, then the body of RFC 8446 section
 * 4.1.2), as QUIC carries it in CRYPTO frames, without TLS records around it.
 */
export function readClientHello(m: Uint8Array): ClientHello | DecodeError {
  if (m.length < 4 || m[0] !== HANDSHAKE_CLIENT_HELLO) return 'unsupported';
  const end = m.length;
  let at = 4 + 2 + 32; // handshake header, legacy_version, random
  if (at + 1 > end) return 'malformed';
  at += 1 + m[at]!; // legacy_session_id
  if (at + 2 > end) return 'malformed';
  at += 2 + ((m[at]! << 8) | m[at + 1]!); // cipher_suites
  if (at + 1 > end) return 'malformed';
  at += 1 + m[at]!; // legacy_compression_methods
  const hello: ClientHello = { serverName: undefined, alpn: [] };
  if (at === end) return hello; // no extensions (TLS 1.2 and before allow it)
  if (at + 2 > end) return 'malformed';
  const extensionsEnd = at + 2 + ((m[at]! << 8) | m[at + 1]!);
  if (extensionsEnd > end) return 'malformed';
  at += 2;
  while (at + 4 <= extensionsEnd) {
    const type = (m[at]! << 8) | m[at + 1]!;
    const length = (m[at + 2]! << 8) | m[at + 3]!;
    const body = at + 4;
    if (body + length > extensionsEnd) return 'malformed';
    if (type === EXT_SERVER_NAME) {
      const name = serverName(m, body, body + length);
      if (name === null) return 'malformed';
      hello.serverName = name;
    } else if (type === EXT_ALPN) {
      const protocols = alpn(m, body, body + length);
      if (!protocols) return 'malformed';
      hello.alpn = protocols;
    }
    at = body + length;
  }
  return at === extensionsEnd ? hello : 'malformed';
}

/** server_name_list (RFC 6066 section 3): the first host_name entry (type 0); null when malformed. */
function serverName(m: Uint8Array, at: number, end: number): string | undefined | null {
  if (at + 2 > end) return null;
  const listEnd = at + 2 + ((m[at]! << 8) | m[at + 1]!);
  if (listEnd > end) return null;
  at += 2;
  while (at + 3 <= listEnd) {
    const type = m[at]!;
    const length = (m[at + 1]! << 8) | m[at + 2]!;
    if (at + 3 + length > listEnd) return null;
    if (type === 0) return hostName(m, at + 3, length);
    at += 3 + length;
  }
  return undefined;
}

/** protocol_name_list (RFC 7301 section 3.1): 1-byte-length names. */
function alpn(m: Uint8Array, at: number, end: number): string[] | undefined {
  if (at + 2 > end) return undefined;
  const listEnd = at + 2 + ((m[at]! << 8) | m[at + 1]!);
  if (listEnd > end) return undefined;
  const out: string[] = [];
  for (at += 2; at < listEnd; ) {
    const length = m[at]!;
    if (length === 0 || at + 1 + length > listEnd) return undefined;
    out.push(hostName(m, at + 1, length));
    at += 1 + length;
  }
  return out;
}

/** ASCII text of a name (non-printable bytes escaped), lowercased; a trailing dot dropped. */
export function hostName(m: Uint8Array, at: number, length: number): string {
  let out = '';
  for (let i = 0; i < length; i++) {
    const c = m[at + i]!;
    out += c > 0x20 && c < 0x7f ? String.fromCharCode(c) : `\\x${c.toString(16).padStart(2, '0')}`;
  }
  return out.toLowerCase().replace(/\.$/, '');
}
