import { platform as freebsd } from './freebsd';
import { platform as linux } from './linux';
import { platform as macos } from './macos';
import type { Platform } from './types';
import { platform as unsupported } from './unsupported';
import { platform as windows } from './windows';

const BACKENDS: Partial<Record<NodeJS.Platform, Platform>> = {
  linux,
  win32: windows,
  darwin: macos,
  freebsd,
};

/** The backend of the OS we run on, picked once. Backends load their native bindings lazily. */
export const current: Platform = BACKENDS[process.platform] ?? unsupported;
