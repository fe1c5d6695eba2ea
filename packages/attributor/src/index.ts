export { Attributor } from './attributor';
export { attributeFlows, type FlowEvents } from './link-flow-table';
export { type AttributionPolicy, defaultPolicy } from './machine/policy';
export type { PortState } from './machine/port-machine';
export type { AttributorOptions } from './options';
export { type KernelHit, recordFits } from './sources/kernel-records';
export { answerFor } from './sources/match';
export {
  type ConnectionTraffic,
  type SocketTrafficOptions,
  SocketTrafficPoller,
  type TrafficSample,
} from './sources/socket-traffic';
export { systemOwners } from './sources/system-owners';
export type { AttributorStats, LatencySummary } from './stats';
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
  Syn,
  UnknownReason,
} from './types';
export type { Clock } from './util/clock';
export { LruMap } from './util/lru';
export { version } from './version';
