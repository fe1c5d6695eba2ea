export { Attributor, type AttributorOptions, type AttributorStats, type LatencySummary } from './attributor';
export { attributeFlows, type FlowEvents } from './link-flow-table';
export { type AttributionPolicy, defaultPolicy } from './machine/policy';
export type { PortState } from './machine/port-machine';
export { CaptureMonitor, type CaptureMonitorOptions } from './monitor/capture-monitor';
export {
  GROUPINGS,
  type Grouping,
  type GroupingOptions,
  groupPrograms,
  type ProgramGroup,
  programKeyOf,
} from './monitor/grouping';
export { ReverseDns } from './monitor/reverse-dns';
export { serviceOf } from './monitor/services';
export type {
  CaptureHealth,
  ConnectionRow,
  EndedConnection,
  OwnerSources,
  ProgramRow,
  TrafficMonitor,
  TrafficSnapshot,
} from './monitor/snapshot';
export { SocketTableMonitor } from './monitor/socket-table-monitor';
export { answerFor } from './sources/match';
export {
  type ConnectionTraffic,
  type SocketTrafficOptions,
  SocketTrafficPoller,
  type TrafficSample,
} from './sources/socket-traffic';
export { systemOwners } from './sources/system-owners';
export type {
  ConnectionOwnerSource,
  Endpoint,
  FlowInput,
  Label,
  LabelSource,
  Owner,
  OwnerAnswer,
  OwnerQuery,
  OwnerSource,
  Process,
  Protocol,
  UnknownReason,
} from './types';
export type { Clock } from './util/clock';
export { version } from './version';
