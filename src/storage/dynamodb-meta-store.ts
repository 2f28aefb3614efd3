/**
 * MetaStore on one DynamoDB table (AWS SDK v3). Item attributes: `pk` (S, hash key), `sk` (S, range
 * key), `v` (N, version) and `d` (M, the doc), so user field names never meet DynamoDB's reserved
 * words. Every read is strongly consistent.
 */
import {
  type AttributeValue,
  type ConditionCheck,
  type ConsumedCapacity,
  CreateTableCommand,
  DeleteItemCommand,
  DescribeTableCommand,
  DynamoDBClient,
  type DynamoDBClientConfig,
  GetItemCommand,
  QueryCommand,
  type TransactWriteItem,
  TransactWriteItemsCommand,
  UpdateItemCommand,
  waitUntilTableExists,
} from "@aws-sdk/client-dynamodb";
import { marshall, unmarshall } from "@aws-sdk/util-dynamodb";
import { randomUUID } from "node:crypto";
import { ConditionFailedError, StorageError } from "../errors.js";
import { awsErrorName, toStorageError } from "./aws-errors.js";
import type { ConsumedCapacity as Consumed, ReportsConsumedCapacity } from "./instrumented.js";
import { foldBounds, keyInRange } from "./order.js";
import type { Condition, Doc, Item, MetaStore, QueryOptions, WriteOp } from "./ports.js";
import { assertItemKey, assertPk, assertQueryLimit, conditionHolds, validateTransact } from "./validate.js";

export interface DynamoDbMetaStoreOptions {
  table: string;
  /** A client to use; the caller keeps ownership (close() leaves it open). */
  client?: DynamoDBClient;
  /** Config for a client built and owned by the store when `client` is not given. */
  clientConfig?: DynamoDBClientConfig;
}

/** Placeholders for every attribute name we use, so none can collide with a reserved word. */
const NAMES = { "#pk": "pk", "#sk": "sk", "#v": "v", "#d": "d" } as const;

/** CancellationReasons codes that mean "back off and retry". */
const RETRIABLE_REASONS = new Set([
  "ThrottlingError",
  "ProvisionedThroughputExceeded",
  "RequestLimitExceeded",
]);

type Names = Record<string, string>;
type Values = Record<string, AttributeValue>;

export class DynamoDbMetaStore implements MetaStore, ReportsConsumedCapacity {
  readonly table: string;
  readonly client: DynamoDBClient;
  private readonly ownsClient: boolean;
  /** Set to learn each call's consumed capacity (the benchmark's cost figures); requests ask for it only then. */
  onConsumedCapacity: ((capacity: Consumed) => void) | undefined = undefined;

  constructor(options: DynamoDbMetaStoreOptions) {
    this.table = options.table;
    this.ownsClient = options.client === undefined;
    this.client = options.client ?? new DynamoDBClient(options.clientConfig ?? {});
  }

  async get(pk: string, sk: string): Promise<Item | undefined> {
    assertItemKey(pk, sk);
    try {
      const res = await this.client.send(
        new GetItemCommand({
          TableName: this.table,
          Key: key(pk, sk),
          ConsistentRead: true,
          ReturnConsumedCapacity: this.capacityWanted(),
        }),
      );
      this.report(res.ConsumedCapacity, "read");
      return res.Item ? toItem(res.Item) : undefined;
    } catch (e) {
      throw toStorageError(e, `DynamoDB GetItem ${this.table}`);
    }
  }

  async query(pk: string, options: QueryOptions = {}): Promise<Item[]> {
    assertPk(pk);
    const limit = assertQueryLimit(options.limit);
    const bounds = foldBounds(options);
    const out: Item[] = [];
    if (limit === 0 || bounds.empty) return out;

    // One sort-key condition is all DynamoDB takes: begins_with for a lone prefix, else the
    // folded bounds (a prefix becomes [P, successor(P))) as BETWEEN or a comparison. BETWEEN is
    // inclusive, so exclusive ends (and the prefix itself) are settled client-side by keyInRange.
    const names: Names = { "#pk": NAMES["#pk"] };
    const values: Values = { ":pk": { S: pk } };
    let condition = "#pk = :pk";
    let slack = 0;
    const onlyPrefix =
      options.prefix !== undefined &&
      options.prefix !== "" &&
      options.gt === undefined &&
      options.gte === undefined &&
      options.lt === undefined &&
      options.lte === undefined;
    const { lower, upper } = bounds;
    if (onlyPrefix || lower || upper) names["#sk"] = NAMES["#sk"];
    if (onlyPrefix) {
      condition += " AND begins_with(#sk, :p)";
      values[":p"] = { S: options.prefix! };
    } else if (lower && upper) {
      condition += " AND #sk BETWEEN :lo AND :hi";
      values[":lo"] = { S: lower.value };
      values[":hi"] = { S: upper.value };
      slack = (lower.inclusive ? 0 : 1) + (upper.inclusive ? 0 : 1);
    } else if (lower) {
      condition += ` AND #sk ${lower.inclusive ? ">=" : ">"} :lo`;
      values[":lo"] = { S: lower.value };
    } else if (upper) {
      condition += ` AND #sk ${upper.inclusive ? "<=" : "<"} :hi`;
      values[":hi"] = { S: upper.value };
    }

    let exclusiveStartKey: Values | undefined;
    try {
      do {
        const remaining = limit - out.length;
        const res = await this.client.send(
          new QueryCommand({
            TableName: this.table,
            KeyConditionExpression: condition,
            ExpressionAttributeNames: names,
            ExpressionAttributeValues: values,
            ConsistentRead: true,
            ScanIndexForward: !options.reverse,
            ExclusiveStartKey: exclusiveStartKey,
            // Ask for what is still missing, plus the bound values BETWEEN may wrongly include.
            Limit: Number.isFinite(remaining) ? remaining + slack : undefined,
            ReturnConsumedCapacity: this.capacityWanted(),
          }),
        );
        this.report(res.ConsumedCapacity, "read");
        for (const raw of res.Items ?? []) {
          const item = toItem(raw);
          if (out.length < limit && keyInRange(item.sk, options)) out.push(item);
        }
        exclusiveStartKey = res.LastEvaluatedKey;
      } while (exclusiveStartKey && out.length < limit);
    } catch (e) {
      throw toStorageError(e, `DynamoDB Query ${this.table}`);
    }
    return out;
  }

  async transact(ops: WriteOp[]): Promise<void> {
    validateTransact(ops);
    if (ops.length === 0) return;
    // One op goes alone: a TransactWriteItems costs twice the capacity of a plain write.
    if (ops.length === 1) return this.single(ops[0]);
    try {
      const res = await this.client.send(
        new TransactWriteItemsCommand({
          TransactItems: ops.map((op) => this.transactItem(op)),
          // Makes the SDK's own retries idempotent: a retry of an applied transaction succeeds
          // instead of failing its conditions against its own write.
          ClientRequestToken: randomUUID(),
          ReturnConsumedCapacity: this.capacityWanted(),
        }),
      );
      for (const c of res.ConsumedCapacity ?? []) this.report(c, "write");
    } catch (e) {
      throw fromTransactError(e, this.table);
    }
  }

  async close(): Promise<void> {
    if (this.ownsClient) this.client.destroy();
  }

  private async single(op: WriteOp): Promise<void> {
    if (op.type === "check") {
      // A check alone is an assertion at one instant: a strongly consistent read gives exactly that.
      const current = await this.version(op.pk, op.sk);
      if (!conditionHolds(op.condition, current)) {
        throw new ConditionFailedError("transact condition failed on op 0", [0]);
      }
      return;
    }
    const names: Names = {};
    const values: Values = {};
    const conditionExpression = conditionExpressionOf(op.condition, names, values);
    try {
      if (op.type === "put") {
        names["#d"] = NAMES["#d"];
        names["#v"] = NAMES["#v"];
        values[":d"] = docAttr(op.data);
        values[":one"] = { N: "1" };
        const res = await this.client.send(
          new UpdateItemCommand({
            TableName: this.table,
            Key: key(op.pk, op.sk),
            UpdateExpression: "SET #d = :d ADD #v :one",
            ConditionExpression: conditionExpression,
            ExpressionAttributeNames: names,
            ExpressionAttributeValues: values,
            ReturnConsumedCapacity: this.capacityWanted(),
          }),
        );
        this.report(res.ConsumedCapacity, "write");
      } else {
        const res = await this.client.send(
          new DeleteItemCommand({
            TableName: this.table,
            Key: key(op.pk, op.sk),
            ConditionExpression: conditionExpression,
            ExpressionAttributeNames: conditionExpression ? names : undefined,
            ExpressionAttributeValues: Object.keys(values).length > 0 ? values : undefined,
            ReturnConsumedCapacity: this.capacityWanted(),
          }),
        );
        this.report(res.ConsumedCapacity, "write");
      }
    } catch (e) {
      const name = awsErrorName(e);
      if (name === "ConditionalCheckFailedException") {
        throw new ConditionFailedError("transact condition failed on op 0", [0], { cause: e });
      }
      if (name === "TransactionConflictException") {
        throw new ConditionFailedError("write conflicted with a concurrent transaction on op 0", [0], {
          cause: e,
        });
      }
      throw toStorageError(e, `DynamoDB ${op.type === "put" ? "UpdateItem" : "DeleteItem"} ${this.table}`);
    }
  }

  private async version(pk: string, sk: string): Promise<number | undefined> {
    try {
      const res = await this.client.send(
        new GetItemCommand({
          TableName: this.table,
          Key: key(pk, sk),
          ConsistentRead: true,
          ProjectionExpression: "#v",
          ExpressionAttributeNames: { "#v": NAMES["#v"] },
          ReturnConsumedCapacity: this.capacityWanted(),
        }),
      );
      this.report(res.ConsumedCapacity, "read");
      return res.Item ? Number(res.Item.v?.N) : undefined;
    } catch (e) {
      throw toStorageError(e, `DynamoDB GetItem ${this.table}`);
    }
  }

  private capacityWanted(): "TOTAL" | undefined {
    return this.onConsumedCapacity ? "TOTAL" : undefined;
  }

  private report(capacity: ConsumedCapacity | undefined, kind: "read" | "write"): void {
    if (!capacity || !this.onConsumedCapacity) return;
    const total = capacity.CapacityUnits ?? 0;
    this.onConsumedCapacity({
      readUnits: capacity.ReadCapacityUnits ?? (kind === "read" ? total : 0),
      writeUnits: capacity.WriteCapacityUnits ?? (kind === "write" ? total : 0),
    });
  }

  private transactItem(op: WriteOp): TransactWriteItem {
    const names: Names = {};
    const values: Values = {};
    const conditionExpression = conditionExpressionOf(op.condition, names, values);
    const Key = key(op.pk, op.sk);
    if (op.type === "put") {
      names["#d"] = NAMES["#d"];
      names["#v"] = NAMES["#v"];
      values[":d"] = docAttr(op.data);
      values[":one"] = { N: "1" };
      return {
        Update: {
          TableName: this.table,
          Key,
          UpdateExpression: "SET #d = :d ADD #v :one",
          ConditionExpression: conditionExpression,
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: values,
        },
      };
    }
    const withNames = conditionExpression
      ? {
          ConditionExpression: conditionExpression,
          ExpressionAttributeNames: names,
          ...(Object.keys(values).length > 0 ? { ExpressionAttributeValues: values } : {}),
        }
      : {};
    if (op.type === "delete") return { Delete: { TableName: this.table, Key, ...withNames } };
    const check: ConditionCheck = {
      TableName: this.table,
      Key,
      ConditionExpression: conditionExpression!,
      ExpressionAttributeNames: names,
      ...(Object.keys(values).length > 0 ? { ExpressionAttributeValues: values } : {}),
    };
    return { ConditionCheck: check };
  }
}

/**
 * Creates the table (pk HASH, sk RANGE, on-demand) unless it exists, then waits until it is ACTIVE.
 * For emulators and development; production tables come from the CDK stack.
 */
export async function ensureTable(
  client: DynamoDBClient,
  tableName: string,
  maxWaitSeconds = 120,
): Promise<void> {
  try {
    try {
      const res = await client.send(new DescribeTableCommand({ TableName: tableName }));
      if (res.Table?.TableStatus === "ACTIVE") return;
    } catch (e) {
      if (awsErrorName(e) !== "ResourceNotFoundException") throw e;
      try {
        await client.send(
          new CreateTableCommand({
            TableName: tableName,
            AttributeDefinitions: [
              { AttributeName: "pk", AttributeType: "S" },
              { AttributeName: "sk", AttributeType: "S" },
            ],
            KeySchema: [
              { AttributeName: "pk", KeyType: "HASH" },
              { AttributeName: "sk", KeyType: "RANGE" },
            ],
            BillingMode: "PAY_PER_REQUEST",
          }),
        );
      } catch (createError) {
        // Someone else created it first: fine, wait for it like for our own.
        if (awsErrorName(createError) !== "ResourceInUseException") throw createError;
      }
    }
    await waitUntilTableExists(
      { client, maxWaitTime: maxWaitSeconds, minDelay: 1 },
      { TableName: tableName },
    );
  } catch (e) {
    throw toStorageError(e, `DynamoDB ensureTable ${tableName}`);
  }
}

function key(pk: string, sk: string): Values {
  return { pk: { S: pk }, sk: { S: sk } };
}

function docAttr(data: Doc): AttributeValue {
  return { M: marshall(data, { removeUndefinedValues: true }) };
}

function toItem(raw: Values): Item {
  return {
    pk: raw.pk.S!,
    sk: raw.sk.S!,
    version: Number(raw.v?.N ?? 0),
    data: (raw.d?.M ? unmarshall(raw.d.M) : {}) as Doc,
  };
}

/** Fills names/values for the condition and returns its expression (undefined: no condition). */
function conditionExpressionOf(
  condition: Condition | undefined,
  names: Names,
  values: Values,
): string | undefined {
  if (condition === undefined) return undefined;
  if ("absent" in condition) {
    names["#pk"] = NAMES["#pk"];
    return "attribute_not_exists(#pk)";
  }
  names["#v"] = NAMES["#v"];
  values[":expected"] = { N: String(condition.version) };
  return "#v = :expected";
}

interface CancellationReason {
  Code?: string;
  Message?: string;
}

/** TransactionCanceledException's reasons, aligned with the request's items, become our errors. */
function fromTransactError(e: unknown, table: string): Error {
  if (awsErrorName(e) !== "TransactionCanceledException") {
    return toStorageError(e, `DynamoDB TransactWriteItems ${table}`);
  }
  const reasons = ((e as { CancellationReasons?: CancellationReason[] }).CancellationReasons ?? []).map(
    (r) => r.Code ?? "None",
  );
  const indexesOf = (code: string) => reasons.flatMap((c, i) => (c === code ? [i] : []));
  const failed = indexesOf("ConditionalCheckFailed");
  if (failed.length > 0) {
    return new ConditionFailedError(`transact condition failed on op ${failed.join(", ")}`, failed, {
      cause: e,
    });
  }
  const conflicts = indexesOf("TransactionConflict");
  if (conflicts.length > 0) {
    return new ConditionFailedError(
      `transact conflicted with a concurrent transaction on op ${conflicts.join(", ")}`,
      conflicts,
      { cause: e },
    );
  }
  const detail = reasons.filter((c) => c !== "None").join(", ") || "no reason given";
  return new StorageError(`DynamoDB TransactWriteItems ${table} cancelled: ${detail}`, {
    retriable: reasons.some((c) => RETRIABLE_REASONS.has(c)),
    cause: e,
  });
}
