import { randomUUID } from "node:crypto";
import type {
  BatchItem,
  ChannelAdapter,
  SendRequest,
  SendResult,
} from "../channels/channel-adapter.js";
import { ChannelError } from "../channels/channel-error.js";
import type { RedisConnection } from "../lib/redis.js";
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
  /** Which of these recipients are suppressed now, in order. */
  suppressed(recipients: string[]): Promise<boolean[]>;
}) {
  const { adapter, gate, redis } = options;
  const recordKey = (batchId: string) => `${options.keyPrefix}:batch:${batchId}`;
  const pointerKey = (request: SendRequest) =>
    `${options.keyPrefix}:batch-member:${adapter.channel}:${request.notificationKey}`;

  /** The fresh batch members join now, if any. */
  let open: Departure | undefined;
  /** Replays of recorded batches collecting members, by batch id. */
  const replays = new Map<string, Departure & { indexes: number[] }>();

  function depart(members: Member[] = []): Departure {
    return { members, booking: gate.book(adapter.provider) };
  }

  /** Waits for the batch's slot; answers false (and settles every member) on a provider wait. */
  async function slotCame(batch: Departure): Promise<boolean> {
    const booked = await batch.booking;
    if ("wait" in booked) {
      settle(batch.members, { wait: booked.wait });
      return false;
    }
    if (booked.delayMs > 0) await new Promise((resolve) => setTimeout(resolve, booked.delayMs));
    return true;
  }

  async function sendFresh(batch: Departure): Promise<void> {
    try {
      const ready = await slotCame(batch);
      if (open === batch) open = undefined;
      if (!ready) return;
      const flags = await options.suppressed(batch.members.map((m) => m.request.recipient));
      const going = batch.members.filter((member, index) => {
        if (flags[index]) member.resolve({ suppressed: true });
        return !flags[index];
      });
      if (going.length === 0) return;
      const batchId = randomUUID();
      const items: BatchItem[] = going.map(({ request }) => ({
        recipient: request.recipient,
        content: request.content,
      }));
      // The composition first: a member tried again after a lost answer re-sends exactly this.
      const write = redis.multi();
      write.set(recordKey(batchId), encodeBatchRecord(items), "EX", BATCH_RECORD_TTL_SECONDS);
      going.forEach(({ request }, index) => {
        write.set(pointerKey(request), `${batchId}:${index}`, "EX", BATCH_RECORD_TTL_SECONDS);
      });
      await write.exec();
      await call(batchId, items, going, true);
    } catch (error) {
      if (open === batch) open = undefined;
      settle(batch.members, asChannelError(error));
    }
  }

  async function sendReplay(batchId: string, batch: Departure & { indexes: number[] }) {
    try {
      const ready = await slotCame(batch);
      replays.delete(batchId);
      if (!ready) return;
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
      settle(batch.members, asChannelError(error));
    }
  }

  /** Makes the call and settles `members`, which hold `items` in order. */
  async function call(batchId: string, items: BatchItem[], members: Member[], fresh: boolean) {
    await settleEach(members, await callProvider(batchId, items), fresh);
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
    if (!open || open.members.length >= options.maxSize) {
      open = depart();
      void sendFresh(open);
    }
    open.members.push(member);
  }

  function joinReplay(pointer: string, member: Member): void {
    const [batchId = "", index = "0"] = pointer.split(":");
    let batch = replays.get(batchId);
    if (!batch) {
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

function settle(members: Member[], outcome: BatchOutcome): void {
  for (const member of members) member.resolve(outcome);
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
