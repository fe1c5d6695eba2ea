/**
 * Icon resources of a Windows PE file (.exe, .dll), per the PE/COFF specification: DOS header
 * ("MZ", e_lfanew at 0x3C), "PE\0\0", COFF header (20 bytes), optional header (PE32 0x10b or PE32+
 * 0x20b; data directory 2 is the resource table), section headers (40 bytes each), then the
 * resource tree: type -> name -> language, each an IMAGE_RESOURCE_DIRECTORY (16 bytes, then 8-byte
 * entries whose high bit marks a subdirectory) ending in IMAGE_RESOURCE_DATA_ENTRY (RVA, size).
 * Pure; throws PeError on malformed input, never reads out of bounds, never loops forever.
 */
export class PeError extends Error {}

export const RT_ICON = 3;
export const RT_GROUP_ICON = 14;

interface Section {
  virtualAddress: number;
  virtualSize: number;
  rawPointer: number;
  rawSize: number;
}

export interface ResourceLeaf {
  type: number;
  id: number | string;
  language: number;
  data: Uint8Array;
}

export function readResources(file: Uint8Array, wantedTypes: readonly number[]): ResourceLeaf[] {
  const view = new DataView(file.buffer, file.byteOffset, file.byteLength);
  const u16 = (at: number) => {
    if (at < 0 || at + 2 > file.length) throw new PeError('read past the end of the file');
    return view.getUint16(at, true);
  };
  const u32 = (at: number) => {
    if (at < 0 || at + 4 > file.length) throw new PeError('read past the end of the file');
    return view.getUint32(at, true);
  };
  if (file.length < 64 || u16(0) !== 0x5a4d) throw new PeError('not a PE file (no MZ header)');
  const pe = u32(0x3c);
  if (u32(pe) !== 0x00004550) throw new PeError('not a PE file (no PE signature)');
  const coff = pe + 4;
  const sectionCount = u16(coff + 2);
  const optionalSize = u16(coff + 16);
  const optional = coff + 20;
  const magic = u16(optional);
  if (magic !== 0x10b && magic !== 0x20b)
    throw new PeError(`unknown optional header magic 0x${magic.toString(16)}`);
  const dirs = optional + (magic === 0x10b ? 96 : 112);
  const dirCount = u32(optional + (magic === 0x10b ? 92 : 108));
  if (dirCount <= 2) return [];
  const resourceRva = u32(dirs + 2 * 8);
  if (resourceRva === 0) return [];

  const sections: Section[] = [];
  const sectionTable = optional + optionalSize;
  for (let i = 0; i < Math.min(sectionCount, 96); i++) {
    const s = sectionTable + i * 40;
    sections.push({
      virtualSize: u32(s + 8),
      virtualAddress: u32(s + 12),
      rawSize: u32(s + 16),
      rawPointer: u32(s + 20),
    });
  }
  const offsetOf = (rva: number): number => {
    for (const s of sections) {
      const span = Math.max(s.virtualSize, s.rawSize);
      if (rva >= s.virtualAddress && rva < s.virtualAddress + span)
        return s.rawPointer + (rva - s.virtualAddress);
    }
    throw new PeError(`RVA 0x${rva.toString(16)} is in no section`);
  };
  const root = offsetOf(resourceRva);

  const entries = (dir: number): Array<{ id: number | string; target: number; isDir: boolean }> => {
    const named = u16(dir + 12);
    const ids = u16(dir + 14);
    if (named + ids > 4096) throw new PeError('resource directory too large');
    const out = [];
    for (let k = 0; k < named + ids; k++) {
      const e = dir + 16 + k * 8;
      const name = u32(e);
      const offset = u32(e + 4);
      out.push({
        id: name & 0x80000000 ? readName(root + (name & 0x7fffffff)) : name & 0xffff,
        target: root + (offset & 0x7fffffff),
        isDir: (offset & 0x80000000) !== 0,
      });
    }
    return out;
  };
  const readName = (at: number): string => {
    const length = u16(at);
    if (at + 2 + length * 2 > file.length) throw new PeError('resource name past the end');
    return Buffer.from(file.subarray(at + 2, at + 2 + length * 2)).toString('utf16le');
  };

  const out: ResourceLeaf[] = [];
  for (const type of entries(root)) {
    if (typeof type.id !== 'number' || !wantedTypes.includes(type.id) || !type.isDir) continue;
    for (const name of entries(type.target)) {
      if (!name.isDir) continue;
      for (const lang of entries(name.target)) {
        if (lang.isDir) continue; // a fourth level does not exist in valid files
        const rva = u32(lang.target);
        const size = u32(lang.target + 4);
        const at = offsetOf(rva);
        if (at + size > file.length) throw new PeError('resource data past the end of the file');
        out.push({
          type: type.id,
          id: name.id,
          language: typeof lang.id === 'number' ? lang.id : 0,
          data: file.subarray(at, at + size),
        });
      }
    }
  }
  return out;
}
