import type { ort } from "@callscribe/onnx";
import type { ExecutionProvider } from "../types.ts";

/** A tensor as it crosses between threads: its data buffer is transferred, not copied. */
export interface TensorMessage {
  type: "float32" | "int64";
  data: Float32Array | BigInt64Array;
  dims: readonly number[];
}

/**
 * An output the caller has room for: the thread has onnxruntime write it into `data` (a view of a pooled
 * buffer, sent over and back) instead of allocating a new one for every pass.
 */
export type PreparedOutput = TensorMessage;

/** The names and metadata of a session's inputs and outputs, as onnxruntime-node reports them. */
export interface SessionShape {
  inputNames: string[];
  outputNames: string[];
  inputMetadata: ort.InferenceSession.ValueMetadata[];
  outputMetadata: ort.InferenceSession.ValueMetadata[];
}

export interface OpenRequest {
  what: string;
  /** A model file, or a model's bytes. */
  source: string | Uint8Array;
  provider: ExecutionProvider;
  deviceId: number | undefined;
  intraOpThreads: number | undefined;
  logSeverityLevel: 0 | 1 | 2 | 3 | 4 | undefined;
}

/** Every request carries an id its answer repeats; `session` is the id of the open that made it. */
export type ToThread =
  | { kind: "open"; id: number; request: OpenRequest }
  | {
      kind: "run";
      id: number;
      session: number;
      feeds: Record<string, TensorMessage>;
      /** Outputs written into the buffers sent; every other output is allocated by onnxruntime. */
      prepared: Record<string, PreparedOutput>;
    }
  | { kind: "release"; id: number; session: number };

export type FromThread =
  | { kind: "opened"; id: number; shape: SessionShape }
  | {
      kind: "ran";
      id: number;
      outputs: Record<string, TensorMessage>;
      /** The buffers of the request's feeds, sent back for reuse. */
      returned: ArrayBuffer[];
    }
  | { kind: "released"; id: number }
  | { kind: "failed"; id: number; message: string; loadError: boolean };
