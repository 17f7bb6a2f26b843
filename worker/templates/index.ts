/** The templates' public face: the worker builds one renderer at start and calls it per job. */
export { CatalogError } from "./catalogs.js";
export type { RenderedNotification } from "./rendered.js";
export { createRenderer, type NotificationRenderer, rendererFromEnv } from "./renderer.js";
