import { describe, expect, it } from "vitest";
import { groupSegment, segment, topicSegment } from "../../../src/client/http-transport.js";
import { FloeClientError } from "../../../src/client/client-error.js";
import { thrown } from "../../support/thrown.js";

describe("client path segments", () => {
  it.each([".", ".."])("refuse %j, which `new URL` would resolve as a path step", (name) => {
    for (const [build, code] of [
      [topicSegment, "INVALID_TOPIC_EXCEPTION"],
      [groupSegment, "INVALID_GROUP_ID"],
      [segment, "INVALID_REQUEST"],
    ] as const) {
      const error = thrown(() => build(name));
      expect(error).toBeInstanceOf(FloeClientError);
      expect((error as FloeClientError).code).toBe(code);
      // Refused locally: no HTTP status, nothing was sent.
      expect((error as FloeClientError).status).toBeUndefined();
    }
  });

  it("escape everything else, dots inside a name included", () => {
    expect(topicSegment("a.b")).toBe("a.b");
    expect(topicSegment("...")).toBe("...");
    expect(groupSegment("g/1 ?")).toBe("g%2F1%20%3F");
    expect(segment(3)).toBe("3");
  });
});
