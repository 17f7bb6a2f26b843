import { deflateSync, inflateSync } from "node:zlib";
import type { BatchItem } from "../channels/channel-adapter.js";

/** The first byte of a record written as plain JSON (an array), before records were compressed. */
const JSON_ARRAY_START = 0x5b;

/**
 * A batch's composition as Redis keeps it for a day (channel-batcher.ts): its items as JSON,
 * deflated. Each email carries its whole rendered HTML, and the emails of a batch share their
 * layout, so deflate keeps a small part of it. A low level: the record is written once and read
 * only after a lost answer, so speed counts more than the last kilobytes.
 */
export function encodeBatchRecord(items: BatchItem[]): Buffer {
  return deflateSync(JSON.stringify(items), { level: 3 });
}

/**
 * The items of a recorded batch. A record written as plain JSON by an earlier version (a worker
 * replaced while its batch waited for a retry) is read as it is: a zlib stream never starts with
 * `[`, its first byte names the method (0x78 for deflate).
 */
export function decodeBatchRecord(record: Buffer): BatchItem[] {
  const json = record[0] === JSON_ARRAY_START ? record : inflateSync(record);
  return JSON.parse(json.toString("utf8")) as BatchItem[];
}
