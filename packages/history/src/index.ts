export { fromSqlite, HistoryError, type HistoryErrorCode, isHistoryError } from './errors';
export {
  HistoryRecording,
  type HistoryRecordingOptions,
  type LiveEndedConnection,
  type LiveLabel,
  type LiveProcess,
  type LiveSnapshot,
  programIdOf,
  type RecordingStats,
} from './live';
export { defaultDatabasePath } from './paths';
export { defaultStep, HOUR, planRange, type RowTable, type Segment, TEN_MINUTES } from './plan';
export { HistoryQueries } from './query';
export { IntervalRecorder, type IntervalRecorderOptions, type ObservedProgram } from './recorder';
export { SCHEMA_VERSION } from './schema';
export { HistoryStore, type HistoryStoreOptions, type PruneResult, type RetentionOptions } from './store';
export type * from './types';
export { version } from './version';
