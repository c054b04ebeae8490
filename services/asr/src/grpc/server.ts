import {
  asrProto,
  startGrpcServer,
  type GrpcHealth,
  type GrpcServer,
  type RecognizerHandlers,
} from "@callscribe/proto";

export type RecognizerServer = GrpcServer;

/** The fully-qualified service name, for grpc.health.v1 per-service status. */
export const recognizerServiceName = "callscribe.asr.v1.Recognizer";

export function startRecognizerServer(options: {
  host: string;
  port: number;
  handlers: RecognizerHandlers;
  health: GrpcHealth;
  maxMessageBytes: number;
}): Promise<RecognizerServer> {
  return startGrpcServer({ ...options, service: asrProto().Recognizer.service });
}
