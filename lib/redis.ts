import { Cluster, type ClusterOptions, Redis, type RedisOptions } from "ioredis";

/** A single Redis or a Redis Cluster: BullMQ and this service's own commands take either. */
export type RedisConnection = Redis | Cluster;

/** How to reach Redis: a `redis://` or `rediss://` URL, and whether it is a cluster's node. */
export interface RedisTarget {
  url: string;
  /** REDIS_CLUSTER=true: the URL names one node of a Redis Cluster; the rest are discovered. */
  cluster: boolean;
}

/**
 * A connection for a BullMQ Queue in a request path: commands fail at once while Redis is
 * unreachable instead of waiting in ioredis' offline queue, and a command that gets no answer
 * fails after `commandTimeoutMs`, so an HTTP caller gets a 503 within a second, never a hang.
 * `rediss://` URLs (Upstash) get TLS.
 */
export function createProducerConnection(
  target: RedisTarget | string,
  options: { commandTimeoutMs?: number } = {},
): RedisConnection {
  return connect(asTarget(target), {
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
export function createWorkerConnection(target: RedisTarget | string): RedisConnection {
  return connect(asTarget(target), { maxRetriesPerRequest: null });
}

function asTarget(target: RedisTarget | string): RedisTarget {
  return typeof target === "string" ? { url: target, cluster: false } : target;
}

function connect(target: RedisTarget, options: RedisOptions): RedisConnection {
  if (!target.cluster) return new Redis(target.url, options);
  // A cluster is reached through one node; every node gets the URL's credentials and TLS.
  const url = new URL(target.url);
  const redisOptions: RedisOptions = {
    ...options,
    ...(url.username ? { username: decodeURIComponent(url.username) } : {}),
    ...(url.password ? { password: decodeURIComponent(url.password) } : {}),
    ...(url.protocol === "rediss:" ? { tls: { servername: url.hostname } } : {}),
  };
  const clusterOptions: ClusterOptions = {
    redisOptions,
    enableOfflineQueue: options.enableOfflineQueue ?? true,
    ...(options.maxRetriesPerRequest !== undefined
      ? { maxRetriesPerRequest: options.maxRetriesPerRequest }
      : {}),
  };
  return new Cluster([{ host: url.hostname, port: Number(url.port || 6379) }], clusterOptions);
}
