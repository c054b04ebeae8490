import { createHmac, timingSafeEqual } from "node:crypto";

/** Headers of every webhook request. */
export const WebhookHeader = {
  signature: "Callscribe-Signature",
  timestamp: "Callscribe-Timestamp",
  idempotencyKey: "Idempotency-Key",
  event: "Callscribe-Event",
} as const;

/**
 * `sha256=<hex>` of HMAC-SHA256 over `<timestamp>.<body>` with the shared secret. Signing the
 * timestamp with the body lets a receiver refuse replays of old requests.
 */
export function signWebhook(secret: string, timestamp: number, body: string): string {
  return `sha256=${createHmac("sha256", secret).update(`${timestamp}.${body}`).digest("hex")}`;
}

/** A receiver's check: the signature matches and the timestamp is within `toleranceS` of `nowS`. */
export function verifyWebhook(
  secret: string,
  headers: { signature: string; timestamp: string },
  body: string,
  nowS: number,
  toleranceS = 300,
): boolean {
  const timestamp = Number(headers.timestamp);
  if (!Number.isInteger(timestamp) || Math.abs(nowS - timestamp) > toleranceS) return false;
  const expected = Buffer.from(signWebhook(secret, timestamp, body));
  const given = Buffer.from(headers.signature);
  return expected.length === given.length && timingSafeEqual(expected, given);
}
