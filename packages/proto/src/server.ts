import * as grpc from "@grpc/grpc-js";
import type { GrpcHealth } from "./health.ts";

export interface GrpcServer {
  /** The bound port (useful when 0 was asked for). */
  port: number;
  /**
   * Stops taking calls and waits for the live ones to finish; after `graceMs`, `beforeForce` runs
   * (to end the rest with a status) and the connections are cut. Resolves "drained" or "forced".
   */
  shutdown(graceMs: number, beforeForce?: () => void): Promise<"drained" | "forced">;
}

/** One gRPC service beside grpc.health.v1 on an insecure port, with a drain-then-force shutdown. */
export async function startGrpcServer<H extends grpc.UntypedServiceImplementation>(options: {
  host: string;
  port: number;
  service: grpc.ServiceDefinition;
  handlers: H;
  health: GrpcHealth;
  maxMessageBytes: number;
}): Promise<GrpcServer> {
  const server = new grpc.Server({
    "grpc.max_receive_message_length": options.maxMessageBytes,
    "grpc.max_send_message_length": options.maxMessageBytes,
  });
  server.addService(options.service, options.handlers);
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
