import { describe, expect, it } from "vitest";
import {
  GrpcStatus,
  InvalidArgumentError,
  ResourceExhaustedError,
  UnavailableError,
  toGrpcStatus,
} from "./index.ts";

describe("toGrpcStatus", () => {
  it("maps typed errors to their status and keeps the cause", () => {
    const cause = new Error("socket closed");
    const err = new UnavailableError("NATS is unreachable; check NATS_URL", { cause });
    expect(err.name).toBe("UnavailableError");
    expect(err.cause).toBe(cause);
    expect(toGrpcStatus(err)).toEqual({
      code: GrpcStatus.UNAVAILABLE,
      details: "NATS is unreachable; check NATS_URL",
    });
    expect(toGrpcStatus(new InvalidArgumentError("odd byte count")).code).toBe(GrpcStatus.INVALID_ARGUMENT);
    expect(toGrpcStatus(new ResourceExhaustedError("queue full")).code).toBe(GrpcStatus.RESOURCE_EXHAUSTED);
  });

  it("hides the message of unexpected errors", () => {
    expect(toGrpcStatus(new TypeError("x is undefined"))).toEqual({
      code: GrpcStatus.INTERNAL,
      details: "internal error; see the server log",
    });
    expect(toGrpcStatus("a string").code).toBe(GrpcStatus.INTERNAL);
  });
});
