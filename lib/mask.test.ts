import { describe, expect, it } from "vitest";
import { maskEmail, maskPhone, maskUrlPassword, redactContacts } from "./mask.js";

describe("masking for logs", () => {
  it.each([
    ["user@example.com", "u***@example.com"],
    ["a@b.co", "a***@b.co"],
    ["no-at-sign", "***"],
    ["@example.com", "***"],
  ])("masks the email %s as %s", (email, masked) => {
    expect(maskEmail(email)).toBe(masked);
  });

  it.each([
    ["+12025550143", "+1********43"],
    ["+447700900123", "+4*********23"],
    ["+29012345", "+2*****45"],
    ["+1234", "***"],
  ])("masks the phone %s as %s, hiding at least half its digits", (phone, masked) => {
    expect(maskPhone(phone)).toBe(masked);
    const digits = phone.length - 1;
    const hidden = (masked.match(/\*/g) ?? []).length;
    if (masked !== "***") expect(hidden).toBeGreaterThanOrEqual(digits / 2);
  });

  it("masks every address and number in running text", () => {
    expect(
      redactContacts(
        "The 'To' number +12025550166 is not a valid phone number; bounce for jane.doe+x@mail.example.org",
      ),
    ).toBe(
      "The 'To' number +1********66 is not a valid phone number; bounce for j***@mail.example.org",
    );
  });

  it.each([
    ["redis://default:hunter2@host:6379/0", "redis://default:***@host:6379/0"],
    ["rediss://:hunter2@eu1.upstash.io:6379", "rediss://:***@eu1.upstash.io:6379"],
    ["redis://127.0.0.1:6379", "redis://127.0.0.1:6379"],
    ["not a url", "***"],
  ])("hides the password in %s", (url, masked) => {
    expect(maskUrlPassword(url)).toBe(masked);
  });
});
