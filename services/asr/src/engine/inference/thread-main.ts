/**
 * Body of an inference thread: opens one onnxruntime session with the placement it was started with
 * and runs whatever the engine sends it, one pass at a time. Only session.run happens here.
 */
import { parentPort, workerData } from "node:worker_threads";
import { createSession, ort } from "../model/session.ts";
import type { FromThread, OpenRequest, TensorMessage, ToThread } from "./protocol.ts";

const port = parentPort!;
const request = workerData as OpenRequest;

/** Plain copies that cross threads. */
function metadata(list: readonly ort.InferenceSession.ValueMetadata[]): ort.InferenceSession.ValueMetadata[] {
  return list.map((m) => (m.isTensor ? { ...m, shape: [...m.shape] } : { ...m }));
}

function post(message: FromThread, transfer: ArrayBuffer[] = []): void {
  port.postMessage(message, transfer);
}

let session: ort.InferenceSession;
try {
  session = await createSession(request.what, request.path, request);
} catch (err) {
  post({ kind: "open-failed", message: err instanceof Error ? err.message : String(err) });
  process.exit(0);
}
post({
  kind: "opened",
  shape: {
    inputNames: [...session.inputNames],
    outputNames: [...session.outputNames],
    inputMetadata: metadata(session.inputMetadata),
    outputMetadata: metadata(session.outputMetadata),
  },
});

port.on("message", (message: ToThread) => {
  if (message.kind === "release") {
    void session.release().finally(() => port.close());
    return;
  }
  const { id } = message;
  const feeds: Record<string, ort.Tensor> = {};
  for (const [name, t] of Object.entries(message.feeds)) feeds[name] = new ort.Tensor(t.type, t.data, t.dims);
  session.run(feeds).then(
    (outputs) => {
      const result: Record<string, TensorMessage> = {};
      const transfer: ArrayBuffer[] = [];
      for (const [name, tensor] of Object.entries(outputs)) {
        const data = tensor.data as Float32Array | BigInt64Array;
        result[name] = { type: tensor.type as TensorMessage["type"], data, dims: tensor.dims };
        if (
          data.byteOffset === 0 &&
          data.byteLength === data.buffer.byteLength &&
          !transfer.includes(data.buffer as ArrayBuffer)
        )
          transfer.push(data.buffer as ArrayBuffer);
      }
      post({ kind: "ran", id, outputs: result }, transfer);
    },
    (err: unknown) =>
      post({ kind: "run-failed", id, message: err instanceof Error ? err.message : String(err) }),
  );
});
