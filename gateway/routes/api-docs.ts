import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import type { MiddlewareHandler } from "hono";
import { loadOnce } from "../../lib/load-once.js";
import type { GatewayApp } from "../app-types.js";

/** Where the OpenAPI document and the reference page are served. */
export const OPENAPI_PATH = "/openapi.json";
export const DOCS_PATH = "/docs";
const SCALAR_SCRIPT_PATH = "/docs/scalar.js";

const DESCRIPTION = `Trade notifications by email and SMS, queued on BullMQ.

Every \`/notifications\` route takes \`Authorization: Bearer <API key>\`. Every error has one shape:
\`{"error": {"code", "message", "requestId"}}\`. \`POST\` answers \`202\` at once: nothing is sent
during the request; read the outcome with \`GET /notifications/{id}\`.`;

/**
 * `GET /openapi.json`, an OpenAPI 3.1 document built from the routes' own zod schemas, and
 * `GET /docs`, Scalar's interactive reference for it. Scalar's script is served from the
 * installed package, not a CDN, so the page works wherever the gateway runs.
 */
export function registerApiDocs(app: GatewayApp): void {
  app.openAPIRegistry.registerComponent("securitySchemes", "bearerAuth", {
    type: "http",
    scheme: "bearer",
    description: "One of the gateway's API_KEYS",
  });
  app.doc31(OPENAPI_PATH, {
    openapi: "3.1.0",
    info: { title: "Exchange notification service", version: "1.0.0", description: DESCRIPTION },
  });

  const scriptFile = createRequire(import.meta.url).resolve(
    "@scalar/api-reference/browser/standalone.js",
  );
  let script: Promise<string> | undefined;
  app.get(SCALAR_SCRIPT_PATH, async (c) => {
    script ??= readFile(scriptFile, "utf8");
    return c.body(await script, 200, {
      "content-type": "text/javascript; charset=utf-8",
      "cache-control": "public, max-age=86400",
    });
  });
  // Loaded on the first visit: few requests ever read the docs, every start would pay for them.
  const page = loadOnce<MiddlewareHandler>(async () => {
    const { Scalar } = await import("@scalar/hono-api-reference");
    return Scalar({ url: OPENAPI_PATH, cdn: SCALAR_SCRIPT_PATH, pageTitle: "Notifications API" });
  });
  app.get(DOCS_PATH, async (c, next) => (await page())(c, next));
}
