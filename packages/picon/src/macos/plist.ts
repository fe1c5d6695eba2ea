/**
 * Property lists, both encodings Apple writes: XML (`<plist><dict><key>…`) and binary
 * (`bplist00`). Pure; throws PlistError on malformed input, never reads out of bounds, and bounds
 * nesting depth (a binary plist can point back at itself).
 */
export class PlistError extends Error {}

export type PlistValue =
  | string
  | number
  | bigint
  | boolean
  | Date
  | Uint8Array
  | PlistValue[]
  | { [key: string]: PlistValue }
  | null;

export function parsePlist(data: Uint8Array): PlistValue {
  const head = Buffer.from(data.buffer, data.byteOffset, Math.min(8, data.length)).toString('latin1');
  return head === 'bplist00' ? parseBinaryPlist(data) : parseXmlPlist(Buffer.from(data).toString('utf8'));
}

// ---- XML ----

const ENTITIES: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };

function decodeEntities(text: string): string {
  return text.replace(/&(#x[0-9a-fA-F]+|#[0-9]+|[a-z]+);/g, (whole, e: string) => {
    if (e.startsWith('#x')) return String.fromCodePoint(Number.parseInt(e.slice(2), 16));
    if (e.startsWith('#')) return String.fromCodePoint(Number.parseInt(e.slice(1), 10));
    return ENTITIES[e] ?? whole;
  });
}

type Token = { kind: 'open' | 'close' | 'empty'; name: string } | { kind: 'text'; text: string };

function* tokens(xml: string): Generator<Token> {
  const re =
    /<!--[\s\S]*?-->|<\?[\s\S]*?\?>|<!DOCTYPE[^>]*>|<!\[CDATA\[([\s\S]*?)\]\]>|<(\/?)([A-Za-z][\w.-]*)[^>]*?(\/?)>|([^<]+)/g;
  for (let m = re.exec(xml); m; m = re.exec(xml)) {
    if (m[1] !== undefined) yield { kind: 'text', text: m[1] };
    else if (m[3]) yield { kind: m[2] ? 'close' : m[4] ? 'empty' : 'open', name: m[3] };
    else if (m[5] !== undefined) yield { kind: 'text', text: decodeEntities(m[5]) };
  }
}

export function parseXmlPlist(xml: string): PlistValue {
  const list = [...tokens(xml)];
  let i = 0;
  const skipSpace = () => {
    while (i < list.length) {
      const t = list[i]!;
      if (t.kind === 'text' && t.text.trim() === '') i++;
      else break;
    }
  };
  const expectClose = (name: string) => {
    skipSpace();
    const t = list[i++];
    if (t?.kind !== 'close' || t.name !== name) throw new PlistError(`expected </${name}>`);
  };
  const textUntil = (name: string): string => {
    let text = '';
    while (i < list.length && list[i]!.kind === 'text') text += (list[i++] as { text: string }).text;
    const t = list[i++];
    if (t?.kind !== 'close' || t.name !== name) throw new PlistError(`expected </${name}>`);
    return text;
  };
  const value = (depth: number): PlistValue => {
    if (depth > 64) throw new PlistError('plist nested too deeply');
    skipSpace();
    const t = list[i++];
    if (!t || t.kind === 'text' || t.kind === 'close') throw new PlistError('expected a plist value');
    if (t.kind === 'empty') {
      if (t.name === 'true') return true;
      if (t.name === 'false') return false;
      if (t.name === 'string') return '';
      if (t.name === 'dict') return {};
      if (t.name === 'array') return [];
      throw new PlistError(`unexpected <${t.name}/>`);
    }
    switch (t.name) {
      case 'string':
        return textUntil('string');
      case 'integer': {
        const s = textUntil('integer').trim();
        const n = Number(s);
        if (!/^[-+]?\d+$/.test(s)) throw new PlistError(`bad integer ${s}`);
        return Number.isSafeInteger(n) ? n : BigInt(s);
      }
      case 'real':
        return Number(textUntil('real').trim());
      case 'date':
        return new Date(textUntil('date').trim());
      case 'data':
        return new Uint8Array(Buffer.from(textUntil('data').replace(/\s+/g, ''), 'base64'));
      case 'true':
        expectClose('true');
        return true;
      case 'false':
        expectClose('false');
        return false;
      case 'array': {
        const out: PlistValue[] = [];
        for (;;) {
          skipSpace();
          const next = list[i];
          if (next?.kind === 'close' && next.name === 'array') {
            i++;
            return out;
          }
          out.push(value(depth + 1));
        }
      }
      case 'dict': {
        const out: { [key: string]: PlistValue } = {};
        for (;;) {
          skipSpace();
          const next = list[i++];
          if (next?.kind === 'close' && next.name === 'dict') return out;
          if (next?.kind !== 'open' || next.name !== 'key') throw new PlistError('expected <key> in <dict>');
          const key = textUntil('key');
          out[key] = value(depth + 1);
        }
      }
      case 'plist': {
        const v = value(depth + 1);
        expectClose('plist');
        return v;
      }
      default:
        throw new PlistError(`unknown plist element <${t.name}>`);
    }
  };
  // Skip to the first element (the <plist> or a bare value).
  skipSpace();
  return value(0);
}

// ---- binary ----

/**
 * bplist00: objects, then an offset table, then a 32-byte trailer: 6 unused bytes, offset int
 * size, object ref size, then u64 object count, top object, offset table offset (big-endian).
 */
export function parseBinaryPlist(data: Uint8Array): PlistValue {
  if (data.length < 40) throw new PlistError('binary plist too short');
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const t = data.length - 32;
  const offsetSize = data[t + 6]!;
  const refSize = data[t + 7]!;
  const count = Number(view.getBigUint64(t + 8));
  const top = Number(view.getBigUint64(t + 16));
  const tableAt = Number(view.getBigUint64(t + 24));
  if (![1, 2, 4, 8].includes(offsetSize) || ![1, 2, 4, 8].includes(refSize))
    throw new PlistError('bad trailer sizes');
  if (top >= count || tableAt + count * offsetSize > t) throw new PlistError('bad trailer');

  const uint = (at: number, size: number): number => {
    if (at < 0 || at + size > t) throw new PlistError('read past the objects');
    let n = 0;
    for (let k = 0; k < size; k++) n = n * 256 + data[at + k]!;
    return n;
  };
  const offsetOf = (ref: number) => {
    if (ref >= count) throw new PlistError(`object ref ${ref} out of range`);
    return uint(tableAt + ref * offsetSize, offsetSize);
  };
  /** A length in the marker's low nibble, or (0xF) in the int object after it. Returns [length, start]. */
  const lengthAt = (at: number): [number, number] => {
    const low = data[at]! & 0x0f;
    if (low !== 0x0f) return [low, at + 1];
    const marker = data[at + 1]!;
    if (marker >> 4 !== 0x1) throw new PlistError('bad length marker');
    const size = 1 << (marker & 0x0f);
    return [uint(at + 2, size), at + 2 + size];
  };
  const object = (ref: number, depth: number): PlistValue => {
    if (depth > 64) throw new PlistError('plist nested too deeply (or a cycle)');
    const at = offsetOf(ref);
    if (at >= t) throw new PlistError('object offset out of range');
    const marker = data[at]!;
    const kind = marker >> 4;
    switch (kind) {
      case 0x0:
        if (marker === 0x08) return false;
        if (marker === 0x09) return true;
        return null;
      case 0x1: {
        const size = 1 << (marker & 0x0f);
        if (at + 1 + size > t) throw new PlistError('int past the objects');
        if (size === 8) return view.getBigInt64(at + 1);
        if (size === 16) return view.getBigInt64(at + 9);
        return uint(at + 1, size);
      }
      case 0x2: {
        const size = 1 << (marker & 0x0f);
        if (at + 1 + size > t) throw new PlistError('real past the objects');
        return size === 4 ? view.getFloat32(at + 1) : view.getFloat64(at + 1);
      }
      case 0x3:
        if (at + 9 > t) throw new PlistError('date past the objects');
        return new Date(Date.UTC(2001, 0, 1) + view.getFloat64(at + 1) * 1000);
      case 0x4: {
        const [n, start] = lengthAt(at);
        if (start + n > t) throw new PlistError('data past the objects');
        return data.slice(start, start + n);
      }
      case 0x5: {
        const [n, start] = lengthAt(at);
        if (start + n > t) throw new PlistError('string past the objects');
        return Buffer.from(data.buffer, data.byteOffset + start, n).toString('latin1');
      }
      case 0x6: {
        const [n, start] = lengthAt(at);
        if (start + n * 2 > t) throw new PlistError('string past the objects');
        const units = Buffer.from(data.subarray(start, start + n * 2));
        units.swap16();
        return units.toString('utf16le');
      }
      case 0x8:
        return uint(at + 1, (marker & 0x0f) + 1);
      case 0xa: {
        const [n, start] = lengthAt(at);
        const out: PlistValue[] = [];
        for (let k = 0; k < n; k++) out.push(object(uint(start + k * refSize, refSize), depth + 1));
        return out;
      }
      case 0xd: {
        const [n, start] = lengthAt(at);
        const out: { [key: string]: PlistValue } = {};
        for (let k = 0; k < n; k++) {
          const key = object(uint(start + k * refSize, refSize), depth + 1);
          if (typeof key !== 'string') throw new PlistError('dict key is not a string');
          out[key] = object(uint(start + (n + k) * refSize, refSize), depth + 1);
        }
        return out;
      }
      default:
        throw new PlistError(`unknown object marker 0x${marker.toString(16)}`);
    }
  };
  return object(top, 0);
}
