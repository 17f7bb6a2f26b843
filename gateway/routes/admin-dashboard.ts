import { createBullBoard } from "@bull-board/api";
import { BullMQAdapter } from "@bull-board/api/bullMQAdapter";
import { HonoAdapter } from "@bull-board/hono";
import { serveStatic } from "@hono/node-server/serve-static";
import { basicAuth } from "hono/basic-auth";
import type { GatewayApp, GatewayDeps } from "../app-types.js";

/** Where the dashboard is served. */
export const DASHBOARD_PATH = "/admin/queues";

/**
 * Bull Board at /admin/queues: browse jobs by state, read a failed job's error, retry it.
 * Protected by its own HTTP Basic credentials (ADMIN_USER / ADMIN_PASSWORD), apart from the
 * sending API keys: a key that can send notifications cannot open it. Off when unset.
 */
export function registerAdminDashboard(app: GatewayApp, deps: GatewayDeps): void {
  const admin = deps.admin;
  if (!admin) return;

  const serverAdapter = new HonoAdapter(serveStatic).setBasePath(DASHBOARD_PATH);
  createBullBoard({
    queues: [new BullMQAdapter(deps.queue)],
    serverAdapter,
    options: { uiConfig: { boardTitle: "Notifications" } },
  });
  // hono's basicAuth compares credentials in constant time.
  const login = basicAuth({
    username: admin.user,
    password: admin.password,
    realm: "notifications-admin",
  });
  app.use(DASHBOARD_PATH, login);
  app.use(`${DASHBOARD_PATH}/*`, login);
  app.route(DASHBOARD_PATH, serverAdapter.registerPlugin());
}
