import { Hono, type MiddlewareHandler } from "hono";
import { loadOnce } from "../../lib/load-once.js";
import { adminLogin } from "../admin-login.js";
import type { GatewayApp, GatewayDeps } from "../app-types.js";
import { ApiError } from "../errors.js";
import { requireSameOrigin } from "../middleware/same-origin.js";

export {
  LOGIN_CLIENTS_TRACKED,
  LOGIN_FAILURES_ALLOWED,
  LOGIN_WINDOW_SECONDS,
  LoginAttempts,
} from "../admin-login.js";

/** Where the dashboard is served. */
export const DASHBOARD_PATH = "/admin/queues";

const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);

/**
 * Bull Board at /admin/queues: browse jobs by state, read a failed job's error, retry it.
 * Protected by its own HTTP Basic credentials (ADMIN_USER / ADMIN_PASSWORD), apart from the
 * sending API keys: a key that can send notifications cannot open it. Off when unset.
 *
 * In front of Bull Board, in this order:
 * - the admin login (`adminLogin`), whose attempts are limited per client address: 429 past it;
 * - every state-changing request must come from the dashboard's own page (`requireSameOrigin`):
 *   the browser re-sends Basic credentials on any site's forged form, so the login alone proves
 *   nothing about who asked;
 * - with ADMIN_READ_ONLY, every state-changing request is refused (and Bull Board itself runs
 *   read-only, so its page offers no actions);
 * - adding a job and rewriting a job's data are refused whatever the mode (see below).
 *
 * Bull Board is loaded on the first dashboard request, not at start: its modules cost the
 * gateway's cold start (which a scale-to-zero gateway pays on a customer's request) for a page
 * an operator opens now and then.
 */
export function registerAdminDashboard(app: GatewayApp, deps: GatewayDeps): void {
  const admin = deps.admin;
  if (!admin) return;

  // The admin login shared with the other admin pages (one failure count for all of them).
  app.use(`${DASHBOARD_PATH}/*`, adminLogin(deps, admin));
  app.use(`${DASHBOARD_PATH}/*`, requireSameOrigin());
  if (admin.readOnly) {
    app.use(`${DASHBOARD_PATH}/*`, refuseChanges("The dashboard is read-only"));
  }
  // No adding jobs from the dashboard, and no rewriting a job's data: notifications are created
  // through the API only, with an API key, validated and rate limited there. A dashboard login
  // (or anyone who borrows it) can retry, remove or pause what exists, never make the worker
  // email or text an address of its choosing — neither with a new job nor by editing a failed
  // job's recipient and retrying it. Bull Board's "Add job" and "Duplicate" answer 403.
  app.use(
    `${DASHBOARD_PATH}/api/queues/:queueName/add`,
    refuseChanges("Jobs cannot be added from the dashboard; use the API"),
  );
  app.use(
    `${DASHBOARD_PATH}/api/queues/:queueName/:jobId/update-data`,
    refuseChanges("Job data cannot be changed from the dashboard"),
  );

  const dashboard = loadOnce(() => buildDashboard(deps, admin.readOnly === true));
  const serveDashboard = async (c: { req: { raw: Request } }) =>
    (await dashboard()).fetch(c.req.raw);
  app.all(`${DASHBOARD_PATH}/*`, serveDashboard);
}

/** 403 for every state-changing request; reading goes on. */
function refuseChanges(message: string): MiddlewareHandler {
  return async (c, next) => {
    if (!SAFE_METHODS.has(c.req.method)) throw new ApiError("FORBIDDEN", message);
    await next();
  };
}

async function buildDashboard(deps: GatewayDeps, readOnly: boolean): Promise<Hono> {
  const [{ createBullBoard }, { BullMQAdapter }, { HonoAdapter }, { serveStatic }] =
    await Promise.all([
      import("@bull-board/api"),
      import("@bull-board/api/bullMQAdapter"),
      import("@bull-board/hono"),
      import("@hono/node-server/serve-static"),
    ]);
  const serverAdapter = new HonoAdapter(serveStatic).setBasePath(DASHBOARD_PATH);
  createBullBoard({
    // Read-only: Bull Board hides its actions and refuses them too (behind the gateway's own 403).
    // With events on, their queue too: an event the backend never took is found and retried here.
    queues: [deps.queue, ...(deps.eventsQueue ? [deps.eventsQueue] : [])].map(
      (queue) => new BullMQAdapter(queue, { readOnlyMode: readOnly }),
    ),
    serverAdapter,
    options: { uiConfig: { boardTitle: "Notifications" } },
  });
  return new Hono().route(DASHBOARD_PATH, serverAdapter.registerPlugin());
}
