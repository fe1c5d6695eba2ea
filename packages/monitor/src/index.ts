// The attributor's types the snapshots are made of, so a user of this package alone can name them.
export type { Endpoint, Label, Process } from '@netwho/attributor';
export type { FlowNamesStats, NameSource } from '@netwho/capture';
export type { AddressScope, GeoInfo, GeoOptions } from '@netwho/geo';
export { CaptureMonitor, type CaptureMonitorOptions } from './capture-monitor';
export {
  GROUPINGS,
  type Grouping,
  type GroupingOptions,
  groupPrograms,
  type ProgramGroup,
  programKeyOf,
} from './grouping';
export {
  type NamesOptions,
  openNames,
  type RemoteEnd,
  type RemoteNameSource,
  RemoteNames,
  type RemoteNamesParts,
} from './remote-names';
export { isLoopback, ReverseDns } from './reverse-dns';
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
