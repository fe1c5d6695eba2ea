import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IconFinder } from '../src/index';
import { decodePng, solidPng } from './images';

const RT_ICON = 3;
const RT_GROUP_ICON = 14;

/**
 * A resource section (the .rsrc tree) at `rva`: root directory by type, a directory per type by id,
 * one language (0x409) each, then IMAGE_RESOURCE_DATA_ENTRY records (RVA, size) and the data.
 */
function resourceSection(rva: number, resources: Array<{ type: number; id: number; data: Buffer }>): Buffer {
  const types = [...new Set(resources.map((r) => r.type))].sort((a, b) => a - b);
  const byType = types.map((t) => resources.filter((r) => r.type === t).sort((a, b) => a.id - b.id));
  let at = 16 + 8 * types.length;
  const typeDirAt = byType.map((list) => {
    const here = at;
    at += 16 + 8 * list.length;
    return here;
  });
  const langDirAt = byType.map((list) =>
    list.map(() => {
      const here = at;
      at += 16 + 8;
      return here;
    }),
  );
  const dataEntryAt = byType.map((list) =>
    list.map(() => {
      const here = at;
      at += 16;
      return here;
    }),
  );
  const blobAt = byType.map((list) =>
    list.map((r) => {
      const here = at;
      at += (r.data.length + 3) & ~3;
      return here;
    }),
  );
  const out = Buffer.alloc(at);
  const dir = (offset: number, entries: Array<[number, number, boolean]>) => {
    out.writeUInt16LE(entries.length, offset + 14); // id entries
    entries.forEach(([id, target, isDir], k) => {
      out.writeUInt32LE(id, offset + 16 + k * 8);
      out.writeUInt32LE((target | (isDir ? 0x80000000 : 0)) >>> 0, offset + 16 + k * 8 + 4);
    });
  };
  dir(
    0,
    types.map((t, i) => [t, typeDirAt[i]!, true]),
  );
  byType.forEach((list, i) => {
    dir(
      typeDirAt[i]!,
      list.map((r, k) => [r.id, langDirAt[i]![k]!, true]),
    );
    list.forEach((r, k) => {
      dir(langDirAt[i]![k]!, [[0x409, dataEntryAt[i]![k]!, false]]);
      out.writeUInt32LE(rva + blobAt[i]![k]!, dataEntryAt[i]![k]!);
      out.writeUInt32LE(r.data.length, dataEntryAt[i]![k]! + 4);
      r.data.copy(out, blobAt[i]![k]!);
    });
  });
  return out;
}

/** A minimal PE32+ file: DOS header, PE signature, COFF header, optional header, one .rsrc section. */
function peFile(resources: Array<{ type: number; id: number; data: Buffer }>): Buffer {
  const rva = 0x1000;
  const rawAt = 0x200;
  const rsrc = resourceSection(rva, resources);
  const file = Buffer.alloc(rawAt + rsrc.length);
  file.write('MZ', 0, 'latin1');
  file.writeUInt32LE(0x40, 0x3c);
  file.write('PE\0\0', 0x40, 'latin1');
  const coff = 0x44;
  file.writeUInt16LE(0x8664, coff);
  file.writeUInt16LE(1, coff + 2); // sections
  file.writeUInt16LE(240, coff + 16); // optional header size (PE32+ with 16 directories)
  const opt = coff + 20;
  file.writeUInt16LE(0x20b, opt);
  file.writeUInt32LE(16, opt + 108);
  file.writeUInt32LE(rva, opt + 112 + 2 * 8);
  file.writeUInt32LE(rsrc.length, opt + 112 + 2 * 8 + 4);
  const section = opt + 240;
  file.write('.rsrc', section, 'latin1');
  file.writeUInt32LE(rsrc.length, section + 8);
  file.writeUInt32LE(rva, section + 12);
  file.writeUInt32LE(rsrc.length, section + 16);
  file.writeUInt32LE(rawAt, section + 20);
  rsrc.copy(file, rawAt);
  return file;
}

/** GRPICONDIR with 14-byte entries (width, height, colours, reserved, planes, bit count, bytes, id). */
function groupIcon(entries: Array<{ size: number; bits: number; bytes: number; id: number }>): Buffer {
  const out = Buffer.alloc(6 + entries.length * 14);
  out.writeUInt16LE(1, 2);
  out.writeUInt16LE(entries.length, 4);
  entries.forEach((e, k) => {
    const at = 6 + k * 14;
    out[at] = e.size === 256 ? 0 : e.size;
    out[at + 1] = e.size === 256 ? 0 : e.size;
    out.writeUInt16LE(1, at + 4);
    out.writeUInt16LE(e.bits, at + 6);
    out.writeUInt32LE(e.bytes, at + 8);
    out.writeUInt16LE(e.id, at + 12);
  });
  return out;
}

/** BITMAPINFOHEADER for an icon image: height doubled (XOR + AND bitmaps). */
function dibHeader(size: number, bits: number): Buffer {
  const h = Buffer.alloc(40);
  h.writeUInt32LE(40, 0);
  h.writeInt32LE(size, 4);
  h.writeInt32LE(size * 2, 8);
  h.writeUInt16LE(1, 12);
  h.writeUInt16LE(bits, 14);
  return h;
}

/** 16x16, 32 bpp: top row red, the rest green, alpha 128; an all-opaque AND mask. */
function dib32(): Buffer {
  const size = 16;
  const xor = Buffer.alloc(size * size * 4);
  for (let row = 0; row < size; row++) {
    const y = size - 1 - row; // rows are stored bottom-up
    for (let x = 0; x < size; x++)
      xor.set(y === 0 ? [0, 0, 255, 128] : [0, 255, 0, 128], (row * size + x) * 4);
  }
  return Buffer.concat([dibHeader(size, 32), xor, Buffer.alloc(size * 4)]);
}

/** 32x32, 4 bpp: palette index 1 (blue) everywhere; the AND mask makes the left half transparent. */
function dib4(): Buffer {
  const size = 32;
  const palette = Buffer.alloc(16 * 4);
  palette.set([255, 0, 0, 0], 4); // index 1: BGR blue
  const xor = Buffer.alloc((size / 2) * size, 0x11);
  const and = Buffer.alloc(4 * size);
  for (let row = 0; row < size; row++) and.writeUInt32BE(0xffff0000, row * 4);
  return Buffer.concat([dibHeader(size, 4), palette, xor, and]);
}

let root: string;
let exe: string;
const png48 = solidPng(48, [10, 20, 30, 255]);
beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'picon-windows-'));
  exe = join(root, 'app.exe');
  writeFileSync(
    exe,
    peFile([
      { type: RT_ICON, id: 1, data: dib32() },
      { type: RT_ICON, id: 2, data: png48 },
      { type: RT_ICON, id: 3, data: dib4() },
      {
        type: RT_GROUP_ICON,
        id: 1,
        data: groupIcon([
          { size: 16, bits: 32, bytes: dib32().length, id: 1 },
          { size: 48, bits: 32, bytes: png48.length, id: 2 },
          { size: 32, bits: 4, bytes: dib4().length, id: 3 },
        ]),
      },
    ]),
  );
  writeFileSync(join(root, 'noicons.exe'), peFile([{ type: 16, id: 1, data: Buffer.from('version info') }]));
  writeFileSync(join(root, 'cut.exe'), peFile([{ type: RT_ICON, id: 1, data: png48 }]).subarray(0, 0x210));
  writeFileSync(join(root, 'text.exe'), 'MZ but nothing else');
  // An MSIX package: the manifest names Square44x44Logo; the files carry scale qualifiers.
  const pkg = join(root, 'WindowsApps/Contoso.App_1.0.0.0_x64__abc');
  mkdirSync(join(pkg, 'Assets'), { recursive: true });
  mkdirSync(join(pkg, 'bin'), { recursive: true });
  writeFileSync(join(pkg, 'bin/Contoso.exe'), 'MZ');
  writeFileSync(
    join(pkg, 'AppxManifest.xml'),
    `<?xml version="1.0" encoding="utf-8"?>
<Package xmlns="http://schemas.microsoft.com/appx/manifest/foundation/windows10" xmlns:uap="http://schemas.microsoft.com/appx/manifest/uap/windows10">
  <Properties><DisplayName>Contoso</DisplayName><Logo>Assets\\StoreLogo.png</Logo></Properties>
  <Applications><Application Id="App" Executable="bin\\Contoso.exe">
    <uap:VisualElements DisplayName="Contoso" Square150x150Logo="Assets\\Square150x150Logo.png" Square44x44Logo="Assets\\Square44x44Logo.png" Description="x" BackgroundColor="transparent"/>
  </Application></Applications>
</Package>`,
  );
  writeFileSync(join(pkg, 'Assets/Square44x44Logo.scale-100.png'), solidPng(44));
  writeFileSync(join(pkg, 'Assets/Square44x44Logo.scale-200.png'), solidPng(88));
  writeFileSync(join(pkg, 'Assets/Square44x44Logo.targetsize-24.png'), solidPng(24));
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('Windows executables (pure TypeScript, run here)', () => {
  it('a PNG entry comes back byte for byte', () => {
    const r = new IconFinder().lookUp({ path: exe }, { size: 48 });
    expect(r.icon).toMatchObject({
      format: 'png',
      width: 48,
      height: 48,
      source: { kind: 'windows-pe', file: exe },
    });
    expect(r.icon!.data.equals(png48)).toBe(true);
  });

  it('a 32-bit DIB keeps its alpha and comes out top row first', () => {
    const r = new IconFinder().lookUp({ path: exe }, { size: 16 });
    const png = decodePng(r.icon!.data);
    expect([png.width, png.height]).toEqual([16, 16]);
    expect(png.pixel(5, 0)).toEqual([255, 0, 0, 128]);
    expect(png.pixel(5, 15)).toEqual([0, 255, 0, 128]);
  });

  it('a 4-bit DIB takes its palette and its AND mask as transparency', () => {
    const r = new IconFinder().lookUp({ path: exe }, { size: 32 });
    const png = decodePng(r.icon!.data);
    expect(png.width).toBe(32);
    expect(png.pixel(0, 0)).toEqual([0, 0, 255, 0]); // masked
    expect(png.pixel(31, 31)).toEqual([0, 0, 255, 255]);
  });

  it('the closest size: 20 -> 32, 100 -> the biggest (48)', () => {
    const finder = new IconFinder();
    expect(finder.lookUp({ path: exe }, { size: 20 }).icon?.width).toBe(32);
    expect(finder.lookUp({ path: exe }, { size: 100 }).icon?.width).toBe(48);
  });

  it('no icon resources, truncated and non-PE files give reasons', () => {
    const finder = new IconFinder();
    expect(finder.lookUp({ path: join(root, 'noicons.exe') })).toMatchObject({
      icon: undefined,
      reason: 'no-icon-resource',
    });
    expect(finder.lookUp({ path: join(root, 'cut.exe') })).toMatchObject({
      icon: undefined,
      reason: 'malformed',
    });
    expect(finder.lookUp({ path: join(root, 'text.exe') })).toMatchObject({
      icon: undefined,
      reason: 'malformed',
    });
    expect(finder.lookUp({ path: join(root, 'missing.exe') })).toMatchObject({
      icon: undefined,
      reason: 'unreadable',
    });
  });

  it('an MSIX app: the manifest logo, the qualified file closest to the size', () => {
    const finder = new IconFinder();
    const path = join(root, 'WindowsApps/Contoso.App_1.0.0.0_x64__abc/bin/Contoso.exe');
    const r = finder.lookUp({ path }, { size: 48 });
    expect(r.icon).toMatchObject({ format: 'png', width: 88, source: { kind: 'appx' } });
    expect(r.icon!.source.via).toMatch(/AppxManifest\.xml$/);
    expect(finder.lookUp({ path }, { size: 40 }).icon?.width).toBe(44);
    expect(finder.lookUp({ path }, { size: 16 }).icon?.width).toBe(24);
  });
});

describe('odd input never throws', () => {
  it.each(['', '/', '/dev/null', '/proc/self/status', 'C:\\Windows\\notepad.exe', '\u0000'])('%j', (path) => {
    const r = new IconFinder().lookUp({ path });
    expect(r.icon === undefined ? typeof r.reason : r.icon.format).toBeTruthy();
  });
});
