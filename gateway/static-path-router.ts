import type { Result, Router } from "hono/router";
import { RegExpRouter } from "hono/router/reg-exp-router";
import { SmartRouter } from "hono/router/smart-router";
import { TrieRouter } from "hono/router/trie-router";

/**
 * Hono's default router, with the match of each fixed route path (`POST /notifications`,
 * `GET /readyz`: no parameter, no wildcard) kept after the first request. Hono's fastest router,
 * RegExpRouter, answers fixed paths from a prepared table, but it refuses this API: a parameter
 * beside a fixed segment (`/notifications/batch` and `/notifications/:id/retry`). Its fallback,
 * TrieRouter, walks its tree and builds a fresh result on every request. A fixed path's match
 * never changes once the routes are registered (its handlers, no parameters), so it is kept; the
 * cache holds only the app's own fixed paths, never a path a client makes up.
 */
export class StaticPathRouter<T> implements Router<T> {
  name = "StaticPathRouter";
  readonly #routes = new SmartRouter<T>({ routers: [new RegExpRouter(), new TrieRouter()] });
  readonly #fixedPaths = new Set<string>();
  readonly #matches = new Map<string, Map<string, Result<T>>>();

  add(method: string, path: string, handler: T): void {
    if (!/[:*{]/.test(path)) this.#fixedPaths.add(path);
    this.#routes.add(method, path, handler);
  }

  match(method: string, path: string): Result<T> {
    if (!this.#fixedPaths.has(path)) return this.#routes.match(method, path);
    let byMethod = this.#matches.get(path);
    if (!byMethod) {
      byMethod = new Map();
      this.#matches.set(path, byMethod);
    }
    let result = byMethod.get(method);
    if (!result) {
      result = this.#routes.match(method, path);
      // Node's HTTP parser knows a fixed set of methods: a bounded number of entries per path.
      byMethod.set(method, result);
    }
    return result;
  }
}
