import { readFileSync } from "node:fs";
import { pathToFileURL } from "node:url";
import { ignoredOptionNotes, OptionReader, parseArgs, UsageError } from "./args.js";
import type { CliIo, Command } from "./command.js";
import { agentCommand } from "./agent-command.js";
import { consumeCommand } from "./consume-command.js";
import { devCommand } from "./dev-command.js";
import { errorLine } from "./error-line.js";
import { groupsCommands } from "./groups-command.js";
import { commandHelp, groupHelp, HELP_OPTION, mainHelp } from "./help.js";
import { kafkaStyleArgv, missingAction } from "./kafka-actions.js";
import { produceCommand } from "./produce-command.js";
import { subscriptionsCommands } from "./subscriptions-command.js";
import { CONNECTION_OPTIONS, serverUrl } from "./server-url.js";
import { adminMaintenanceCommand } from "./admin-command.js";
import { sigv4Fetch, sigv4TargetOf } from "../client/sigv4-fetch.js";
import { topicsCommands } from "./topics-commands.js";
import { Floe } from "../client/floe.js";

export const COMMANDS: Command[] = [
  devCommand,
  agentCommand,
  ...topicsCommands,
  produceCommand,
  consumeCommand,
  ...groupsCommands,
  ...subscriptionsCommands,
  adminMaintenanceCommand,
];

const USAGE_EXIT = 2;

/** The `floe` command: resolves to the process exit code; never throws, never prints a stack trace (unless FLOE_DEBUG=1). */
export async function main(typed: readonly string[], io: CliIo = processIo()): Promise<number> {
  const out = (text: string) => io.stdout.write(text);
  let argv = globalOptionsAfterCommand(typed);
  let words = leadingWords(argv);
  let command = findCommand(words);
  let label = command ? command.path.join(" ") : words.join(" ");
  try {
    // Kafka's spelling, `floe topics --create --topic t`, is `floe topics create --topic t`.
    if (!command && words.length === 1) {
      argv = kafkaStyleArgv(argv);
      words = leadingWords(argv);
      command = findCommand(words);
      label = command ? command.path.join(" ") : label;
    }
    if (
      argv.length === 0 ||
      (words.length === 0 && isHelp(argv[0])) ||
      (words[0] === "help" && words.length === 1)
    ) {
      out(mainHelp(COMMANDS));
      return 0;
    }
    if (words[0] === "help") {
      const target = findCommand(words.slice(1));
      if (target) out(commandHelp(target));
      else if (isGroup(words.slice(1))) out(groupHelp(words.slice(1), COMMANDS));
      else throw new UsageError(`unknown command "${words.slice(1).join(" ")}"`);
      return 0;
    }
    if (words.length === 0 && (argv[0] === "--version" || argv[0] === "-V")) {
      out(`${version()}\n`);
      return 0;
    }
    if (!command) {
      if (isGroup(words)) {
        if (argv.slice(words.length).some(isHelp)) {
          out(groupHelp(words, COMMANDS));
          return 0;
        }
        const wrong = argv[words.length];
        const mistake = wrong === undefined ? undefined : missingAction(words.join(" "), wrong);
        if (mistake) throw mistake;
        io.stderr.write(groupHelp(words, COMMANDS));
        return USAGE_EXIT;
      }
      if (words.length === 0) {
        const name = argv[0].split("=")[0];
        throw new UsageError(
          Object.hasOwn(CONNECTION_OPTIONS, name.replace(/^--/, ""))
            ? `${name} needs a command, e.g. floe ${name} … topics list`
            : `${name} goes after the command (only ${GLOBAL_OPTIONS} may come before it), e.g. floe topics list ${name} …`,
        );
      }
      throw new UsageError(`unknown command "${words.join(" ")}"; run floe --help for the list`);
    }
    const rest = argv.slice(command.path.length);
    const specs = { ...command.options, ...(command.connects ? CONNECTION_OPTIONS : {}), ...HELP_OPTION };
    let parsed: ReturnType<typeof parseArgs>;
    try {
      parsed = parseArgs(rest, specs);
    } catch (error) {
      if (!command.lenient || !(error instanceof UsageError)) throw error;
      parsed = { options: new Map(rest.some(isHelp) ? [["help", true]] : []), positionals: [] };
    }
    const options = new OptionReader(parsed);
    if (options.flag("help")) {
      out(commandHelp(command));
      return 0;
    }
    for (const note of ignoredOptionNotes(parsed, specs)) io.stderr.write(`floe ${label}: note: ${note}\n`);
    // Checked before the command runs: a bad --url or FLOE_URL fails before any input is read.
    if (command.connects) serverUrl(options, io.env);
    return await command.run({
      options,
      io,
      client: (clientOptions) => {
        const url = serverUrl(options, io.env);
        return new Floe({
          url,
          retry: clientOptions?.retry,
          fetch: signingFetch(url, options.flag("aws-sigv4"), io.env),
        });
      },
    });
  } catch (error) {
    io.stderr.write(`${errorLine(label, error)}\n`);
    if (io.env.FLOE_DEBUG && error instanceof Error && error.stack) io.stderr.write(`${error.stack}\n`);
    return error instanceof UsageError ? USAGE_EXIT : 1;
  }
}

/** A deployed stack refuses unsigned requests: sign for its URLs, or anywhere when asked to. */
function signingFetch(url: string, asked: boolean, env: NodeJS.ProcessEnv) {
  const target = sigv4TargetOf(
    url,
    asked ? (env.AWS_REGION ?? env.AWS_DEFAULT_REGION ?? "us-east-1") : undefined,
  );
  return target ? sigv4Fetch(target) : undefined;
}

function isHelp(arg: string | undefined): boolean {
  return arg === "--help" || arg === "-h";
}

const GLOBAL_OPTIONS = Object.keys(CONNECTION_OPTIONS)
  .map((name) => `--${name}`)
  .join(", ");

/**
 * `floe --url X topics list` as `floe topics list --url X`: the connection options typed before the
 * command move right after its words, where the command's own parser reads (and validates) them as
 * if typed there. Only they may come first: they are the same for every command, and their kinds
 * are known before the command is, so `--url X` is never mistaken for a command word. Given before
 * and after, the later one wins, as for any repeated option.
 */
export function globalOptionsAfterCommand(argv: readonly string[]): readonly string[] {
  const hoisted: string[] = [];
  let i = 0;
  while (i < argv.length && argv[i].startsWith("--")) {
    const eq = argv[i].indexOf("=");
    const name = argv[i].slice(2, eq === -1 ? undefined : eq);
    if (!Object.hasOwn(CONNECTION_OPTIONS, name)) break;
    const takesNext = CONNECTION_OPTIONS[name].kind === "value" && eq === -1 && i + 1 < argv.length;
    hoisted.push(...argv.slice(i, takesNext ? i + 2 : i + 1));
    i += takesNext ? 2 : 1;
  }
  if (hoisted.length === 0) return argv;
  const rest = argv.slice(i);
  const words = leadingWords(rest);
  // No command after them: leave them first, so `floe --url X --help` still prints the help and a
  // lone `floe --url X` is told it needs a command.
  if (words.length === 0)
    return [...rest.filter(isHelpOrVersion), ...hoisted, ...rest.filter((a) => !isHelpOrVersion(a))];
  return [...words, ...hoisted, ...rest.slice(words.length)];
}

function isHelpOrVersion(arg: string): boolean {
  return isHelp(arg) || arg === "--version" || arg === "-V";
}

/** The command words before the first option: `topics create` in `floe topics create --topic t`. */
function leadingWords(argv: readonly string[]): string[] {
  const words: string[] = [];
  for (const arg of argv) {
    if (arg.startsWith("-")) break;
    words.push(arg);
  }
  return words;
}

/** The longest command whose path starts `words`; later words are that command's (unexpected) positionals. */
function findCommand(words: readonly string[]): Command | undefined {
  let best: Command | undefined;
  for (const command of COMMANDS) {
    const matches = command.path.every((word, i) => words[i] === word);
    if (matches && (!best || command.path.length > best.path.length)) best = command;
  }
  return best;
}

function isGroup(words: readonly string[]): boolean {
  return (
    words.length > 0 &&
    COMMANDS.some((c) => c.path.length > words.length && words.every((word, i) => c.path[i] === word))
  );
}

function version(): string {
  // The same relative path from src/cli and dist/cli.
  const pkg = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as {
    version: string;
  };
  return pkg.version;
}

/** The real process's streams; SIGINT/SIGTERM handlers are installed only for commands that ask for the signal. */
export function processIo(): CliIo {
  let controller: AbortController | undefined;
  return {
    stdin: process.stdin,
    stdout: process.stdout,
    stderr: process.stderr,
    env: process.env,
    get interrupted() {
      if (!controller) {
        const c = new AbortController();
        controller = c;
        const onSignal = (signal: NodeJS.Signals) => {
          // A second Ctrl-C means "now": do not wait for the clean stop.
          if (c.signal.aborted) process.exit(signal === "SIGINT" ? 130 : 143);
          c.abort(new Error(`interrupted by ${signal}`));
        };
        process.on("SIGINT", onSignal);
        process.on("SIGTERM", onSignal);
      }
      return controller.signal;
    },
  };
}

/** Runs `main` as the process: waits for stdout and stderr to drain, then exits with its code. */
export async function runAsProcess(argv: readonly string[]): Promise<never> {
  // A reader that went away (`floe topics list | head -1`) is not worth a crash report.
  process.stdout.on("error", () => {});
  const code = await main(argv);
  await Promise.all([drained(process.stdout), drained(process.stderr)]);
  process.exit(code);
}

function drained(stream: NodeJS.WriteStream): Promise<void> {
  return new Promise((resolve) => {
    if (stream.destroyed || !stream.writable) return resolve();
    stream.write("", () => resolve());
  });
}

// `node --import tsx src/cli/main.ts …` runs the CLI straight from source.
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await runAsProcess(process.argv.slice(2));
}
