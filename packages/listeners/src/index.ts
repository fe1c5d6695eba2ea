export {
  getAll,
  getAllSync,
  getByPid,
  getByPidSync,
  getProcessByPort,
  getProcessByPortSync,
  isStillOwner,
  isSupported,
  scan,
  scanSync,
} from './api';
export {
  type CgroupInfo,
  type ContainerRef,
  cgroupLabel,
  cgroupPathOf,
  describeCgroup,
  type PodRef,
} from './cgroup/describe';
export { processCgroup } from './cgroup/read';
export {
  type ConnectionKey,
  type ConnectionOwner,
  type ConnectionOwners,
  type ConnectionOwnersResult,
  type HookStatus,
  openConnectionOwners,
} from './connection-owners';
export { isListenersError, ListenersError, type ListenersErrorCode } from './errors';
export { type SocketRecord, socketRecord } from './record';
export type {
  Endpoint,
  Family,
  Listener,
  Process,
  Protocol,
  ScanOptions,
  ScanResult,
  SocketSource,
  SocketState,
  TcpTraffic,
  UnownedReason,
} from './types';
export { type ProcessUser, parsePasswd, processUser, uidOf } from './user/read';
export { version } from './version';
