/** An email as the worker hands it to a sender. */
export interface EmailMessage {
  to: string;
  subject: string;
  html: string;
  text: string;
  /** Same key for every try of the same notification's email, so the provider can drop repeats. */
  idempotencyKey: string;
}

/** An SMS as the worker hands it to a sender. */
export interface SmsMessage {
  to: string;
  body: string;
  /**
   * Set when an earlier try may have reached the provider (a retry, or a job taken over from a
   * worker that died): the sender first looks for a message with this body sent since then.
   */
  sentBefore?: { since: Date };
}

/** What a successful send returns: the provider's id for the message. */
export interface SendResult {
  providerId: string;
  /** True when the message was found already sent by an earlier try, not sent again. */
  recovered?: boolean;
}

/** The two ways out of the worker; real providers or the development outbox implement them. */
export interface Senders {
  /** `resend`, `twilio` or `dev-outbox`: logged at start so an operator sees what is live. */
  emailProvider: string;
  smsProvider: string;
  sendEmail(message: EmailMessage): Promise<SendResult>;
  sendSms(message: SmsMessage): Promise<SendResult>;
}
