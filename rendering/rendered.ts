/** A notification rendered for every channel. */
export interface RenderedNotification {
  subject: string;
  html: string;
  text: string;
  sms: string;
}
