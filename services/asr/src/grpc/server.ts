import * as grpc from "@grpc/grpc-js";
import { asrProto, type RecognizerHandlers } from "@callscribe/proto";
import type { GrpcHealth } from "@callscribe/proto";

export interface RecognizerServer {
  /** The bound port (useful when 0 was asked for). */
  port: number;
  /**
   * Stops taking calls and waits for the live ones to finish; after `graceMs`, `beforeForce` runs
   * (to end the rest with a status) and the connections are cut. Resolves "drained" or "forced".
   */
  shutdown(graceMs: number, beforeForce?: () => void): Promise<"drained" | "forced">;
}

/** The fully-qualified service name, for grpc.health.v1 per-service status. */
export const recognizerServiceName = "callscribe.asr.v1.Recognizer";

export async function startRecognizerServer(options: {
  host: string;
  port: number;
  handlers: RecognizerHandlers;
  health: GrpcHealth;
  maxMessageBytes: number;
}): Promise<RecognizerServer> {
  const server = new grpc.Server({
    "grpc.max_receive_message_length": options.maxMessageBytes,
    "grpc.max_send_message_length": options.maxMessageBytes,
  });
  server.addService(asrProto().Recognizer.service, options.handlers);
  options.health.addToServer(server);
  const port = await new Promise<number>((resolve, reject) => {
    server.bindAsync(
      `${options.host}:${options.port}`,
      grpc.ServerCredentials.createInsecure(),
      (err, bound) => (err ? reject(err) : resolve(bound)),
    );
  });
  return {
    port,
    shutdown: (graceMs, beforeForce) =>
      new Promise((resolve) => {
        const timer = setTimeout(() => {
          beforeForce?.();
          // Let the statuses written by beforeForce reach the clients before the sockets close.
          setImmediate(() => {
            server.forceShutdown();
            resolve("forced");
          });
        }, graceMs);
        server.tryShutdown(() => {
          clearTimeout(timer);
          resolve("drained");
        });
      }),
  };
}
