import { describe, expect, it } from "vitest";
import { maskEmail, maskPhone, maskUrlPassword } from "./mask.js";

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
    ["+12025550143", "+1202***0143"],
    ["+447700900123", "+4477***0123"],
    ["+1234", "***"],
  ])("masks the phone %s as %s", (phone, masked) => {
    expect(maskPhone(phone)).toBe(masked);
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
