import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

/** One request as the server read it. */
export interface ReceivedRequest {
  method: string;
  url: string;
  headers: IncomingMessage["headers"];
  body: Buffer;
}

/**
 * A real node:http server on 127.0.0.1 that records every request (after reading its whole body)
 * and answers as the test's `answer` says: what an HTTP target's tests deliver to.
 */
export interface RecordingHttpServer {
  port: number;
  /** `http://127.0.0.1:{port}` */
  url: string;
  received: ReceivedRequest[];
  /** TCP connections accepted so far. */
  connections: number;
  answer: (req: IncomingMessage, res: ServerResponse, body: Buffer) => void;
  close(): Promise<void>;
}

export async function startRecordingHttpServer(): Promise<RecordingHttpServer> {
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const body = Buffer.concat(chunks);
      recording.received.push({ method: req.method ?? "", url: req.url ?? "", headers: req.headers, body });
      recording.answer(req, res, body);
    });
  });
  server.on("connection", () => recording.connections++);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  const recording: RecordingHttpServer = {
    port,
    url: `http://127.0.0.1:${port}`,
    received: [],
    connections: 0,
    answer: (_req, res) => res.end(),
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  return recording;
}
