import { randomUUID } from "node:crypto";
import { appendFile, mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { EmailMessage, SendResult, SmsMessage } from "./sender.js";

/**
 * The development stand-in for Resend and Twilio: prints each message in full and keeps it in
 * `dir` (`outbox.jsonl`, plus each email's HTML as a file to open in a browser).
 * It is a local preview: the worker refuses to use it when NODE_ENV=production.
 */
export function createDevOutbox(dir: string, print: (line: string) => void) {
  const ready = mkdir(dir, { recursive: true });
  const keep = async (record: Record<string, unknown>) => {
    await ready;
    await appendFile(join(dir, "outbox.jsonl"), `${JSON.stringify(record)}\n`);
  };

  return {
    async sendEmail(message: EmailMessage): Promise<SendResult> {
      const providerId = `dev-email-${randomUUID()}`;
      await ready;
      const htmlFile = join(dir, `${providerId}.html`);
      await writeFile(htmlFile, message.html);
      await keep({
        channel: "email",
        providerId,
        at: new Date().toISOString(),
        ...message,
        htmlFile,
      });
      print(
        `[dev outbox] EMAIL to ${message.to}\n  Subject: ${message.subject}\n  ${message.text.replaceAll("\n", "\n  ")}\n  HTML: ${htmlFile}`,
      );
      return { providerId };
    },
    async sendSms(message: SmsMessage): Promise<SendResult> {
      const providerId = `dev-sms-${randomUUID()}`;
      await keep({ channel: "sms", providerId, at: new Date().toISOString(), ...message });
      print(`[dev outbox] SMS to ${message.to}: ${message.body}`);
      return { providerId };
    },
  };
}
