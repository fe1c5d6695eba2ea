import { platform as linux } from './linux';
import type { Platform } from './types';
import { platform as unsupported } from './unsupported';

/** The backend of the OS we run on, picked once. Backends load their native bindings lazily. */
export const current: Platform = process.platform === 'linux' ? linux : unsupported;
