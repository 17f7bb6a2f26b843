/** `user@example.com` → `u***@example.com`: enough to tell recipients apart in a log, not to contact them. */
export function maskEmail(email: string): string {
  const at = email.lastIndexOf("@");
  if (at <= 0) return "***";
  return `${email[0]}***${email.slice(at)}`;
}

/** `+12025550143` → `+1202***0143`. */
export function maskPhone(phone: string): string {
  if (phone.length < 9) return "***";
  return `${phone.slice(0, 5)}***${phone.slice(-4)}`;
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
