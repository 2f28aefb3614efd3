import {
  ConditionalCheckFailedException,
  DynamoDBClient,
  DynamoDBServiceException,
  GetItemCommand,
  InternalServerError,
  ProvisionedThroughputExceededException,
  QueryCommand,
  TransactionCanceledException,
  TransactWriteItemsCommand,
  UpdateItemCommand,
} from "@aws-sdk/client-dynamodb";
import { marshall } from "@aws-sdk/util-dynamodb";
import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import { ConditionFailedError, StorageError } from "../../../src/errors.js";
import { DynamoDbMetaStore, ensureTable } from "../../../src/storage/dynamodb-meta-store.js";
import type { WriteOp } from "../../../src/storage/ports.js";
import { emulatorEndpoints } from "../../support/emulators.js";

type Command = { constructor: { name: string }; input: Record<string, unknown> };

/** A store over a fake client: records every command, answers with `respond`. */
function fakeStore(respond: (cmd: Command) => unknown = () => ({})) {
  const sent: Command[] = [];
  const client = {
    send: async (cmd: Command) => {
      sent.push(cmd);
      return respond(cmd);
    },
  } as unknown as DynamoDBClient;
  return { store: new DynamoDbMetaStore({ table: "t", client }), sent };
}

const $metadata = { httpStatusCode: 400 };
const rawItem = (pk: string, sk: string, v: number, d: Record<string, unknown>) => ({
  pk: { S: pk },
  sk: { S: sk },
  v: { N: String(v) },
  d: { M: marshall(d) },
});

describe("DynamoDbMetaStore request shapes", () => {
  it("writes a single put with UpdateItem (not a transaction), bumping v and setting d", async () => {
    const { store, sent } = fakeStore();
    await store.transact([{ type: "put", pk: "p", sk: "s", data: { name: "x" }, condition: { version: 3 } }]);
    expect(sent).toHaveLength(1);
    expect(sent[0]).toBeInstanceOf(UpdateItemCommand);
    expect(sent[0].input).toEqual({
      TableName: "t",
      Key: { pk: { S: "p" }, sk: { S: "s" } },
      UpdateExpression: "SET #d = :d ADD #v :one",
      ConditionExpression: "#v = :expected",
      ExpressionAttributeNames: { "#d": "d", "#v": "v" },
      ExpressionAttributeValues: {
        ":d": { M: { name: { S: "x" } } },
        ":one": { N: "1" },
        ":expected": { N: "3" },
      },
    });
  });

  it("writes a single delete with DeleteItem and a single check with a consistent GetItem", async () => {
    const { store, sent } = fakeStore((cmd) =>
      cmd instanceof GetItemCommand ? { Item: rawItem("p", "c", 2, {}) } : {},
    );
    await store.transact([{ type: "delete", pk: "p", sk: "s" }]);
    await store.transact([{ type: "delete", pk: "p", sk: "s", condition: { absent: true } }]);
    await store.transact([{ type: "check", pk: "p", sk: "c", condition: { version: 2 } }]);
    await expect(
      store.transact([{ type: "check", pk: "p", sk: "c", condition: { version: 1 } }]),
    ).rejects.toEqual(expect.objectContaining({ failedIndexes: [0] }));
    expect(sent.map((c) => c.constructor.name)).toEqual([
      "DeleteItemCommand",
      "DeleteItemCommand",
      "GetItemCommand",
      "GetItemCommand",
    ]);
    expect(sent[0].input).toEqual({ TableName: "t", Key: { pk: { S: "p" }, sk: { S: "s" } } });
    expect(sent[1].input).toMatchObject({
      ConditionExpression: "attribute_not_exists(#pk)",
      ExpressionAttributeNames: { "#pk": "pk" },
    });
    expect(sent[2]).toBeInstanceOf(GetItemCommand);
    expect(sent[2].input).toMatchObject({ ConsistentRead: true });
  });

  it("sends several ops as one idempotent TransactWriteItems of Update, Delete and ConditionCheck", async () => {
    const { store, sent } = fakeStore();
    const ops: WriteOp[] = [
      { type: "put", pk: "p", sk: "a", data: { n: 1 }, condition: { absent: true } },
      { type: "delete", pk: "p", sk: "b", condition: { version: 4 } },
      { type: "check", pk: "q", sk: "c", condition: { version: 1 } },
      { type: "delete", pk: "p", sk: "d" },
    ];
    await store.transact(ops);
    expect(sent).toHaveLength(1);
    expect(sent[0]).toBeInstanceOf(TransactWriteItemsCommand);
    const input = sent[0].input as { ClientRequestToken: string; TransactItems: Record<string, unknown>[] };
    expect(input.ClientRequestToken).toMatch(/^[0-9a-f-]{36}$/);
    expect(input.TransactItems).toEqual([
      {
        Update: expect.objectContaining({
          Key: { pk: { S: "p" }, sk: { S: "a" } },
          UpdateExpression: "SET #d = :d ADD #v :one",
          ConditionExpression: "attribute_not_exists(#pk)",
        }),
      },
      {
        Delete: {
          TableName: "t",
          Key: { pk: { S: "p" }, sk: { S: "b" } },
          ConditionExpression: "#v = :expected",
          ExpressionAttributeNames: { "#v": "v" },
          ExpressionAttributeValues: { ":expected": { N: "4" } },
        },
      },
      {
        ConditionCheck: {
          TableName: "t",
          Key: { pk: { S: "q" }, sk: { S: "c" } },
          ConditionExpression: "#v = :expected",
          ExpressionAttributeNames: { "#v": "v" },
          ExpressionAttributeValues: { ":expected": { N: "1" } },
        },
      },
      { Delete: { TableName: "t", Key: { pk: { S: "p" }, sk: { S: "d" } } } },
    ]);
  });

  it("queries with one key condition, consistently, following LastEvaluatedKey up to the limit", async () => {
    const pages = [
      {
        Items: [rawItem("p", "b#1", 1, { i: 1 }), rawItem("p", "b#2", 1, { i: 2 })],
        LastEvaluatedKey: { k: 1 },
      },
      { Items: [rawItem("p", "b#3", 1, { i: 3 })], LastEvaluatedKey: { k: 2 } },
      { Items: [rawItem("p", "b#4", 1, { i: 4 })] },
    ];
    const { store, sent } = fakeStore(() => pages.shift());
    const items = await store.query("p", { prefix: "b#", limit: 3 });
    expect(items.map((i) => i.data.i)).toEqual([1, 2, 3]);
    expect(sent).toHaveLength(2);
    expect(sent[0].input).toMatchObject({
      KeyConditionExpression: "#pk = :pk AND begins_with(#sk, :p)",
      ExpressionAttributeValues: { ":pk": { S: "p" }, ":p": { S: "b#" } },
      ConsistentRead: true,
      ScanIndexForward: true,
      Limit: 3,
    });
    expect(sent[1].input).toMatchObject({ ExclusiveStartKey: { k: 1 }, Limit: 1 });
  });

  it.each([
    [{}, "#pk = :pk"],
    [{ gt: "a" }, "#pk = :pk AND #sk > :lo"],
    [{ gte: "a" }, "#pk = :pk AND #sk >= :lo"],
    [{ lt: "a" }, "#pk = :pk AND #sk < :hi"],
    [{ lte: "a" }, "#pk = :pk AND #sk <= :hi"],
    [{ gte: "a", lte: "b" }, "#pk = :pk AND #sk BETWEEN :lo AND :hi"],
    [{ gt: "a", lt: "b" }, "#pk = :pk AND #sk BETWEEN :lo AND :hi"],
    [{ prefix: "ab", gt: "abc" }, "#pk = :pk AND #sk BETWEEN :lo AND :hi"],
  ])("expresses %j as %s", async (range, expression) => {
    const { store, sent } = fakeStore(() => ({ Items: [] }));
    await store.query("p", { ...range, reverse: true });
    expect(sent[0].input.KeyConditionExpression).toBe(expression);
    expect(sent[0].input.ScanIndexForward).toBe(false);
    if (!expression.includes("#sk")) expect(sent[0].input.ExpressionAttributeNames).toEqual({ "#pk": "pk" });
  });

  it("sends nothing for a query no key can satisfy", async () => {
    const { store, sent } = fakeStore();
    expect(await store.query("p", { gt: "b", lt: "a" })).toEqual([]);
    expect(await store.query("p", { limit: 0 })).toEqual([]);
    expect(sent).toHaveLength(0);
  });
});

describe("DynamoDbMetaStore error translation", () => {
  const failing = (error: unknown) => fakeStore(() => Promise.reject(error)).store;
  const twoOps: WriteOp[] = [
    { type: "put", pk: "p", sk: "a", data: {} },
    { type: "put", pk: "p", sk: "b", data: {} },
    { type: "put", pk: "p", sk: "c", data: {} },
  ];
  const cancelled = (...codes: string[]) =>
    new TransactionCanceledException({
      message: "Transaction cancelled",
      $metadata,
      CancellationReasons: codes.map((Code) => ({ Code })),
    });

  it("maps ConditionalCheckFailed reasons to ConditionFailedError with their indexes", async () => {
    const cause = cancelled("None", "ConditionalCheckFailed", "ConditionalCheckFailed");
    const e = await failing(cause)
      .transact(twoOps)
      .catch((err: unknown) => err);
    expect(e).toBeInstanceOf(ConditionFailedError);
    expect(e).toMatchObject({ failedIndexes: [1, 2], retriable: true, cause });
  });

  it("maps TransactionConflict to a retriable ConditionFailedError", async () => {
    const e = await failing(cancelled("TransactionConflict", "None", "None"))
      .transact(twoOps)
      .catch((x: unknown) => x);
    expect(e).toBeInstanceOf(ConditionFailedError);
    expect(e).toMatchObject({ failedIndexes: [0], retriable: true });
  });

  it("maps throttling cancellations to a retriable StorageError, validation to a permanent one", async () => {
    const throttled = await failing(cancelled("None", "ThrottlingError", "None"))
      .transact(twoOps)
      .catch((x: unknown) => x);
    expect(throttled).toBeInstanceOf(StorageError);
    expect(throttled).not.toBeInstanceOf(ConditionFailedError);
    expect(throttled).toMatchObject({ retriable: true });
    const invalid = await failing(cancelled("ValidationError", "None", "None"))
      .transact(twoOps)
      .catch((x: unknown) => x);
    expect(invalid).toBeInstanceOf(StorageError);
    expect(invalid).toMatchObject({ retriable: false });
  });

  it("maps a single write's ConditionalCheckFailedException to ConditionFailedError [0]", async () => {
    const cause = new ConditionalCheckFailedException({
      message: "The conditional request failed",
      $metadata,
    });
    const e = await failing(cause)
      .transact([{ type: "put", pk: "p", sk: "a", data: {}, condition: { absent: true } }])
      .catch((x: unknown) => x);
    expect(e).toBeInstanceOf(ConditionFailedError);
    expect(e).toMatchObject({ failedIndexes: [0], cause });
  });

  it.each([
    [new ProvisionedThroughputExceededException({ message: "slow down", $metadata }), true],
    [new InternalServerError({ message: "oops", $metadata: { httpStatusCode: 500 } }), true],
    [Object.assign(new Error("socket hang up"), { code: "ECONNRESET", $metadata: {} }), true],
    [
      new DynamoDBServiceException({
        name: "AccessDeniedException",
        $fault: "client",
        message: "no",
        $metadata,
      }),
      false,
    ],
  ])("wraps %s as StorageError with retriable=%s, keeping the cause", async (cause, retriable) => {
    const e = await failing(cause)
      .get("p", "s")
      .catch((x: unknown) => x);
    expect(e).toBeInstanceOf(StorageError);
    expect(e).toMatchObject({ retriable, cause, code: "KAFKA_STORAGE_ERROR" });
  });
});

describe.skipIf(!emulatorEndpoints())("DynamoDbMetaStore on DynamoDB Local", () => {
  it("ensureTable is idempotent, and a large partition is read over several Query pages", async () => {
    const emu = emulatorEndpoints()!;
    const client = new DynamoDBClient({
      endpoint: emu.dynamodbEndpoint,
      region: emu.region,
      credentials: emu.credentials,
    });
    const table = `floe-unit-${randomUUID()}`;
    await ensureTable(client, table);
    await ensureTable(client, table);

    let queries = 0;
    const send = client.send.bind(client);
    const counting = {
      send: (cmd: never) => {
        if ((cmd as object) instanceof QueryCommand) queries++;
        return send(cmd);
      },
    } as unknown as DynamoDBClient;
    const store = new DynamoDbMetaStore({ table, client: counting });
    const pad = "y".repeat(4000);
    for (let i = 0; i < 300; i += 100) {
      await store.transact(
        Array.from({ length: 100 }, (_, j) => ({
          type: "put" as const,
          pk: "big",
          sk: String(i + j).padStart(4, "0"),
          data: { pad },
        })),
      );
    }
    const all = await store.query("big");
    expect(all).toHaveLength(300);
    expect(queries).toBeGreaterThan(1); // 300 × 4 KB > 1 MB: DynamoDB pages
    expect((await store.query("big", { reverse: true, limit: 299 }))[298].sk).toBe("0001");
    client.destroy();
  });
});
