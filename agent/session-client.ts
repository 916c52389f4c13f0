/**
 * The agent's side of `AgentService.Session` over connect-node's gRPC
 * transport, with the messages encoded and decoded by this code (see
 * session-request-encoder.ts and session-response-decoder.ts) instead of
 * by the transport's reflection-based `toBinary` and `fromBinary`.
 *
 * The transport takes no codec of ours, so the client is given a copy
 * of the method whose input and output are google.protobuf.Empty, a
 * message of no fields. For input, the transport's `create` keeps an
 * Empty as it is and `toBinary` writes only its unknown fields, verbatim:
 * the request, encoded here, goes as the Empty's one unknown field. For
 * output, `fromBinary` keeps every field of an Empty as an unknown field,
 * a view of the bytes that this code decodes. The transport reads the
 * method for nothing else but its path and kind, which are the real
 * method's, so the bytes on the wire are as before.
 *
 * One difference remains: a response broken at its top level (a bad tag,
 * a length past its end) now fails in the transport's parse as an Empty,
 * still as Internal "parse binary: ...", but the message may name another
 * fault than a SessionResponse parse would (for example "premature EOF"
 * for "illegal tag: field no 0 wire type 3"). The session loop only logs
 * it and reconnects. Making it exact would take a transport that hands
 * over the raw bytes, which connect-node does not offer.
 */
import { type DescMethod, fromBinary } from "@bufbuild/protobuf";
import { type Empty, EmptySchema } from "@bufbuild/protobuf/wkt";
import {
  type CallOptions,
  type Client,
  Code,
  ConnectError,
  createClient,
  type Transport,
} from "@connectrpc/connect";
import { hasUnknown, tagSize } from "../core/index.js";
import {
  AgentService,
  type SessionRequest,
  type SessionResponse,
} from "../gen/deerflow/v1/agent_pb.js";
import { encodeSessionRequest } from "./session-request-encoder.js";
import {
  decodeSessionResponse,
  decodeSessionResponseField,
} from "./session-response-decoder.js";

const session = {
  ...AgentService.method.session,
  input: EmptySchema,
  output: EmptySchema,
};

/** AgentService with only Session, as Empty in and out. */
const rawService = {
  ...AgentService,
  methods: [session] as DescMethod[],
  method: { session },
};

/** Opens Session streams, with this code's codec. */
export class SessionClient {
  private readonly client: Client<typeof rawService>;

  constructor(transport: Transport) {
    this.client = createClient(rawService, transport);
  }

  /** As connect's `client.session`, with the real message types. */
  session(
    requests: AsyncIterable<SessionRequest>,
    options: CallOptions,
  ): AsyncIterable<SessionResponse> {
    const responses = this.client.session(encodeAll(requests), options);
    return decodeAll(responses);
  }
}

/**
 * The requests as Empty messages carrying their bytes. return() and
 * throw() go to the source, which connect calls when the call fails.
 */
function encodeAll(
  requests: AsyncIterable<SessionRequest>,
): AsyncIterable<Empty> {
  return {
    [Symbol.asyncIterator]() {
      const source = requests[Symbol.asyncIterator]();
      const it: AsyncIterator<Empty> = {
        next: async () => {
          const result = await source.next();
          return result.done
            ? result
            : { done: false, value: toEmpty(result.value) };
        },
        return: async (value?: unknown) => {
          await source.return?.(value);
          return { done: true, value: undefined };
        },
        throw: async (error?: unknown) => {
          await source.throw?.(error);
          return { done: true, value: undefined };
        },
      };
      return it;
    },
  };
}

/** A request as the unknown fields of an Empty (see the header). */
export function toEmpty(request: SessionRequest): Empty {
  const bytes = encodeSessionRequest(request);
  const tag = bytes[0];
  // A request of one field, whose tag is one byte (fields 1 to 15): its
  // length and body follow. Anything else is split by fromBinary.
  if (tag === undefined || tag >= 0x80 || hasUnknown(request)) {
    return fromBinary(EmptySchema, bytes);
  }
  return {
    $typeName: "google.protobuf.Empty",
    $unknown: [{ no: tag >>> 3, wireType: tag & 7, data: bytes.subarray(1) }],
  };
}

function decodeAll(
  responses: AsyncIterable<Empty>,
): AsyncIterable<SessionResponse> {
  return {
    [Symbol.asyncIterator]() {
      const source = responses[Symbol.asyncIterator]();
      return {
        next: async () => {
          const result = await source.next();
          return result.done
            ? result
            : { done: false, value: fromEmpty(result.value) };
        },
      };
    },
  };
}

/**
 * A response from the unknown fields of the Empty that held it. A parse
 * error is spelt as connect-es spells its own, so it reaches the session
 * loop as before.
 */
export function fromEmpty(empty: Empty): SessionResponse {
  const fields = empty.$unknown ?? [];
  const only = fields.length === 1 ? fields[0] : undefined;
  if (only !== undefined && only.wireType === 2) {
    try {
      return decodeSessionResponseField(only.no, only.data);
    } catch {
      // Not one the hand decoder reads: decoded whole below.
    }
  }
  const bytes = reassemble(fields);
  try {
    return decodeSessionResponse(bytes);
  } catch (error) {
    throw new ConnectError(
      `parse binary: ${error instanceof Error ? error.message : error}`,
      Code.Internal,
    );
  }
}

/** The bytes the unknown fields were read from (tags made canonical). */
function reassemble(fields: Empty["$unknown"] & object): Uint8Array {
  let size = 0;
  for (const f of fields) size += tagSize(f.no) + f.data.length;
  const bytes = new Uint8Array(size);
  let pos = 0;
  for (const f of fields) {
    pos += writeTag(bytes.subarray(pos), f.no * 8 + f.wireType);
    bytes.set(f.data, pos);
    pos += f.data.length;
  }
  return bytes;
}

function writeTag(into: Uint8Array, tag: number): number {
  let pos = 0;
  while (tag >= 0x80) {
    into[pos++] = (tag & 0x7f) | 0x80;
    tag >>>= 7;
  }
  into[pos++] = tag;
  return pos;
}
