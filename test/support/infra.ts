import { randomUUID } from "node:crypto";
import { connectMessaging, ensureStreams, type Messaging } from "@callscribe/messaging";
import { pino } from "pino";

/** The real servers integration tests talk to; .ci/run starts them when they are not running. */
export const testNatsUrl = process.env.TEST_NATS_URL ?? "nats://127.0.0.1:4222";
export const testPostgresAdminUrl =
  process.env.TEST_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";

/** A call id no other test run uses, so tests can share one NATS server. */
export const uniqueCallId = (prefix = "t") => `${prefix}-${randomUUID().replaceAll("-", "").slice(0, 16)}`;

/** A quiet NATS connection for a test, with Callscribe's JetStream streams in place. */
export async function connectTestStreams(name: string, servers = [testNatsUrl]): Promise<Messaging> {
  const messaging = await connectMessaging({ servers, name, logger: pino({ level: "silent" }) });
  await ensureStreams(messaging.jsm);
  return messaging;
}
