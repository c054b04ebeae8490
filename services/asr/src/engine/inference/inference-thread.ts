import { Worker } from "node:worker_threads";
import { ModelLoadError } from "@callscribe/errors";
import {
  createSession,
  describeSource,
  type ModelSource,
  type ort,
  type SessionPlacement,
} from "@callscribe/onnx";
import type {
  FromThread,
  OpenRequest,
  PreparedOutput,
  SessionShape,
  TensorMessage,
  ToThread,
} from "./protocol.ts";

/** What a pass returns for each output. */
export interface RunOutput {
  readonly data: ort.Tensor["data"];
  readonly dims: readonly number[];
}

/**
 * Outputs the caller has room for, by name (null: let onnxruntime allocate it). A prepared output's values
 * are written into the tensor's data and returned as that same array.
 */
export type PreparedOutputs = Record<string, ort.Tensor | null>;

/**
 * What the engine needs of a session: its declared inputs and outputs, run and release. Both an
 * onnxruntime InferenceSession (passes on the calling thread) and a ThreadSession (passes on an
 * inference thread) provide it. With `fetches`, exactly the outputs it names come back.
 */
export interface InferenceRunner {
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  readonly inputMetadata: readonly ort.InferenceSession.ValueMetadata[];
  readonly outputMetadata: readonly ort.InferenceSession.ValueMetadata[];
  run(
    feeds: Record<string, ort.Tensor>,
    fetches?: PreparedOutputs,
  ): Promise<Readonly<Record<string, RunOutput>>>;
  release(): Promise<void>;
}

type TensorArray = Float32Array | BigInt64Array;

function viewOf(type: TensorMessage["type"], buffer: ArrayBuffer, length: number): TensorArray {
  return type === "int64" ? new BigInt64Array(buffer, 0, length) : new Float32Array(buffer, 0, length);
}

/**
 * ArrayBuffers that carry tensors to the thread and back, kept for the next pass: without them every pass
 * allocates its inputs and outputs afresh (about 66 KB of streaming state per stream each way), and the
 * garbage collector spends a large share of the event loop's time on them. Sizes are powers of two.
 */
class BufferPool {
  readonly #free = new Map<number, ArrayBuffer[]>();
  static readonly #kept = 8;

  take(bytes: number): ArrayBuffer {
    const size = 2 ** Math.ceil(Math.log2(Math.max(bytes, 1024)));
    return this.#free.get(size)?.pop() ?? new ArrayBuffer(size);
  }

  give(buffer: ArrayBuffer): void {
    const size = buffer.byteLength;
    if (size === 0 || (size & (size - 1)) !== 0) return;
    let list = this.#free.get(size);
    if (!list) this.#free.set(size, (list = []));
    if (list.length < BufferPool.#kept) list.push(buffer);
  }
}

interface Pending {
  resolve: (answer: FromThread) => void;
  reject: (err: Error) => void;
}

/**
 * A worker thread that holds onnxruntime sessions and runs their passes. onnxruntime-node runs a
 * session synchronously on the thread that calls it, so a pass on the event loop's thread stops feature
 * extraction, decoding and network I/O for as long as it takes; here passes run beside them and only
 * their inputs and outputs cross (inputs copied once, outputs transferred). Sessions on one thread run
 * one pass at a time, in order; the thread ends when its last session is released.
 */
export class InferenceThread {
  readonly #worker: Worker;
  readonly #pending = new Map<number, Pending>();
  readonly #buffers = new BufferPool();
  /** Waiting for every request in flight to be answered. */
  #whenIdle: Array<() => void> = [];
  #nextId = 0;
  #sessions = 0;
  #failure: Error | null = null;
  /** Set once this side ends the thread (its last session released), so that exit is no failure. */
  #ending = false;
  #reportFailure!: (err: Error) => void;
  /**
   * Settles when the thread fails on its own (an uncaught error, an exit nobody asked for): every session
   * on it is then unusable, and the service must not go on as if it were serving.
   */
  readonly failed = new Promise<Error>((resolve) => (this.#reportFailure = resolve));

  constructor() {
    this.#worker = new Worker(new URL("./thread-bootstrap.mjs", import.meta.url));
    // An idle thread does not keep the process alive; one with requests in flight does.
    this.#worker.unref();
    this.#worker.on("message", (message: FromThread) => this.#settle(message));
    this.#worker.on("error", (err) =>
      this.#fail(new Error(`inference thread failed: ${err.message}`, { cause: err })),
    );
    this.#worker.on("exit", (code) => this.#fail(new Error(`inference thread exited with code ${code}`)));
  }

  /** Opens a session on this thread; refuses (ModelLoadError) exactly as createSession does. */
  async open(what: string, source: ModelSource, placement: SessionPlacement): Promise<ThreadSession> {
    const request: OpenRequest = {
      what,
      source,
      provider: placement.provider,
      deviceId: placement.deviceId,
      intraOpThreads: placement.intraOpThreads,
      logSeverityLevel: placement.logSeverityLevel,
    };
    let answer: FromThread;
    try {
      answer = await this.#request((id) => ({ kind: "open", id, request }));
    } catch (err) {
      if (this.#sessions === 0) await this.#end();
      throw err instanceof ModelLoadError
        ? err
        : new ModelLoadError(
            `${what}: the inference thread cannot open ${describeSource(source)}: ${(err as Error).message}`,
            {
              cause: err,
            },
          );
    }
    if (answer.kind !== "opened")
      throw new ModelLoadError(`${what}: unexpected ${answer.kind} from the inference thread`);
    this.#sessions++;
    return new ThreadSession(this, answer.id, what, answer.shape);
  }

  /**
   * @internal ThreadSession's run. Each feed is copied into a pooled buffer that moves to the thread and
   * back; each prepared output gets one that the thread has onnxruntime write into, and its values are
   * copied into the caller's array when it returns.
   */
  async run(
    session: number,
    feeds: Record<string, ort.Tensor>,
    fetches?: PreparedOutputs,
  ): Promise<Record<string, RunOutput>> {
    const message: Record<string, TensorMessage> = {};
    const prepared: Record<string, PreparedOutput> = {};
    const transfer: ArrayBuffer[] = [];
    for (const [name, tensor] of Object.entries(feeds)) {
      const source = tensor.data as TensorArray;
      const type = tensor.type as TensorMessage["type"];
      const buffer = this.#buffers.take(source.byteLength);
      const data = viewOf(type, buffer, source.length);
      (data as Float32Array).set(source as Float32Array);
      message[name] = { type, data, dims: tensor.dims };
      transfer.push(buffer);
    }
    for (const [name, tensor] of Object.entries(fetches ?? {})) {
      if (!tensor) continue;
      const type = tensor.type as TensorMessage["type"];
      const target = tensor.data as TensorArray;
      const buffer = this.#buffers.take(target.byteLength);
      prepared[name] = { type, data: viewOf(type, buffer, target.length), dims: tensor.dims };
      transfer.push(buffer);
    }
    const answer = await this.#request(
      (id) => ({ kind: "run", id, session, feeds: message, prepared }),
      transfer,
    );
    if (answer.kind !== "ran") throw new Error(`unexpected ${answer.kind} from the inference thread`);
    for (const buffer of answer.returned) this.#buffers.give(buffer);
    const outputs: Record<string, RunOutput> = {};
    for (const [name, output] of Object.entries(answer.outputs)) {
      const target = fetches?.[name];
      if (fetches && !(name in fetches)) continue;
      if (target) {
        (target.data as Float32Array).set(output.data as Float32Array);
        this.#buffers.give(output.data.buffer as ArrayBuffer);
        outputs[name] = { data: target.data, dims: output.dims };
      } else {
        outputs[name] = output;
      }
    }
    return outputs;
  }

  /** @internal ThreadSession's release; the thread ends with its last session. */
  async release(session: number): Promise<void> {
    try {
      await this.#request((id) => ({ kind: "release", id, session }));
    } catch {
      // A failed thread has no session left to release.
    }
    if (--this.#sessions === 0) await this.#end();
  }

  /**
   * Stops the thread at once, as a failure: passes in flight and every later pass fail and `failed`
   * settles (a hard abort; the orderly end is releasing every session). Stopping it in the middle of a
   * pass aborts the whole process (onnxruntime-node throws from native code), so this is for a thread
   * known to be between passes.
   */
  async terminate(): Promise<void> {
    await this.#worker.terminate();
  }

  /**
   * The orderly end, once no session is left. Passes still in flight are answered first: a worker stopped
   * while onnxruntime runs native code in it takes the whole process down.
   */
  async #end(): Promise<void> {
    if (this.#pending.size > 0) await new Promise<void>((resolve) => this.#whenIdle.push(resolve));
    this.#ending = true;
    this.#fail(new Error("inference thread ended"));
    await this.#worker.terminate();
  }

  #request(build: (id: number) => ToThread, transfer: ArrayBuffer[] = []): Promise<FromThread> {
    if (this.#failure) return Promise.reject(this.#failure);
    const id = this.#nextId++;
    return new Promise<FromThread>((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      if (this.#pending.size === 1) this.#worker.ref();
      this.#worker.postMessage(build(id), transfer);
    });
  }

  #settle(message: FromThread): void {
    const pending = this.#pending.get(message.id);
    if (!pending) return;
    this.#pending.delete(message.id);
    if (this.#pending.size === 0) this.#becameIdle();
    if (message.kind === "failed")
      pending.reject(message.loadError ? new ModelLoadError(message.message) : new Error(message.message));
    else pending.resolve(message);
  }

  #fail(err: Error): void {
    if (!this.#failure && !this.#ending) this.#reportFailure(err);
    this.#failure ??= err;
    for (const pending of this.#pending.values()) pending.reject(err);
    this.#pending.clear();
    this.#becameIdle();
  }

  #becameIdle(): void {
    this.#worker.unref();
    for (const resolve of this.#whenIdle.splice(0)) resolve();
  }
}

/** A session held by an InferenceThread. */
export class ThreadSession implements InferenceRunner {
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  readonly inputMetadata: readonly ort.InferenceSession.ValueMetadata[];
  readonly outputMetadata: readonly ort.InferenceSession.ValueMetadata[];
  readonly thread: InferenceThread;
  readonly #id: number;
  readonly #what: string;
  #released = false;

  constructor(thread: InferenceThread, id: number, what: string, shape: SessionShape) {
    this.thread = thread;
    this.#id = id;
    this.#what = what;
    this.inputNames = shape.inputNames;
    this.outputNames = shape.outputNames;
    this.inputMetadata = shape.inputMetadata;
    this.outputMetadata = shape.outputMetadata;
  }

  run(feeds: Record<string, ort.Tensor>, fetches?: PreparedOutputs): Promise<Record<string, RunOutput>> {
    if (this.#released) return Promise.reject(new Error(`${this.#what}: the session is released`));
    return this.thread.run(this.#id, feeds, fetches).catch((err: Error) => {
      throw new Error(`${this.#what}: ${err.message}`, { cause: err });
    });
  }

  async release(): Promise<void> {
    if (this.#released) return;
    this.#released = true;
    await this.thread.release(this.#id);
  }
}

/** A session on an inference thread of its own (`thread`), or on the calling thread. */
export async function openRunner(
  what: string,
  source: ModelSource,
  placement: SessionPlacement & { thread: boolean },
): Promise<InferenceRunner> {
  return placement.thread
    ? new InferenceThread().open(what, source, placement)
    : createSession(what, source, placement);
}
