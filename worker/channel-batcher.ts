import { randomUUID } from "node:crypto";
import type { RedisConnection } from "../lib/redis.js";
import type {
  BatchItem,
  ChannelAdapter,
  SendRequest,
  SendResult,
} from "./channels/channel-adapter.js";
import { ChannelError } from "./channels/channel-error.js";
import type { ProviderGate, ProviderWait } from "./provider-gate.js";

/** What one member of a batch gets back: its own result, its own error, or the provider's wait. */
export type BatchOutcome = SendResult | ChannelError | { wait: ProviderWait };

/** How long a batch's composition is kept: as long as the provider keeps its idempotency key. */
const BATCH_RECORD_TTL_SECONDS = 24 * 60 * 60;
/**
 * A member's pointer when it was sent alone, under its own key: it must be sent alone again,
 * under that key. A batch id is a UUID, so the two never meet.
 */
const SENT_ALONE = "alone";

interface Pending {
  request: SendRequest;
  resolve(outcome: BatchOutcome): void;
}

/**
 * Collects one channel's sends from the jobs a worker runs at once and sends them in batches
 * (Resend: up to 100 emails a request), so a backlog drains at the provider's request limit
 * times the batch size: a batch books the provider's next slot when its first member arrives
 * and collects members until the slot comes. When the slot is free at once, it collects for
 * `windowMs` only, and a lone send then goes out alone, under its own key.
 *
 * Exactly once: before a batch is sent, its composition and its idempotency key are written to
 * Redis (one pipeline: the batch, and a pointer from each member's notification key to it). A
 * member that is tried again (a crash, a timeout, an unanswered call) finds the pointer and
 * re-sends the same batch under the same key, which the provider answers with the first call's
 * ids; members of one batch tried again together share that one call. A member sent alone goes
 * under its own key, so its pointer says so first: tried again, it is sent alone under that key,
 * never in a new batch (whose key the provider has not seen: it would send the email twice).
 */
export function createChannelBatcher(options: {
  adapter: ChannelAdapter & { sendBatch: NonNullable<ChannelAdapter["sendBatch"]> };
  maxSize: number;
  windowMs: number;
  gate: ProviderGate;
  redis: RedisConnection;
  keyPrefix: string;
}) {
  const { adapter } = options;
  const recordKey = (batchId: string) => `${options.keyPrefix}:batch:${batchId}`;
  const memberKey = (notificationKey: string) =>
    `${options.keyPrefix}:batch-member:${adapter.channel}:${notificationKey}`;

  /**
   * The batch being collected. Its slot is booked when its first member arrives; members join
   * until the slot comes (under a backlog, the provider's spacing: up to a full batch) or, when
   * the slot is free at once, for `windowMs` (a lone email waits no longer than that).
   */
  let open: { members: Pending[] } | undefined;
  let replayTimer: NodeJS.Timeout | undefined;
  /** Replays of recorded batches, by batch id, collected in the same window. */
  const replays = new Map<string, Array<Pending & { index: number }>>();

  function addFresh(member: Pending): void {
    if (!open || open.members.length >= options.maxSize) {
      const batch = { members: [member] };
      open = batch;
      void bookAndSend(batch);
      return;
    }
    open.members.push(member);
  }

  async function bookAndSend(batch: { members: Pending[] }): Promise<void> {
    try {
      // The slot is booked no sooner than the window's end, and the batch leaves exactly then:
      // the provider sees calls spaced as booked.
      const booked = await options.gate.book(adapter.provider, options.windowMs);
      const delayMs = "wait" in booked ? 0 : booked.delayMs;
      await new Promise((resolve) => setTimeout(resolve, delayMs));
      if (open === batch) open = undefined;
      if ("wait" in booked) return settleAll(batch.members, { wait: booked.wait });
      await sendFresh(batch.members);
    } catch (error) {
      if (open === batch) open = undefined;
      settleAll(batch.members, asChannelError(error));
    }
  }

  function scheduleReplays(): void {
    if (replayTimer !== undefined || replays.size === 0) return;
    replayTimer = setTimeout(() => {
      replayTimer = undefined;
      for (const [batchId, members] of replays) {
        replays.delete(batchId);
        void sendReplay(batchId, members);
      }
    }, options.windowMs);
  }

  async function gateOrWait(): Promise<ProviderWait | undefined> {
    const reservation = await options.gate.reserve(adapter.provider);
    return reservation.go ? undefined : reservation.wait;
  }

  /**
   * Sends one member under its own key, recorded first as sent alone: a try after an accepted
   * call answered with an error (or too late) must go under that key again, which the provider
   * answers with the first call's id.
   */
  async function sendAlone(member: Pending): Promise<void> {
    try {
      await options.redis.set(
        memberKey(member.request.notificationKey),
        SENT_ALONE,
        "EX",
        BATCH_RECORD_TTL_SECONDS,
      );
      member.resolve(await adapter.send(member.request));
    } catch (error) {
      member.resolve(asChannelError(error));
    }
  }

  /** Sends a batch whose slot has come: alone when it is one, else recorded first. */
  async function sendFresh(members: Pending[]): Promise<void> {
    const [only] = members;
    if (members.length === 1 && only) return sendAlone(only);
    const batchId = randomUUID();
    const items: BatchItem[] = members.map(({ request }) => ({
      recipient: request.recipient,
      content: request.content,
    }));
    // The composition first: a member tried again after a crash re-sends exactly this batch.
    const write = options.redis.multi();
    write.set(recordKey(batchId), JSON.stringify(items), "EX", BATCH_RECORD_TTL_SECONDS);
    members.forEach(({ request }, index) => {
      const pointer = `${batchId}:${index}`;
      write.set(memberKey(request.notificationKey), pointer, "EX", BATCH_RECORD_TTL_SECONDS);
    });
    await write.exec();
    const outcomes = await adapter.sendBatch(items, batchId).catch((error) => {
      const failed = asChannelError(error);
      return items.map(() => failed);
    });
    for (const [index, member] of members.entries()) {
      member.resolve(outcomes[index] ?? missing());
    }
  }

  async function sendReplay(batchId: string, members: Array<Pending & { index: number }>) {
    try {
      const recorded = await options.redis.get(recordKey(batchId));
      if (!recorded) {
        // Past the provider's idempotency window too: each member is sent alone, under its own key.
        for (const member of members) await sendAlone(member);
        return;
      }
      const wait = await gateOrWait();
      if (wait) return settleAll(members, { wait });
      const items = JSON.parse(recorded) as BatchItem[];
      const outcomes = await adapter.sendBatch(items, batchId).catch((error) => {
        const failed = asChannelError(error);
        return items.map(() => failed);
      });
      for (const member of members) member.resolve(outcomes[member.index] ?? missing());
    } catch (error) {
      settleAll(members, asChannelError(error));
    }
  }

  return {
    /**
     * Sends one member: in a new batch, or, when an earlier try put it in one, by re-sending that
     * batch. `mayHaveBatched` is false on a notification's first try, which saves the look-up.
     */
    async send(request: SendRequest, mayHaveBatched: boolean): Promise<BatchOutcome> {
      const pointer = mayHaveBatched
        ? await options.redis.get(memberKey(request.notificationKey))
        : null;
      if (pointer === SENT_ALONE) {
        // Sent alone before: alone again, under the same key, in a slot of its own.
        const wait = await gateOrWait().catch(asChannelError);
        if (wait instanceof ChannelError) return wait;
        if (wait) return { wait };
        return new Promise<BatchOutcome>((resolve) => void sendAlone({ request, resolve }));
      }
      return new Promise<BatchOutcome>((resolve) => {
        if (pointer) {
          const [batchId = "", index = "0"] = pointer.split(":");
          const members = replays.get(batchId) ?? [];
          members.push({ request, resolve, index: Number(index) });
          replays.set(batchId, members);
          scheduleReplays();
        } else {
          addFresh({ request, resolve });
        }
      });
    },
  };

  function settleAll(members: Pending[], outcome: BatchOutcome): void {
    for (const member of members) member.resolve(outcome);
  }
}

function asChannelError(error: unknown): ChannelError {
  return error instanceof ChannelError
    ? error
    : new ChannelError("transient", "internal_error", String(error), { mayHaveSent: true });
}

function missing(): ChannelError {
  return new ChannelError(
    "transient",
    "batch_result_missing",
    "The batch answer had no result for this email",
    {
      mayHaveSent: true,
    },
  );
}

export type ChannelBatcher = ReturnType<typeof createChannelBatcher>;
