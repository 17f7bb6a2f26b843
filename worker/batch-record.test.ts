import { describe, expect, it } from "vitest";
import type { BatchItem } from "../channels/channel-adapter.js";
import { notificationPayloadSchema } from "../contract/notification-job.js";
import { rendererFromEnv } from "../rendering/index.js";
import { VALID_NOTIFICATION } from "../test/gateway-fixture.js";
import { decodeBatchRecord, encodeBatchRecord } from "./batch-record.js";

/** A full batch as the worker sends one: 100 emails rendered by the default templates. */
async function fullBatch(): Promise<BatchItem[]> {
  const render = await rendererFromEnv();
  return Array.from({ length: 100 }, (_, index) => {
    const recipient = `user${index}@example.com`;
    const payload = notificationPayloadSchema.parse({
      ...VALID_NOTIFICATION,
      to: recipient,
      order: `ord-${index}`,
    });
    return { recipient, content: render(payload) };
  });
}

describe("a batch's record", () => {
  it("gives back exactly the items it was given", async () => {
    const items = await fullBatch();
    expect(decodeBatchRecord(encodeBatchRecord(items))).toEqual(items);
  });

  it("keeps a full batch of rendered emails in under a twentieth of its JSON", async () => {
    const items = await fullBatch();
    const json = Buffer.byteLength(JSON.stringify(items));
    expect(json).toBeGreaterThan(100 * 5000);
    expect(encodeBatchRecord(items).length).toBeLessThan(json / 20);
  });

  it("reads a record an earlier version wrote as plain JSON", async () => {
    const items = (await fullBatch()).slice(0, 2);
    const legacy = Buffer.from(JSON.stringify(items));
    expect(decodeBatchRecord(legacy)).toEqual(items);
  });

  it("refuses a record that is neither", () => {
    expect(() => decodeBatchRecord(Buffer.from("not a record"))).toThrow();
  });
});
