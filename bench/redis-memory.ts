import { Redis } from "ioredis";

/** What a delivered notification leaves in Redis, by what keeps it (docs/capacity.md). */
export interface RedisMemory {
  /** BullMQ's job hash: kept a day once completed (10,000 at most). */
  job: number;
  /** The delivery record, its timeline and the provider id's pointer: kept 30 days. */
  deliveryRecord: number;
  /** Batch compositions and each member's pointer to its batch: kept a day. */
  batch: number;
  /** Everything else under the queue's prefix (BullMQ's sets and event stream, the gate). */
  other: number;
}

const JOB_KEY = /^[^:]+:[^:]+:[0-9a-f-]{36}$/;

function kindOf(key: string): keyof RedisMemory {
  if (JOB_KEY.test(key)) return "job";
  if (key.includes(":delivery:") || key.includes(":provider-id:")) return "deliveryRecord";
  if (key.includes(":batch:") || key.includes(":batch-member:")) return "batch";
  return "other";
}

/**
 * Bytes per notification that each kind of key holds, from `MEMORY USAGE` (SAMPLES 0: every
 * element of a hash or set, not an estimate) over every key in the Redis, divided by
 * `notifications`. Read once a drain is over, from a Redis no one else uses.
 */
export async function redisMemoryPer(url: string, notifications: number): Promise<RedisMemory> {
  const redis = new Redis(url);
  const bytes: RedisMemory = { job: 0, deliveryRecord: 0, batch: 0, other: 0 };
  try {
    let cursor = "0";
    do {
      const [next, keys] = await redis.scan(cursor, "COUNT", 1000);
      cursor = next;
      const pipeline = redis.pipeline();
      for (const key of keys) pipeline.memory("USAGE", key, "SAMPLES", 0);
      const answers = (await pipeline.exec()) ?? [];
      keys.forEach((key, index) => {
        bytes[kindOf(key)] += Number(answers[index]?.[1] ?? 0);
      });
    } while (cursor !== "0");
  } finally {
    redis.disconnect();
  }
  const per = (n: number) => Math.round(n / notifications);
  return {
    job: per(bytes.job),
    deliveryRecord: per(bytes.deliveryRecord),
    batch: per(bytes.batch),
    other: per(bytes.other),
  };
}
