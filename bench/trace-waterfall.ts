/** One trace's spans, read from OTLP/JSON exports, drawn as a waterfall page (bench/trace-picture.ts). */

/** A span as the waterfall needs it. */
export interface WaterfallSpan {
  service: string;
  name: string;
  spanId: string;
  parentSpanId?: string;
  startMs: number;
  endMs: number;
  error: boolean;
  attributes: Record<string, string | number | boolean>;
}

interface OtlpValue {
  stringValue?: string;
  intValue?: string | number;
  doubleValue?: number;
  boolValue?: boolean;
}
interface OtlpAttribute {
  key: string;
  value: OtlpValue;
}
interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  startTimeUnixNano: string | number;
  endTimeUnixNano: string | number;
  attributes?: OtlpAttribute[];
  status?: { code?: number };
}
interface OtlpExportBody {
  resourceSpans?: Array<{
    resource?: { attributes?: OtlpAttribute[] };
    scopeSpans?: Array<{ spans?: OtlpSpan[] }>;
  }>;
}

function attributeValue(value: OtlpValue): string | number | boolean {
  if (value.stringValue !== undefined) return value.stringValue;
  if (value.intValue !== undefined) return Number(value.intValue);
  if (value.doubleValue !== undefined) return value.doubleValue;
  return value.boolValue ?? "";
}

function attributesOf(list: OtlpAttribute[] = []): Record<string, string | number | boolean> {
  return Object.fromEntries(list.map((a) => [a.key, attributeValue(a.value)]));
}

/** The spans of trace `traceId` (hex) in some OTLP/JSON export bodies, from every service. */
export function spansOfTrace(bodies: string[], traceId: string): WaterfallSpan[] {
  const spans: WaterfallSpan[] = [];
  for (const body of bodies) {
    for (const resourceSpans of (JSON.parse(body) as OtlpExportBody).resourceSpans ?? []) {
      const service = String(attributesOf(resourceSpans.resource?.attributes)["service.name"]);
      for (const scope of resourceSpans.scopeSpans ?? []) {
        for (const span of scope.spans ?? []) {
          if (span.traceId !== traceId) continue;
          spans.push({
            service,
            name: span.name,
            spanId: span.spanId,
            ...(span.parentSpanId ? { parentSpanId: span.parentSpanId } : {}),
            startMs: Number(BigInt(span.startTimeUnixNano) / 1000n) / 1000,
            endMs: Number(BigInt(span.endTimeUnixNano) / 1000n) / 1000,
            // OTLP status code 2 is ERROR.
            error: span.status?.code === 2,
            attributes: attributesOf(span.attributes),
          });
        }
      }
    }
  }
  return spans;
}

/** Depth-first, children by start time: the order a waterfall lists spans in. */
export function inTreeOrder(spans: WaterfallSpan[]): Array<{ span: WaterfallSpan; depth: number }> {
  const ids = new Set(spans.map((s) => s.spanId));
  const byStart = [...spans].sort((a, b) => a.startMs - b.startMs);
  const childrenOf = (parent: string | undefined) =>
    byStart.filter((s) =>
      parent === undefined
        ? s.parentSpanId === undefined || !ids.has(s.parentSpanId)
        : s.parentSpanId === parent,
    );
  const rows: Array<{ span: WaterfallSpan; depth: number }> = [];
  const visit = (span: WaterfallSpan, depth: number) => {
    rows.push({ span, depth });
    for (const child of childrenOf(span.spanId)) visit(child, depth + 1);
  };
  for (const root of childrenOf(undefined)) visit(root, 0);
  return rows;
}

const escapeHtml = (text: string) =>
  text.replace(
    /[&<>"]/g,
    (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c] ?? c,
  );

/** The attributes worth a glance beside a span's name (never a recipient: spans carry none). */
const SHOWN = [
  "notification.outcome",
  "error.type",
  "notification.attempt",
  "http.response.status_code",
];

/** A self-contained HTML page: one row per span, its service, name, and a bar on a shared time axis. */
export function waterfallHtml(spans: WaterfallSpan[], caption: string): string {
  const rows = inTreeOrder(spans);
  const start = Math.min(...spans.map((s) => s.startMs));
  const total = Math.max(...spans.map((s) => s.endMs)) - start;
  const percent = (ms: number) => `${((100 * ms) / total).toFixed(3)}%`;
  const ticks = Array.from({ length: 6 }, (_, i) => (total * i) / 5);
  const body = rows
    .map(({ span, depth }) => {
      const details = SHOWN.filter((key) => span.attributes[key] !== undefined)
        .map((key) => `${key.split(".").pop()}=${span.attributes[key]}`)
        .join(" ");
      const duration = span.endMs - span.startMs;
      return `<div class="row">
  <div class="service ${span.service.endsWith("worker") ? "worker" : "gateway"}">${escapeHtml(span.service)}</div>
  <div class="name" style="padding-left:${depth * 14}px">${escapeHtml(span.name)} <small>${escapeHtml(details)}</small></div>
  <div class="lane"><div class="bar${span.error ? " error" : ""}" style="left:${percent(span.startMs - start)};width:${percent(duration)}"></div>
  <span class="ms" style="left:${percent(span.endMs - start)}">${duration.toFixed(1)} ms</span></div>
</div>`;
    })
    .join("\n");
  return `<!doctype html>
<html><head><meta charset="utf-8"><style>
body { font: 13px/1.4 system-ui, sans-serif; margin: 16px; width: 1250px; color: #222; background: #fff; }
h1 { font-size: 15px; margin: 0 0 4px; } p { margin: 0 0 10px; color: #555; }
.row, .axis { display: grid; grid-template-columns: 160px 520px 1fr; align-items: center; min-height: 22px; }
.row:nth-child(even) { background: #f6f7f9; }
.service { font-size: 11px; padding: 1px 6px; border-radius: 3px; width: fit-content; }
.gateway { background: #dbe9ff; } .worker { background: #ffe7c7; }
.name { white-space: nowrap; overflow: hidden; text-overflow: ellipsis; } small { color: #777; }
.lane { position: relative; height: 16px; margin-right: 80px; }
.bar { position: absolute; top: 3px; height: 10px; min-width: 2px; background: #4a7fd6; border-radius: 2px; }
.bar.error { background: #d64a4a; }
.ms { position: absolute; top: 0; padding-left: 4px; font-size: 11px; color: #555; white-space: nowrap; }
.axis .lane { border-top: 1px solid #aaa; height: 18px; font-size: 11px; color: #555; }
.axis span { position: absolute; top: 2px; transform: translateX(-50%); white-space: nowrap; }
</style></head><body>
<h1>One notification's trace</h1><p>${escapeHtml(caption)}</p>
${body}
<div class="axis"><div></div><div></div><div class="lane">${ticks
    .map((ms) => `<span style="left:${percent(ms)}">${Math.round(ms)} ms</span>`)
    .join("")}</div></div>
</body></html>
`;
}
