/**
 * `npm run soak [-- --count 20000]`: notifications through a real gateway and worker with
 * providers that fail 10 % of calls and rate-limit 2 %; prints what it found and exits 1 unless
 * every notification was delivered exactly once per channel.
 */
import { runSoak } from "../test/soak-run.js";

const countArg = process.argv.indexOf("--count");
const count = countArg > 0 ? Number(process.argv[countArg + 1]) : 20_000;
process.stdout.write(`[soak] ${count} notifications…\n`);
const result = await runSoak({ count });
process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
process.stdout.write(
  result.ok
    ? "[soak] OK: every notification delivered exactly once per channel\n"
    : "[soak] FAILED\n",
);
process.exit(result.ok ? 0 : 1);
