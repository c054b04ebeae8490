import * as grpc from "@grpc/grpc-js";
import { emotionProto, type EmotionClassifierHandlers, type GrpcHealth } from "@callscribe/proto";

/** The fully-qualified service name, for grpc.health.v1 per-service status. */
export const classifierServiceName = "callscribe.emotion.v1.EmotionClassifier";

export interface ClassifierServer {
  port: number;
  /** Stops taking calls and waits for live ones; after `graceMs` runs `beforeForce` and cuts the rest. */
  shutdown(graceMs: number, beforeForce?: () => void): Promise<"drained" | "forced">;
}

export async function startClassifierServer(options: {
  host: string;
  port: number;
  handlers: EmotionClassifierHandlers;
  health: GrpcHealth;
  maxMessageBytes: number;
}): Promise<ClassifierServer> {
  const server = new grpc.Server({
    "grpc.max_receive_message_length": options.maxMessageBytes,
    "grpc.max_send_message_length": options.maxMessageBytes,
  });
  server.addService(emotionProto().EmotionClassifier.service, options.handlers);
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
