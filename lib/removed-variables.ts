/**
 * Variables a deployment may still set that no longer do anything, with what took their place.
 * The processes warn about each one set at start, so an operator learns why a setting stopped
 * mattering instead of finding out from behaviour.
 */
export const REMOVED_VARIABLES: Readonly<Record<string, string>> = {
  QUEUE_METRICS_CACHE_MS: "a fixed 5 s: queue counts for /metrics are read at most that often",
  EMAIL_BATCH_WINDOW_MS:
    "nothing: a batch of emails now collects until Resend's next free slot, and a lone email leaves at once",
};

/** One warning for each removed variable set in `source`, naming what replaced it. */
export function removedVariableWarnings(source: NodeJS.ProcessEnv = process.env): string[] {
  return Object.entries(REMOVED_VARIABLES)
    .filter(([name]) => source[name] !== undefined && source[name] !== "")
    .map(([name, replacement]) => `${name} is no longer read; replaced by ${replacement}`);
}
