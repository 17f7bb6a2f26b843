import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { watchLeftovers } from "./leftovers.js";
import { startNodeProcess } from "./processes.js";

// Watches by marker only: this file runs beside others whose processes share the group.
describe("the check for what a test run leaves behind", () => {
  it("names a process of the run still running after the wait, and ends it", async () => {
    const watch = watchLeftovers({ byGroup: false });
    const stays = startNodeProcess("stays", ["-e", "setInterval(() => {}, 60_000)"], watch.env);
    expect(await watch.finish(200)).toEqual([
      `process ${stays.child.pid} still running: ${process.execPath} -e setInterval(() => {}, 60_000)`,
    ]);
    expect(await stays.exited).toBeNull();
    expect(stays.child.signalCode).toBe("SIGKILL");
  });

  it("waits for a process that is still stopping instead of naming it", async () => {
    const watch = watchLeftovers({ byGroup: false });
    // Takes 500 ms to stop after SIGTERM, as a server closing its connections does.
    const stopping = startNodeProcess(
      "stopping",
      [
        "-e",
        `process.on("SIGTERM", () => setTimeout(() => process.exit(0), 500));
         console.log("ready"); setInterval(() => {}, 60_000);`,
      ],
      watch.env,
    );
    await stopping.waitForLine(/ready/);
    stopping.child.kill("SIGTERM");
    expect(await watch.finish(10_000)).toEqual([]);
    expect(await stopping.exited).toBe(0);
  });

  it("names what is left in the run's temporary folder, and removes the folder", async () => {
    const watch = watchLeftovers({ byGroup: false });
    const folder = watch.env.TMPDIR ?? "";
    mkdirSync(join(folder, "go-build123"));
    // npm's compile cache, kept there by design: not named, removed with the folder.
    mkdirSync(join(folder, "node-compile-cache"));
    writeFileSync(join(folder, "go-build123", "main"), "");
    expect(await watch.finish(100)).toEqual(["left in the run's temporary folder: go-build123"]);
    expect(existsSync(folder)).toBe(false);
  });

  it("reports nothing when the run's processes ended and its folder is empty", async () => {
    const watch = watchLeftovers({ byGroup: false });
    const done = startNodeProcess("done", ["-e", "process.exit(0)"], watch.env);
    expect(await done.exited).toBe(0);
    expect(await watch.finish(100)).toEqual([]);
  });
});
