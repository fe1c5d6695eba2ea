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
export { version } from './version';
