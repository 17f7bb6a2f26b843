import { deflateSync, inflateSync } from "node:zlib";
import type { BatchItem } from "./channels/channel-adapter.js";

/** The first byte of a record written as plain JSON (an array), before records were compressed. */
const JSON_ARRAY_START = 0x5b;

/**
 * A batch's composition as Redis keeps it for a day (channel-batcher.ts): its items as JSON,
 * deflated. Kept as plain JSON it was every email's rendered HTML again, about 12 KB an email:
 * 1.2 GB of Redis for a burst of 100,000 emails. The emails of a batch share their layout, so
 * deflate keeps little of it: a full batch of 100 (1.2 MB of JSON) takes about 24 KB.
 * Level 3, measured on such a batch: about 1 ms, where the default 6 took 5 ms for 15 KB and
 * level 1 took longer than 3 for 60 KB. Synchronous: the JSON it compresses took longer to build.
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
