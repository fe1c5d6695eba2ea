export { type Health, OPENMETRICS_CONTENT_TYPE, renderOpenMetrics } from './openmetrics';
export { type OtlpConnection, OtlpExport, type OtlpOptions, type OtlpStats, parseHeaders } from './otlp';
export {
  type MeteredProcess,
  type MeteredSnapshot,
  OVERFLOW,
  type ProcessAttributes,
  ProcessMetrics,
  type ProcessMetricsOptions,
  type ProcessSeries,
  processAttributes,
} from './process-metrics';
export { version } from './version';
