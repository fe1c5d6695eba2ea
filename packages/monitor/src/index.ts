// The attributor's types the snapshots are made of, so a user of this package alone can name them.
export type { Endpoint, Label, Process } from '@netwho/attributor';
export { CaptureMonitor, type CaptureMonitorOptions } from './capture-monitor';
export {
  GROUPINGS,
  type Grouping,
  type GroupingOptions,
  groupPrograms,
  type ProgramGroup,
  programKeyOf,
} from './grouping';
export { ReverseDns } from './reverse-dns';
export { serviceOf } from './services';
export type {
  CaptureHealth,
  ConnectionRow,
  EndedConnection,
  OwnerSources,
  ProgramRow,
  TrafficMonitor,
  TrafficSnapshot,
} from './snapshot';
export { SocketTableMonitor } from './socket-table-monitor';
export { version } from './version';
