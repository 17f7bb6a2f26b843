import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";

/** One OTLP/HTTP export the collector received. */
export interface OtlpExport {
  contentType: string;
  body: Buffer;
}

/** A started stand-in collector; `exports` stays empty when it discards. */
export interface OtlpCollector {
  /** The base URL for OTEL_EXPORTER_OTLP_ENDPOINT (the exporters append /v1/traces). */
  url: string;
  exports: OtlpExport[];
  /** Trace exports received, kept or not. */
  received(): number;
  close(): Promise<void>;
}

/**
 * An OTLP/HTTP collector stand-in on 127.0.0.1 that answers every export 200 (an empty success,
 * in the request's content type). It keeps each trace export's content type and body, or with
 * `discard` reads and drops them, so that a traced process under load costs no memory here.
 */
export async function startOtlpCollector(
  options: { discard?: boolean } = {},
): Promise<OtlpCollector> {
  const exports: OtlpExport[] = [];
  let received = 0;
  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => {
      if (!options.discard) chunks.push(chunk);
    });
    request.on("end", () => {
      if (request.url === "/v1/traces") {
        received += 1;
        if (!options.discard) {
          exports.push({
            contentType: String(request.headers["content-type"]),
            body: Buffer.concat(chunks),
          });
        }
      }
      response.writeHead(200, { "content-type": String(request.headers["content-type"]) });
      response.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    exports,
    received: () => received,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
