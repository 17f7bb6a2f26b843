import { html } from "hono/html";
import { singleLine } from "./format.js";
import type { RenderedNotification } from "./rendered.js";

/**
 * The shared email layout: a headline and a table of facts, as HTML and as plain text. Every
 * value goes through hono's `html` tag, which HTML-escapes interpolations; the subject and the
 * SMS are kept to one line, so no value can add a header line or break the SMS.
 */
export function renderMessage(message: {
  subject: string;
  headline: string;
  facts: Array<[label: string, value: string]>;
  sms: string;
}): RenderedNotification {
  const rows = message.facts.map(
    ([label, value]) => html`<tr><td>${label}</td><td><strong>${value}</strong></td></tr>`,
  );
  const body = html`<!doctype html>
<html>
  <body style="font-family: -apple-system, Segoe UI, Roboto, sans-serif; color: #111">
    <h1 style="font-size: 18px">${message.headline}</h1>
    <table cellpadding="4">
      ${rows}
    </table>
  </body>
</html>`;
  const text = [
    `${message.headline}.`,
    "",
    ...message.facts.map(([label, value]) => `${label}: ${singleLine(value)}`),
  ].join("\n");
  return {
    subject: singleLine(message.subject),
    html: String(body),
    text,
    sms: singleLine(message.sms),
  };
}
