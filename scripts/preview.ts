/**
 * `npm run preview`: writes every notification type in every locale, rendered with sample data
 * and this deployment's catalogs and brand (the environment, or `.env`), to a folder:
 * `<type>.<locale>.html` (the email), `.txt` (its text part), `sms.txt` (every SMS with its
 * segment count) and `index.html`.
 *
 *   npm run preview                          # into .dev/previews (git-ignored)
 *   npm run preview -- --out DIR             # elsewhere
 *   npm run preview -- --screenshots         # plus a PNG of each email at 800 px, in Chromium
 */
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { z } from "zod";
import { parseEnv } from "../lib/env.js";
import { messageEnvFields } from "../rendering/message-env.js";
import { renderPreviews } from "../rendering/previews.js";

const { values } = parseArgs({
  options: {
    out: { type: "string", default: ".dev/previews" },
    screenshots: { type: "boolean", default: false },
  },
});
if (existsSync(".env")) process.loadEnvFile(".env");
const env = parseEnv(z.object(messageEnvFields));
const out = resolve(values.out ?? ".dev/previews");
mkdirSync(out, { recursive: true });

const previews = await renderPreviews(env);
const name = (p: { type: string; locale: string }) => `${p.type}.${p.locale}`;
for (const preview of previews) {
  writeFileSync(join(out, `${name(preview)}.html`), preview.html);
  writeFileSync(
    join(out, `${name(preview)}.txt`),
    `Subject: ${preview.subject}\n\n${preview.text}\n`,
  );
}
writeFileSync(
  join(out, "sms.txt"),
  previews
    .map((p) => `${name(p)} (${p.smsEncoding}, ${p.smsSegments} segment(s)): ${p.sms}`)
    .join("\n")
    .concat("\n"),
);
writeFileSync(
  join(out, "index.html"),
  `<!doctype html><meta charset="utf-8"><title>Message previews</title><ul>${previews
    .map(
      (p) =>
        `<li><a href="${name(p)}.html">${name(p)}</a> · <a href="${name(p)}.txt">text</a></li>`,
    )
    .join("")}</ul>`,
);

if (values.screenshots) {
  const { chromium } = await import("playwright-core");
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
    // Headless and offline: no sandbox in containers, no calls home.
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
  });
  try {
    const page = await browser.newPage({ viewport: { width: 800, height: 200 } });
    for (const preview of previews) {
      await page.setContent(preview.html);
      await page.screenshot({ path: join(out, `${name(preview)}.png`), fullPage: true });
    }
  } finally {
    await browser.close();
  }
}
console.log(`${previews.length} previews written to ${out}`);
