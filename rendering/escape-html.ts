import { html } from "hono/html";

/** HTML-escapes a value (& < > " '), with hono's escaper, the one the gateway's pages use. */
export function escapeHtml(value: string): string {
  return String(html`${value}`);
}
