import type { DecodeError } from '../decode/errors';
import { hostName } from './tls';

const METHODS = ['GET', 'POST', 'HEAD', 'PUT', 'DELETE', 'OPTIONS', 'PATCH', 'CONNECT', 'TRACE'];
/** How a request line starts: a method and a space. */
const REQUEST_STARTS = METHODS.map((m) => `${m} `);
/** Request heads longer than this are not read further (servers commonly refuse past 8 KiB). */
export const MAX_REQUEST_HEAD = 8192;

/**
 * The Host of an HTTP/1.x request (RFC 9112 section 3.2) at the start of a client's first bytes
 * `data[start, end)`, without its port, lowercased (`{ host }`); and nothing else of the request. `truncated`:
 * the header section has not ended yet and no Host was seen; `unsupported`: not an HTTP/1.x
 * request; `malformed`: a request head past MAX_REQUEST_HEAD, or without a Host.
 */
export function decodeHttpHost(data: Uint8Array, start: number, end: number): { host: string } | DecodeError {
  end = Math.min(end, start + MAX_REQUEST_HEAD);
  const lineEnd = indexOfCrlf(data, start, end);
  if (lineEnd < 0) return end - start >= MAX_REQUEST_HEAD ? 'malformed' : startsLikeRequest(data, start, end);
  const space = data.indexOf(0x20, start);
  if (space < 0 || space > lineEnd || !METHODS.includes(ascii(data, start, space))) return 'unsupported';
  if (ascii(data, lineEnd - 8, lineEnd - 3) !== 'HTTP/') return 'unsupported';
  for (let at = lineEnd + 2; ; ) {
    const next = indexOfCrlf(data, at, end);
    if (next < 0) return end - start >= MAX_REQUEST_HEAD ? 'malformed' : 'truncated';
    if (next === at) return 'malformed'; // end of the header section, and no Host
    const colon = data.indexOf(0x3a, at);
    if (colon > at && colon < next && ascii(data, at, colon).toLowerCase() === 'host') {
      let from = colon + 1;
      let to = next;
      while (from < to && (data[from] === 0x20 || data[from] === 0x09)) from++; // optional whitespace
      while (to > from && (data[to - 1] === 0x20 || data[to - 1] === 0x09)) to--;
      let value = hostName(data, from, to - from);
      // Host = uri-host [ ":" port ]; an IPv6 literal keeps its brackets' inside.
      if (value.startsWith('['))
        value = value.slice(1, value.indexOf(']') < 0 ? undefined : value.indexOf(']'));
      else value = value.replace(/:\d*$/, '');
      return value === '' ? 'malformed' : { host: value };
    }
    at = next + 2;
  }
}

/** Before a whole request line is there: whether it may still become one. */
function startsLikeRequest(data: Uint8Array, start: number, end: number): DecodeError {
  // Read in place: this runs for each packet of a flow until its first line is complete.
  const length = Math.min(end, start + 8) - start;
  for (const line of REQUEST_STARTS) {
    let i = 0;
    while (i < length && i < line.length && data[start + i] === line.charCodeAt(i)) i++;
    if (i === length || i === line.length) return 'truncated'; // one starts the other
  }
  return 'unsupported';
}

function indexOfCrlf(data: Uint8Array, from: number, end: number): number {
  for (let i = from; i + 1 < end; i++) if (data[i] === 0x0d && data[i + 1] === 0x0a) return i;
  return -1;
}

function ascii(data: Uint8Array, from: number, to: number): string {
  let out = '';
  for (let i = Math.max(0, from); i < to; i++) out += String.fromCharCode(data[i]!);
  return out;
}
