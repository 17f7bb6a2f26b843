import { describe, expect, it } from "vitest";
import { removedVariableWarnings } from "./removed-variables.js";

describe("removedVariableWarnings", () => {
  it("names each removed variable that is set and what replaced it, and ignores empty ones", () => {
    expect(removedVariableWarnings({ EMAIL_BATCH_WINDOW_MS: "5", REDIS_URL: "redis://x" })).toEqual(
      [
        "EMAIL_BATCH_WINDOW_MS is no longer read; replaced by nothing: a batch of emails now collects until Resend's next free slot, and a lone email leaves at once",
      ],
    );
    expect(removedVariableWarnings({ EMAIL_BATCH_WINDOW_MS: "" })).toEqual([]);
  });
});
