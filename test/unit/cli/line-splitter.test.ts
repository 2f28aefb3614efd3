import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { splitLines } from "../../../src/cli/line-splitter.js";

async function lines(chunks: (string | Buffer)[]): Promise<string[]> {
  const out: string[] = [];
  for await (const line of splitLines(
    (async function* () {
      yield* chunks.map((c) => (typeof c === "string" ? Buffer.from(c, "utf8") : c));
    })(),
  )) {
    out.push(line.toString("latin1"));
  }
  return out;
}

describe("splitLines", () => {
  it("splits on \\n and \\r\\n, keeps empty lines, and drops only the final newline", async () => {
    expect(await lines(["a\nb\r\n\nc\n"])).toEqual(["a", "b", "", "c"]);
  });

  it("yields a last line that has no newline", async () => {
    expect(await lines(["a\nb"])).toEqual(["a", "b"]);
    expect(await lines([])).toEqual([]);
    expect(await lines([""])).toEqual([]);
  });

  it("joins a line split across chunks, including a \\r\\n split in two", async () => {
    expect(await lines(["ab", "c\r", "\nd", "e\n"])).toEqual(["abc", "de"]);
  });

  it("keeps every byte other than the line ending, valid UTF-8 or not", async () => {
    const bytes = Buffer.from([0xff, 0x00, 0xc3, 0x28, 0x0d, 0x41]);
    const out: Buffer[] = [];
    for await (const line of splitLines(
      (async function* () {
        yield Buffer.concat([bytes, Buffer.from("\n")]);
      })(),
    )) {
      out.push(line);
    }
    expect(out).toEqual([bytes]);
  });

  it("gives the same lines however the input is chunked", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          fc.uint8Array({ maxLength: 20 }).map((b) => Buffer.from(b).toString("latin1").replace(/\n/g, "")),
          {
            maxLength: 10,
          },
        ),
        fc.array(fc.integer({ min: 1, max: 7 }), { minLength: 1, maxLength: 10 }),
        async (rows, cuts) => {
          const text = rows.map((r) => `${r}\n`).join("");
          const input = Buffer.from(text, "latin1");
          const chunks: Buffer[] = [];
          for (let at = 0, i = 0; at < input.length; i++) {
            const size = cuts[i % cuts.length];
            chunks.push(input.subarray(at, at + size));
            at += size;
          }
          const expected = rows.map((r) => (r.endsWith("\r") ? r.slice(0, -1) : r));
          expect(await lines(chunks)).toEqual(expected);
        },
      ),
    );
  });
});
