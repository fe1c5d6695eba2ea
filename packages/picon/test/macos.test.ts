import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IconFinder, parseBinaryPlist, parseXmlPlist, readIcnsPngs } from '../src/index';
import { solidPng } from './images';

/** An .icns file: "icns", u32 length, then (type, u32 length incl. 8-byte header, data) entries. */
function icns(entries: Array<[string, Buffer]>): Buffer {
  const parts = entries.map(([type, data]) => {
    const head = Buffer.alloc(8);
    head.write(type, 0, 'latin1');
    head.writeUInt32BE(8 + data.length, 4);
    return Buffer.concat([head, data]);
  });
  const body = Buffer.concat(parts);
  const head = Buffer.alloc(8);
  head.write('icns', 0, 'latin1');
  head.writeUInt32BE(8 + body.length, 4);
  return Buffer.concat([head, body]);
}

/**
 * A bplist00 with a dict of string keys to ASCII strings: objects (0xD dict, 0x5 strings), an offset
 * table of 2-byte offsets, and the 32-byte trailer (offset size, ref size, count, top, table offset).
 */
function binaryPlist(dict: Record<string, string>): Buffer {
  const keys = Object.keys(dict);
  const strings = [...keys, ...keys.map((k) => dict[k]!)];
  const objects: Buffer[] = [];
  const n = keys.length;
  objects.push(Buffer.from([0xd0 | n, ...keys.map((_, i) => 1 + i), ...keys.map((_, i) => 1 + n + i)]));
  for (const s of strings) {
    const marker = s.length < 15 ? Buffer.from([0x50 | s.length]) : Buffer.from([0x5f, 0x10, s.length]);
    objects.push(Buffer.concat([marker, Buffer.from(s, 'latin1')]));
  }
  const header = Buffer.from('bplist00', 'latin1');
  const offsets: number[] = [];
  let at = header.length;
  for (const o of objects) {
    offsets.push(at);
    at += o.length;
  }
  const table = Buffer.alloc(offsets.length * 2);
  for (const [i, o] of offsets.entries()) table.writeUInt16BE(o, i * 2);
  const trailer = Buffer.alloc(32);
  trailer[6] = 2; // offset int size
  trailer[7] = 1; // object ref size
  trailer.writeBigUInt64BE(BigInt(objects.length), 8);
  trailer.writeBigUInt64BE(0n, 16);
  trailer.writeBigUInt64BE(BigInt(at), 24);
  return Buffer.concat([header, ...objects, table, trailer]);
}

const xmlPlist = (entries: string) =>
  `<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">\n<plist version="1.0">\n<dict>\n${entries}\n</dict>\n</plist>\n`;

let root: string;
beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'picon-macos-'));
  const make = (app: string, plist: Buffer | string, icons: Record<string, Buffer>) => {
    mkdirSync(join(app, 'Contents/MacOS'), { recursive: true });
    mkdirSync(join(app, 'Contents/Resources'), { recursive: true });
    writeFileSync(join(app, 'Contents/Info.plist'), plist);
    for (const [name, data] of Object.entries(icons))
      writeFileSync(join(app, 'Contents/Resources', name), data);
  };
  const images = icns([
    ['is32', Buffer.alloc(100)], // a legacy RLE image: skipped
    ['ic07', solidPng(128)],
    ['ic08', solidPng(256)],
    ['ic11', solidPng(32)],
  ]);
  make(
    join(root, 'Xml.app'),
    xmlPlist(
      '<key>CFBundleName</key><string>Xml &amp; Co</string>\n<key>CFBundleIconFile</key><string>AppIcon</string>',
    ),
    { 'AppIcon.icns': images },
  );
  make(join(root, 'Bin.app'), binaryPlist({ CFBundleExecutable: 'Bin', CFBundleIconFile: 'Bin.icns' }), {
    'Bin.icns': images,
  });
  // A helper app nested inside an outer one: the outer bundle's icon is the program's.
  make(join(root, 'Bin.app/Contents/Frameworks/Helper.app'), binaryPlist({ CFBundleIconFile: 'none' }), {});
  make(join(root, 'NoIcon.app'), xmlPlist('<key>CFBundleName</key><string>x</string>'), {});
  make(join(root, 'Broken.app'), 'bplist00 and then nothing useful at all, more bytes to pass 40', {});
  make(join(root, 'Cut.app'), xmlPlist('<key>CFBundleIconFile</key><string>cut</string>'), {
    'cut.icns': images.subarray(0, 300),
  });
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('macOS bundles (pure TypeScript, run here)', () => {
  it('XML plist: CFBundleIconFile without extension, the PNG closest to the size', () => {
    const finder = new IconFinder();
    const r = finder.lookUp({ path: join(root, 'Xml.app/Contents/MacOS/Xml') }, { size: 128 });
    expect(r.icon).toMatchObject({
      format: 'png',
      width: 128,
      source: { kind: 'macos-bundle', file: join(root, 'Xml.app/Contents/Resources/AppIcon.icns') },
    });
    expect(finder.lookUp({ path: join(root, 'Xml.app/Contents/MacOS/Xml') }, { size: 200 }).icon?.width).toBe(
      256,
    );
    expect(
      finder.lookUp({ path: join(root, 'Xml.app/Contents/MacOS/Xml') }, { size: 1024 }).icon?.width,
    ).toBe(256);
    expect(finder.lookUp({ path: join(root, 'Xml.app/Contents/MacOS/Xml') }, { size: 16 }).icon?.width).toBe(
      32,
    );
  });

  it('binary plist, and the outermost bundle of a nested helper', () => {
    const finder = new IconFinder();
    const direct = finder.lookUp({ path: join(root, 'Bin.app/Contents/MacOS/Bin') }, { size: 256 });
    expect(direct.icon?.source.via).toBe(join(root, 'Bin.app/Contents/Info.plist'));
    const helper = finder.lookUp({
      path: join(root, 'Bin.app/Contents/Frameworks/Helper.app/Contents/MacOS/Helper'),
    });
    expect(helper.icon?.source.file).toBe(join(root, 'Bin.app/Contents/Resources/Bin.icns'));
  });

  it('reasons for bundles without an icon: none named, malformed plist, truncated icns, no plist', () => {
    const finder = new IconFinder();
    expect(finder.lookUp({ path: join(root, 'NoIcon.app/Contents/MacOS/x') })).toMatchObject({
      reason: 'no-icon-named',
    });
    expect(finder.lookUp({ path: join(root, 'Broken.app/Contents/MacOS/x') })).toMatchObject({
      reason: 'malformed',
    });
    expect(finder.lookUp({ path: join(root, 'Cut.app/Contents/MacOS/x') })).toMatchObject({
      reason: 'malformed',
    });
    expect(finder.lookUp({ path: join(root, 'Gone.app/Contents/MacOS/x') })).toMatchObject({
      reason: 'unreadable',
    });
  });

  it('parses XML plists: nested values, entities, data, empty elements', () => {
    const value = parseXmlPlist(
      xmlPlist(
        '<key>a</key><array><integer>-3</integer><real>1.5</real><true/><false/><string/><data>aGk=</data></array>\n<key>b</key><dict><key>c</key><string>&lt;x&gt; &#65;</string></dict><key>big</key><integer>123456789012345678901</integer>',
      ),
    );
    expect(value).toEqual({
      a: [-3, 1.5, true, false, '', new Uint8Array([104, 105])],
      b: { c: '<x> A' },
      big: 123456789012345678901n,
    });
    expect(() => parseXmlPlist('<plist><dict><key>a</key></dict></plist>')).toThrow();
    expect(() => parseXmlPlist('<plist><dict><string>x</string></dict></plist>')).toThrow();
  });

  it('parses binary plists; rejects bad trailers, out-of-range refs and cycles', () => {
    expect(
      parseBinaryPlist(binaryPlist({ CFBundleIconFile: 'A.icns', k: 'a string longer than fifteen' })),
    ).toEqual({
      CFBundleIconFile: 'A.icns',
      k: 'a string longer than fifteen',
    });
    const bad = binaryPlist({ a: 'b' });
    bad[bad.length - 32 + 6] = 3; // offset size 3 does not exist
    expect(() => parseBinaryPlist(bad)).toThrow(/trailer/);
    // An array (0xA1) whose one element is itself: a cycle.
    const cyclic = Buffer.concat([
      Buffer.from('bplist00'),
      Buffer.from([0xa1, 0x00]),
      Buffer.from([8]),
      Buffer.alloc(32),
    ]);
    cyclic[cyclic.length - 32 + 6] = 1;
    cyclic[cyclic.length - 32 + 7] = 1;
    cyclic.writeBigUInt64BE(1n, cyclic.length - 24);
    cyclic.writeBigUInt64BE(10n, cyclic.length - 8);
    expect(() => parseBinaryPlist(cyclic)).toThrow(/deep|cycle/);
  });

  it('reads icns entries: PNGs only, a length past the end is an error', () => {
    const images = readIcnsPngs(
      icns([
        ['ic07', solidPng(128)],
        ['it32', Buffer.alloc(50)],
      ]),
    );
    expect(images.map((i) => [i.type, i.size])).toEqual([['ic07', 128]]);
    const cut = icns([['ic07', solidPng(128)]]);
    cut.writeUInt32BE(99999, 12);
    expect(() => readIcnsPngs(cut)).toThrow(/past/);
    expect(() => readIcnsPngs(Buffer.from('nope'))).toThrow();
  });
});
