import { status } from "@grpc/grpc-js";

/**
 * Base of Callscribe's typed errors. Each subclass fixes the gRPC status it maps to at the edge,
 * so a handler can turn any of them into the right status without a lookup table.
 */
export abstract class CallscribeError extends Error {
  abstract readonly grpcCode: status;
  /** HTTP status for the same failure, for the dashboard and webhooks. */
  abstract readonly httpStatus: number;

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** The caller sent something we cannot use: bad audio, a malformed config message, unknown model. */
export class InvalidArgumentError extends CallscribeError {
  override readonly name = "InvalidArgumentError";
  readonly grpcCode = status.INVALID_ARGUMENT;
  readonly httpStatus = 400;
}

/** A bound was reached and new work is refused instead of slowing every stream down. */
export class ResourceExhaustedError extends CallscribeError {
  override readonly name = "ResourceExhaustedError";
  readonly grpcCode = status.RESOURCE_EXHAUSTED;
  readonly httpStatus = 503;
}

/** A dependency (NATS, Postgres, a model server) is down; retry later. */
export class UnavailableError extends CallscribeError {
  override readonly name = "UnavailableError";
  readonly grpcCode = status.UNAVAILABLE;
  readonly httpStatus = 503;
}

/** The request's own ordering broke a rule, e.g. audio before config. */
export class FailedPreconditionError extends CallscribeError {
  override readonly name = "FailedPreconditionError";
  readonly grpcCode = status.FAILED_PRECONDITION;
  readonly httpStatus = 409;
}

export class NotFoundError extends CallscribeError {
  override readonly name = "NotFoundError";
  readonly grpcCode = status.NOT_FOUND;
  readonly httpStatus = 404;
}

export class DeadlineExceededError extends CallscribeError {
  override readonly name = "DeadlineExceededError";
  readonly grpcCode = status.DEADLINE_EXCEEDED;
  readonly httpStatus = 504;
}

/** A model that does not match its manifest, or cannot be placed on the configured device. */
export class ModelLoadError extends CallscribeError {
  override readonly name = "ModelLoadError";
  readonly grpcCode = status.FAILED_PRECONDITION;
  readonly httpStatus = 500;
}

/** Maps any thrown value to a gRPC status and a message safe to send to a client. */
export function toGrpcStatus(err: unknown): { code: status; details: string } {
  if (err instanceof CallscribeError) return { code: err.grpcCode, details: err.message };
  if (isGrpcError(err)) return { code: err.code, details: err.details ?? err.message };
  return { code: status.INTERNAL, details: "internal error; see the server log" };
}

function isGrpcError(err: unknown): err is { code: status; details?: string; message: string } {
  return (
    typeof err === "object" &&
    err !== null &&
    typeof (err as { code?: unknown }).code === "number" &&
    (err as { code: number }).code in status &&
    err instanceof Error
  );
}

/** A gRPC ServiceError-shaped object for callbacks and `call.destroy()`. */
export function toServiceError(err: unknown): Error & { code: status; details: string } {
  const { code, details } = toGrpcStatus(err);
  return Object.assign(new Error(details), { code, details });
}
