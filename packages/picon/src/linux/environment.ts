import { homedir } from 'node:os';
import { join } from 'node:path';

/** The XDG folders a lookup reads, from the environment (defaults per the XDG Base Directory spec). */
export interface XdgEnvironment {
  home: string;
  dataHome: string;
  dataDirs: string[];
  configHome: string;
  path: string[];
  locale: string;
}

export function xdgEnvironment(env: NodeJS.ProcessEnv = process.env): XdgEnvironment {
  const home = env.HOME || homedir();
  const split = (value: string | undefined) => (value ?? '').split(':').filter((p) => p.startsWith('/'));
  const dataDirs = split(env.XDG_DATA_DIRS);
  return {
    home,
    dataHome: env.XDG_DATA_HOME?.startsWith('/') ? env.XDG_DATA_HOME : join(home, '.local', 'share'),
    dataDirs: dataDirs.length > 0 ? dataDirs : ['/usr/local/share', '/usr/share'],
    configHome: env.XDG_CONFIG_HOME?.startsWith('/') ? env.XDG_CONFIG_HOME : join(home, '.config'),
    path: split(env.PATH),
    locale: env.LC_ALL || env.LC_MESSAGES || env.LANG || '',
  };
}
