/**
 * Provider SDKs the production bundles leave in node_modules (scripts/bundle.ts): twilio, because
 * twilio-errors.ts requires one of its classes at run time for `instanceof`, which a bundled copy
 * of the SDK would never match. The gateway imports it on its first Twilio webhook.
 */
export const UNBUNDLED_PROVIDER_SDKS: readonly string[] = ["twilio"];
