/** `user@example.com` → `u***@example.com`: enough to tell recipients apart in a log, not to contact them. */
export function maskEmail(email: string): string {
  const at = email.lastIndexOf("@");
  if (at <= 0) return "***";
  return `${email[0]}***${email.slice(at)}`;
}

/**
 * `+12025550143` → `+1*******43`: the first digit (the country code's start) and the last two
 * stay, so an operator can tell two numbers apart; every other digit is hidden, at least half of
 * them whatever the length.
 */
export function maskPhone(phone: string): string {
  const digits = phone.replace(/^\+/, "");
  if (!/^\d{6,15}$/.test(digits)) return "***";
  return `+${digits[0]}${"*".repeat(digits.length - 3)}${digits.slice(-2)}`;
}

const EMAIL_ANYWHERE = /[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}/g;
/** A phone number in running text: a plus and 6 to 15 digits (E.164), or 10+ bare digits. */
const PHONE_ANYWHERE = /\+\d{6,15}\b|\b\d{10,15}\b/g;

const MAY_HOLD_CONTACT = /@|\d{6}/;

/**
 * Masks every email address and phone number in a text: provider error messages ("The 'To'
 * number +12025550166 is not a valid phone number"), failed reasons, error arguments.
 */
export function redactContacts(text: string): string {
  // Both patterns need an @ or six digits in a row: most texts (ids, routes) skip the two scans.
  if (!MAY_HOLD_CONTACT.test(text)) return text;
  return text
    .replace(EMAIL_ANYWHERE, (email) => maskEmail(email))
    .replace(PHONE_ANYWHERE, (phone) => maskPhone(phone.startsWith("+") ? phone : `+${phone}`));
}

/** `redis://user:secret@host:6379/0` → `redis://user:***@host:6379/0`. */
export function maskUrlPassword(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = "***";
    return parsed.toString();
  } catch {
    return "***";
  }
}
