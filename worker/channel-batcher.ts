import { randomUUID } from "node:crypto";
import type { RedisConnection } from "../lib/redis.js";
import { redisScript } from "../lib/redis-script.js";
import { decodeBatchRecord, encodeBatchRecord } from "./batch-record.js";
import type {
  BatchItem,
  ChannelAdapter,
  SendRequest,
  SendResult,
} from "./channels/channel-adapter.js";
import { ChannelError } from "./channels/channel-error.js";
import {
  type Booking,
  type ProviderGate,
  type ProviderWait,
  RESERVE_SLOT_FUNCTION,
} from "./provider-gate.js";
import type { WorkerActivity } from "./worker-activity.js";

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

/** A fresh batch while it collects members, and until it leaves. */
interface Collecting {
  members: Pending[];
  /** Ends the collecting window early: set while the window runs. */
  stopCollecting?: () => void;
  /**
   * The booking of the batch's slot, which writes the first member's pointer "sent alone" in the
   * same command (BOOK_MARKING_ALONE), so that a batch that stays alone leaves at its slot with
   * nothing left to write; a larger batch's pointers overwrite it before the call.
   */
  booking: Promise<Booking>;
  /** The booking's error as the first member's, if it failed. */
  firstMarkedAlone: Promise<ChannelError | undefined>;
}

/**
 * Books the provider's slot and, unless the provider is in a wait, writes the first member's
 * pointer "sent alone": one command where a SET beside the booking made two (Upstash bills each).
 * Written ahead, the pointer is never wrong: until the call, the member has been sent by no one,
 * and a member tried again after it is sent alone under its own key, which is safe either way.
 */
const BOOK_MARKING_ALONE = redisScript(`${RESERVE_SLOT_FUNCTION}
local booked = reserveSlot(KEYS[1], KEYS[2], tonumber(ARGV[1]), tonumber(ARGV[2]))
if booked[1] >= 0 then redis.call('SET', KEYS[3], ARGV[3], 'EX', ARGV[4]) end
return booked`);

/**
 * Collects one channel's sends from the jobs a worker runs at once and sends them in batches
 * (Resend: up to 100 emails a request), so a backlog drains at the provider's request limit
 * times the batch size: a batch books the provider's next slot when its first member arrives
 * and collects members until the slot comes. When the slot is free at once, it collects for
 * `windowMs` only, and a lone send then goes out alone, under its own key; it stops collecting
 * sooner when no one else can join: it is full, or the batcher already holds every send the
 * worker can run at once (its `concurrency`: a job sends one email at a time), so the other
 * jobs wait for this batch or one in flight.
 *
 * Exactly once: before a batch is sent, its composition and its idempotency key are written to
 * Redis (one pipeline: the batch, deflated (batch-record.ts), and a pointer from each member's
 * notification key to it). A member that is tried again (a crash, a timeout, an unanswered call)
 * finds the pointer and re-sends the same batch under the same key, which the provider answers
 * with the first call's ids; members of one batch tried again together share that one call. A
 * member sent alone goes under its own key, so its pointer says so first: tried again, it is sent
 * alone under that key, never in a new batch (whose key the provider has not seen: it would send
 * the email twice).
 */
export function createChannelBatcher(options: {
  adapter: ChannelAdapter & { sendBatch: NonNullable<ChannelAdapter["sendBatch"]> };
  maxSize: number;
  windowMs: number;
  /** How many jobs the worker runs at once; unset: unknown, a batch always waits out its window. */
  concurrency?: number;
  /** What the worker is doing now; unset: a batch leaves early only when the worker is full. */
  activity?: WorkerActivity;
  gate: ProviderGate;
  redis: RedisConnection;
  keyPrefix: string;
}) {
  const { adapter } = options;
  const concurrency = options.concurrency ?? Number.POSITIVE_INFINITY;
  const recordKey = (batchId: string) => `${options.keyPrefix}:batch:${batchId}`;
  const memberKey = (notificationKey: string) =>
    `${options.keyPrefix}:batch-member:${adapter.channel}:${notificationKey}`;

  /**
   * The batch being collected: members join from its first member's arrival until it leaves
   * (its window, then, under a backlog, the wait for its slot), up to `maxSize`.
   */
  let open: Collecting | undefined;
  /** Sends in the batcher now, from `send` to their outcome, whatever their path. */
  let held = 0;
  let replayTimer: NodeJS.Timeout | undefined;
  /** Replays of recorded batches, by batch id, collected in the same window. */
  const replays = new Map<string, Array<Pending & { index: number }>>();

  function addFresh(member: Pending): void {
    if (!open || open.members.length >= options.maxSize) {
      const booking = bookMarkingAlone(member);
      const batch: Collecting = {
        members: [member],
        booking,
        firstMarkedAlone: booking.then(() => undefined, asChannelError),
      };
      open = batch;
      void collectAndSend(batch);
    } else {
      open.members.push(member);
    }
    if (noOneCanJoin(open)) open.stopCollecting?.();
  }

  /**
   * No company can come: the batch is full, or every job the worker can run waits in here, or
   * every job it runs does and its last fetch found the queue empty (a lone email leaves at once,
   * where it used to wait out the window; at the start of a burst the next fetch finds a job).
   */
  function noOneCanJoin(batch: Collecting): boolean {
    if (batch.members.length >= options.maxSize || held >= concurrency) return true;
    const activity = options.activity;
    if (!activity) return false;
    return activity.queueDrained() && held >= activity.jobsRunning();
  }

  function markAlone(member: Pending): Promise<ChannelError | undefined> {
    return options.redis
      .set(memberKey(member.request.notificationKey), SENT_ALONE, "EX", BATCH_RECORD_TTL_SECONDS)
      .then(() => undefined, asChannelError);
  }

  /** The slot of a batch whose first member this is, booked no sooner than the window's end. */
  async function bookMarkingAlone(first: Pending): Promise<Booking> {
    const { keys, args } = options.gate.bookingOf(adapter.provider, options.windowMs);
    const answer = await BOOK_MARKING_ALONE(
      options.redis,
      [...keys, memberKey(first.request.notificationKey)],
      [...args, SENT_ALONE, BATCH_RECORD_TTL_SECONDS],
    );
    return options.gate.answerOf(adapter.provider, answer);
  }

  async function collectAndSend(batch: Collecting): Promise<void> {
    try {
      // The slot is booked when the first member arrives, no sooner than the window's end, and
      // the batch leaves then: the provider sees calls spaced as booked.
      const booked = await batch.booking;
      const bookedAt = Date.now();
      if ("wait" in booked) {
        if (open === batch) open = undefined;
        // Not sent, and no pointer written: the first member may join a batch on its next try.
        return settleAll(batch.members, { wait: booked.wait });
      }
      if (booked.delayMs > options.windowMs) {
        // A backlog: the batch collects until its slot comes.
        await new Promise((resolve) => setTimeout(resolve, booked.delayMs));
      } else {
        // The slot was free at once: the batch collects for the window, and leaves as soon as no
        // one else can join, but never sooner than the gate's guard before its slot, so that the
        // call before it still had its full 1000 ÷ limit ms (at the default 5 ms window the guard
        // is longer for limits up to 20 calls a second: Resend's is 2).
        if (!noOneCanJoin(batch)) {
          await new Promise<void>((resolve) => {
            const timer = setTimeout(resolve, booked.delayMs);
            batch.stopCollecting = () => {
              clearTimeout(timer);
              resolve();
            };
          });
          batch.stopCollecting = undefined;
        }
        const early = bookedAt + booked.delayMs - options.gate.earlinessMs(adapter.provider);
        if (early > Date.now())
          await new Promise((resolve) => setTimeout(resolve, early - Date.now()));
      }
      if (open === batch) open = undefined;
      await sendFresh(batch);
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
  async function sendAlone(
    member: Pending,
    marked: Promise<ChannelError | undefined> = markAlone(member),
  ): Promise<void> {
    try {
      const failed = await marked;
      if (failed) return member.resolve(failed);
      member.resolve(await adapter.send(member.request));
    } catch (error) {
      member.resolve(asChannelError(error));
    }
  }

  /** Sends a batch whose slot has come: alone when it is one, else recorded first. */
  async function sendFresh(batch: Collecting): Promise<void> {
    const { members } = batch;
    const [only] = members;
    if (members.length === 1 && only) return sendAlone(only, batch.firstMarkedAlone);
    const batchId = randomUUID();
    const items: BatchItem[] = members.map(({ request }) => ({
      recipient: request.recipient,
      content: request.content,
    }));
    // The composition first: a member tried again after a crash re-sends exactly this batch.
    // The first member's "alone" pointer is settled first, so this write is the one that stays.
    await batch.firstMarkedAlone;
    const record = encodeBatchRecord(items);
    const write = options.redis.multi();
    write.set(recordKey(batchId), record, "EX", BATCH_RECORD_TTL_SECONDS);
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
      const recorded = await options.redis.getBuffer(recordKey(batchId));
      if (!recorded) {
        // Past the provider's idempotency window too: each member is sent alone, under its own key.
        for (const member of members) await sendAlone(member);
        return;
      }
      // Read before the provider's slot is booked: a record that cannot be read uses up none.
      const items = decodeBatchRecord(recorded);
      const wait = await gateOrWait();
      if (wait) return settleAll(members, { wait });
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
      held += 1;
      try {
        return await route(request, mayHaveBatched);
      } finally {
        held -= 1;
      }
    },
    /** The worker's activity changed (its queue found empty): the open batch may leave now. */
    recheck(): void {
      if (open && noOneCanJoin(open)) open.stopCollecting?.();
    },
  };

  /** A member's path: alone again, a replay of its recorded batch, or a fresh batch. */
  async function route(request: SendRequest, mayHaveBatched: boolean): Promise<BatchOutcome> {
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
  }

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
