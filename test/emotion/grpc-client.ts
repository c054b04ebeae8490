import * as grpc from "@grpc/grpc-js";
import {
  emotionProto,
  type ClassifyRequest,
  type EmotionClassifierClient,
  type EmotionResult__Output,
} from "@callscribe/proto";
import type { ClassifyResponse__Output } from "@callscribe/proto";

export function classifierClient(port: number): EmotionClassifierClient {
  const Client = emotionProto().EmotionClassifier;
  return new Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
}

export interface Outcome<T> {
  value?: T;
  code: grpc.status;
  details: string;
}

export function classify(
  client: EmotionClassifierClient,
  request: ClassifyRequest,
  speaker?: string,
): Promise<Outcome<ClassifyResponse__Output>> {
  const metadata = new grpc.Metadata();
  if (speaker) metadata.set("x-callscribe-speaker", speaker);
  return new Promise((resolve) => {
    client.Classify(request, metadata, (err, value) => {
      if (err) resolve({ code: err.code, details: err.details });
      else resolve({ value: value!, code: grpc.status.OK, details: "" });
    });
  });
}

/** Streams `chunks` (after the format message) and collects every result and the final status. */
export async function streamClassify(
  client: EmotionClassifierClient,
  format: { encoding: "LINEAR16" | "MULAW" | "ALAW"; sampleRateHz: number } | null,
  chunks: Iterable<Uint8Array>,
): Promise<{ results: EmotionResult__Output[]; code: grpc.status; details: string }> {
  const call = client.StreamingClassify();
  const results: EmotionResult__Output[] = [];
  const done = new Promise<{ code: grpc.status; details: string }>((resolve) => {
    call.on("data", (r: EmotionResult__Output) => results.push(r));
    call.on("error", () => {
      // The status event carries the code.
    });
    call.on("status", (s: grpc.StatusObject) => resolve({ code: s.code, details: s.details }));
  });
  let ended = false;
  void done.then(() => (ended = true));
  if (format) call.write({ format });
  for (const chunk of chunks) {
    if (ended) break;
    // Honour HTTP/2 flow control: wait for the drain when the write buffer is full.
    if (!call.write({ audio: Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength) }))
      await new Promise<void>((resolve) => {
        call.once("drain", resolve);
        void done.then(() => resolve());
      });
  }
  if (!ended) call.end();
  const status = await done;
  return { results, ...status };
}
