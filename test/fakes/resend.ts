import { randomUUID } from "node:crypto";
import { type Context, Hono } from "hono";
import type { GetEmailResponseSuccess } from "resend";
import { answerScripted, delay, listen, ResponseScript, type ScriptedResponse } from "./http.js";
import {
  createWebhookSender,
  eventsFor,
  type ResendWebhookTarget,
  SVIX_RETRY_DELAYS_MS,
  type WebhookEmail,
  webhookPayload,
} from "./resend-webhooks.js";

export {
  type ResendWebhookTarget,
  SVIX_RETRY_DELAYS_MS,
  svixHeaders,
  type WebhookDelivery,
} from "./resend-webhooks.js";

/*
 * A stand-in for the Resend API, reached by the real `resend` SDK through its `baseUrl`. It is
 * meant to be as unkind as Resend: every rule below cites the page of Resend's documentation it
 * models. Where the documentation is silent the fake picks the stricter reading and says so.
 *
 * Pages cited:
 *   errors:       https://resend.com/docs/api-reference/errors
 *   rate limit:   https://resend.com/docs/api-reference/rate-limit
 *   quotas:       https://resend.com/docs/knowledge-base/account-quotas-and-limits
 *   idempotency:  https://resend.com/docs/dashboard/emails/idempotency-keys
 *   send email:   https://resend.com/docs/api-reference/emails/send-email
 *   batch:        https://resend.com/docs/api-reference/emails/send-batch-emails
 *   batch modes:  https://resend.com/docs/dashboard/emails/batch-validation-modes
 *   retrieve:     https://resend.com/docs/api-reference/emails/retrieve-email
 *   webhooks:     see resend-webhooks.ts (signed events for each accepted email)
 */

/** The events `GET /emails/{id}` reports as `last_event` (the SDK's own list). */
export type LastEvent = GetEmailResponseSuccess["last_event"];

/** An email the fake accepted. */
export interface FakeEmail {
  id: string;
  from: string;
  /** The first `to` recipient, as given (what most tests look at). */
  to: string;
  subject: string;
  html: string;
  text: string;
  idempotencyKey?: string;
  receivedAt: number;
  /** Every recipient: `to`, `cc` and `bcc`, as given. */
  recipients: string[];
  /** Which endpoint accepted it. */
  endpoint: "/emails" | "/emails/batch";
  /** What `GET /emails/{id}` answers as `last_event`; tests may change it. */
  lastEvent: LastEvent;
}

/** A POST the fake received, accepted or not. */
export interface FakeCall {
  endpoint: "/emails" | "/emails/batch";
  idempotencyKey?: string;
  /** When it arrived, on the fake's clock (`Date.now()` plus `state.clockOffsetMs`). */
  at: number;
  /** How many emails a batch call carried (batch calls only, once its body parsed). */
  batchSize?: number;
  /** The status the fake answered, once it has answered. */
  status?: number;
}

/** The JSON body of a Resend error. https://resend.com/docs/api-reference/errors */
export interface ResendErrorBody {
  statusCode: number;
  name: string;
  message: string;
}

const ONE_DAY_MS = 24 * 60 * 60 * 1000;
/** https://resend.com/docs/dashboard/emails/idempotency-keys : "kept in the system for 24 hours". */
export const IDEMPOTENCY_TTL_MS = ONE_DAY_MS;
/** https://resend.com/docs/api-reference/errors#invalid_idempotency_key : 1 to 256 characters. */
export const IDEMPOTENCY_KEY_MAX_LENGTH = 256;
/** https://resend.com/docs/api-reference/emails/send-batch-emails : "up to 100 emails". */
export const BATCH_MAX_EMAILS = 100;
/** https://resend.com/docs/api-reference/emails/send-email : `to` is "Max 50". */
export const MAX_TO_RECIPIENTS = 50;

const ADDRESS_FORMAT =
  "The email address needs to follow the `email@example.com` or `Name <email@example.com>` format.";

/**
 * Every error Resend documents, with its documented status and message
 * (https://resend.com/docs/api-reference/errors). Where one `name` comes with several statuses
 * the key says which one: `validation_error` is the 400 of the page, the others are suffixed.
 */
const RESEND_ERRORS = {
  invalid_idempotency_key: [400, "The key must be between 1-256 chars."],
  validation_error: [400, "We found an error with one or more fields in the request."],
  missing_api_key: [401, "Missing API key in the authorization header."],
  restricted_api_key: [401, "This API key is restricted to only send emails."],
  // A key Resend does not know, on a sending endpoint. The page has said both "invalid_api_key
  // 403" and (newer) "validation_error 401 API key is invalid: the sending endpoints return this
  // for a key that doesn't exist, was deleted…"; a Resend maintainer confirmed the API now answers
  // `validation_error` for an invalid key (https://github.com/resend/resend-node/pull/617).
  "validation_error:invalid_key": [401, "API key is invalid"],
  // The same on any other endpoint (the newer errors page: "every endpoint except sending").
  "validation_error:invalid_key_400": [400, "API key is invalid"],
  invalid_api_key: [403, "API key is invalid."],
  // https://resend.com/docs/knowledge-base/403-error-resend-dev-domain
  "validation_error:testing_emails_only": [
    403,
    "You can only send testing emails to your own email address (owner@example.com). To send emails to other recipients, please verify a domain at resend.com/domains, and change the `from` address to an email using this domain.",
  ],
  // https://resend.com/docs/knowledge-base/403-error-domain-mismatch ; the exact wording is the
  // one Resend answers (https://github.com/resend/resend-node/issues/662).
  "validation_error:domain_not_verified": [
    403,
    "The example.org domain is not verified. Please, add and verify your domain on https://resend.com/domains",
  ],
  not_found: [404, "The requested endpoint does not exist."],
  method_not_allowed: [405, "Method is not allowed for the requested path."],
  invalid_idempotent_request: [409, "Same idempotency key used with a different request payload."],
  concurrent_idempotent_requests: [
    409,
    "Same idempotency key used while original request is still in progress.",
  ],
  invalid_attachment: [422, "Attachment must have either a `content` or `path`."],
  invalid_from_address: [422, `Invalid \`from\` field. ${ADDRESS_FORMAT}`],
  invalid_access: [422, 'Access must be "full_access" | "sending_access".'],
  invalid_parameter: [422, "The `parameter` must be a valid UUID."],
  invalid_region: [422, 'Region must be "us-east-1" | "eu-west-1" | "sa-east-1".'],
  missing_required_field: [422, "The request body is missing one or more required fields."],
  // A field with an invalid value: Resend answers these as 422 (the pagination page's example
  // error is a validation_error with statusCode 422).
  "validation_error:invalid_field": [
    422,
    "We found an error with one or more fields in the request.",
  ],
  "validation_error:invalid_to": [422, `Invalid \`to\` field. ${ADDRESS_FORMAT}`],
  monthly_quota_exceeded: [429, "You have reached your monthly email quota."],
  daily_quota_exceeded: [429, "You have reached your daily email quota."],
  rate_limit_exceeded: [
    429,
    "Too many requests. Please limit the number of requests per second. Or contact support to increase rate limit.",
  ],
  security_error: [451, "We may have found a security issue with the request."],
  application_error: [500, "An unexpected error occurred."],
  internal_server_error: [500, "An unexpected error occurred."],
} as const satisfies Record<string, readonly [number, string]>;

/** A documented error; `name:variant` keys pick one of several statuses for the same name. */
export type ResendErrorKind = keyof typeof RESEND_ERRORS;

/** Every documented error kind, for tests that go through them all. */
export const RESEND_ERROR_KINDS = Object.keys(RESEND_ERRORS) as ResendErrorKind[];

/** The body Resend answers for a documented error (https://resend.com/docs/api-reference/errors). */
export function resendErrorBody(kind: ResendErrorKind, message?: string): ResendErrorBody {
  const [statusCode, documented] = RESEND_ERRORS[kind];
  return { statusCode, name: kind.split(":")[0] ?? kind, message: message ?? documented };
}

/**
 * A scripted answer with a documented Resend error: its status, `{statusCode, name, message}`
 * body, and for `rate_limit_exceeded` the `retry-after` and `ratelimit-*` headers Resend sends
 * (https://resend.com/docs/api-reference/rate-limit). Pass `deliver`/`delayMs` for an error
 * after acceptance or a late one.
 */
export function resendError(
  kind: ResendErrorKind,
  options: Partial<Omit<ScriptedResponse, "body" | "status">> & { message?: string } = {},
): ScriptedResponse {
  const { message, headers, ...rest } = options;
  const body = resendErrorBody(kind, message);
  const limited: Record<string, string> =
    kind === "rate_limit_exceeded"
      ? {
          "retry-after": "1",
          "ratelimit-limit": "5",
          "ratelimit-remaining": "0",
          "ratelimit-reset": "1",
        }
      : {};
  return { status: body.statusCode, body, headers: { ...limited, ...headers }, ...rest };
}

const PROXY_STATUS_TEXT: Record<number, string> = {
  500: "Internal Server Error",
  502: "Bad Gateway",
  503: "Service Unavailable",
  504: "Gateway Timeout",
};

/**
 * What a reverse proxy or load balancer in front of Resend answers when Resend's servers are
 * unreachable: not Resend's error schema. `json` is `{"message":"Bad Gateway"}` (no `statusCode`,
 * no `name`), `html` an nginx-style page, `empty` no body at all.
 */
export function proxyError(
  status: 500 | 502 | 503 | 504 = 502,
  format: "json" | "html" | "empty" = "json",
  options: Partial<Omit<ScriptedResponse, "body" | "status" | "contentType">> = {},
): ScriptedResponse {
  const text = PROXY_STATUS_TEXT[status] ?? "Error";
  if (format === "json") return { status, body: { message: text }, ...options };
  const body =
    format === "html"
      ? `<html>\r\n<head><title>${status} ${text}</title></head>\r\n<body>\r\n<center><h1>${status} ${text}</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n`
      : "";
  return { status, body, contentType: "text/html", ...options };
}

export interface FakeResendOptions {
  /** The API key the fake accepts (`Authorization: Bearer <key>`). */
  apiKey?: string;
  /** Accepted first, answered this much later (a slow answer): the email is sent either way. */
  latencyMs?: number;
  /**
   * Requests a second the team may make; over it, 429 `rate_limit_exceeded`. Off by default.
   * Resend: "5 requests per second per team… applies across all API keys"; every request counts,
   * a batch being one (https://resend.com/docs/api-reference/rate-limit,
   * https://resend.com/docs/knowledge-base/account-quotas-and-limits).
   */
  requestsPerSecond?: number;
  /**
   * Resend says only "per-second window… no separate burst allowance"; whether it slides is not
   * documented, so the default is a sliding 1 s window (never more than N in any 1 s), the
   * stricter. `fixed` counts per whole second of the clock.
   */
  rateLimitWindow?: "sliding" | "fixed";
  /** Emails (recipients) a UTC day; over it, 429 `daily_quota_exceeded`. Off by default. */
  dailyQuota?: number;
  /** Emails (recipients) a UTC calendar month; over it, 429 `monthly_quota_exceeded`. Off by default. */
  monthlyQuota?: number;
  /**
   * Domains the `from` address may use; another one is 403 `validation_error` "The … domain is
   * not verified". Default: `example.com` (every test and bench sender). `resend.dev` is always
   * usable, in test mode: only to `accountEmail` and `@resend.dev` test addresses.
   */
  verifiedDomains?: string[];
  /** The account owner's address: the only outside recipient `onboarding@resend.dev` may send to. */
  accountEmail?: string;
  /** What `GET /emails/{id}` reports as `last_event` for a new email (the docs show `delivered`). */
  lastEvent?: LastEvent;
  /** Starts the fake's clock this far from `Date.now()` (see `advanceTime`). */
  clockOffsetMs?: number;
  /**
   * The webhook endpoint and its `whsec_` secret: each accepted email's events are POSTed to it,
   * signed (resend-webhooks.ts): `email.sent`, then `email.delivered`, or for Resend's test
   * addresses their documented outcome (`bounced@resend.dev`: `email.bounced`, Permanent;
   * `complained@resend.dev`: delivered, then `email.complained`). Unset: no webhooks.
   */
  webhook?: ResendWebhookTarget;
  /** Between one email's events (sent, delivered…), in order. Default 5 ms. */
  webhookStepMs?: number;
  /** Waits before each retry of a failed webhook POST; default Svix's schedule (5 s, 5 min…). */
  webhookRetryDelaysMs?: number[];
}

interface IdempotencyRecord {
  endpoint: FakeCall["endpoint"];
  body: string;
  createdAt: number;
  state: "in_progress" | "done";
  response?: { status: number; body: unknown };
}

interface Recipients {
  to: string[];
  cc: string[];
  bcc: string[];
  replyTo: string[];
}

interface StoredEmail extends Recipients {
  email: FakeEmail;
}

type Verdict =
  | { kind: "answer"; status: number; body: unknown }
  | { kind: "accepted"; status: number; body: unknown; finish(): void };

/**
 * Starts the fake Resend: `POST /emails`, `POST /emails/batch`, `GET /emails/{id}`. `calls` has
 * every POST, `emails` every email accepted once (what recipients get). `script` answers the next
 * POSTs with canned errors; `deliver: true` accepts the email first, `delayMs` answers late.
 */
export async function startFakeResend(options: FakeResendOptions = {}) {
  const apiKey = options.apiKey ?? "re_test_key";
  const script = new ResponseScript();
  /** Every POST, accepted or not. */
  const calls: FakeCall[] = [];
  /** Emails accepted once each (what a recipient would get). */
  const emails: FakeEmail[] = [];
  /** Settings a test may change while the fake runs. */
  const state = {
    latencyMs: options.latencyMs ?? 0,
    requestsPerSecond: options.requestsPerSecond,
    rateLimitWindow: options.rateLimitWindow ?? "sliding",
    dailyQuota: options.dailyQuota,
    monthlyQuota: options.monthlyQuota,
    verifiedDomains: options.verifiedDomains ?? ["example.com"],
    accountEmail: options.accountEmail ?? "owner@example.com",
    lastEvent: options.lastEvent ?? ("delivered" as LastEvent),
    clockOffsetMs: options.clockOffsetMs ?? 0,
    webhook: options.webhook,
    webhookStepMs: options.webhookStepMs ?? 5,
    webhookRetryDelaysMs: options.webhookRetryDelaysMs ?? SVIX_RETRY_DELAYS_MS,
  };
  const webhookSender = createWebhookSender({
    target: () => state.webhook,
    retryDelaysMs: () => state.webhookRetryDelaysMs,
  });
  /** Each email's events still to be sent, so tests can wait for them. */
  const eventChains = new Set<Promise<void>>();
  const byKey = new Map<string, IdempotencyRecord>();
  const byId = new Map<string, StoredEmail>();
  /** Times of the requests the rate limiter let through. */
  let admitted: number[] = [];
  /** Emails counted towards the quotas, by UTC day (`2026-01-31`) and month (`2026-01`). */
  const usedByDay = new Map<string, number>();
  const usedByMonth = new Map<string, number>();

  const now = () => Date.now() + state.clockOffsetMs;
  const dayOf = (time: number) => new Date(time).toISOString().slice(0, 10);
  const monthOf = (time: number) => new Date(time).toISOString().slice(0, 7);

  // --- authentication: https://resend.com/docs/api-reference/errors -------------------------

  function authenticate(c: Context, sending: boolean): ResendErrorBody | undefined {
    const header = c.req.header("authorization");
    // missing_api_key, 401: no key at all.
    if (!header) return resendErrorBody("missing_api_key");
    const match = /^Bearer (\S+)$/.exec(header);
    if (match?.[1] === apiKey) return undefined;
    // Not a bearer key at all: 400 on every endpoint; an unknown key: 401 on the sending
    // endpoints, 400 elsewhere (the errors page, see "validation_error:invalid_key" above).
    if (!match || !sending) return resendErrorBody("validation_error:invalid_key_400");
    return resendErrorBody("validation_error:invalid_key");
  }

  // --- rate limit: https://resend.com/docs/api-reference/rate-limit --------------------------

  /** Counts the request; headers to send, and whether it is over the limit. */
  function rateLimit(time: number): { limited: boolean; headers: Record<string, string> } {
    const limit = state.requestsPerSecond;
    if (!limit) return { limited: false, headers: {} };
    const windowStart = state.rateLimitWindow === "fixed" ? time - (time % 1000) : time - 999;
    admitted = admitted.filter((at) => at >= windowStart);
    // Seconds until a place frees up: when the oldest request in the window leaves it.
    const resetSeconds = (oldest: number | undefined) => {
      const freeAt =
        state.rateLimitWindow === "fixed" ? windowStart + 1000 : (oldest ?? time) + 1000;
      return String(Math.max(1, Math.ceil((freeAt - time) / 1000)));
    };
    // Only the requests let through take a place: a refused one does not push the window on
    // (undocumented; a limiter that counted refusals too would be harsher still).
    if (admitted.length >= limit) {
      const reset = resetSeconds(admitted[0]);
      return {
        limited: true,
        headers: {
          "ratelimit-limit": String(limit),
          "ratelimit-remaining": "0",
          "ratelimit-reset": reset,
          "retry-after": reset,
        },
      };
    }
    admitted.push(time);
    return {
      limited: false,
      headers: {
        "ratelimit-limit": String(limit),
        "ratelimit-remaining": String(limit - admitted.length),
        "ratelimit-reset": resetSeconds(admitted[0]),
      },
    };
  }

  // --- quotas: https://resend.com/docs/api-reference/rate-limit (Email Quotas) -----------------

  /**
   * `x-resend-daily-quota` ("your used daily email sending quota. Only sent to free plan users",
   * so only with a `dailyQuota`) and `x-resend-monthly-quota` (used monthly quota).
   */
  function quotaHeaders(): Record<string, string> {
    const time = now();
    const headers: Record<string, string> = {
      "x-resend-monthly-quota": String(usedByMonth.get(monthOf(time)) ?? 0),
    };
    if (state.dailyQuota !== undefined) {
      headers["x-resend-daily-quota"] = String(usedByDay.get(dayOf(time)) ?? 0);
    }
    return headers;
  }

  /**
   * Recipients count, not requests: "Multiple To, CC, or BCC recipients… count as separate
   * emails" (https://resend.com/docs/knowledge-base/account-quotas-and-limits). The daily quota
   * is a UTC calendar day; the monthly one is modelled as a UTC calendar month (Resend counts a
   * billing month). Refused when this request would go over (stricter than "already over"); no
   * `retry-after` is documented for quotas, so none is sent.
   */
  function overQuota(count: number): ResendErrorBody | undefined {
    const time = now();
    const daily = usedByDay.get(dayOf(time)) ?? 0;
    const monthly = usedByMonth.get(monthOf(time)) ?? 0;
    if (state.dailyQuota !== undefined && daily + count > state.dailyQuota) {
      return resendErrorBody("daily_quota_exceeded");
    }
    if (state.monthlyQuota !== undefined && monthly + count > state.monthlyQuota) {
      return resendErrorBody("monthly_quota_exceeded");
    }
    return undefined;
  }

  function countQuota(count: number): void {
    const time = now();
    usedByDay.set(dayOf(time), (usedByDay.get(dayOf(time)) ?? 0) + count);
    usedByMonth.set(monthOf(time), (usedByMonth.get(monthOf(time)) ?? 0) + count);
  }

  // --- validation: https://resend.com/docs/api-reference/emails/send-email -------------------

  /** One email's body checked as Resend does; its recipients, or the error it gets. */
  function validate(
    body: unknown,
    batch: boolean,
  ): { ok: true; recipients: Recipients } | { ok: false; error: ResendErrorBody } {
    const fail = (error: ResendErrorBody) => ({ ok: false as const, error });
    if (typeof body !== "object" || body === null || Array.isArray(body)) {
      return fail(resendErrorBody("validation_error"));
    }
    const email = body as Record<string, unknown>;
    // from, to and subject are required (send-email page); missing_required_field, 422.
    for (const field of ["from", "to", "subject"]) {
      const value = email[field];
      if (value === undefined || value === null || value === "") {
        // The wording of https://resend.com/docs/dashboard/emails/batch-validation-modes.
        return fail(
          resendErrorBody("missing_required_field", `The \`${field}\` field is missing.`),
        );
      }
    }
    // Batch emails cannot have attachments (send-batch-emails page: "not supported yet").
    if (batch && email.attachments !== undefined) {
      return fail(
        resendErrorBody(
          "validation_error:invalid_field",
          "The `attachments` field is not supported for batch emails.",
        ),
      );
    }
    // invalid_from_address, 422 (errors page).
    const from = parseAddress(email.from);
    if (!from) return fail(resendErrorBody("invalid_from_address"));
    const to = parseAddressList(email.to);
    if (!to) return fail(resendErrorBody("validation_error:invalid_to"));
    if (to.length > MAX_TO_RECIPIENTS) {
      return fail(
        resendErrorBody(
          "validation_error:invalid_to",
          `Too many recipients in the \`to\` field: at most ${MAX_TO_RECIPIENTS}.`,
        ),
      );
    }
    const others: Recipients = { to, cc: [], bcc: [], replyTo: [] };
    for (const [field, key] of [
      ["cc", "cc"],
      ["bcc", "bcc"],
      ["reply_to", "replyTo"],
    ] as const) {
      if (email[field] === undefined || email[field] === null) continue;
      const list = parseAddressList(email[field]);
      if (!list) {
        return fail(
          resendErrorBody(
            "validation_error:invalid_to",
            `Invalid \`${field}\` field. ${ADDRESS_FORMAT}`,
          ),
        );
      }
      others[key] = list;
    }
    const domain = from.split("@")[1] ?? "";
    // resend.dev is the shared testing domain: only to the account's own address (and Resend's
    // test addresses). https://resend.com/docs/knowledge-base/403-error-resend-dev-domain
    if (domain === "resend.dev") {
      const outside = [...to, ...others.cc, ...others.bcc].map(parseAddress).filter((address) => {
        return address !== state.accountEmail.toLowerCase() && !address?.endsWith("@resend.dev");
      });
      if (outside.length > 0) {
        return fail(
          resendErrorBody(
            "validation_error:testing_emails_only",
            RESEND_ERRORS["validation_error:testing_emails_only"][1].replace(
              "owner@example.com",
              state.accountEmail,
            ),
          ),
        );
      }
    } else if (!state.verifiedDomains.some((verified) => verified.toLowerCase() === domain)) {
      // The domain must match exactly, subdomains included.
      // https://resend.com/docs/knowledge-base/403-error-domain-mismatch
      return fail(
        resendErrorBody(
          "validation_error:domain_not_verified",
          `The ${domain} domain is not verified. Please, add and verify your domain on https://resend.com/domains`,
        ),
      );
    }
    return { ok: true, recipients: others };
  }

  function accept(
    body: Record<string, unknown>,
    recipients: Recipients,
    endpoint: FakeCall["endpoint"],
    idempotencyKey: string | undefined,
  ): string {
    const id = randomUUID();
    const email: FakeEmail = {
      id,
      from: String(body.from),
      to: recipients.to[0] ?? "",
      subject: String(body.subject),
      html: typeof body.html === "string" ? body.html : "",
      text: typeof body.text === "string" ? body.text : "",
      idempotencyKey,
      receivedAt: now(),
      recipients: [...recipients.to, ...recipients.cc, ...recipients.bcc],
      endpoint,
      lastEvent: state.lastEvent,
    };
    emails.push(email);
    byId.set(id, { email, ...recipients });
    countQuota(email.recipients.length);
    if (state.webhook) scheduleEvents(email, eventsFor(email.to));
    return id;
  }

  // --- webhooks: resend-webhooks.ts ----------------------------------------------------------

  function webhookEmail(email: FakeEmail): WebhookEmail {
    return {
      id: email.id,
      from: email.from,
      recipients: email.recipients,
      subject: email.subject,
      createdAt: email.receivedAt,
    };
  }

  /** Posts one event of an email now, and makes `GET /emails/{id}` report it as `last_event`. */
  function emit(email: FakeEmail, type: string, extra: Record<string, unknown> = {}) {
    const last = type.replace(/^email\./, "") as LastEvent;
    if (type !== "email.sent") email.lastEvent = last;
    return webhookSender.send(
      type,
      email.id,
      webhookPayload(type, webhookEmail(email), now(), extra),
    );
  }

  /**
   * An email's events, one after another, `webhookStepMs` apart from its acceptance on: the first
   * may reach the endpoint before the API's answer reaches the sender, as with Resend.
   */
  function scheduleEvents(email: FakeEmail, types: string[]): void {
    const chain = (async () => {
      for (const type of types) {
        await delay(state.webhookStepMs);
        await emit(email, type);
      }
    })();
    eventChains.add(chain);
    void chain.finally(() => eventChains.delete(chain));
  }

  // --- idempotency: https://resend.com/docs/dashboard/emails/idempotency-keys ------------------

  /** The key's record, if younger than 24 hours ("kept in the system for 24 hours"). */
  function record(key: string | undefined): IdempotencyRecord | undefined {
    if (key === undefined) return undefined;
    const found = byKey.get(key);
    if (found && now() - found.createdAt >= IDEMPOTENCY_TTL_MS) {
      byKey.delete(key);
      return undefined;
    }
    return found;
  }

  /**
   * What an idempotency key says about this request before it is processed: a bad key is 400
   * `invalid_idempotency_key`; the same key with another payload 409 `invalid_idempotent_request`;
   * with the same payload while the first request is still being processed 409
   * `concurrent_idempotent_requests`; after it, the first answer again, without sending.
   */
  function checkKey(
    key: string | undefined,
    endpoint: FakeCall["endpoint"],
    raw: string,
  ): Verdict | undefined {
    if (key === undefined) return undefined;
    if (key.length < 1 || key.length > IDEMPOTENCY_KEY_MAX_LENGTH) {
      return errorVerdict(resendErrorBody("invalid_idempotency_key"));
    }
    const found = record(key);
    if (!found) return undefined;
    if (found.endpoint !== endpoint || found.body !== raw) {
      return errorVerdict(resendErrorBody("invalid_idempotent_request"));
    }
    if (found.state === "in_progress" || !found.response) {
      return errorVerdict(resendErrorBody("concurrent_idempotent_requests"));
    }
    return { kind: "answer", ...found.response };
  }

  /** Holds the key while a request is processed; the first answer is kept once it succeeded. */
  function holdKey(
    key: string | undefined,
    endpoint: FakeCall["endpoint"],
    raw: string,
  ): IdempotencyRecord | undefined {
    if (key === undefined || key.length < 1 || key.length > IDEMPOTENCY_KEY_MAX_LENGTH) {
      return undefined;
    }
    if (record(key)) return undefined;
    const held: IdempotencyRecord = { endpoint, body: raw, createdAt: now(), state: "in_progress" };
    byKey.set(key, held);
    return held;
  }

  /** Only sent emails are remembered: a request that failed leaves the key free. */
  function release(key: string | undefined, held: IdempotencyRecord | undefined): void {
    if (key !== undefined && held && byKey.get(key) === held) byKey.delete(key);
  }

  function errorVerdict(error: ResendErrorBody): Verdict {
    return { kind: "answer", status: error.statusCode, body: error };
  }

  function acceptedVerdict(
    key: string | undefined,
    endpoint: FakeCall["endpoint"],
    raw: string,
    body: unknown,
  ): Verdict {
    const held = holdKey(key, endpoint, raw);
    return {
      kind: "accepted",
      status: 200,
      body,
      finish() {
        if (!held) return;
        held.state = "done";
        held.response = { status: 200, body };
      },
    };
  }

  function parseJson(raw: string): { ok: true; value: unknown } | { ok: false } {
    try {
      return { ok: true, value: JSON.parse(raw) };
    } catch {
      return { ok: false };
    }
  }

  /** `POST /emails`. */
  function admitEmail(key: string | undefined, raw: string): Verdict {
    const known = checkKey(key, "/emails", raw);
    if (known) return known;
    const parsed = parseJson(raw);
    if (!parsed.ok) return errorVerdict(resendErrorBody("validation_error"));
    const checked = validate(parsed.value, false);
    if (!checked.ok) return errorVerdict(checked.error);
    const { recipients } = checked;
    const over = overQuota(recipients.to.length + recipients.cc.length + recipients.bcc.length);
    if (over) return errorVerdict(over);
    const id = accept(parsed.value as Record<string, unknown>, recipients, "/emails", key);
    return acceptedVerdict(key, "/emails", raw, { id });
  }

  /**
   * `POST /emails/batch`: up to 100 emails, one idempotency key for the whole batch. Strict mode
   * (the default, `x-batch-validation: strict`) sends nothing if one email is invalid and answers
   * that email's error; permissive mode sends the valid ones and lists the others in `errors`
   * (https://resend.com/docs/dashboard/emails/batch-validation-modes). `data[i]` is the i-th
   * email sent.
   */
  function admitBatch(key: string | undefined, raw: string, mode: string | undefined): Verdict {
    const known = checkKey(key, "/emails/batch", raw);
    if (known) return known;
    const parsed = parseJson(raw);
    if (!parsed.ok || !Array.isArray(parsed.value)) {
      return errorVerdict(resendErrorBody("validation_error"));
    }
    const items: unknown[] = parsed.value;
    // More than 100 is refused whole, in both modes (the docs list it among the reasons an email
    // "may cause an error" without saying which emails a permissive batch would still send).
    if (items.length === 0 || items.length > BATCH_MAX_EMAILS) {
      return errorVerdict(
        resendErrorBody(
          "validation_error:invalid_field",
          `A batch must have between 1 and ${BATCH_MAX_EMAILS} emails; it had ${items.length}.`,
        ),
      );
    }
    const permissive = mode === "permissive";
    const valid: Array<{ index: number; recipients: Recipients }> = [];
    const errors: Array<{ index: number; message: string }> = [];
    for (const [index, item] of items.entries()) {
      const checked = validate(item, true);
      if (checked.ok) valid.push({ index, recipients: checked.recipients });
      else if (!permissive) return errorVerdict(checked.error);
      else errors.push({ index, message: checked.error.message });
    }
    const count = valid.reduce(
      (sum, { recipients }) =>
        sum + recipients.to.length + recipients.cc.length + recipients.bcc.length,
      0,
    );
    const over = overQuota(count);
    if (over) return errorVerdict(over);
    const data = valid.map(({ index, recipients }) => ({
      id: accept(items[index] as Record<string, unknown>, recipients, "/emails/batch", key),
    }));
    return acceptedVerdict(key, "/emails/batch", raw, permissive ? { data, errors } : { data });
  }

  /**
   * Both sending endpoints, in this order (Resend does not document its own): the key, the rate
   * limit (a refused request does not use up a scripted answer), the script, the idempotency key,
   * the body, the quotas, then the send, answered after `latencyMs`.
   */
  async function post(c: Context, endpoint: FakeCall["endpoint"]): Promise<Response> {
    const idempotencyKey = c.req.header("idempotency-key");
    const call: FakeCall = { endpoint, idempotencyKey, at: now() };
    calls.push(call);
    const answer = (status: number, body: unknown, headers: Record<string, string> = {}) => {
      call.status = status;
      return c.json(body as object, status as 400, headers);
    };
    const refused = authenticate(c, true);
    if (refused) return answer(refused.statusCode, refused);
    const limit = rateLimit(call.at);
    if (limit.limited) {
      const error = resendErrorBody("rate_limit_exceeded");
      return answer(error.statusCode, error, { ...limit.headers, ...quotaHeaders() });
    }
    const scripted = script.next();
    const raw = await c.req.text();
    if (endpoint === "/emails/batch") {
      const parsed = parseJson(raw);
      if (parsed.ok && Array.isArray(parsed.value)) call.batchSize = parsed.value.length;
    }
    const sendScripted = (response: ScriptedResponse) => {
      call.status = response.status;
      return answerScripted(c, {
        ...response,
        delayMs: 0,
        headers: { ...limit.headers, ...response.headers },
      });
    };

    if (scripted && !scripted.deliver) {
      // Nothing is sent, but the request holds its key while it is being answered.
      const held = holdKey(idempotencyKey, endpoint, raw);
      if (scripted.delayMs) await delay(scripted.delayMs);
      release(idempotencyKey, held);
      return sendScripted(scripted);
    }

    const verdict =
      endpoint === "/emails"
        ? admitEmail(idempotencyKey, raw)
        : admitBatch(idempotencyKey, raw, c.req.header("x-batch-validation"));
    if (verdict.kind === "accepted") {
      // Accepted first, answered late: a client that gives up meanwhile leaves the email sent,
      // and its key stays "in progress" until the answer goes out.
      if (state.latencyMs > 0) await delay(state.latencyMs);
      if (scripted?.delayMs) await delay(scripted.delayMs);
      verdict.finish();
    } else if (scripted?.delayMs) {
      await delay(scripted.delayMs);
    }
    // `deliver: true`: the email went out (if it could), then the answer is the scripted error.
    if (scripted) return sendScripted(scripted);
    return answer(verdict.status, verdict.body, { ...limit.headers, ...quotaHeaders() });
  }

  const app = new Hono();
  app.post("/emails", (c) => post(c, "/emails"));
  app.post("/emails/batch", (c) => post(c, "/emails/batch"));

  // https://resend.com/docs/api-reference/emails/retrieve-email
  app.get("/emails/:id", (c) => {
    const refused = authenticate(c, false);
    if (refused) return c.json(refused, refused.statusCode as 400);
    const limit = rateLimit(now());
    if (limit.limited) {
      return c.json(resendErrorBody("rate_limit_exceeded"), 429, limit.headers);
    }
    const id = c.req.param("id");
    if (!UUID.test(id)) {
      return c.json(resendErrorBody("invalid_parameter", "The `id` must be a valid UUID."), 422);
    }
    const stored = byId.get(id);
    if (!stored) {
      return c.json({ statusCode: 404, name: "not_found", message: "Email not found" }, 404);
    }
    const { email } = stored;
    const found: GetEmailResponseSuccess = {
      object: "email",
      id: email.id,
      message_id: `<${email.id}@resend.dev>`,
      to: stored.to,
      from: email.from,
      created_at: new Date(email.receivedAt).toISOString(),
      subject: email.subject,
      html: email.html || null,
      text: email.text || null,
      bcc: stored.bcc.length ? stored.bcc : null,
      cc: stored.cc.length ? stored.cc : null,
      reply_to: stored.replyTo.length ? stored.replyTo : null,
      last_event: email.lastEvent,
      scheduled_at: null,
    };
    return c.json(found, 200, { ...limit.headers, ...quotaHeaders() });
  });

  // Any other path: Resend's not_found (https://resend.com/docs/api-reference/errors#not_found).
  app.notFound((c) => c.json(resendErrorBody("not_found"), 404));

  const server = await listen(app);
  return {
    ...server,
    async close() {
      webhookSender.close();
      await server.close();
    },
    apiKey,
    script,
    calls,
    emails,
    state,
    /** Moves the fake's clock on: idempotency keys expire, quota days and months roll over. */
    advanceTime(ms: number): void {
      state.clockOffsetMs += ms;
    },
    /** The fake's clock (`Date.now()` plus the offset). */
    now,
    /** Sets what `GET /emails/{id}` reports as `last_event` (a bounce, a complaint…). */
    setLastEvent(id: string, event: LastEvent): void {
      const stored = byId.get(id);
      if (!stored) throw new Error(`no email ${id}`);
      stored.email.lastEvent = event;
    },
    /** Every webhook POST (each attempt), oldest first. */
    webhooks: webhookSender.deliveries,
    /** Posts an event of an accepted email now (a bounce, a complaint, a delay…). */
    emitEvent(id: string, type: string, extra: Record<string, unknown> = {}) {
      const stored = byId.get(id);
      if (!stored) throw new Error(`no email ${id}`);
      return emit(stored.email, type, extra);
    },
    /** Posts a delivery again byte for byte: same svix-id, timestamp and signature. */
    replayWebhook: webhookSender.replay,
    /** Posts any body with any headers to the webhook endpoint (forgeries, hand-signed bodies). */
    postWebhook: webhookSender.postRaw,
    /** Resolves once every accepted email's events have been posted (first attempts). */
    async webhooksIdle(): Promise<void> {
      while (eventChains.size > 0) await Promise.all([...eventChains]);
    },
    /** Emails counted against the quotas today and this month (UTC), on the fake's clock. */
    quotaUsed(): { daily: number; monthly: number } {
      const time = now();
      return {
        daily: usedByDay.get(dayOf(time)) ?? 0,
        monthly: usedByMonth.get(monthOf(time)) ?? 0,
      };
    },
  };
}

export type FakeResend = Awaited<ReturnType<typeof startFakeResend>>;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const ADDRESS = /^[^\s@<>()[\]\\,;:"]+@[a-z0-9-]+(\.[a-z0-9-]+)*\.[a-z]{2,}$/i;

/** `email@example.com` or `Name <email@example.com>` (send-email page), as a bare address. */
function parseAddress(value: unknown): string | undefined {
  if (typeof value !== "string") return undefined;
  const named = /^[^<>]*<([^<>]+)>$/.exec(value.trim());
  const address = (named ? named[1] : value)?.trim() ?? "";
  return ADDRESS.test(address) ? address.toLowerCase() : undefined;
}

/** A string or an array of strings, each an address; undefined if any one is not. */
function parseAddressList(value: unknown): string[] | undefined {
  const list = Array.isArray(value) ? value : [value];
  if (list.length === 0) return undefined;
  const parsed = list.map(parseAddress);
  return parsed.every((address) => address !== undefined) ? (list as string[]) : undefined;
}
