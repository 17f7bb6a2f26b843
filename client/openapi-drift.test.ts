import { existsSync, readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { GENERATED_FILES, generateClientFiles } from "../scripts/generate-client.js";

const FIX = "run `npm run generate:client` and commit the result";

/** A committed file's text; empty when it is missing, so the comparison below still explains. */
function committed(path: string): string {
  const url = new URL(`../${path}`, import.meta.url);
  return existsSync(url) ? readFileSync(url, "utf8") : "";
}

describe("the generated client files", () => {
  it("match what the current routes produce", async () => {
    const generated = await generateClientFiles();
    // Soft: every stale file is reported, not only the first.
    for (const path of Object.values(GENERATED_FILES)) {
      const message = `${path} is out of date with the gateway's routes: ${FIX}`;
      expect.soft(committed(path), message).toBe(generated[path]);
    }
  });
});
