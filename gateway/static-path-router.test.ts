import { TrieRouter } from "hono/router/trie-router";
import { describe, expect, it } from "vitest";
import { StaticPathRouter } from "./static-path-router.js";

/** The gateway's shape of routes: middleware on a prefix, fixed paths beside parameters. */
const ROUTES: Array<[string, string, string]> = [
  ["ALL", "/*", "every request"],
  ["ALL", "/notifications/*", "api key"],
  ["POST", "/notifications", "create"],
  ["POST", "/notifications/batch", "batch"],
  ["GET", "/notifications/:id", "get"],
  ["POST", "/notifications/:id/retry", "retry"],
];

function routers() {
  const cached = new StaticPathRouter<string>();
  const trie = new TrieRouter<string>();
  for (const [method, path, handler] of ROUTES) {
    cached.add(method, path, handler);
    trie.add(method, path, handler);
  }
  return { cached, trie };
}

describe("StaticPathRouter", () => {
  it("matches what hono's router matches, middleware first, parameters included", () => {
    const { cached, trie } = routers();
    for (const [method, path] of [
      ["POST", "/notifications"],
      ["POST", "/notifications/batch"],
      ["GET", "/notifications/abc"],
      ["POST", "/notifications/abc/retry"],
      ["GET", "/nowhere"],
    ] as const) {
      expect(cached.match(method, path), `${method} ${path}`).toEqual(trie.match(method, path));
    }
    expect(cached.match("GET", "/notifications/abc")[0].map(([handler]) => handler)).toEqual([
      "every request",
      "api key",
      "get",
    ]);
  });

  it("keeps a fixed path's match, per method, and nothing for paths a client makes up", () => {
    const { cached } = routers();
    const create = cached.match("POST", "/notifications");
    expect(create[0].map(([handler]) => handler)).toEqual(["every request", "api key", "create"]);
    expect(cached.match("POST", "/notifications")).toBe(create);
    // The same path under another method is its own entry (no route: only the middleware).
    expect(cached.match("GET", "/notifications")[0].map(([handler]) => handler)).toEqual([
      "every request",
      "api key",
    ]);
    expect(cached.match("GET", "/nowhere")).not.toBe(cached.match("GET", "/nowhere"));
    expect(cached.match("GET", "/notifications/abc")).not.toBe(
      cached.match("GET", "/notifications/abc"),
    );
  });

  it("runs routes hono's RegExpRouter refuses (a parameter beside a fixed segment)", async () => {
    const { RegExpRouter } = await import("hono/router/reg-exp-router");
    const regExp = new RegExpRouter<string>();
    expect(() => {
      for (const [method, path, handler] of ROUTES) regExp.add(method, path, handler);
      regExp.match("POST", "/notifications");
    }).toThrow();
    expect(routers().cached.match("POST", "/notifications/x/retry")[0]).toHaveLength(3);
  });
});
