import { randomUUID } from "node:crypto";
import { appendFile, mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { maskEmail, maskPhone } from "../lib/mask.js";
import type { ChannelAdapter } from "./channel-adapter.js";

/**
 * The development stand-in for Resend and Twilio: prints each message in full and keeps it in
 * `dir` (`outbox.jsonl`, plus each email's HTML as a file to open in a browser). It is a local
 * preview: the registry builds it only outside production, and its folder only on first use.
 */
export function createDevOutboxAdapters(
  dir: string,
  print: (line: string) => void,
): { email: ChannelAdapter; sms: ChannelAdapter } {
  let ready: Promise<unknown> | undefined;
  const keep = async (record: Record<string, unknown>) => {
    ready ??= mkdir(dir, { recursive: true });
    await ready;
    await appendFile(join(dir, "outbox.jsonl"), `${JSON.stringify(record)}\n`);
  };
  const common = { provider: "dev-outbox" } as const;

  return {
    email: {
      ...common,
      channel: "email",
      maskRecipient: maskEmail,
      async send({ recipient, content }) {
        const providerId = `dev-email-${randomUUID()}`;
        const htmlFile = join(dir, `${providerId}.html`);
        const { subject, text, html } = content;
        await keep({
          channel: "email",
          providerId,
          at: new Date().toISOString(),
          to: recipient,
          subject,
          text,
          html,
          htmlFile,
        });
        await writeFile(htmlFile, html);
        print(
          `[dev outbox] EMAIL to ${recipient}\n  Subject: ${subject}\n  ${text.replaceAll("\n", "\n  ")}\n  HTML: ${htmlFile}`,
        );
        return { providerId };
      },
    },
    sms: {
      ...common,
      channel: "sms",
      maskRecipient: maskPhone,
      async send({ recipient, content }) {
        const providerId = `dev-sms-${randomUUID()}`;
        await keep({
          channel: "sms",
          providerId,
          at: new Date().toISOString(),
          to: recipient,
          body: content.sms,
        });
        print(`[dev outbox] SMS to ${recipient}: ${content.sms}`);
        return { providerId };
      },
    },
  };
}
