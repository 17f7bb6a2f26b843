import type { Job } from "bullmq";
import type { DeliveryRecord, DeliveryStore } from "../delivery/delivery-store.js";
import type { NotificationIndex } from "../delivery/notification-index.js";
import type { GatewayDeps } from "./app-types.js";
import { ApiError } from "./errors.js";
import { visibleTo } from "./job-from-request.js";
import {
  describeJob,
  describeRecord,
  type NotificationState,
  type NotificationStatus,
  STATE_BY_BULLMQ_STATE,
} from "./notification-status.js";

/** A search as `GET /notifications` takes it. */
export interface NotificationQuery {
  viewer: { id: string; admin: boolean };
  state?: NotificationState;
  order?: string;
  recipient?: string;
  /** Creation time bounds (ms), both inclusive. */
  since?: number;
  until?: number;
  pageSize: number;
  cursor?: string;
}

/** One page: its items, newest first, and the cursor of the next (null at the end). */
export interface NotificationSearchPage {
  items: NotificationStatus[];
  nextCursor: string | null;
}

/**
 * Index entries read for one page when some are checked one by one (another index, the state):
 * a page may come back short, with a cursor, rather than read without bound.
 */
const ENTRIES_READ_PER_ITEM = 4;

/**
 * Searches one gateway process runs at once; the others wait their turn. A page costs a few
 * milliseconds of CPU and a few hundred Redis commands: two at a time keep a burst of them from
 * delaying the intake (POST /notifications) and bound the memory they hold together.
 */
const SEARCHES_AT_ONCE = 1;

/** A FIFO of at most `limit` tasks at once. */
function oneAtATimeBy(limit: number) {
  let running = 0;
  const waiting: Array<() => void> = [];
  return async function run<T>(task: () => Promise<T>): Promise<T> {
    if (running >= limit) await new Promise<void>((resolve) => waiting.push(resolve));
    else running++;
    try {
      return await task();
    } finally {
      const next = waiting.shift();
      if (next) next();
      else running--;
    }
  };
}

/** Where the next page starts: the score reached, the entries at that score read, the index read. */
interface Cursor {
  s: number;
  k: number;
  d: number;
}

function decodeCursor(text: string): Cursor {
  try {
    const cursor = JSON.parse(Buffer.from(text, "base64url").toString("utf8")) as Cursor;
    if ([cursor.s, cursor.k, cursor.d].every((n) => Number.isSafeInteger(n) && n >= 0)) {
      return cursor;
    }
  } catch {}
  throw new ApiError("BAD_REQUEST", "cursor: not a cursor this API returned");
}

function encodeCursor(cursor: Cursor): string {
  return Buffer.from(JSON.stringify(cursor)).toString("base64url");
}

/** A record the gateway wrote at acceptance whose job is gone without running (removed, or never added). */
function acceptedOnly(record: DeliveryRecord): boolean {
  return (
    !record.outcome && record.report === undefined && Object.keys(record.channels).length === 0
  );
}

/** A notification's state from its job's BullMQ state, or once the job is gone, its record. */
function statusOf(
  state: string | undefined,
  record: DeliveryRecord | undefined,
): NotificationState | undefined {
  if (state === undefined) return undefined;
  if (state !== "unknown") return STATE_BY_BULLMQ_STATE[state];
  return record && !acceptedOnly(record) ? record.outcome : undefined;
}

/** A listed record without its timeline: a list's items stay the size of a page of jobs. */
function listed(record: DeliveryRecord): NotificationStatus {
  const { timeline: _timeline, ...status } = describeRecord(record);
  return status;
}

/**
 * A search of one gateway: one page of a key's notifications (or, for an admin key, everyone's) matching the query, read
 * from the indexes (delivery/notification-index.ts): the most selective of the query's indexes is read
 * newest first, each entry checked against the others, then against the state. The Redis work and
 * the memory are bounded by the page size, whatever the number of notifications.
 */
export function createNotificationSearch(
  deps: GatewayDeps,
  services: { index: NotificationIndex; store: DeliveryStore },
) {
  const turn = oneAtATimeBy(SEARCHES_AT_ONCE);
  return (query: NotificationQuery) => turn(() => searchPage(deps, services, query));
}

async function searchPage(
  deps: GatewayDeps,
  services: { index: NotificationIndex; store: DeliveryStore },
  query: NotificationQuery,
): Promise<NotificationSearchPage> {
  const { keys } = services.index;
  const indexes = [
    ...(query.viewer.admin ? [] : [keys.key(query.viewer.id)]),
    ...(query.order ? [keys.order(query.order)] : []),
    ...(query.recipient ? [keys.recipient(query.recipient)] : []),
  ];
  if (indexes.length === 0) indexes.push(keys.all());
  const cursor = query.cursor === undefined ? undefined : decodeCursor(query.cursor);
  if (cursor && cursor.d > indexes.length)
    throw new ApiError("BAD_REQUEST", "cursor: not for this query");
  const checked = indexes.length > 1 || query.state !== undefined;
  const count = query.pageSize * (checked ? ENTRIES_READ_PER_ITEM : 1);
  const page = await services.index.page({
    indexes,
    newest: cursor?.s ?? query.until ?? Number.MAX_SAFE_INTEGER,
    oldest: query.since ?? 0,
    skip: cursor?.k ?? 0,
    count,
    driver: cursor?.d ?? 0,
  });

  // Each matching entry's state (the job's while it is kept, else its record's outcome), read a
  // page's worth of entries at a time, until the page is full.
  const rows = page.rows;
  const chosen: Array<{ row: number; status: NotificationState; record?: DeliveryRecord }> = [];
  let consumed = 0;
  while (consumed < rows.length && chosen.length < query.pageSize) {
    const chunk = rows.slice(consumed, consumed + query.pageSize);
    const states = await Promise.all(
      chunk.map((row) => (row.matches ? deps.queue.getJobState(row.id) : undefined)),
    );
    const records = await Promise.all(
      chunk.map((row, i) => (states[i] === "unknown" ? services.store.read(row.id) : undefined)),
    );
    for (let i = 0; i < chunk.length && chosen.length < query.pageSize; i++, consumed++) {
      const status = statusOf(states[i], records[i]);
      if (!status || (query.state && status !== query.state)) continue;
      const record = records[i];
      chosen.push({ row: consumed, status, ...(record ? { record } : {}) });
    }
  }

  const jobs = await Promise.all(
    chosen.map(({ row, record }) => (record ? undefined : deps.queue.getJob(rows[row]?.id ?? ""))),
  );
  const items = chosen.flatMap(({ status, record }, i): NotificationStatus[] => {
    const job: Job | undefined = jobs[i];
    if (record) return [listed(record)];
    // Finished and removed between the two reads: it shows on a later search, from its record.
    if (!job || !visibleTo(job, query.viewer)) return [];
    return [describeJob(job, status)];
  });

  const more = consumed < rows.length || rows.length === count;
  const last = rows[consumed - 1];
  if (!more || !last) return { items, nextCursor: null };
  const atLast = rows.slice(0, consumed).filter((row) => row.score === last.score).length;
  const carried = cursor && cursor.s === last.score ? cursor.k : 0;
  return {
    items,
    nextCursor: encodeCursor({ s: last.score, k: atLast + carried, d: page.driver }),
  };
}
