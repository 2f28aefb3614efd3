import type { Consumer, Kafka } from "kafkajs";

/** A KafkaJS group member under test, with what it reports of its assignment and fetches. */
export interface KafkaJsMember {
  name: string;
  consumer: Consumer;
  /** The partitions of the last assignment the client reported joining with. */
  assigned: number[];
  /** Fetches completed: a settled group's members have each fetched since they were assigned. */
  fetches: number;
}

/**
 * A running consumer of `topic` in `groupId`, heartbeating and long-polling briskly so a test's
 * rebalances settle in moments; every record goes to `onMessage`.
 */
export async function kafkajsMember(
  kafka: Kafka,
  options: {
    groupId: string;
    topic: string;
    name: string;
    sessionTimeoutMs: number;
    autoCommit?: boolean;
    fromBeginning?: boolean;
    onMessage: (record: { partition: number; offset: number; value: string }) => void;
  },
): Promise<KafkaJsMember> {
  const consumer = kafka.consumer({
    groupId: options.groupId,
    sessionTimeout: options.sessionTimeoutMs,
    rebalanceTimeout: options.sessionTimeoutMs,
    heartbeatInterval: 200,
    maxWaitTimeInMs: 200,
  });
  const member: KafkaJsMember = { name: options.name, consumer, assigned: [], fetches: 0 };
  consumer.on(consumer.events.FETCH, () => {
    member.fetches++;
  });
  consumer.on(consumer.events.GROUP_JOIN, (e) => {
    member.assigned = [...(e.payload.memberAssignment[options.topic] ?? [])].sort();
  });
  await consumer.connect();
  await consumer.subscribe({ topic: options.topic, fromBeginning: options.fromBeginning ?? true });
  await consumer.run({
    autoCommit: options.autoCommit ?? true,
    eachMessage: async ({ partition, message }) => {
      options.onMessage({ partition, offset: Number(message.offset), value: String(message.value) });
    },
  });
  return member;
}
