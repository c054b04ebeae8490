/**
 * Body of an inference thread: opens onnxruntime sessions with the placement each request names and
 * runs whatever the engine sends them, one pass at a time, in the order they arrive.
 */
import { parentPort } from "node:worker_threads";
import { ModelLoadError } from "@callscribe/errors";
import { createSession, ort } from "@callscribe/onnx";
import type { FromThread, TensorMessage, ToThread } from "./protocol.ts";

const port = parentPort!;
const sessions = new Map<number, ort.InferenceSession>();

/** Plain copies that cross threads. */
function metadata(list: readonly ort.InferenceSession.ValueMetadata[]): ort.InferenceSession.ValueMetadata[] {
  return list.map((m) => (m.isTensor ? { ...m, shape: [...m.shape] } : { ...m }));
}

function post(message: FromThread, transfer: ArrayBuffer[] = []): void {
  port.postMessage(message, transfer);
}

async function handle(message: ToThread): Promise<void> {
  switch (message.kind) {
    case "open": {
      const session = await createSession(message.request.what, message.request.source, message.request);
      sessions.set(message.id, session);
      post({
        kind: "opened",
        id: message.id,
        shape: {
          inputNames: [...session.inputNames],
          outputNames: [...session.outputNames],
          inputMetadata: metadata(session.inputMetadata),
          outputMetadata: metadata(session.outputMetadata),
        },
      });
      return;
    }
    case "run": {
      const session = sessions.get(message.session);
      if (!session) throw new Error("the session is released");
      const feeds: Record<string, ort.Tensor> = {};
      const returned: ArrayBuffer[] = [];
      for (const [name, t] of Object.entries(message.feeds)) {
        feeds[name] = new ort.Tensor(t.type, t.data, t.dims);
        returned.push(t.data.buffer as ArrayBuffer);
      }
      const fetches: Record<string, ort.Tensor | null> = {};
      for (const name of Object.keys(message.prepared))
        if (!session.outputNames.includes(name)) throw new Error(`the session has no output named "${name}"`);
      for (const name of session.outputNames) {
        const prepared = message.prepared[name];
        fetches[name] = prepared ? new ort.Tensor(prepared.type, prepared.data, prepared.dims) : null;
      }
      const outputs = await session.run(feeds, fetches);
      const result: Record<string, TensorMessage> = {};
      const transfer: ArrayBuffer[] = [...returned];
      for (const [name, tensor] of Object.entries(outputs)) {
        const prepared = message.prepared[name];
        const data = prepared ? prepared.data : (tensor.data as Float32Array | BigInt64Array);
        result[name] = { type: tensor.type as TensorMessage["type"], data, dims: tensor.dims };
        const buffer = data.buffer as ArrayBuffer;
        // Prepared outputs' buffers always go back; others move when the output owns them whole and are
        // copied by postMessage otherwise.
        if (
          (prepared || (data.byteOffset === 0 && data.byteLength === buffer.byteLength)) &&
          !transfer.includes(buffer)
        )
          transfer.push(buffer);
      }
      post({ kind: "ran", id: message.id, outputs: result, returned }, transfer);
      return;
    }
    case "release": {
      const session = sessions.get(message.session);
      sessions.delete(message.session);
      await session?.release();
      post({ kind: "released", id: message.id });
    }
  }
}

port.on("message", (message: ToThread) => {
  handle(message).catch((err: unknown) =>
    post({
      kind: "failed",
      id: message.id,
      message: err instanceof Error ? err.message : String(err),
      loadError: err instanceof ModelLoadError,
    }),
  );
});
