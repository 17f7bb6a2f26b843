import { Hono, type MiddlewareHandler } from "hono";
import { basicAuth } from "hono/basic-auth";
import { timingSafeEqual } from "hono/utils/buffer";
import { RateLimiterMemory } from "rate-limiter-flexible";
import type { GatewayApp, GatewayDeps } from "../app-types.js";
import { clientAddress } from "../auth.js";
import { ApiError } from "../errors.js";
import { requireSameOrigin } from "../middleware/same-origin.js";

/** Where the dashboard is served. */
export const DASHBOARD_PATH = "/admin/queues";

const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);

/**
 * Bull Board at /admin/queues: browse jobs by state, read a failed job's error, retry it.
 * Protected by its own HTTP Basic credentials (ADMIN_USER / ADMIN_PASSWORD), apart from the
 * sending API keys: a key that can send notifications cannot open it. Off when unset.
 *
 * In front of Bull Board, in this order:
 * - login attempts are limited per client address (`LoginAttempts`): 429 past the limit;
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

  const attempts = new LoginAttempts();
  // The same notion of "client" as the API key's failure limit (CLIENT_IP_HEADER behind a proxy).
  const clientOf = (c: Parameters<MiddlewareHandler>[0]) => clientAddress(c, deps.limits ?? {});
  const login = basicAuth({
    realm: "notifications-admin",
    // Called only when the request offers Basic credentials: a browser's first, unauthenticated
    // request (answered with the challenge) is not a failed login.
    verifyUser: async (user, password, c) => {
      // Both compared in constant time (hashed first, as hono's own check does), always both.
      const [userMatches, passwordMatches] = await Promise.all([
        timingSafeEqual(admin.user, user),
        timingSafeEqual(admin.password, password),
      ]);
      if (userMatches && passwordMatches) return true;
      await attempts.fail(clientOf(c));
      return false;
    },
  });
  // "/admin/queues/*" also matches "/admin/queues" itself.
  app.use(`${DASHBOARD_PATH}/*`, async (c, next) => {
    // A client over the limit is refused before its password is looked at, the right one too:
    // otherwise a 429 for wrong guesses and a 200 for the right one would let guessing go on.
    const wait = await attempts.secondsBlocked(clientOf(c));
    if (wait > 0) {
      throw new ApiError("TOO_MANY_REQUESTS", "Too many failed logins; retry later", {
        "Retry-After": String(wait),
      });
    }
    return login(c, next);
  });
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

  let dashboard: Promise<Hono> | undefined;
  const serveDashboard = async (c: { req: { raw: Request } }) => {
    dashboard ??= buildDashboard(deps, admin.readOnly === true);
    return (await dashboard).fetch(c.req.raw);
  };
  app.all(`${DASHBOARD_PATH}/*`, serveDashboard);
}

/** 403 for every state-changing request; reading goes on. */
function refuseChanges(message: string): MiddlewareHandler {
  return async (c, next) => {
    if (!SAFE_METHODS.has(c.req.method)) throw new ApiError("FORBIDDEN", message);
    await next();
  };
}

/**
 * Failed dashboard logins allowed per client address within the window; the next request from
 * that address, whatever its credentials, is refused until the window ends. Ten is plenty for an
 * operator's typos and, against a 12-character minimum password, nothing for a guesser.
 */
export const LOGIN_FAILURES_ALLOWED = 10;
/** The window failures are counted in, and how long an address stays refused: 15 minutes. */
export const LOGIN_WINDOW_SECONDS = 15 * 60;
/** Client addresses remembered at most (least recently failing forgotten first): bounded memory. */
export const LOGIN_CLIENTS_TRACKED = 10_000;

/**
 * Failed dashboard logins per client address, in this process's memory (the dashboard is an
 * operator's page: a per-replica count is enough, and needs nothing from Redis).
 *
 * rate-limiter-flexible counts and expires the failures; the addresses it holds are kept in an
 * LRU of at most `clients` entries, so an attacker spraying addresses cannot grow memory without
 * bound. (Evicting an address forgets its count: reaching that takes `clients` other failing
 * addresses within the window, each still held to the limit.) Nothing here ever refuses an
 * address for another address's failures, and a success does not reset a count: with Basic
 * auth every request of a logged-in operator is a success, and an attacker behind the same
 * address would have its count wiped by them.
 */
export class LoginAttempts {
  readonly #limiter: RateLimiterMemory;
  /** Addresses with a count, least recently failing (or refused) first. */
  readonly #clients = new Map<string, true>();

  constructor(
    readonly limits = {
      failures: LOGIN_FAILURES_ALLOWED,
      windowSeconds: LOGIN_WINDOW_SECONDS,
      clients: LOGIN_CLIENTS_TRACKED,
    },
  ) {
    this.#limiter = new RateLimiterMemory({
      keyPrefix: "dashboard-login",
      points: limits.failures,
      duration: limits.windowSeconds,
    });
  }

  /** Seconds before `client` may try again; 0 when it may now. */
  async secondsBlocked(client: string): Promise<number> {
    const state = await this.#limiter.get(client);
    if (!state || state.consumedPoints < this.limits.failures) return 0;
    this.#touch(client); // still hammering: keep it remembered
    return Math.max(1, Math.ceil(state.msBeforeNext / 1000));
  }

  /** Counts one failed login; the one that reaches the limit refuses the address for a window. */
  async fail(client: string): Promise<void> {
    this.#touch(client);
    const state = await this.#limiter.penalty(client);
    if (state.consumedPoints >= this.limits.failures) {
      await this.#limiter.block(client, this.limits.windowSeconds);
    }
  }

  /** How many addresses are remembered (for tests). */
  get trackedClients(): number {
    return this.#clients.size;
  }

  #touch(client: string): void {
    this.#clients.delete(client);
    this.#clients.set(client, true);
    if (this.#clients.size <= this.limits.clients) return;
    const oldest = this.#clients.keys().next().value;
    if (oldest === undefined) return;
    this.#clients.delete(oldest);
    void this.#limiter.delete(oldest); // in memory: settled at once
  }
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
    queues: [new BullMQAdapter(deps.queue, { readOnlyMode: readOnly })],
    serverAdapter,
    options: { uiConfig: { boardTitle: "Notifications" } },
  });
  return new Hono().route(DASHBOARD_PATH, serverAdapter.registerPlugin());
}
