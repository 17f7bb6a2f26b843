/** The templates' public face: the worker builds one renderer at start and calls it per job. */
export { CatalogError } from "./catalogs.js";
export {
  createMessageComposer,
  type MessageComposer,
  type MessageContent,
} from "./composer.js";
export type { RenderedNotification } from "./rendered.js";
export {
  composerFromEnv,
  createRenderer,
  type NotificationRenderer,
  notificationRenderer,
  rendererFromEnv,
} from "./renderer.js";
