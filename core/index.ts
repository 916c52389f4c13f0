export { LABEL_KEY, LABEL_KEY_RULE, MAX_AGENT_SLOTS } from "./agent-labels.js";
export { AsyncQueue } from "./async-queue.js";
export type { Clock } from "./clock.js";
export { systemClock } from "./clock.js";
export type { DirLock, DirLockOptions, LockOwner } from "./dir-lock.js";
export {
  DIR_LOCK_FILE,
  DirInUseError,
  LOCK_TOKEN,
  lockDir,
} from "./dir-lock.js";
export {
  type LeaseRefShape,
  leaseRefFields,
  leaseRefWritable,
  readLeaseRef,
} from "./lease-ref-codec.js";
export type { Logger, LoggerOptions } from "./logger.js";
export { createLogger, silentLogger } from "./logger.js";
export { makeDir } from "./make-dir.js";
export {
  approximateSize,
  BATCH_LIMITS,
  type Packing,
  sessionBatches,
  takePacked,
} from "./packing.js";
export {
  decodeOr,
  notHandled,
  ProtoReader,
  readEmptyStruct,
  readTimestamp,
  tagOf,
} from "./proto-reader.js";
export {
  encodeAsField,
  hasUnknown,
  isInt32,
  isSafeUint64,
  LEN,
  lenFieldSize,
  type ProtoFields,
  type ProtoSink,
  ProtoSizer,
  ProtoWriter,
  type StringMap,
  sizeOf,
  tagSize,
  VARINT,
  varintSize,
} from "./proto-writer.js";
export { type RootCause, rootCause } from "./root-cause.js";
export {
  isSessionSuperseded,
  sessionSupersededError,
} from "./session-superseded.js";
export { VERSION } from "./version.js";
