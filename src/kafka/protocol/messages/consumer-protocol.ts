import { CorruptDataError } from "../../../errors.js";
import { ByteReader } from "../../../log/byte-reader.js";
import { ChunkWriter, MessageCodec } from "../codec.js";
import type { MessageInput, MessageSpec, MessageValue } from "../spec.js";

/**
 * The consumer protocol's payloads, opaque bytes to the group protocol itself: a member's
 * subscription (JoinGroup's protocol metadata, DescribeGroups' memberMetadata) and its assignment
 * (SyncGroup's assignment, DescribeGroups' memberAssignment).
 *
 * On the wire each payload is an int16 version followed by the fields of that version; the version
 * is NOT one of the fields below. Read and write them with `readConsumerProtocol` and
 * `writeConsumerProtocol`, which handle the version prefix. As Kafka's clients do, a version newer
 * than we know is read with our newest layout (new versions only append fields), and bytes after
 * the known fields are ignored. Some clients claim a version but stop after the older fields
 * (KafkaJS writes version 1 subscriptions without ownedPartitions), so a payload that ends early is
 * read with the newest layout it holds, the missing fields taking their defaults.
 */
export const ConsumerProtocolSubscription = {
  apiKey: -1,
  name: "ConsumerProtocolSubscription",
  type: "data",
  validVersions: "0-3",
  flexibleVersions: "none",
  fields: [
    { name: "topics", type: "[]string", versions: "0+" },
    { name: "userData", type: "bytes", versions: "0+", nullableVersions: "0+", default: null },
    {
      name: "ownedPartitions",
      type: "[]",
      versions: "1+",
      fields: [
        { name: "topic", type: "string", versions: "1+" },
        { name: "partitions", type: "[]int32", versions: "1+" },
      ],
    },
    { name: "generationId", type: "int32", versions: "2+", default: -1 },
    { name: "rackId", type: "string", versions: "3+", nullableVersions: "3+", default: null },
  ],
} as const satisfies MessageSpec;

export const ConsumerProtocolAssignment = {
  apiKey: -1,
  name: "ConsumerProtocolAssignment",
  type: "data",
  validVersions: "0-3",
  flexibleVersions: "none",
  fields: [
    {
      name: "assignedPartitions",
      type: "[]",
      versions: "0+",
      fields: [
        { name: "topic", type: "string", versions: "0+" },
        { name: "partitions", type: "[]int32", versions: "0+" },
      ],
    },
    { name: "userData", type: "bytes", versions: "0+", nullableVersions: "0+", default: null },
  ],
} as const satisfies MessageSpec;

export const subscriptionCodec = new MessageCodec(ConsumerProtocolSubscription);
export const assignmentCodec = new MessageCodec(ConsumerProtocolAssignment);

/** A decoded payload with the version it was written at (which may exceed the layout used to read it). */
export type ConsumerProtocolValue<M extends MessageSpec> = MessageValue<M> & { version: number };

/**
 * Reads a version-prefixed consumer protocol payload. Throws CorruptDataError on a negative
 * version or a payload that does not even hold version 0's fields.
 */
export function readConsumerProtocol<M extends MessageSpec>(
  codec: MessageCodec<M>,
  bytes: Uint8Array,
): ConsumerProtocolValue<M> {
  const version = new ByteReader(bytes).int16(`${codec.spec.name} version`);
  if (version < codec.low)
    throw new CorruptDataError(`${codec.spec.name} version ${version} is not supported`);
  // Each version only appends fields, so each older layout is a prefix: try the newest first.
  for (let layout = Math.min(version, codec.high); ; layout--) {
    try {
      const value = codec.at(layout).decode(new ByteReader(bytes, 2));
      return Object.assign(value, { version });
    } catch (e) {
      if (layout === codec.low || !(e instanceof CorruptDataError)) throw e;
    }
  }
}

/** Writes a consumer protocol payload: the int16 version, then that version's fields. */
export function writeConsumerProtocol<M extends MessageSpec>(
  codec: MessageCodec<M>,
  version: number,
  value: MessageInput<M>,
): Uint8Array {
  const out = new ChunkWriter();
  out.w.int16(version);
  codec.at(version).encode(out, value);
  return Buffer.concat(out.finish());
}
