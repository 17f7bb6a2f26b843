import { randomUUID } from "node:crypto";
import type {
  BatchItem,
  ChannelAdapter,
  SendRequest,
  SendResult,
} from "../channels/channel-adapter.js";
import { ChannelError } from "../channels/channel-error.js";
import type { RedisConnection } from "../lib/redis.js";
import { redisScript } from "../lib/redis-script.js";
import { decodeBatchRecord, encodeBatchRecord } from "./batch-record.js";
import type { Booking, ProviderGate, ProviderWait } from "./provider-gate.js";

/**
 * What one member of a batch gets back: its own result, its own error, the provider's wait, or
 * `suppressed` when its recipient was suppressed before the batch left.
 */
export type BatchOutcome =
  | SendResult
  | ChannelError
  | { wait: ProviderWait }
  | { suppressed: true };

/**
 * KEYS: the suppression hash, the batch's record, each member's pointer. ARGV: the members'
 * suppression fields (JSON), the record, its TTL, the batch id. Writes nothing and answers the
 * flags when a member is suppressed; else writes the record and every pointer (`id:index`).
 */
const RECORD_BATCH = redisScript(`
local fields = cjson.decode(ARGV[1])
local found = redis.call('HMGET', KEYS[1], unpack(fields))
local flags = {}
local any = false
for i = 1, #fields do
  flags[i] = found[i] and 1 or 0
  if found[i] then any = true end
end
if any then return flags end
redis.call('SET', KEYS[2], ARGV[2], 'EX', ARGV[3])
for i = 3, #KEYS do redis.call('SET', KEYS[i], ARGV[4] .. ':' .. (i - 3), 'EX', ARGV[3]) end
return flags`);

/** How long a batch's composition is kept: as long as the provider keeps its idempotency key. */
const BATCH_RECORD_TTL_SECONDS = 24 * 60 * 60;

interface Member {
  request: SendRequest;
  resolve(outcome: BatchOutcome): void;
}

/** A batch that collects members until its provider slot comes. */
interface Departure {
  members: Member[];
  booking: Promise<Booking>;
  /** Set, in the same turn, when it stops taking members: its slot came, or it was settled. */
  closed: boolean;
}

/**
 * Sends one channel's messages in batches (Resend: up to 100 emails a request). A batch books
 * the provider's next slot when its first member arrives and collects members until the slot
 * comes: a lone message whose slot is free leaves at once, and under a backlog each request
 * carries up to `maxSize`, so a backlog drains at the provider's request limit times the batch
 * size.
 *
 * Exactly once, with the provider's idempotency key as the only dedup:
 * - Before a batch is sent, its composition and a pointer from each member to it are written to
 *   Redis. A member tried again while its pointer stands (its call's answer was lost: a timeout,
 *   a 5xx, a crash) re-sends the same batch under the same key, which the provider answers with
 *   the first call's result without sending again. Members tried again together share one call.
 * - A pointer stands only while the call may have sent. An answer that says for sure what was not
 *   sent (a refused request, an email listed among a batch's errors) removes it, so that email
 *   goes next time in a new batch, under a new key: a replay would only get the refusal back.
 * - Recipients suppressed since their try opened are left out when the batch leaves.
 */
export function createChannelBatcher(options: {
  adapter: ChannelAdapter & { sendBatch: NonNullable<ChannelAdapter["sendBatch"]> };
  maxSize: number;
  gate: ProviderGate;
  redis: RedisConnection;
  keyPrefix: string;
  /** The suppression list's hash and fields for these recipients (a field set: suppressed). */
  suppressionLookup(recipients: string[]): { key: string; fields: string[] };
}) {
  const { adapter, gate, redis } = options;
  const recordKey = (batchId: string) => `${options.keyPrefix}:batch:${batchId}`;
  const pointerKey = (request: SendRequest) =>
    `${options.keyPrefix}:batch-member:${adapter.channel}:${request.notificationKey}`;

  /** The fresh batch members join now, if any. */
  let open: Departure | undefined;
  /** Replays of recorded batches collecting members, by batch id. */
  const replays = new Map<string, Departure & { indexes: number[] }>();

  function depart(): Departure {
    return { members: [], booking: gate.book(adapter.provider), closed: false };
  }

  /**
   * Waits for the batch's slot and closes it: a member that comes later starts another batch.
   * Answers false (every member settled) on a provider wait.
   */
  async function slotCame(batch: Departure): Promise<boolean> {
    const booked = await batch.booking;
    if ("wait" in booked) {
      settleAll(batch, { wait: booked.wait });
      return false;
    }
    if (booked.delayMs > 0) await new Promise((resolve) => setTimeout(resolve, booked.delayMs));
    batch.closed = true;
    return true;
  }

  async function sendFresh(batch: Departure): Promise<void> {
    try {
      if (!(await slotCame(batch))) return;
      const batchId = randomUUID();
      const recorded = await recordBatch(batchId, batch.members);
      if (!recorded) return;
      const { going, items } = recorded;
      await settleEach(going, await callProvider(batchId, items), true);
    } catch (error) {
      settleAll(batch, asChannelError(error));
    }
  }

  async function sendReplay(batchId: string, batch: Departure & { indexes: number[] }) {
    try {
      if (!(await slotCame(batch))) return;
      if (replays.get(batchId) === batch) replays.delete(batchId);
      const recorded = await redis.getBuffer(recordKey(batchId));
      if (!recorded) {
        // Kept as long as the provider keeps the key: past it, a replay would send again anyway.
        await forget(batch.members);
        for (const member of batch.members) joinFresh(member);
        return;
      }
      const items = decodeBatchRecord(recorded);
      const outcomes = await callProvider(batchId, items);
      await settleEach(
        batch.members,
        batch.indexes.map((index) => outcomes[index] ?? missing()),
        false,
      );
    } catch (error) {
      settleAll(batch, asChannelError(error));
    } finally {
      if (replays.get(batchId) === batch) replays.delete(batchId);
    }
  }

  /**
   * Writes the batch's composition and its members' pointers in one command, unless a member's
   * recipient was suppressed since its try opened: those are settled `suppressed` and left out,
   * and the rest recorded. Answers undefined when no member is left.
   */
  async function recordBatch(batchId: string, members: Member[]) {
    let going = members;
    for (;;) {
      const items: BatchItem[] = going.map(({ request }) => ({
        recipient: request.recipient,
        content: request.content,
      }));
      const { key, fields } = options.suppressionLookup(going.map((m) => m.request.recipient));
      const found = (await RECORD_BATCH(
        redis,
        [key, recordKey(batchId), ...going.map(({ request }) => pointerKey(request))],
        [JSON.stringify(fields), encodeBatchRecord(items), BATCH_RECORD_TTL_SECONDS, batchId],
      )) as number[];
      if (!found.includes(1)) return { going, items };
      going = going.filter((member, index) => {
        if (found[index] === 1) member.resolve({ suppressed: true });
        return found[index] !== 1;
      });
      if (going.length === 0) return undefined;
    }
  }

  async function callProvider(batchId: string, items: BatchItem[]) {
    return adapter.sendBatch(items, batchId).catch((error: unknown) => {
      const failed = asChannelError(error);
      return items.map(() => failed);
    });
  }

  /**
   * Settles each member with its outcome. A member whose email surely did not go loses its
   * pointer first: listed among the answer's errors, or refused with the whole request of a
   * fresh batch (a replay's refusal says nothing of its first call).
   */
  async function settleEach(members: Member[], outcomes: BatchOutcome[], fresh: boolean) {
    const notSent = members.filter((_, index) => {
      const outcome = outcomes[index];
      if (!(outcome instanceof ChannelError)) return false;
      return outcome.settlesEarlierCalls || (fresh && !outcome.mayHaveSent);
    });
    if (notSent.length > 0) await forget(notSent).catch(() => {});
    members.forEach((member, index) => {
      member.resolve(outcomes[index] ?? missing());
    });
  }

  async function forget(members: Member[]): Promise<void> {
    if (members.length > 0) await redis.del(...members.map(({ request }) => pointerKey(request)));
  }

  function joinFresh(member: Member): void {
    if (!open || open.closed || open.members.length >= options.maxSize) {
      open = depart();
      void sendFresh(open);
    }
    open.members.push(member);
  }

  function joinReplay(pointer: string, member: Member): void {
    const [batchId = "", index = "0"] = pointer.split(":");
    let batch = replays.get(batchId);
    if (!batch || batch.closed) {
      batch = { ...depart(), indexes: [] };
      replays.set(batchId, batch);
      void sendReplay(batchId, batch);
    }
    batch.members.push(member);
    batch.indexes.push(Number(index));
  }

  return {
    /**
     * Sends one member: in a fresh batch, or, while an earlier try's batch call may have sent
     * it (`previous.inFlightSince`), by re-sending that batch under its key.
     */
    async send(request: SendRequest): Promise<BatchOutcome> {
      const pointer =
        request.previous.inFlightSince === undefined ? null : await redis.get(pointerKey(request));
      return new Promise<BatchOutcome>((resolve) => {
        if (pointer) joinReplay(pointer, { request, resolve });
        else joinFresh({ request, resolve });
      });
    },
  };
}

/** Closes the batch first, in the same turn: no member joins one already settled. */
function settleAll(batch: Departure, outcome: BatchOutcome): void {
  batch.closed = true;
  for (const member of batch.members) member.resolve(outcome);
}

function asChannelError(error: unknown): ChannelError {
  return error instanceof ChannelError
    ? error
    : new ChannelError("transient", "internal_error", String(error), { mayHaveSent: true });
}

function missing(): ChannelError {
  return new ChannelError("transient", "batch_result_missing", "No result for this message", {
    mayHaveSent: true,
  });
}

export type ChannelBatcher = ReturnType<typeof createChannelBatcher>;
