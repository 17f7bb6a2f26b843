import { Writable } from "node:stream";
import { describe, expect, it } from "vitest";
import { startNodeProcess } from "../test/support/processes.js";
import { createLogger } from "./logger.js";

function capture() {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk, _encoding, done) {
      lines.push(chunk.toString());
      done();
    },
  });
  return { logger: createLogger({ name: "test", level: "info", pretty: false }, stream), lines };
}

const JOB = JSON.stringify({ to: "user@example.com", phone: "+12025550143", asset: "BTC" });

describe("the logger masks contact details at the source", () => {
  it("drops ioredis' command arguments from an enqueue error and masks its message", () => {
    const { logger, lines } = capture();
    const error = Object.assign(new Error("OOM command not allowed, job user@example.com"), {
      command: { name: "evalsha", args: ["bull:notifications:", JOB] },
    });
    logger.error({ err: error }, "enqueue failed");
    const text = lines.join("");
    expect(text).not.toContain("user@example.com");
    expect(text).not.toContain("+12025550143");
    expect(text).not.toContain('"command"');
    expect(text).toContain("u***@example.com");
  });

  it("masks provider messages and failed reasons wherever they sit in the log object", () => {
    const { logger, lines } = capture();
    logger.warn(
      {
        err: "The 'To' number +12025550166 is not a valid phone number.",
        reason: "sms 21211: The 'To' number +12025550166 is not a valid phone number.",
        nested: { list: ["+447700900123", "jane@example.org"] },
      },
      "send failed",
    );
    const entry = JSON.parse(lines[0] ?? "{}") as Record<string, unknown>;
    expect(entry.err).toBe("The 'To' number +1********66 is not a valid phone number.");
    expect(entry.reason).toBe(
      "sms 21211: The 'To' number +1********66 is not a valid phone number.",
    );
    expect(entry.nested).toEqual({ list: ["+4*********23", "j***@example.org"] });
  });
});

describe("a process's log stream (stdout, synchronous)", () => {
  /** test/support/log-lines.ts, which logs through the service's stdout logger. */
  const logLines = (env: Record<string, string>) =>
    startNodeProcess("log-lines", ["--import", "tsx", "test/support/log-lines.ts"], env);
  const lineCount = (lines: string[]) =>
    lines.filter((line) => line.includes('"msg":"line"')).length;

  it.each([
    ["exits", "exit"],
    ["dies of an uncaught error", "throw"],
  ])("has written every line when the process %s", async (_name, then) => {
    const process = logLines({ LOG_THEN: then, LOG_COUNT: "5000" });
    await process.exited;
    expect(lineCount(process.lines)).toBe(5000);
  });
});
