/**
 * A process that logs through the service's own stdout logger (lib/logger.ts), for the tests of
 * its stream: logs `LOG_COUNT` lines, then `LOG_THEN=throw` dies of an uncaught error and
 * anything else exits.
 */
import { createLogger } from "../../lib/logger.js";

const logger = createLogger({ name: "log-lines", level: "info", pretty: false });
const count = Number(process.env.LOG_COUNT ?? 1);
for (let index = 0; index < count; index++) logger.info({ index }, "line");

if (process.env.LOG_THEN === "throw") throw new Error("uncaught after logging");
process.exit(0);
