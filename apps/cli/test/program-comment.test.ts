import { describe, expect, it } from 'vitest';
import { type CommentEnd, formatEnd, parseProgramComment } from '../src/capture/program-comment';

const ID = 'ab'.repeat(32);
const POD = '0b8a4c8e-53f1-4f3e-9d2a-2c1f0e6b7a11';

describe('the program comment of netwho capture', () => {
  it('reads back both ends with where they run, names and paths with spaces whole', () => {
    const local: CommentEnd = {
      pid: 4242,
      name: 'Web Content',
      path: '/opt/My Browser/browser',
      cgroup: { unit: 'app-browser.scope', user: 1000 },
    };
    const peer: CommentEnd = {
      pid: 77,
      name: 'nginx',
      path: '/usr/sbin/nginx',
      cgroup: { container: { runtime: 'docker', id: ID, name: 'web' }, pod: { uid: POD, qos: 'burstable' } },
    };
    const text = `${formatEnd(local)} ${formatEnd(peer, 'peer_')} remote_name=example.com remote_name_source=tls-sni country=US asn=15133`;
    expect(text).toBe(
      'pid=4242 name=Web Content path=/opt/My Browser/browser unit=app-browser.scope unit_user=1000 ' +
        `peer_pid=77 peer_name=nginx peer_path=/usr/sbin/nginx peer_container=docker:${ID} peer_container_name=web ` +
        `peer_pod=${POD} peer_pod_qos=burstable remote_name=example.com remote_name_source=tls-sni country=US asn=15133`,
    );
    expect(parseProgramComment(text)).toEqual({ local, peer });
  });

  it('reads the comments of files written before units were added, and a path that is not known', () => {
    expect(
      parseProgramComment('pid=10 name=curl path=/usr/bin/curl remote_name=a.b remote_name_source=dns'),
    ).toEqual({
      local: { pid: 10, name: 'curl', path: '/usr/bin/curl' },
    });
    expect(parseProgramComment('pid=10 name=curl path=')).toEqual({ local: { pid: 10, name: 'curl' } });
  });

  it('keeps a value that holds a space and a word with "=" that is not one of its keys', () => {
    expect(parseProgramComment('pid=5 name=a b=c path=/x y=z')).toEqual({
      local: { pid: 5, name: 'a b=c', path: '/x y=z' },
    });
  });

  it('takes nothing it cannot vouch for: no pid, a bad container id, an unknown runtime or QoS', () => {
    expect(parseProgramComment('a comment someone typed in Wireshark')).toEqual({});
    expect(parseProgramComment('pid=abc name=x path=/x')).toEqual({});
    expect(
      parseProgramComment(
        `pid=1 name=x path=/x container=docker:12ab container=lxc:${ID} pod=${POD} pod_qos=gold`,
      ),
    ).toEqual({ local: { pid: 1, name: 'x', path: '/x' } });
  });
});
