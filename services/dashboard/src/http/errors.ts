import { CallscribeError, GrpcStatus } from "@callscribe/errors";

export { InvalidArgumentError, NotFoundError, FailedPreconditionError } from "@callscribe/errors";

/** No token, or a token that does not open this API. */
export class UnauthenticatedError extends CallscribeError {
  override readonly name = "UnauthenticatedError";
  readonly grpcCode = GrpcStatus.UNAUTHENTICATED;
  readonly httpStatus = 401;
}

/** The request body is larger than the API accepts. */
export class PayloadTooLargeError extends CallscribeError {
  override readonly name = "PayloadTooLargeError";
  readonly grpcCode = GrpcStatus.INVALID_ARGUMENT;
  readonly httpStatus = 413;
}
