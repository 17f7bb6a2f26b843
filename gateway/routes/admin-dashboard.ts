import { Hono } from "hono";
import { basicAuth } from "hono/basic-auth";
import type { GatewayApp, GatewayDeps } from "../app-types.js";

/** Where the dashboard is served. */
export const DASHBOARD_PATH = "/admin/queues";

/**
 * Bull Board at /admin/queues: browse jobs by state, read a failed job's error, retry it.
 * Protected by its own HTTP Basic credentials (ADMIN_USER / ADMIN_PASSWORD), apart from the
 * sending API keys: a key that can send notifications cannot open it. Off when unset.
 *
 * Bull Board is loaded on the first dashboard request, not at start: its modules cost the
 * gateway's cold start (which a scale-to-zero gateway pays on a customer's request) for a page
 * an operator opens now and then.
 */
export function registerAdminDashboard(app: GatewayApp, deps: GatewayDeps): void {
  const admin = deps.admin;
  if (!admin) return;

  // hono's basicAuth compares credentials in constant time.
  const login = basicAuth({
    username: admin.user,
    password: admin.password,
    realm: "notifications-admin",
  });
  // "/admin/queues/*" also matches "/admin/queues" itself.
  app.use(`${DASHBOARD_PATH}/*`, login);

  let dashboard: Promise<Hono> | undefined;
  const serveDashboard = async (c: { req: { raw: Request } }) => {
    dashboard ??= buildDashboard(deps);
    return (await dashboard).fetch(c.req.raw);
  };
  app.all(`${DASHBOARD_PATH}/*`, serveDashboard);
}

async function buildDashboard(deps: GatewayDeps): Promise<Hono> {
  const [{ createBullBoard }, { BullMQAdapter }, { HonoAdapter }, { serveStatic }] =
    await Promise.all([
      import("@bull-board/api"),
      import("@bull-board/api/bullMQAdapter"),
      import("@bull-board/hono"),
      import("@hono/node-server/serve-static"),
    ]);
  const serverAdapter = new HonoAdapter(serveStatic).setBasePath(DASHBOARD_PATH);
  createBullBoard({
    queues: [new BullMQAdapter(deps.queue)],
    serverAdapter,
    options: { uiConfig: { boardTitle: "Notifications" } },
  });
  return new Hono().route(DASHBOARD_PATH, serverAdapter.registerPlugin());
}
