import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdirSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cgroupLabel, cgroupPathOf, describeCgroup, getAllSync, processCgroup } from '../src/index';

const DOCKER_ID = `${'a'.repeat(40)}0123456789abcdef01234567`;
const POD = '3f9e2c1a-5b7d-4e8f-9a0b-1c2d3e4f5a6b';

describe('cgroup paths, as systemd and the runtimes name them', () => {
  it('a system unit, and a user unit under user@UID.service', () => {
    expect(describeCgroup('/system.slice/nginx.service')).toEqual({
      path: '/system.slice/nginx.service',
      slice: 'system.slice',
      unit: 'nginx.service',
    });
    expect(
      describeCgroup('/user.slice/user-1000.slice/user@1000.service/app.slice/app-firefox-1234.scope'),
    ).toMatchObject({
      user: 1000,
      slice: 'app.slice',
      unit: 'app-firefox-1234.scope',
    });
    expect(describeCgroup('/user.slice/user-1000.slice/session-2.scope')).toMatchObject({
      unit: 'session-2.scope',
    });
    expect(describeCgroup('/')).toEqual({ path: '/' });
  });

  it('containers: Docker, containerd, CRI-O and Podman scopes, and cgroupfs directories', () => {
    expect(describeCgroup(`/system.slice/docker-${DOCKER_ID}.scope`)).toMatchObject({
      container: { runtime: 'docker', id: DOCKER_ID },
      unit: `docker-${DOCKER_ID}.scope`,
    });
    expect(describeCgroup(`/machine.slice/libpod-${DOCKER_ID}.scope/container`).container).toEqual({
      runtime: 'podman',
      id: DOCKER_ID,
    });
    expect(describeCgroup(`/docker/${DOCKER_ID}`).container).toEqual({ runtime: 'docker', id: DOCKER_ID });
    expect(describeCgroup(`/system.slice/crio-${DOCKER_ID}.scope`).container?.runtime).toBe('cri-o');
  });

  it('Kubernetes pods: uid and QoS class, systemd and cgroupfs drivers', () => {
    const pod = POD.replaceAll('-', '_');
    const systemd = describeCgroup(
      `/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod${pod}.slice/cri-containerd-${DOCKER_ID}.scope`,
    );
    expect(systemd).toMatchObject({
      pod: { uid: POD, qos: 'burstable' },
      container: { runtime: 'containerd', id: DOCKER_ID },
      slice: `kubepods-burstable-pod${pod}.slice`,
    });
    expect(describeCgroup(`/kubepods.slice/kubepods-pod${pod}.slice/crio-${DOCKER_ID}.scope`).pod).toEqual({
      uid: POD,
      qos: 'guaranteed',
    });
    const cgroupfs = describeCgroup(`/kubepods/besteffort/pod${POD}/${DOCKER_ID}`);
    expect(cgroupfs).toMatchObject({ pod: { uid: POD, qos: 'besteffort' }, container: { id: DOCKER_ID } });
  });

  it('a short label for a table column: pod and container, container, or unit', () => {
    const pod = POD.replaceAll('-', '_');
    expect(
      cgroupLabel(
        describeCgroup(`/kubepods.slice/kubepods-pod${pod}.slice/cri-containerd-${DOCKER_ID}.scope`),
      ),
    ).toBe(`pod ${POD.slice(0, 8)} containerd:${DOCKER_ID.slice(0, 12)}`);
    expect(
      cgroupLabel({
        ...describeCgroup(`/system.slice/docker-${DOCKER_ID}.scope`),
        container: { runtime: 'docker', id: DOCKER_ID, name: 'web-1' },
      }),
    ).toBe('web-1');
    expect(
      cgroupLabel(describeCgroup('/user.slice/user-1000.slice/user@1000.service/app.slice/x.service')),
    ).toBe('x.service (user 1000)');
    expect(cgroupLabel(describeCgroup('/'))).toBeUndefined();
  });

  it('reads the unified hierarchy first, systemd’s v1 hierarchy on hybrid systems without one', () => {
    expect(
      cgroupPathOf('12:memory:/x\n1:name=systemd:/system.slice/a.service\n0::/system.slice/b.service\n'),
    ).toBe('/system.slice/b.service');
    expect(cgroupPathOf('1:name=systemd:/system.slice/a.service\n0::/\n')).toBe('/system.slice/a.service');
    expect(cgroupPathOf('garbage')).toBeUndefined();
  });
});

/** Where a test may make cgroup v2 groups: the unified hierarchy (pure v2, or hybrid's "unified"). */
const V2 = ['/sys/fs/cgroup/unified', '/sys/fs/cgroup'].find((d) => existsSync(join(d, 'cgroup.procs')));
const canMakeGroups = process.platform === 'linux' && process.getuid?.() === 0 && V2 !== undefined;

describe.runIf(canMakeGroups)(
  'real processes in real cgroups named as systemd and the runtimes name them',
  () => {
    const made: string[] = [];
    const children: ChildProcess[] = [];
    afterAll(() => {
      for (const child of children) {
        if (child.pid) writeFileSync(join(V2!, 'cgroup.procs'), String(child.pid)); // back to the root group
        child.kill();
      }
      for (const dir of made.reverse()) if (existsSync(dir)) rmdirSync(dir);
    });

    /** A sleeping process moved into the group at `path` (made for the test, removed after). */
    function inGroup(path: string): number {
      let dir = V2!;
      for (const part of path.split('/').filter(Boolean)) {
        dir = join(dir, part);
        if (!existsSync(dir)) {
          mkdirSync(dir);
          made.push(dir);
        }
      }
      const child = spawn('sleep', ['60'], { stdio: 'ignore' });
      children.push(child);
      writeFileSync(join(dir, 'cgroup.procs'), String(child.pid));
      return child.pid!;
    }

    it('a system service, a user unit, a Docker container and a pod’s container', () => {
      const tag = `nwtest${process.pid}`;
      const service = inGroup(`/${tag}.slice/${tag}-web.service`);
      expect(processCgroup(service)).toMatchObject({ unit: `${tag}-web.service`, slice: `${tag}.slice` });
      const user = inGroup(`/${tag}.slice/user@1000.service/app.slice/${tag}-editor.service`);
      expect(processCgroup(user)).toMatchObject({
        user: 1000,
        unit: `${tag}-editor.service`,
        slice: 'app.slice',
      });
      const docker = inGroup(`/${tag}.slice/docker-${DOCKER_ID}.scope`);
      expect(processCgroup(docker)).toMatchObject({ container: { runtime: 'docker', id: DOCKER_ID } });
      const pod = POD.replaceAll('-', '_');
      const k8s = inGroup(
        `/${tag}.slice/kubepods-besteffort-pod${pod}.slice/cri-containerd-${DOCKER_ID}.scope`,
      );
      expect(processCgroup(k8s)).toMatchObject({
        pod: { uid: POD, qos: 'besteffort' },
        container: { runtime: 'containerd', id: DOCKER_ID },
      });
    });

    it('a scan with cgroups: true gives each owner its unit', async () => {
      const tag = `nwscan${process.pid}`;
      const server = spawn(
        process.execPath,
        [
          '-e',
          "const s=require('net').createServer().listen(0,'127.0.0.1',()=>console.log(s.address().port))",
        ],
        {
          stdio: ['ignore', 'pipe', 'ignore'],
        },
      );
      children.push(server);
      const port = Number(
        await new Promise<string>((resolve) => server.stdout!.once('data', (d) => resolve(String(d)))),
      );
      let dir = V2!;
      for (const part of [`${tag}.slice`, `${tag}-api.service`]) {
        dir = join(dir, part);
        mkdirSync(dir);
        made.push(dir);
      }
      writeFileSync(join(dir, 'cgroup.procs'), String(server.pid));
      const [listener] = getAllSync({ ports: [port], protocols: ['TCP'], cgroups: true });
      expect(listener?.process).toMatchObject({
        pid: server.pid,
        cgroup: { unit: `${tag}-api.service`, slice: `${tag}.slice` },
      });
      // Without the option, no cgroup (and no extra read).
      expect(getAllSync({ ports: [port], protocols: ['TCP'] })[0]?.process?.cgroup).toBeUndefined();
    });

    it('a process that is gone has no cgroup, and no error', () => {
      expect(processCgroup(2 ** 22 + 1)).toBeUndefined();
      expect(processCgroup(-1)).toBeUndefined();
    });
  },
);
