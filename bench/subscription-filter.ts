/**
 * Subscription filter throughput: `npx tsx bench/subscription-filter.ts [rounds, default 15]`.
 *
 * 10,000 records with ~200-byte JSON values, a 16-byte key and two headers (and the same records
 * with ~50-byte plain-text values, for a pattern on text), run through
 * compileFilters' predicate once per round after a warm-up; records/s is the median round. The
 * baseline is what any value filter must do at least (UTF-8 check, decode, JSON.parse), so the gap
 * to it is the matcher's own cost.
 */
import { isUtf8 } from "node:buffer";
import { compileFilters } from "../src/subscriptions/record-filter.js";
import type { DeliveryRecord, FilterPattern } from "../src/subscriptions/types.js";

const ROUNDS = Number(process.argv[2] ?? 15);
const RECORDS = 10_000;
const te = new TextEncoder();

const regions = ["eu-west-1", "us-east-1", "ap-south-1", "eu-central-1"];
const records: DeliveryRecord[] = Array.from({ length: RECORDS }, (_, i) => {
  const value = {
    orderId: `ord-${String(i).padStart(8, "0")}`,
    type: i % 3 === 0 ? "refund" : "order",
    region: regions[i % regions.length],
    amount: (i % 500) + 0.25,
    currency: "EUR",
    customer: { id: `cus-${i % 977}`, tier: i % 5 === 0 ? "gold" : "standard" },
    items: [{ sku: `sku-${i % 31}`, qty: (i % 4) + 1 }],
    createdAt: "2026-11-30T22:00:00.000Z",
  };
  return {
    topic: "orders",
    partition: i % 8,
    offset: i,
    timestamp: 1_700_000_000_000 + i,
    key: te.encode(`customer-${String(i % 977).padStart(7, "0")}`),
    value: te.encode(JSON.stringify(value)),
    headers: [
      { key: "content-type", value: te.encode("application/json") },
      { key: "trace-id", value: te.encode(`trace-${i}`) },
    ],
  };
});
/** Plain-text values (log lines starting with a date), which a value pattern sees as strings. */
const textRecords: DeliveryRecord[] = records.map((r, i) => ({
  ...r,
  value: te.encode(
    `2026-11-30T22:00:${String(i % 60).padStart(2, "0")}Z ${i % 7 === 0 ? "ERROR" : "INFO"} order ${i} took ${i % 90} ms`,
  ),
}));
/** The JSON records with a client address header (IPv4, one in ten IPv6), for cidr. */
const addressedRecords: DeliveryRecord[] = records.map((r, i) => ({
  ...r,
  headers: [
    ...r.headers,
    {
      key: "client-ip",
      value: te.encode(
        i % 10 === 0 ? `2001:db8:${(i % 65536).toString(16)}::${i % 7}` : `10.${i % 256}.${(i >> 8) % 256}.7`,
      ),
    },
  ],
}));
const meanValueBytes = records.reduce((n, r) => n + r.value!.byteLength, 0) / RECORDS;

/** Three fields of the value: an exact string, a prefix and a numeric range. */
const threeFields: FilterPattern = {
  value: { type: ["order"], region: [{ prefix: "eu-" }], amount: [{ numeric: [">=", 100, "<", 400] }] },
};

let sink = 0;

const utf8 = new TextDecoder("utf-8", { ignoreBOM: true });

/** The decode and parse alone, done as record-filter.ts does them. */
function baseline(r: DeliveryRecord): boolean {
  const bytes = r.value!;
  const text = utf8.decode(bytes);
  if (text.includes("\uFFFD") && !isUtf8(bytes)) return false;
  return JSON.parse(text) !== null;
}

const cases: { name: string; filter: (r: DeliveryRecord) => boolean; records?: DeliveryRecord[] }[] = [
  { name: "no patterns", filter: compileFilters([]) },
  {
    name: "key prefix + header (value unread)",
    filter: compileFilters([
      { key: [{ prefix: "customer-00001" }], headers: { "content-type": ["application/json"] } },
    ]),
  },
  { name: "baseline: decode + UTF-8 check + JSON.parse", filter: baseline },
  { name: "value: 3 fields (exact, prefix, numeric)", filter: compileFilters([threeFields]) },
  {
    name: "value: 3 patterns of 3 fields, nested + array",
    filter: compileFilters([
      threeFields,
      { value: { customer: { tier: ["gold"] }, items: { qty: [{ numeric: [">", 3] }] } } },
      { value: { currency: [{ "anything-but": ["EUR", "USD"] }] } },
    ]),
  },
  {
    name: "value: $or of 2 alternatives + anything-but prefix list",
    filter: compileFilters([
      {
        value: {
          $or: [{ type: ["refund"] }, { amount: [{ numeric: [">=", 400] }] }],
          region: [{ "anything-but": { prefix: ["ap-", "us-"] } }],
        },
      },
    ]),
  },
  {
    name: "header: 2 cidr networks (value unread)",
    filter: compileFilters([
      { headers: { "client-ip": [{ cidr: "10.0.0.0/10" }, { cidr: "2001:db8::/48" }] } },
    ]),
    records: addressedRecords,
  },
  {
    name: "text values: 1 wildcard on the value",
    filter: compileFilters([{ value: [{ wildcard: "* ERROR *" }] }]),
    records: textRecords,
  },
];

function round(
  filter: (r: DeliveryRecord) => boolean,
  input: DeliveryRecord[] = records,
): { seconds: number; passed: number } {
  let passed = 0;
  const start = performance.now();
  for (let i = 0; i < RECORDS; i++) if (filter(input[i])) passed++;
  const seconds = (performance.now() - start) / 1000;
  sink ^= passed;
  return { seconds, passed };
}

console.log(
  `Subscription filter: ${RECORDS.toLocaleString("en-US")} records, values ~${Math.round(meanValueBytes)} B JSON, ` +
    `median of ${ROUNDS} rounds, Node ${process.version}\n`,
);
const rows: string[][] = [];
for (const c of cases) {
  for (let i = 0; i < 5; i++) round(c.filter, c.records); // warm-up: let the JIT settle
  const results = Array.from({ length: ROUNDS }, () => round(c.filter, c.records));
  const rates = results.map((r) => RECORDS / r.seconds).sort((a, b) => a - b);
  const median = rates[Math.floor(rates.length / 2)];
  rows.push([
    c.name,
    Math.round(median).toLocaleString("en-US"),
    ((1e9 / median) | 0).toLocaleString("en-US"),
    `${((results[0].passed / RECORDS) * 100).toFixed(0)} %`,
  ]);
}
const header = ["case", "records/s", "ns/record", "passed"];
const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i].length)));
const line = (cells: string[]) =>
  cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join("  ");
console.log(line(header));
console.log(widths.map((w) => "-".repeat(w)).join("  "));
for (const row of rows) console.log(line(row));
if (sink === 0.5) console.log(""); // keep results observable
