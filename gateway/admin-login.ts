import type { MiddlewareHandler } from "hono";
import { basicAuth } from "hono/basic-auth";
import { timingSafeEqual } from "hono/utils/buffer";
import { RateLimiterMemory } from "rate-limiter-flexible";
import type { GatewayDeps } from "./app-types.js";
import { clientAddress } from "./auth.js";
import { ApiError } from "./errors.js";

const logins = new WeakMap<GatewayDeps, MiddlewareHandler>();

/**
 * The operators' login (ADMIN_USER / ADMIN_PASSWORD, HTTP Basic) in front of every admin page:
 * the queue dashboard and the message previews. One per app, so every admin page counts the
 * same failed attempts: a guesser gets `LOGIN_FAILURES_ALLOWED` tries in all, not per page.
 */
export function adminLogin(
  deps: GatewayDeps,
  admin: { user: string; password: string },
): MiddlewareHandler {
  const existing = logins.get(deps);
  if (existing) return existing;
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
  const guard: MiddlewareHandler = async (c, next) => {
    // A client over the limit is refused before its password is looked at, the right one too:
    // otherwise a 429 for wrong guesses and a 200 for the right one would let guessing go on.
    const wait = await attempts.secondsBlocked(clientOf(c));
    if (wait > 0) {
      throw new ApiError("TOO_MANY_REQUESTS", "Too many failed logins; retry later", {
        "Retry-After": String(wait),
      });
    }
    return login(c, next);
  };
  logins.set(deps, guard);
  return guard;
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
