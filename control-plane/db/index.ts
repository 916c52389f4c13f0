export { planBatchJoinsByKey } from "./batch-plans.js";
export type {
  Database,
  DatabaseKind,
  DatabaseOptions,
  Db,
  NotificationHandler,
} from "./database.js";
export {
  commitFollowsStatements,
  openDatabase,
  redactUrl,
  rowsOf,
} from "./database.js";
export {
  DatabaseHealth,
  type DatabaseHealthOptions,
  silentAfterMs,
} from "./database-health.js";
export {
  agents,
  attempts,
  EVENT_NUMBERS_PER_BATCH,
  leases,
  MAX_EVENTS_PER_BATCH,
  replicas,
  runEventBatches,
  runEvents,
  runs,
  secrets,
  taskLogs,
  taskMetrics,
  tasks,
  workflows,
} from "./schema.js";
