/**
 * Splits a byte stream into lines the way Kafka's console producer reads them (BufferedReader
 * readLine): "\n" or "\r\n" ends a line and is dropped, every other byte is kept as is, and a last
 * line without a newline still counts. Works on bytes, never on decoded text, so input that is not
 * UTF-8 passes through unchanged.
 */
export async function* splitLines(input: AsyncIterable<Buffer | string>): AsyncGenerator<Buffer> {
  let pending: Buffer[] = [];
  for await (const raw of input) {
    const chunk = typeof raw === "string" ? Buffer.from(raw, "utf8") : raw;
    let start = 0;
    for (let nl = chunk.indexOf(0x0a, start); nl !== -1; nl = chunk.indexOf(0x0a, start)) {
      const piece = chunk.subarray(start, nl);
      const line = pending.length === 0 ? piece : Buffer.concat([...pending, piece]);
      pending = [];
      yield line.length > 0 && line[line.length - 1] === 0x0d ? line.subarray(0, line.length - 1) : line;
      start = nl + 1;
    }
    if (start < chunk.length) pending.push(chunk.subarray(start));
  }
  if (pending.length > 0) {
    const line = Buffer.concat(pending);
    yield line[line.length - 1] === 0x0d ? line.subarray(0, line.length - 1) : line;
  }
}

/**
 * Calls `prompt` each time the next item is asked for, before it is read: Kafka's console producer
 * prints ">" before every readLine when it runs in a terminal.
 */
export async function* prompted<T>(source: AsyncIterable<T>, prompt: () => void): AsyncGenerator<T> {
  const iterator = source[Symbol.asyncIterator]();
  try {
    for (;;) {
      prompt();
      const next = await iterator.next();
      if (next.done) return;
      yield next.value;
    }
  } finally {
    await iterator.return?.();
  }
}
