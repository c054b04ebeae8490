export {
  CallscribeError,
  InvalidArgumentError,
  ResourceExhaustedError,
  UnavailableError,
  FailedPreconditionError,
  NotFoundError,
  DeadlineExceededError,
  ModelLoadError,
  toGrpcStatus,
  toServiceError,
} from "./errors.ts";
export { status as GrpcStatus } from "@grpc/grpc-js";
