export { asrProto, emotionProto, protoRoot } from "./load.ts";
export { GrpcHealth, type ServingStatus } from "./health.ts";
export type * from "./types.ts";
export { startGrpcServer, type GrpcServer } from "./server.ts";
