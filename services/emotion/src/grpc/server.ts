import {
  emotionProto,
  startGrpcServer,
  type EmotionClassifierHandlers,
  type GrpcHealth,
  type GrpcServer,
} from "@callscribe/proto";

/** The fully-qualified service name, for grpc.health.v1 per-service status. */
export const classifierServiceName = "callscribe.emotion.v1.EmotionClassifier";

export type ClassifierServer = GrpcServer;

export function startClassifierServer(options: {
  host: string;
  port: number;
  handlers: EmotionClassifierHandlers;
  health: GrpcHealth;
  maxMessageBytes: number;
}): Promise<ClassifierServer> {
  return startGrpcServer({ ...options, service: emotionProto().EmotionClassifier.service });
}
