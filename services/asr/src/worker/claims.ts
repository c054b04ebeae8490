import { JetStreamApiCodes, JetStreamApiError, type JetStreamClient } from "@nats-io/jetstream";
import { Kvm, type KV } from "@nats-io/kv";

/** A replica's lease on one call: the KV revision it last wrote, which guards renew and release. */
export interface CallClaim {
  callId: string;
  revision: number;
}

const encoder = new TextEncoder();

/** A compare-and-set write (KV revision, expected last subject sequence) found another value there. */
export function isWrongLastSequence(err: unknown): boolean {
  return (
    err instanceof JetStreamApiError &&
    (err.code === JetStreamApiCodes.StreamWrongLastSequence ||
      err.code === JetStreamApiCodes.StreamWrongLastSequenceUnknown)
  );
}

/**
 * Call claims as leases in a NATS KV bucket whose max age is the lease time: a claim lives while its
 * holder rewrites it (every TTL/3), and a dead holder's claim ages out so another replica can take
 * the call. Writes are compare-and-set on the revision, so two replicas never both hold a call.
 */
export class ClaimStore {
  private constructor(
    private readonly kv: KV,
    private readonly replicaId: string,
    readonly ttlMs: number,
  ) {}

  static async open(options: {
    js: JetStreamClient;
    bucket: string;
    ttlMs: number;
    replicaId: string;
  }): Promise<ClaimStore> {
    // An existing bucket keeps the TTL it was created with; every replica must use the same one.
    const kv = await new Kvm(options.js).create(options.bucket, { ttl: options.ttlMs, history: 1 });
    return new ClaimStore(kv, options.replicaId, options.ttlMs);
  }

  private value(): Uint8Array {
    return encoder.encode(JSON.stringify({ replica: this.replicaId, at: new Date().toISOString() }));
  }

  /** The claim, or undefined while another replica holds the call. */
  async tryClaim(callId: string): Promise<CallClaim | undefined> {
    try {
      return { callId, revision: await this.kv.create(callId, this.value()) };
    } catch (err) {
      if (isWrongLastSequence(err)) return undefined;
      throw err;
    }
  }

  /** Extends the lease; false when it was lost (it expired and another replica took the call). */
  async renew(claim: CallClaim): Promise<boolean> {
    try {
      claim.revision = await this.kv.update(claim.callId, this.value(), claim.revision);
      return true;
    } catch (err) {
      if (isWrongLastSequence(err)) return false;
      throw err;
    }
  }

  /** Gives the call up so another replica may claim it at once; a lost claim is left alone. */
  async release(claim: CallClaim): Promise<void> {
    try {
      await this.kv.delete(claim.callId, { previousSeq: claim.revision });
    } catch (err) {
      if (!isWrongLastSequence(err)) throw err;
    }
  }

  /** The replica holding a call, if any. */
  async holder(callId: string): Promise<string | undefined> {
    const entry = await this.kv.get(callId);
    if (!entry || entry.operation !== "PUT") return undefined;
    return (entry.json() as { replica?: string }).replica;
  }
}
