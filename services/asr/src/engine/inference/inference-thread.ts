import { Worker } from "node:worker_threads";
import { ModelLoadError } from "@callscribe/errors";
import { createSession, type ort, type SessionPlacement } from "../model/session.ts";
import type { FromThread, OpenRequest, SessionShape, TensorMessage, ToThread } from "./protocol.ts";

/** What a pass returns for each output. */
export interface RunOutput {
  readonly data: ort.Tensor["data"];
  readonly dims: readonly number[];
}

/**
 * What the engine needs of a session: its declared inputs and outputs, run and release. Both an
 * onnxruntime InferenceSession (passes on the calling thread) and an InferenceThread (passes on a
 * thread of their own) provide it.
 */
export interface InferenceRunner {
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  readonly inputMetadata: readonly ort.InferenceSession.ValueMetadata[];
  readonly outputMetadata: readonly ort.InferenceSession.ValueMetadata[];
  run(feeds: Record<string, ort.Tensor>): Promise<Readonly<Record<string, RunOutput>>>;
  release(): Promise<void>;
}

interface PendingRun {
  resolve: (outputs: Record<string, RunOutput>) => void;
  reject: (err: Error) => void;
}

/**
 * An onnxruntime session on a worker thread. onnxruntime-node runs a session synchronously on the
 * thread that calls it, so a pass on the event loop's thread stops feature extraction, decoding and
 * network I/O for as long as it takes; here the pass runs beside them and only its inputs and outputs
 * cross (input buffers copied once, output buffers transferred).
 */
export class InferenceThread implements InferenceRunner {
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  readonly inputMetadata: readonly ort.InferenceSession.ValueMetadata[];
  readonly outputMetadata: readonly ort.InferenceSession.ValueMetadata[];
  readonly #worker: Worker;
  readonly #what: string;
  readonly #pending = new Map<number, PendingRun>();
  #nextId = 0;
  #failure: Error | null = null;
  #released = false;

  private constructor(worker: Worker, what: string, shape: SessionShape) {
    this.#worker = worker;
    this.#what = what;
    this.inputNames = shape.inputNames;
    this.outputNames = shape.outputNames;
    this.inputMetadata = shape.inputMetadata;
    this.outputMetadata = shape.outputMetadata;
    // Idle threads do not keep the process alive; a thread with passes in flight does.
    worker.unref();
    worker.on("message", (message: FromThread) => this.#settle(message));
    worker.on("error", (err) =>
      this.#fail(new Error(`${what}: inference thread failed: ${err.message}`, { cause: err })),
    );
    worker.on("exit", (code) => {
      if (!this.#released) this.#fail(new Error(`${what}: inference thread exited with code ${code}`));
    });
  }

  /** Starts the thread and opens the session there; refuses (ModelLoadError) exactly as createSession does. */
  static async open(what: string, path: string, placement: SessionPlacement): Promise<InferenceThread> {
    const request: OpenRequest = {
      what,
      path,
      provider: placement.provider,
      deviceId: placement.deviceId,
      intraOpThreads: placement.intraOpThreads,
    };
    const worker = new Worker(new URL("./thread-bootstrap.mjs", import.meta.url), { workerData: request });
    const opened = await new Promise<SessionShape>((resolve, reject) => {
      const onError = (err: Error): void =>
        reject(
          new ModelLoadError(`${what}: the inference thread did not start: ${err.message}`, { cause: err }),
        );
      worker.once("error", onError);
      worker.once("message", (message: FromThread) => {
        worker.off("error", onError);
        if (message.kind === "opened") resolve(message.shape);
        else if (message.kind === "open-failed") reject(new ModelLoadError(message.message));
        else reject(new ModelLoadError(`${what}: unexpected ${message.kind} from the inference thread`));
      });
    }).catch(async (err: unknown) => {
      await worker.terminate();
      throw err;
    });
    return new InferenceThread(worker, what, opened);
  }

  run(feeds: Record<string, ort.Tensor>): Promise<Record<string, RunOutput>> {
    if (this.#failure) return Promise.reject(this.#failure);
    if (this.#released) return Promise.reject(new Error(`${this.#what}: the session is released`));
    const id = this.#nextId++;
    const message: Record<string, TensorMessage> = {};
    const transfer: ArrayBuffer[] = [];
    for (const [name, tensor] of Object.entries(feeds)) {
      // A copy of exactly the tensor's values (callers pass views of larger reusable buffers).
      const data = (tensor.data as Float32Array | BigInt64Array).slice();
      message[name] = { type: tensor.type as TensorMessage["type"], data, dims: tensor.dims };
      transfer.push(data.buffer as ArrayBuffer);
    }
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      if (this.#pending.size === 1) this.#worker.ref();
      const run: ToThread = { kind: "run", id, feeds: message };
      this.#worker.postMessage(run, transfer);
    });
  }

  async release(): Promise<void> {
    if (this.#released) return;
    this.#released = true;
    this.#fail(new Error(`${this.#what}: the session is released`));
    const exited = new Promise<void>((resolve) => this.#worker.once("exit", () => resolve()));
    const release: ToThread = { kind: "release" };
    this.#worker.postMessage(release);
    const timer = setTimeout(() => void this.#worker.terminate(), 5000);
    await exited;
    clearTimeout(timer);
  }

  #settle(message: FromThread): void {
    if (message.kind !== "ran" && message.kind !== "run-failed") return;
    const pending = this.#pending.get(message.id);
    if (!pending) return;
    this.#pending.delete(message.id);
    if (this.#pending.size === 0) this.#worker.unref();
    if (message.kind === "ran") pending.resolve(message.outputs);
    else pending.reject(new Error(message.message));
  }

  #fail(err: Error): void {
    this.#failure ??= err;
    for (const pending of this.#pending.values()) pending.reject(err);
    this.#pending.clear();
    this.#worker.unref();
  }
}

/** A session on its own thread (`thread`), or on the calling thread. */
export async function openRunner(
  what: string,
  path: string,
  placement: SessionPlacement & { thread: boolean },
): Promise<InferenceRunner> {
  return placement.thread
    ? InferenceThread.open(what, path, placement)
    : createSession(what, path, placement);
}
