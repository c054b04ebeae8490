import * as grpc from "@grpc/grpc-js";
import type {
  RecognizeRequest,
  RecognizeResponse__Output,
  RecognizerClient,
  StreamingRecognizeRequest,
  StreamingRecognizeResponse__Output,
} from "@callscribe/proto";

export interface StreamOutcome {
  responses: StreamingRecognizeResponse__Output[];
  /** Milliseconds since the call started at which each response arrived. */
  arrivals: number[];
  code: grpc.status;
  details: string;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Runs one StreamingRecognize call: writes `requests` (pausing `paceMs` between audio messages),
 * half-closes unless told not to, and resolves with every response and the final status.
 */
export function streamRecognize(
  client: RecognizerClient,
  requests: StreamingRecognizeRequest[],
  options: {
    paceMs?: number;
    halfClose?: boolean;
    deadline?: Date;
    onCall?: (
      call: grpc.ClientDuplexStream<StreamingRecognizeRequest, StreamingRecognizeResponse__Output>,
    ) => void;
  } = {},
): Promise<StreamOutcome> {
  const call = client.StreamingRecognize(options.deadline ? { deadline: options.deadline } : {});
  const started = Date.now();
  const responses: StreamingRecognizeResponse__Output[] = [];
  const arrivals: number[] = [];
  let ended = false;
  const outcome = new Promise<StreamOutcome>((resolve) => {
    call.on("data", (response: StreamingRecognizeResponse__Output) => {
      responses.push(response);
      arrivals.push(Date.now() - started);
    });
    call.on("error", () => {
      // The status event below carries the code; this listener keeps the error from being thrown.
    });
    call.on("status", (status: grpc.StatusObject) => {
      ended = true;
      resolve({ responses, arrivals, code: status.code, details: status.details });
    });
  });
  options.onCall?.(call);
  void (async () => {
    for (const request of requests) {
      if (ended) return;
      call.write(request);
      if (options.paceMs && request.audio) await sleep(options.paceMs);
    }
    if (options.halfClose !== false && !ended) call.end();
  })();
  return outcome;
}

export function recognize(
  client: RecognizerClient,
  request: RecognizeRequest,
): Promise<{ response?: RecognizeResponse__Output; code: grpc.status; details: string }> {
  return new Promise((resolve) => {
    client.Recognize(request, (err, response) => {
      if (err) resolve({ code: err.code, details: err.details });
      else resolve({ response: response!, code: grpc.status.OK, details: "" });
    });
  });
}
