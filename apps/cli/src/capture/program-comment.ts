import type { CgroupInfo, ContainerRef } from '@netwho/listeners';

/**
 * The program part of the pcapng packet comment (`opt_comment`, pcapng §4.3) that `netwho capture`
 * writes and `netwho read` reads: `key=value` pairs separated by single spaces, for the flow's
 * local end, then with a `peer_` prefix for its remote end when that is a program here too:
 *
 *   pid=… name=… path=… [unit=… [unit_user=…]] [container=RUNTIME:ID [container_name=…]] [pod=UID pod_qos=…]
 *
 * A value runs to the next known key, so a program name or path with spaces reads back whole.
 */
export interface CommentEnd {
  pid: number;
  name: string;
  path?: string;
  cgroup?: Pick<CgroupInfo, 'unit' | 'user' | 'container' | 'pod'>;
}

const END_KEYS = [
  'pid',
  'name',
  'path',
  'unit',
  'unit_user',
  'container',
  'container_name',
  'pod',
  'pod_qos',
];
/** What follows the programs in the comment (the remote end as far as it is known). */
const REMOTE_KEYS = ['remote_name', 'remote_name_source', 'country', 'asn'];
const KEYS = new Set([...END_KEYS, ...END_KEYS.map((k) => `peer_${k}`), ...REMOTE_KEYS]);
const RUNTIMES: ReadonlySet<string> = new Set<ContainerRef['runtime']>([
  'docker',
  'containerd',
  'cri-o',
  'podman',
]);

/** One end's pairs, `prefix` before each key (`peer_` for the remote end). */
export function formatEnd(end: CommentEnd, prefix = ''): string {
  const parts = [`${prefix}pid=${end.pid}`, `${prefix}name=${end.name}`, `${prefix}path=${end.path ?? ''}`];
  const cg = end.cgroup;
  if (cg?.unit) {
    parts.push(`${prefix}unit=${cg.unit}`);
    if (cg.user !== undefined) parts.push(`${prefix}unit_user=${cg.user}`);
  }
  if (cg?.container) {
    parts.push(`${prefix}container=${cg.container.runtime}:${cg.container.id}`);
    if (cg.container.name) parts.push(`${prefix}container_name=${cg.container.name}`);
  }
  if (cg?.pod) parts.push(`${prefix}pod=${cg.pod.uid}`, `${prefix}pod_qos=${cg.pod.qos}`);
  return parts.join(' ');
}

/** The comment's pairs, each value up to the next ` key=` of a key netwho writes. */
export function commentPairs(text: string): Map<string, string> {
  const pairs = new Map<string, string>();
  let key: string | undefined;
  let from = 0;
  const keyAt = /(^| )([a-z_]+)=/g;
  for (let m = keyAt.exec(text); m; m = keyAt.exec(text)) {
    if (!KEYS.has(m[2]!)) continue; // a space and `word=` inside a value
    if (key !== undefined) pairs.set(key, text.slice(from, m.index));
    key = m[2]!;
    from = m.index + m[0].length;
  }
  if (key !== undefined) pairs.set(key, text.slice(from));
  return pairs;
}

/** The local end and the peer a comment names; an end without a numeric pid and a name is left out. */
export function parseProgramComment(text: string): { local?: CommentEnd; peer?: CommentEnd } {
  const pairs = commentPairs(text);
  const local = endOf(pairs, '');
  const peer = endOf(pairs, 'peer_');
  return { ...(local && { local }), ...(peer && { peer }) };
}

function endOf(pairs: Map<string, string>, prefix: string): CommentEnd | undefined {
  const get = (key: string) => pairs.get(prefix + key);
  const pid = Number(get('pid'));
  const name = get('name');
  if (!Number.isInteger(pid) || pid <= 0 || !name) return undefined;
  const end: CommentEnd = { pid, name, ...(get('path') && { path: get('path') }) };
  const cgroup: NonNullable<CommentEnd['cgroup']> = {};
  const unit = get('unit');
  if (unit) {
    cgroup.unit = unit;
    const user = Number(get('unit_user'));
    if (get('unit_user') !== undefined && Number.isInteger(user) && user >= 0) cgroup.user = user;
  }
  const container = /^([a-z-]+):([0-9a-f]{64})$/.exec(get('container') ?? '');
  if (container && RUNTIMES.has(container[1]!)) {
    const name = get('container_name');
    cgroup.container = {
      runtime: container[1] as ContainerRef['runtime'],
      id: container[2]!,
      ...(name && { name }),
    };
  }
  const pod = get('pod');
  const qos = get('pod_qos');
  if (
    pod &&
    /^[0-9a-f-]{36}$/.test(pod) &&
    (qos === 'guaranteed' || qos === 'burstable' || qos === 'besteffort')
  )
    cgroup.pod = { uid: pod, qos };
  if (Object.keys(cgroup).length > 0) end.cgroup = cgroup;
  return end;
}
