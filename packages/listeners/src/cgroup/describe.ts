/**
 * What a process's control group says about it: the systemd unit, the container and the
 * Kubernetes pod it belongs to. Pure: it reads names only, as systemd and the runtimes make them
 * (systemd.unit(5) and systemd.slice(5); Docker, containerd, CRI-O and Podman with the systemd or
 * cgroupfs driver; the kubelet's kubepods hierarchy).
 */
export interface CgroupInfo {
  /** The cgroup path, as /proc/PID/cgroup gives it (`/system.slice/nginx.service`). */
  path: string;
  /** The systemd unit: a system unit, or a user's unit when `user` is set. */
  unit?: string;
  /** The uid whose user manager (user@UID.service) runs the unit. */
  user?: number;
  /** The slice the unit is in (`system.slice`, `app.slice`, `kubepods-burstable.slice`). */
  slice?: string;
  container?: ContainerRef;
  pod?: PodRef;
}

export interface ContainerRef {
  runtime: 'docker' | 'containerd' | 'cri-o' | 'podman';
  /** The full id (64 hex digits). */
  id: string;
  /** The container's name, where the runtime's files give it (see containerName). */
  name?: string;
}

export interface PodRef {
  /** The pod's uid, with dashes (`kubepods-pod1234_5678.slice` names it with underscores). */
  uid: string;
  /** The pod's QoS class, from its slice: guaranteed, burstable or besteffort. */
  qos: 'guaranteed' | 'burstable' | 'besteffort';
}

const ID = '[0-9a-f]{64}';
/** Scope names of the runtimes under the systemd cgroup driver, and their directories under cgroupfs. */
const SCOPES: Array<[RegExp, ContainerRef['runtime']]> = [
  [new RegExp(`^docker-(${ID})\\.scope$`), 'docker'],
  [new RegExp(`^cri-containerd-(${ID})\\.scope$`), 'containerd'],
  [new RegExp(`^crio-(${ID})\\.scope$`), 'cri-o'],
  [new RegExp(`^libpod-(${ID})\\.scope$`), 'podman'],
];
const CGROUPFS_PARENTS: Record<string, ContainerRef['runtime']> = {
  docker: 'docker',
  libpod_parent: 'podman',
};
const POD_SLICE = /^kubepods(?:-(burstable|besteffort))?-pod([0-9a-f_]{36})\.slice$/;
const POD_DIR = /^pod([0-9a-f-]{36})$/;
const UNIT = /\.(service|scope|socket|mount|swap|target|timer|device|automount|path)$/;
const USER_MANAGER = /^user@(\d+)\.service$/;

/** Reads a cgroup path's meaning from its components. */
export function describeCgroup(path: string): CgroupInfo {
  const info: CgroupInfo = { path };
  const parts = path.split('/').filter((p) => p !== '');
  let qos: PodRef['qos'] | undefined;
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i]!;
    const manager = USER_MANAGER.exec(part);
    if (manager) {
      info.user = Number(manager[1]);
      delete info.unit;
      delete info.slice;
      continue;
    }
    if (part === 'kubepods' || part === 'kubepods.slice') qos ??= 'guaranteed';
    if (part === 'burstable' || part === 'kubepods-burstable.slice') qos = 'burstable';
    if (part === 'besteffort' || part === 'kubepods-besteffort.slice') qos = 'besteffort';
    const podSlice = POD_SLICE.exec(part);
    const podDir = qos ? POD_DIR.exec(part) : null;
    if (podSlice)
      info.pod = {
        uid: podSlice[2]!.replaceAll('_', '-'),
        qos: (podSlice[1] as PodRef['qos']) ?? 'guaranteed',
      };
    else if (podDir) info.pod = { uid: podDir[1]!, qos: qos! };
    const container = containerOf(part, parts[i - 1]);
    if (container) info.container = container;
    if (part.endsWith('.slice')) {
      info.slice = part;
      delete info.unit;
    } else if (UNIT.test(part) && !container && !info.unit) info.unit = part;
  }
  if (info.container && !info.unit) {
    // The container's own scope is the unit systemd knows it by.
    const scope = parts.find((p) => p.endsWith('.scope') && p.includes(info.container!.id));
    if (scope) info.unit = scope;
  }
  return info;
}

function containerOf(part: string, parent: string | undefined): ContainerRef | undefined {
  for (const [pattern, runtime] of SCOPES) {
    const m = pattern.exec(part);
    if (m) return { runtime, id: m[1]! };
  }
  if (new RegExp(`^${ID}$`).test(part)) {
    const runtime = parent ? CGROUPFS_PARENTS[parent] : undefined;
    if (runtime) return { runtime, id: part };
    // kubelet with the cgroupfs driver: /kubepods/<qos>/pod<uid>/<container id>; the runtime is not named.
    if (parent && POD_DIR.test(parent)) return { runtime: 'containerd', id: part };
  }
  return undefined;
}

/**
 * The cgroup path of a /proc/PID/cgroup text: the unified (v2) hierarchy's line `0::PATH` when it
 * names a group, else systemd's own v1 hierarchy (`N:name=systemd:PATH`), as on hybrid systems.
 */
export function cgroupPathOf(procCgroup: string): string | undefined {
  let v1: string | undefined;
  for (const line of procCgroup.split('\n')) {
    const first = line.indexOf(':');
    const second = line.indexOf(':', first + 1);
    if (first < 0 || second < 0) continue;
    const id = line.slice(0, first);
    const controllers = line.slice(first + 1, second);
    const path = line.slice(second + 1);
    if (id === '0' && controllers === '' && path !== '/') return path;
    if (controllers === 'name=systemd') v1 = path;
  }
  return v1;
}

/**
 * A short name for where a process runs, for a table column: the pod and container, else the
 * container, else the systemd unit (user units with their uid); undefined when none applies.
 */
export function cgroupLabel(info: CgroupInfo | undefined): string | undefined {
  if (!info) return undefined;
  const container =
    info.container && (info.container.name ?? `${info.container.runtime}:${info.container.id.slice(0, 12)}`);
  if (info.pod) return `pod ${info.pod.uid.slice(0, 8)}${container ? ` ${container}` : ''}`;
  if (container) return container;
  if (info.unit) return info.user !== undefined ? `${info.unit} (user ${info.user})` : info.unit;
  return undefined;
}
