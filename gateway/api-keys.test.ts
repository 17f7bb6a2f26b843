import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { acceptedKeys, apiKeyId, keyMatcher } from "./api-keys.js";

const FIRST = "first-key-0123456789abcdef";
const SECOND = "second-key-0123456789abcdef";

describe("keyMatcher", () => {
  it("names each accepted key, plaintext or hashed, again and again", () => {
    const secondDigest = createHash("sha256").update(SECOND).digest("hex");
    const match = keyMatcher(acceptedKeys([FIRST], [`admin:${secondDigest}`]));
    for (let round = 0; round < 3; round += 1) {
      expect(match(FIRST)).toMatchObject({ id: apiKeyId(FIRST), admin: false });
      expect(match(SECOND)).toMatchObject({ id: apiKeyId(SECOND), admin: true });
    }
  });

  it("never accepts a wrong key, before or after the right one was verified", () => {
    const match = keyMatcher(acceptedKeys([FIRST]));
    const near = [`${FIRST}x`, FIRST.slice(0, -1), FIRST.toUpperCase(), ` ${FIRST}`, ""];
    for (const wrong of near) expect(match(wrong)).toBeUndefined();
    expect(match(FIRST)?.id).toBe(apiKeyId(FIRST));
    for (const wrong of near) expect(match(wrong)).toBeUndefined();
  });
});
