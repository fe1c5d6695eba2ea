/**
 * Just enough of a BTF reader (the kernel's type information, /sys/kernel/btf/vmlinux) to find a
 * function's type id and the byte offsets of struct members on the running kernel. Format:
 * Documentation/bpf/btf.rst: a header, then type records, then a string section.
 */

const MAGIC = 0xeb9f;

// BTF_KIND_*: how many extra bytes follow each type record.
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

/**
 * The types of a BTF blob, indexed on first use: a record per type (kind, vlen, kind flag, size or
 * referenced type, where its members start) in typed arrays, and names left as offsets into the
 * string section until a lookup compares them, so reading vmlinux's ~100,000 types makes no strings.
 */
export class Btf {
  private readonly view: DataView;
  private readonly strOff: number;
  private readonly strLen: number;
  /** Per type id (0 is void): where its record starts, and its info word. */
  private readonly at: Int32Array;
  private readonly info: Uint32Array;
  private readonly count: number;

  constructor(private readonly data: Uint8Array) {
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
    // Every record is at least 12 bytes: that bounds the number of types.
    this.at = new Int32Array(Math.floor(typeLen / 12) + 1);
    this.info = new Uint32Array(this.at.length);
    let id = 1;
    for (let at = typeOff; at + 12 <= typeOff + typeLen; id++) {
      const info = this.view.getUint32(at + 4, true);
      this.at[id] = at;
      this.info[id] = info;
      at += 12 + extraBytes((info >>> 24) & 0x1f, info & 0xffff);
    }
    this.count = id;
  }

  /** The id of the type named `name` of kind `kind` (BTF_KIND_*), or -1. */
  find(name: string, kind: number): number {
    const wanted = Buffer.from(name, 'latin1');
    for (let id = 1; id < this.count; id++) {
      if (
        ((this.info[id]! >>> 24) & 0x1f) === kind &&
        this.nameIs(this.view.getUint32(this.at[id]!, true), wanted)
      ) {
        return id;
      }
    }
    return -1;
  }

  /** The id of the FUNC named `name`, or -1. */
  findFunc(name: string): number {
    return this.find(name, KIND_FUNC);
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

  private member(struct: string, member: string): { offset: number; type: number } | undefined {
    const id = this.find(struct, KIND_STRUCT);
    return id < 0 ? undefined : this.memberIn(id, Buffer.from(member, 'latin1'), 0);
  }

  private memberIn(id: number, member: Buffer, base: number): { offset: number; type: number } | undefined {
    const kind = (this.info[id]! >>> 24) & 0x1f;
    if (kind !== KIND_STRUCT && kind !== KIND_UNION) return undefined;
    const kindFlag = this.info[id]! >>> 31 === 1;
    const vlen = this.info[id]! & 0xffff;
    for (let i = 0; i < vlen; i++) {
      const m = this.at[id]! + 12 + i * 12;
      const nameOff = this.view.getUint32(m, true);
      const type = this.view.getUint32(m + 4, true);
      const raw = this.view.getUint32(m + 8, true);
      const bitfieldSize = kindFlag ? raw >>> 24 : 0;
      const bits = kindFlag ? raw & 0xffffff : raw;
      if (nameOff !== 0 && this.nameIs(nameOff, member)) {
        return bitfieldSize !== 0 || bits % 8 !== 0 ? undefined : { offset: base + bits / 8, type };
      }
      if (nameOff === 0) {
        const inner = this.memberIn(this.resolve(type), member, base + bits / 8);
        if (inner) return inner;
      }
    }
    return undefined;
  }

  /** Bytes of type `id` (resolved): ints, enums, structs and unions say it, arrays multiply it. */
  private sizeOf(id: number): number {
    const kind = (this.info[id]! >>> 24) & 0x1f;
    const at = this.at[id]!;
    switch (kind) {
      case KIND_INT:
      case KIND_STRUCT:
      case KIND_UNION:
      case KIND_ENUM:
      case KIND_ENUM64:
        return this.view.getUint32(at + 8, true);
      case KIND_PTR:
        return 8;
      case KIND_ARRAY: {
        const element = this.sizeOf(this.resolve(this.view.getUint32(at + 12, true)));
        return element < 0 ? -1 : element * this.view.getUint32(at + 20, true);
      }
      default:
        return -1;
    }
  }

  /** Follows typedefs and qualifiers (not pointers) to the underlying type id. */
  private resolve(id: number): number {
    for (let guard = 0; guard < 32 && id > 0 && id < this.count; guard++) {
      const kind = (this.info[id]! >>> 24) & 0x1f;
      if (!QUALIFIERS.has(kind)) return id;
      id = this.view.getUint32(this.at[id]! + 8, true);
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

function extraBytes(kind: number, vlen: number): number {
  switch (kind) {
    case KIND_INT:
    case KIND_VAR:
    case KIND_DECL_TAG:
      return 4;
    case KIND_ARRAY:
      return 12;
    case KIND_STRUCT:
    case KIND_UNION:
    case KIND_DATASEC:
    case KIND_ENUM64:
      return 12 * vlen;
    case KIND_ENUM:
    case KIND_FUNC_PROTO:
      return 8 * vlen;
    default:
      return 0;
  }
}
