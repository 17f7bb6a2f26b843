// The delivery ceiling on this stack: a BullMQ Worker whose processor only sends the job's email
// with the resend SDK (no rendering, records, limits or batches). Concurrency as the worker's.
import { createServer } from "node:http";
import { Worker } from "bullmq";
import { Resend } from "resend";

const resend = new Resend(process.env.RESEND_API_KEY);
const worker = new Worker(
  "notifications",
  async (job) => {
    const { error } = await resend.emails.send({
      from: process.env.EMAIL_FROM,
      to: job.data.to,
      subject: `Order ${job.data.order} executed`,
      html: `<p>${job.data.quantity} ${job.data.asset} at ${job.data.amount}</p>`,
    });
    if (error) throw new Error(error.message);
  },
  {
    connection: { url: process.env.REDIS_URL },
    concurrency: Number(process.env.WORKER_CONCURRENCY ?? 5),
  },
);
await worker.waitUntilReady();
createServer((_request, response) => response.end("ok")).listen(
  Number(process.env.WORKER_HEALTH_PORT),
  "127.0.0.1",
);
