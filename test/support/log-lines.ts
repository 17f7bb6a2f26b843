/**
 * A process that logs through the service's own stdout logger (lib/logger.ts), for the tests of
 * its buffered stream: `LOG_THEN=wait` logs one line and stays up until killed;
 * `LOG_THEN=warn-then-busy` also logs a warning and keeps the main thread busy; `LOG_THEN=throw`
 * logs `LOG_COUNT` lines and dies of an uncaught error; `LOG_THEN=exit` logs them and exits.
 */
import { createLogger } from "../../lib/logger.js";

const logger = createLogger({ name: "log-lines", level: "info", pretty: false });
const count = Number(process.env.LOG_COUNT ?? 1);
for (let index = 0; index < count; index++) logger.info({ index }, "line");

switch (process.env.LOG_THEN) {
  case "wait":
    setInterval(() => {}, 60_000);
    break;
  case "warn-then-busy": {
    // A warning, then a main thread that runs nothing else for 15 s: no timer, no exit handler.
    logger.warn("warned");
    const until = Date.now() + 15_000;
    while (Date.now() < until) {}
    process.exit(0);
    break;
  }
  case "throw":
    throw new Error("uncaught after logging");
  default:
    process.exit(0);
}
