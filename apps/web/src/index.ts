export type {
  ClientMessage,
  ConnectionView,
  HistoryPoint,
  ProgramView,
  ServerMessage,
  Status,
} from './server/protocol';
export { type Dashboard, type DashboardOptions, startDashboard } from './server/start';
export { version } from './version';
