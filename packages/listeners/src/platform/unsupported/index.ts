import { ListenersError } from '../../errors';
import type { Platform } from '../types';

const unsupported = (): never => {
  throw new ListenersError(
    'E_UNSUPPORTED',
    `no socket backend for ${process.platform}: supported are Linux, Windows, macOS and FreeBSD`,
  );
};

export const platform: Platform = {
  name: 'unsupported',
  isSupported: false,
  scan: unsupported,
  processByPort: unsupported,
  socketsOfPid: unsupported,
  holdsSocket: () => false,
};
