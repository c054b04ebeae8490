/** Why a piece of audio could not be read or converted; stable, so callers can branch on it. */
export type AudioFormatReason =
  | "truncated"
  | "bad-header"
  | "unsupported-encoding"
  | "odd-byte-count"
  | "bad-sample-rate"
  | "bad-channel-count"
  | "bad-block-align"
  | "channel-length-mismatch"
  | "unsupported-ratio";

/** Audio bytes or parameters that cannot be used. Maps to INVALID_ARGUMENT at the gRPC edge. */
export class AudioFormatError extends Error {
  override readonly name = "AudioFormatError";

  constructor(
    readonly reason: AudioFormatReason,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
