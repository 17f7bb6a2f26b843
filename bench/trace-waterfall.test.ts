import { describe, expect, it } from "vitest";
import { inTreeOrder, spansOfTrace, waterfallHtml } from "./trace-waterfall.js";

const TRACE = "4bf92f3577b34da6a3ce929d0e0e4736";

/** One OTLP/JSON export body, as the JS exporter writes it (hex ids, nanosecond strings). */
function exportBody(
  service: string,
  spans: Array<[string, string, string | undefined, number, number, string?]>,
) {
  return JSON.stringify({
    resourceSpans: [
      {
        resource: { attributes: [{ key: "service.name", value: { stringValue: service } }] },
        scopeSpans: [
          {
            spans: spans.map(([name, spanId, parentSpanId, startMs, endMs, traceId = TRACE]) => ({
              traceId,
              spanId,
              ...(parentSpanId ? { parentSpanId } : {}),
              name,
              startTimeUnixNano: String(BigInt(startMs) * 1_000_000n),
              endTimeUnixNano: String(BigInt(endMs) * 1_000_000n),
              attributes: [{ key: "notification.attempt", value: { intValue: "2" } }],
              status: { code: name === "send email resend" ? 2 : 0 },
            })),
          },
        ],
      },
    ],
  });
}

describe("the trace waterfall", () => {
  const bodies = [
    exportBody("notifications-worker", [
      ["send email resend", "c1", "b1", 1_010, 1_040],
      ["process notifications", "b1", "a1", 1_005, 1_050],
      ["another trace", "x1", undefined, 0, 1, "0af7651916cd43dd8448eb211c80319c"],
    ]),
    exportBody("notifications-gateway", [["POST /notifications", "a1", "caller", 1_000, 1_020]]),
  ];

  it("reads one trace's spans across services, nested under their parents", () => {
    const spans = spansOfTrace(bodies, TRACE);
    const rows = inTreeOrder(spans).map(({ span, depth }) => [span.service, span.name, depth]);
    expect(rows).toEqual([
      ["notifications-gateway", "POST /notifications", 0],
      ["notifications-worker", "process notifications", 1],
      ["notifications-worker", "send email resend", 2],
    ]);
    const send = spans.find((s) => s.name === "send email resend");
    expect(send).toMatchObject({ startMs: 1_010, endMs: 1_040, error: true });
    expect(send?.attributes).toEqual({ "notification.attempt": 2 });
  });

  it("draws each span as a bar on one time axis", () => {
    const html = waterfallHtml(spansOfTrace(bodies, TRACE), "a <caption>");
    expect(html).toContain("a &lt;caption&gt;");
    // The gateway's span starts the axis (0 %) and the process span ends it (50 ms).
    expect(html).toContain('style="left:0.000%;width:40.000%"');
    expect(html).toContain('class="bar error" style="left:20.000%;width:60.000%"');
    expect(html).toContain("50 ms</span>");
  });
});
