import { html } from "hono/html";
import { loadOnce } from "../../lib/load-once.js";
import { DEFAULT_MESSAGE_ENV } from "../../rendering/message-env.js";
import type { MessagePreview } from "../../rendering/previews.js";
import { adminLogin } from "../admin-login.js";
import type { GatewayApp, GatewayDeps } from "../app-types.js";
import { ApiError } from "../errors.js";

/** Where the message previews are served. */
export const PREVIEWS_PATH = "/admin/previews";

/**
 * The emails a previewed message may contain: its own inline styles and https images, nothing
 * that runs or loads anything else (catalogs come from the deployment's MESSAGES_DIR).
 */
const EMAIL_CSP = "default-src 'none'; img-src https: data:; style-src 'unsafe-inline'";

/**
 * `GET /admin/previews`: every notification type in every locale, with sample data, rendered
 * with this deployment's catalogs and brand (each email, its text part and its SMS with its
 * segment count), behind the operators' login. Off with the dashboard (no ADMIN_USER).
 *
 * Rendering (rendering/, shared with the worker) is loaded on the first preview request:
 * MJML and the catalogs stay out of the gateway's start and its API requests.
 */
export function registerAdminPreviews(app: GatewayApp, deps: GatewayDeps): void {
  const admin = deps.admin;
  if (!admin) return;
  // "/admin/previews/*" also matches "/admin/previews" itself.
  app.use(`${PREVIEWS_PATH}/*`, adminLogin(deps, admin));

  const load = loadOnce<MessagePreview[]>(async () => {
    const module = await import("../../rendering/previews.js");
    return module.renderPreviews(deps.messages ?? DEFAULT_MESSAGE_ENV);
  });
  const find = async (type: string, locale: string): Promise<MessagePreview> => {
    const preview = (await load()).find((p) => p.type === type && p.locale === locale);
    if (!preview) throw new ApiError("NOT_FOUND", `No preview of ${type} in ${locale}`);
    return preview;
  };

  app.get(PREVIEWS_PATH, async (c) => c.html(previewIndex(await load())));
  app.get(`${PREVIEWS_PATH}/:type/:locale`, async (c) => {
    const preview = await find(c.req.param("type"), c.req.param("locale"));
    c.header("Content-Security-Policy", EMAIL_CSP);
    return c.html(preview.html);
  });
  app.get(`${PREVIEWS_PATH}/:type/:locale/text`, async (c) => {
    const preview = await find(c.req.param("type"), c.req.param("locale"));
    return c.text(preview.text);
  });
}

function previewIndex(previews: MessagePreview[]) {
  const rows = previews.map((p) => {
    const link = `${PREVIEWS_PATH}/${encodeURIComponent(p.type)}/${encodeURIComponent(p.locale)}`;
    return html`<tr>
      <td>${p.type}</td>
      <td>${p.locale}<br /><small>${p.timeZone}</small></td>
      <td>${p.subject}<br /><a href="${link}">email</a> &middot; <a href="${link}/text">text</a></td>
      <td>${p.sms}<br /><small>${p.smsEncoding}, ${p.smsSegments} segment(s)</small></td>
    </tr>`;
  });
  return html`<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8" />
    <title>Message previews</title>
    <style>
      body { font-family: system-ui, sans-serif; margin: 24px; }
      table { border-collapse: collapse; width: 100%; }
      td, th { border-bottom: 1px solid #ddd; padding: 6px 8px; text-align: left; vertical-align: top; }
      small { color: #666; }
    </style>
  </head>
  <body>
    <h1>Message previews</h1>
    <p>Every type in every locale, with sample data, as this deployment renders it.</p>
    <table>
      <thead><tr><th>type</th><th>locale</th><th>email</th><th>SMS</th></tr></thead>
      <tbody>${rows}</tbody>
    </table>
  </body>
</html>`;
}
