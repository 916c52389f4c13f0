/**
 * The session's LeaseRef (lease id and fencing token) by hand, for both
 * ends' session codecs: the one message nearly every session message
 * holds. Typed by shape, so core needs none of the generated code.
 */
import { notHandled, type ProtoReader } from "./proto-reader.js";
import { hasUnknown, isSafeUint64, type ProtoSink } from "./proto-writer.js";

/** A deerflow.v1.LeaseRef as protobuf-es shapes it. */
export interface LeaseRefShape {
  readonly $typeName: "deerflow.v1.LeaseRef";
  leaseId: string;
  fencingToken: bigint;
}

/** Whether the hand writer writes this lease exactly as toBinary does. */
export function leaseRefWritable(lease: LeaseRefShape): boolean {
  return (
    typeof lease.leaseId === "string" &&
    typeof lease.fencingToken === "bigint" &&
    isSafeUint64(lease.fencingToken) &&
    !hasUnknown(lease)
  );
}

export function leaseRefFields(sink: ProtoSink, lease: LeaseRefShape): void {
  sink.string(1, lease.leaseId);
  // An int64 below 2^53 (see leaseRefWritable): its varint is a number's.
  sink.uint(2, Number(lease.fencingToken));
}

export function readLeaseRef(reader: ProtoReader): LeaseRefShape {
  const lease: LeaseRefShape = {
    $typeName: "deerflow.v1.LeaseRef",
    leaseId: "",
    fencingToken: 0n,
  };
  while (reader.more) {
    switch (reader.tag()) {
      case 0x0a:
        lease.leaseId = reader.string();
        break;
      case 0x10:
        lease.fencingToken = reader.int64();
        break;
      default:
        notHandled();
    }
  }
  return lease;
}
