import type { OptionSpecs } from "./args.js";
import type { Command } from "./command.js";
import { CONNECTION_OPTIONS } from "./server-url.js";

export const HELP_OPTION: OptionSpecs = {
  help: { kind: "flag", short: "h", description: "show this help" },
};

function optionLines(specs: OptionSpecs): string[] {
  const rows = Object.entries(specs).map(([name, spec]) => {
    const flag = `${spec.short ? `-${spec.short}, ` : "    "}--${name}${spec.kind === "value" ? ` <${spec.valueName ?? "value"}>` : ""}`;
    return [flag, spec.description] as const;
  });
  const width = Math.max(...rows.map(([flag]) => flag.length)) + 2;
  return rows.map(([flag, description]) => `  ${flag.padEnd(width)}${description}`);
}

export function commandHelp(command: Command): string {
  const lines = [
    `Usage: ${command.usage}`,
    "",
    `${command.summary}${command.kafka ? ` (like ${command.kafka})` : ""}.`,
  ];
  if (command.notes) lines.push("", ...command.notes);
  if (Object.keys(command.options).length > 0) lines.push("", "Options:", ...optionLines(command.options));
  lines.push(
    "",
    "Global options:",
    ...optionLines({ ...(command.connects ? CONNECTION_OPTIONS : {}), ...HELP_OPTION }),
  );
  if (command.examples) lines.push("", "Examples:", ...command.examples.map((e) => `  ${e}`));
  return `${lines.join("\n")}\n`;
}

/** Help for a word that only groups subcommands, e.g. `floe topics`. */
export function groupHelp(path: string[], commands: Command[]): string {
  const children = commands.filter(
    (c) => path.every((word, i) => c.path[i] === word) && c.path.length > path.length,
  );
  const width = Math.max(...children.map((c) => c.path.join(" ").length)) + 2;
  const lines = [
    `Usage: floe ${path.join(" ")} <command> [options]`,
    "",
    "Commands:",
    ...children.map((c) => `  ${c.path.join(" ").padEnd(width)}${c.summary}`),
    "",
    `Run \`floe ${path.join(" ")} <command> --help\` for a command's options.`,
  ];
  if (children.every((c) => c.kafka?.includes(" --"))) {
    // kafka-topics.sh / kafka-consumer-groups.sh take the action as a flag: so does floe.
    const flags = children.map((c) => `--${c.path[c.path.length - 1]}`).join(", ");
    lines.push(
      `Kafka's spelling works too: floe ${path.join(" ")} ${flags} (e.g. floe ${path.join(" ")} --list).`,
    );
  }
  return `${lines.join("\n")}\n`;
}

export function mainHelp(commands: Command[]): string {
  const width = Math.max(...commands.map((c) => c.path.join(" ").length)) + 2;
  const lines = [
    "Usage: floe <command> [options]",
    "",
    "Floe: a Kafka-style event bus whose log lives in object storage.",
    "",
    "Commands:",
    ...commands.map((c) => `  ${c.path.join(" ").padEnd(width)}${c.summary}`),
    "",
    "Global options:",
    ...optionLines({
      ...CONNECTION_OPTIONS,
      ...HELP_OPTION,
      version: { kind: "flag", description: "print the version" },
    }),
    "",
    "Run `floe <command> --help` for a command's options. Start with: floe dev",
  ];
  return `${lines.join("\n")}\n`;
}
