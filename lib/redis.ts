import { Redis } from "ioredis";

/**
 * `rediss://` URLs (Upstash) get TLS from ioredis itself.
 *
 * A connection for a BullMQ Queue in a request path: commands fail at once while Redis is
 * unreachable instead of waiting in ioredis' offline queue, and a command that gets no answer
 * fails after `commandTimeoutMs`, so an HTTP caller gets a 503 within a second, never a hang.
 */
export function createProducerConnection(
  url: string,
  options: { commandTimeoutMs?: number } = {},
): Redis {
  return new Redis(url, {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    commandTimeout: options.commandTimeoutMs ?? 1000,
    connectTimeout: 5000,
  });
}

/**
 * A connection for a BullMQ Worker: BullMQ's production guide requires `maxRetriesPerRequest: null`
 * so blocking commands wait for a reconnect instead of throwing.
 */
export function createWorkerConnection(url: string): Redis {
  return new Redis(url, { maxRetriesPerRequest: null });
}
