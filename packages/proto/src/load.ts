import * as grpc from "@grpc/grpc-js";
import * as protoLoader from "@grpc/proto-loader";
import { fileURLToPath } from "node:url";
import type { ProtoGrpcType as AsrProto } from "./generated/asr.ts";
import type { ProtoGrpcType as EmotionProto } from "./generated/emotion.ts";

/** Folder holding the .proto files; the generated types come from the same files (npm run proto). */
export const protoRoot = fileURLToPath(new URL("../../../proto", import.meta.url));

/** Must match the flags in scripts/gen-proto.mjs so runtime objects have the generated shapes. */
const loaderOptions: protoLoader.Options = {
  keepCase: false,
  longs: String,
  enums: String,
  defaults: true,
  oneofs: true,
  includeDirs: [protoRoot],
};

function load<T>(file: string): T {
  const definition = protoLoader.loadSync(file, loaderOptions);
  return grpc.loadPackageDefinition(definition) as unknown as T;
}

let asr: AsrProto | undefined;
let emotion: EmotionProto | undefined;

export function asrProto(): AsrProto["callscribe"]["asr"]["v1"] {
  asr ??= load<AsrProto>("callscribe/asr/v1/asr.proto");
  return asr.callscribe.asr.v1;
}

export function emotionProto(): EmotionProto["callscribe"]["emotion"]["v1"] {
  emotion ??= load<EmotionProto>("callscribe/emotion/v1/emotion.proto");
  return emotion.callscribe.emotion.v1;
}
