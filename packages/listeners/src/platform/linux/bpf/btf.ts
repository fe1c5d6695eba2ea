/**
 * Just enough of a BTF reader (the kernel's type information, /sys/kernel/btf/vmlinux) to find a
 * function's type id and the byte offsets of struct members on the running kernel. Format:
 * Documentation/bpf/btf.rst: a header, then type records, then a string section.
 */

const MAGIC = 0xeb9f;
const HEADER_SIZE = 24;

/**
 * A BTF blob to load (BPF_BTF_LOAD) or read: the header (magic, version 1, hdr_len, then the type
 * and string sections' offsets and lengths), the type records, the string section (which starts
 * with the empty name, a NUL).
 */
export function btfBlob(types: Buffer, strings: Buffer): Buffer {
  const header = Buffer.alloc(HEADER_SIZE);
  header.writeUInt16LE(MAGIC, 0);
  header[2] = 1; // version
  header.writeUInt32LE(HEADER_SIZE, 4); // hdr_len
  header.writeUInt32LE(0, 8); // type_off
  header.writeUInt32LE(types.length, 12);
  header.writeUInt32LE(types.length, 16); // str_off
  header.writeUInt32LE(strings.length, 20);
  return Buffer.concat([header, types, strings]);
}

// BTF_KIND_* (the kinds this reader looks at, or must skip the extra words of).
const KIND_INT = 1;
const KIND_PTR = 2;
const KIND_ARRAY = 3;
const KIND_STRUCT = 4;
const KIND_UNION = 5;
const KIND_ENUM = 6;
const KIND_FUNC = 12;
const KIND_FUNC_PROTO = 13;
const KIND_VAR = 14;
const KIND_DATASEC = 15;
const KIND_DECL_TAG = 17;
const KIND_ENUM64 = 19;
/** Typedefs and qualifiers stand for the type they name (the `type` field). */
const QUALIFIERS = new Set([8, 9, 10, 11, 18]); // TYPEDEF, VOLATILE, CONST, RESTRICT, TYPE_TAG

/** A function or struct being looked for. */
interface Wanted {
  key: string;
  kind: number;
  name: Buffer;
}

/**
 * Which kinds and first name bytes the wanted types have: two table lookups that rule out nearly
 * every type, leaving few to compare by name.
 */
interface CandidateFilter {
  /** Indexed by the top byte of the info word (kind, and the kind flag: both set for each kind). */
  kinds: Uint8Array;
  firstBytes: Uint8Array;
  strings: Uint8Array;
  stringsOff: number;
}

function candidateFilter(wanted: Wanted[], strings: Uint8Array, stringsOff: number): CandidateFilter {
  const kinds = new Uint8Array(256);
  const firstBytes = new Uint8Array(256);
  for (const { kind, name } of wanted) {
    kinds[kind] = 1;
    kinds[kind | 0x80] = 1;
    firstBytes[name[0] ?? 0] = 1;
  }
  return { kinds, firstBytes, strings, stringsOff };
}

/** Names to find while the types are indexed (see the Btf constructor). */
export interface BtfLookUp {
  funcs?: string[];
  structs?: string[];
}

/**
 * The types of a BTF blob, indexed once: where each type's record starts, in a typed array; names
 * stay offsets into the string section, so reading vmlinux's ~130,000 types makes no strings.
 */
export class Btf {
  private readonly view: DataView;
  /** The type section as 32-bit words (BTF is in the machine's byte order, records 4-aligned). */
  private readonly words: Uint32Array;
  /** Where type section starts in `data` (bytes). */
  private readonly typeOff: number;
  private readonly strOff: number;
  private readonly strLen: number;
  /** Per type id (0 is void): the word of `words` where its record starts. */
  private readonly at: Int32Array;
  private readonly count: number;
  /** Lookups made ("kind name" -> id, -1 when absent). */
  private readonly found = new Map<string, number>();

  /**
   * Indexes `data`, finding the functions and structs of `lookUp` in the same pass: the pass runs
   * once per process over every type, before the JIT has optimised it, so a second pass for the
   * names would cost as much again.
   */
  constructor(
    private readonly data: Uint8Array,
    lookUp: BtfLookUp = {},
  ) {
    this.view = new DataView(data.buffer, data.byteOffset, data.byteLength);
    if (data.length < 24 || this.view.getUint16(0, true) !== MAGIC) throw new Error('not BTF data');
    const hdrLen = this.view.getUint32(4, true);
    const typeOff = hdrLen + this.view.getUint32(8, true);
    const typeLen = this.view.getUint32(12, true);
    this.strOff = hdrLen + this.view.getUint32(16, true);
    this.strLen = this.view.getUint32(20, true);
    if (typeOff + typeLen > data.length || this.strOff + this.strLen > data.length) {
      throw new Error('truncated BTF data');
    }
    this.typeOff = typeOff;
    const start = data.byteOffset + typeOff;
    const length = Math.floor(typeLen / 4);
    const words =
      start % 4 === 0
        ? new Uint32Array(data.buffer, start, length)
        : new Uint32Array(data.slice(typeOff, typeOff + length * 4).buffer);
    this.words = words;
    const wanted = this.pending([
      ...(lookUp.funcs ?? []).map((name) => [name, KIND_FUNC] as const),
      ...(lookUp.structs ?? []).map((name) => [name, KIND_STRUCT] as const),
    ]);
    // Every record is at least 12 bytes: that bounds the number of types.
    const at = new Int32Array(Math.floor(typeLen / 12) + 1);
    this.at = at;
    this.count = indexTypes(words, at, candidateFilter(wanted, data, this.strOff), (id, info, name) =>
      this.match(wanted, id, info, name),
    );
  }

  /** The id of the type named `name` of kind `kind` (BTF_KIND_*), or -1. */
  find(name: string, kind: number): number {
    const key = `${kind} ${name}`;
    const wanted = this.pending([[name, kind]]);
    for (let id = 1; id < this.count && wanted.length > 0 && this.found.get(key) === -1; id++) {
      this.match(wanted, id, this.info(id), this.words[this.at[id]!]!);
    }
    return this.found.get(key)!;
  }

  /** The (name, kind) pairs not looked up yet, each marked absent until a type claims it. */
  private pending(names: (readonly [string, number])[]): Wanted[] {
    const out: Wanted[] = [];
    for (const [name, kind] of names) {
      const key = `${kind} ${name}`;
      if (this.found.has(key)) continue;
      this.found.set(key, -1);
      out.push({ key, kind, name: Buffer.from(name, 'latin1') });
    }
    return out;
  }

  /** Records type `id` (its info word and name offset given) as the answer to the wanted it matches. */
  private match(wanted: Wanted[], id: number, info: number, nameOff: number): void {
    const kind = (info >>> 24) & 0x1f;
    for (const entry of wanted) {
      if (entry.kind === kind && this.found.get(entry.key) === -1 && this.nameIs(nameOff, entry.name)) {
        this.found.set(entry.key, id);
      }
    }
  }

  /** The info word of type `id` (kind, vlen, kind flag); 0 (no kind) for void or an id out of range. */
  private info(id: number): number {
    return id > 0 && id < this.count ? this.words[this.at[id]! + 1]! : 0;
  }

  /** The byte offset in `data` of word `w` of record `id`. */
  private byteAt(id: number, w: number): number {
    return this.typeOff + (this.at[id]! + w) * 4;
  }

  /** The id of the FUNC named `name`, or -1. */
  findFunc(name: string): number {
    return this.find(name, KIND_FUNC);
  }

  /**
   * How many parameters the function `name` takes (from its FUNC_PROTO), or -1 when it is not in
   * the BTF: an fexit program finds the return value in its context after the arguments.
   */
  funcParams(name: string): number {
    const id = this.findFunc(name);
    if (id < 0) return -1;
    const proto = this.words[this.at[id]! + 2]!;
    const info = this.info(proto);
    return ((info >>> 24) & 0x1f) === KIND_FUNC_PROTO ? info & 0xffff : -1;
  }

  /**
   * The byte offset of member `member` in struct `struct`, looking into anonymous structs and
   * unions; -1 when there is no such struct or member, or the member is a bitfield.
   */
  memberOffset(struct: string, member: string): number {
    return this.member(struct, member)?.offset ?? -1;
  }

  /** The size in bytes of member `member` of struct `struct` (as memberOffset finds it), or -1. */
  memberSize(struct: string, member: string): number {
    const found = this.member(struct, member);
    return found ? this.sizeOf(this.resolve(found.type)) : -1;
  }

  /**
   * The offset in bits of member `member` of struct `struct`, a bitfield or not, and its width in
   * bits (0: not a bitfield); undefined when there is no such struct or member.
   */
  memberBits(struct: string, member: string): { bit: number; width: number } | undefined {
    const found = this.find(struct, KIND_STRUCT);
    const m = found < 0 ? undefined : this.memberIn(found, Buffer.from(member, 'latin1'), 0);
    return m && { bit: m.bit, width: m.width };
  }

  private member(struct: string, member: string): { offset: number; type: number } | undefined {
    const id = this.find(struct, KIND_STRUCT);
    const m = id < 0 ? undefined : this.memberIn(id, Buffer.from(member, 'latin1'), 0);
    if (m?.width !== 0 || m.bit % 8 !== 0) return undefined; // a bitfield has no byte offset
    return { offset: m.bit / 8, type: m.type };
  }

  /** Member `member` of struct or union `id`, whose start is `base` bits in: its bit offset, bitfield width and type. */
  private memberIn(
    id: number,
    member: Buffer,
    base: number,
  ): { bit: number; width: number; type: number } | undefined {
    const info = this.info(id);
    const kind = (info >>> 24) & 0x1f;
    if (kind !== KIND_STRUCT && kind !== KIND_UNION) return undefined;
    const kindFlag = info >>> 31 === 1;
    const vlen = info & 0xffff;
    for (let i = 0; i < vlen; i++) {
      const m = this.byteAt(id, 3 + i * 3);
      const nameOff = this.view.getUint32(m, true);
      const type = this.view.getUint32(m + 4, true);
      const raw = this.view.getUint32(m + 8, true);
      const bitfieldSize = kindFlag ? raw >>> 24 : 0;
      const bits = kindFlag ? raw & 0xffffff : raw;
      if (nameOff !== 0 && this.nameIs(nameOff, member))
        return { bit: base + bits, width: bitfieldSize, type };
      if (nameOff === 0) {
        const inner = this.memberIn(this.resolve(type), member, base + bits);
        if (inner) return inner;
      }
    }
    return undefined;
  }

  /** Bytes of type `id` (resolved): ints, enums, structs and unions say it, arrays multiply it. */
  private sizeOf(id: number): number {
    const at = this.at[id]!;
    switch ((this.info(id) >>> 24) & 0x1f) {
      case KIND_INT:
      case KIND_STRUCT:
      case KIND_UNION:
      case KIND_ENUM:
      case KIND_ENUM64:
        return this.words[at + 2]!;
      case KIND_PTR:
        return 8;
      case KIND_ARRAY: {
        // struct btf_array { type; index_type; nelems } after the record.
        const element = this.sizeOf(this.resolve(this.words[at + 3]!));
        return element < 0 ? -1 : element * this.words[at + 5]!;
      }
      default:
        return -1;
    }
  }

  /** Follows typedefs and qualifiers (not pointers) to the underlying type id. */
  private resolve(id: number): number {
    for (let guard = 0; guard < 32 && id > 0 && id < this.count; guard++) {
      if (!QUALIFIERS.has((this.info(id) >>> 24) & 0x1f)) return id;
      id = this.words[this.at[id]! + 2]!;
    }
    return id;
  }

  /** Whether the NUL-terminated string at `offset` of the string section is `wanted`. */
  private nameIs(offset: number, wanted: Buffer): boolean {
    if (offset + wanted.length >= this.strLen) return false;
    const start = this.strOff + offset;
    for (let i = 0; i < wanted.length; i++) if (this.data[start + i] !== wanted[i]) return false;
    return this.data[start + wanted.length] === 0;
  }
}

/**
 * Fills `at` with where each type's record starts in `words`, calls `visit` for the types that
 * pass `filter` and returns the number of type ids (void included). A small function of its own:
 * the loop runs once, mostly before the JIT has compiled it, and a small function is compiled
 * (on-stack) sooner; it makes no call for the types the filter rules out.
 */
function indexTypes(
  words: Uint32Array,
  at: Int32Array,
  filter: CandidateFilter,
  visit: (id: number, info: number, nameOff: number) => void,
): number {
  const { kinds, firstBytes, strings, stringsOff } = filter;
  let id = 1;
  for (let w = 0; w + 3 <= words.length; id++) {
    const name = words[w]!;
    const info = words[w + 1]!;
    at[id] = w;
    if (kinds[info >>> 24] && firstBytes[strings[stringsOff + name]!]) visit(id, info, name);
    w += 3 + extraWords((info >>> 24) & 0x1f, info & 0xffff);
  }
  return id;
}

/** How many 4-byte words follow a type record of `kind` with `vlen` entries. */
function extraWords(kind: number, vlen: number): number {
  switch (kind) {
    case KIND_INT:
    case KIND_VAR:
    case KIND_DECL_TAG:
      return 1;
    case KIND_ARRAY:
      return 3;
    case KIND_STRUCT:
    case KIND_UNION:
    case KIND_DATASEC:
    case KIND_ENUM64:
      return 3 * vlen;
    case KIND_ENUM:
    case KIND_FUNC_PROTO:
      return 2 * vlen;
    default:
      return 0;
  }
}
