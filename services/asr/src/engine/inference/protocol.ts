import type { ort } from "../model/session.ts";
import type { ExecutionProvider } from "../types.ts";

/** A tensor as it crosses between threads: its data buffer is transferred, not copied. */
export interface TensorMessage {
  type: "float32" | "int64";
  data: Float32Array | BigInt64Array;
  dims: readonly number[];
}

/** The names and metadata of a session's inputs and outputs, as onnxruntime-node reports them. */
export interface SessionShape {
  inputNames: string[];
  outputNames: string[];
  inputMetadata: ort.InferenceSession.ValueMetadata[];
  outputMetadata: ort.InferenceSession.ValueMetadata[];
}

export interface OpenRequest {
  what: string;
  path: string;
  provider: ExecutionProvider;
  deviceId: number | undefined;
  intraOpThreads: number | undefined;
}

export type ToThread =
  { kind: "run"; id: number; feeds: Record<string, TensorMessage> } | { kind: "release" };

export type FromThread =
  | { kind: "opened"; shape: SessionShape }
  | { kind: "open-failed"; message: string }
  | { kind: "ran"; id: number; outputs: Record<string, TensorMessage> }
  | { kind: "run-failed"; id: number; message: string };
