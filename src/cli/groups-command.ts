import { UsageError } from "./args.js";
import type { Command } from "./command.js";

/** Listed so `floe groups` answers like the rest of the CLI instead of as an unknown command. */
export const groupsCommand: Command = {
  path: ["groups"],
  summary: "Consumer groups: list, describe, reset-offsets, delete (not yet supported)",
  kafka: "kafka-consumer-groups.sh",
  usage: "floe groups list|describe|reset-offsets|delete [options]",
  connects: true,
  options: {},
  lenient: true,
  notes: [
    "Consumer groups arrive in a later release; until then read by partition and offset with floe consume.",
  ],
  async run() {
    throw new UsageError(
      "consumer groups are not yet supported; read by partition and offset with floe consume",
    );
  },
};
