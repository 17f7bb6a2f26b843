import { describe, expect, it } from "vitest";
import { loadOnce } from "./load-once.js";

describe("loadOnce", () => {
  it("loads once for every caller, concurrent or later", async () => {
    let loads = 0;
    const get = loadOnce(async () => {
      loads += 1;
      return { loaded: loads };
    });
    const [a, b] = await Promise.all([get(), get()]);
    const c = await get();
    expect(loads).toBe(1);
    expect(a).toBe(b);
    expect(c).toBe(a);
  });

  it("tries again after a failed load, and keeps the load that worked", async () => {
    let loads = 0;
    const get = loadOnce(async () => {
      loads += 1;
      if (loads === 1) throw new Error("package missing");
      return "loaded";
    });
    await expect(get()).rejects.toThrow("package missing");
    expect(await get()).toBe("loaded");
    expect(await get()).toBe("loaded");
    expect(loads).toBe(2);
  });
});
