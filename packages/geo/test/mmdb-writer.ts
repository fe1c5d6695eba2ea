/**
 * A minimal MMDB writer for tests (MaxMind DB format 2.0, https://maxmind.github.io/MaxMind-DB/):
 * an IPv4 search tree with 24-bit records, and a data section of maps, strings and unsigned
 * integers. Enough to lay out a file the way GeoLite2 or IPinfo do and read it back with mmdb-lib.
 */
type Value = string | number | Value[] | { [key: string]: Value };

export function writeMmdb(
  databaseType: string,
  networks: Array<{ prefix: string; bits: number; record: { [key: string]: Value } }>,
): Buffer {
  // The data section: one encoded record per network.
  const data: Buffer[] = [];
  let dataLength = 0;
  const offsets = networks.map((n) => {
    const at = dataLength;
    const bytes = encode(n.record);
    data.push(bytes);
    dataLength += bytes.length;
    return at;
  });
  // The tree: a binary trie over the prefixes' bits.
  interface Node {
    child: Array<Node | number | undefined>; // a node, a data offset, or nothing
  }
  const root: Node = { child: [undefined, undefined] };
  networks.forEach((n, i) => {
    const ip = n.prefix.split('.').reduce((a, p) => a * 256 + Number(p), 0);
    let node = root;
    for (let bit = 0; bit < n.bits; bit++) {
      const side = (ip >>> (31 - bit)) & 1;
      if (bit === n.bits - 1) node.child[side] = offsets[i]!;
      else {
        let next = node.child[side];
        if (typeof next !== 'object') {
          next = { child: [undefined, undefined] };
          node.child[side] = next;
        }
        node = next;
      }
    }
  });
  const nodes: Node[] = [];
  const queue = [root];
  while (queue.length > 0) {
    const node = queue.shift()!;
    nodes.push(node);
    for (const c of node.child) if (typeof c === 'object') queue.push(c);
  }
  const count = nodes.length;
  const tree = Buffer.alloc(count * 6);
  nodes.forEach((node, i) => {
    node.child.forEach((c, side) => {
      const value = c === undefined ? count : typeof c === 'number' ? count + 16 + c : nodes.indexOf(c);
      tree.writeUIntBE(value, i * 6 + side * 3, 3);
    });
  });
  const metadata = encode({
    node_count: count,
    record_size: 24,
    ip_version: 4,
    database_type: databaseType,
    languages: ['en'],
    binary_format_major_version: 2,
    binary_format_minor_version: 0,
    build_epoch: 1_700_000_000,
    description: { en: 'netwho test database' },
  });
  return Buffer.concat([
    tree,
    Buffer.alloc(16),
    ...data,
    Buffer.from([0xab, 0xcd, 0xef]),
    Buffer.from('MaxMind.com'),
    metadata,
  ]);
}

function control(type: number, size: number): Buffer {
  if (size >= 29 + 256) throw new Error('test writer: sizes under 285 only');
  // Sizes 29..284 are 29 in the control byte and size - 29 in the next (the spec's "Payload Size").
  const head = size < 29 ? [size] : [29];
  const extra = size < 29 ? [] : [size - 29];
  return Buffer.from(type <= 7 ? [(type << 5) | head[0]!, ...extra] : [head[0]!, type - 7, ...extra]);
}

function encode(value: Value): Buffer {
  if (typeof value === 'string') {
    const bytes = Buffer.from(value, 'utf8');
    return Buffer.concat([control(2, bytes.length), bytes]);
  }
  if (typeof value === 'number') {
    const bytes: number[] = [];
    for (let v = value; v > 0; v = Math.floor(v / 256)) bytes.unshift(v % 256);
    return Buffer.concat([control(6, bytes.length), Buffer.from(bytes)]); // uint32
  }
  if (Array.isArray(value)) return Buffer.concat([control(11, value.length), ...value.map(encode)]);
  const entries = Object.entries(value);
  return Buffer.concat([control(7, entries.length), ...entries.flatMap(([k, v]) => [encode(k), encode(v)])]);
}
