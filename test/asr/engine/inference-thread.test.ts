import { join } from "node:path";
import { setTimeout as delay } from "node:timers/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ModelLoadError } from "@callscribe/errors";
import { loadAsrModel } from "../../../services/asr/src/engine/index.ts";
import { smallPassPlacement } from "../../../services/asr/src/engine/model/load.ts";
import {
  InferenceThread,
  ThreadSession,
} from "../../../services/asr/src/engine/inference/inference-thread.ts";
import {
  SMALL_PASS_BATCH,
  initialStates,
  type AcousticModel,
} from "../../../services/asr/src/engine/model/acoustic-model.ts";
import { ort } from "@callscribe/onnx";
import { sileroModelPath } from "../../../services/asr/src/engine/vad/silero.ts";
import { modelDir, silentLogger } from "./support.ts";

describe("the acoustic model on its inference thread", () => {
  let threaded: AcousticModel;
  let inline: AcousticModel;

  beforeAll(async () => {
    const common = {
      dir: modelDir,
      provider: "cpu",
      precision: "fp32",
      intraOpThreads: 1,
      logger: silentLogger,
    } as const;
    threaded = await loadAsrModel({ ...common, inferenceThread: true });
    inline = await loadAsrModel({ ...common, inferenceThread: false });
  });

  afterAll(async () => {
    await threaded?.close();
    await inline?.close();
  });

  it("runs there by default and reports the session's inputs and outputs", () => {
    expect(threaded.session).toBeInstanceOf(ThreadSession);
    expect(inline.session).not.toBeInstanceOf(ThreadSession);
    expect([...threaded.session.inputNames]).toEqual([...inline.session.inputNames]);
    expect([...threaded.session.outputNames]).toEqual([...inline.session.outputNames]);
    expect(threaded.session.inputMetadata).toEqual(inline.session.inputMetadata);
    // Small passes run on this thread: a CPU model keeps a session here too.
    expect(threaded.smallPassSession).not.toBeNull();
    expect(threaded.smallPassSession).not.toBeInstanceOf(ThreadSession);
    expect(inline.smallPassSession).toBeNull();
  });

  it("runs small passes on one intra-op thread, whatever the model's setting", () => {
    for (const intraOpThreads of [undefined, 1, 2, 8])
      expect(smallPassPlacement({ provider: "cpu" as const, deviceId: 0, intraOpThreads })).toEqual({
        provider: "cpu",
        deviceId: 0,
        intraOpThreads: 1,
        thread: false,
      });
  });

  it("gives exactly the log-probs and states of a pass on the calling thread, for passes in flight together", async () => {
    const { dim } = threaded.spec.features;
    const cacheAware = threaded.spec.cacheAware!;
    const batch = SMALL_PASS_BATCH + 1; // a pass that goes to the thread
    const frames = 24;
    const features = Float32Array.from({ length: batch * dim * frames }, (_, i) => Math.sin(i / 7) * 3 - 8);
    const lengths = new BigInt64Array(batch).fill(BigInt(frames));
    const states = cacheAware.states.map((s) => {
      const one = initialStates(cacheAware)[cacheAware.states.indexOf(s)]!;
      const stacked =
        s.dtype === "int64" ? new BigInt64Array(batch * s.itemSize) : new Float32Array(batch * s.itemSize);
      for (let b = 0; b < batch; b++) (stacked as Float32Array).set(one as Float32Array, b * s.itemSize);
      return stacked;
    });
    const want = await inline.forward(features, batch, frames, lengths, states);
    // Several passes queued on the thread at once each get their own answer.
    const got = await Promise.all(
      [1, 2, 3].map(() => threaded.forward(features, batch, frames, lengths, states)),
    );
    for (const result of got) {
      expect(result.logProbs).toEqual(want.logProbs);
      expect(result.lengths).toEqual(want.lengths);
      result.states!.forEach((state, i) => expect(state).toEqual(want.states![i]));
    }
  });
});

describe("InferenceThread", () => {
  it("refuses a file onnxruntime cannot load, as a model load error naming the file", async () => {
    const path = join(modelDir, "tokens.txt");
    const err = await new InferenceThread()
      .open("test model", path, { provider: "cpu" })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ModelLoadError);
    expect((err as Error).message).toMatch(/^test model: onnxruntime cannot load .*tokens\.txt/);
  });

  it("reports a failed pass as an error of that pass, and keeps serving", async () => {
    const session = await new InferenceThread().open("Silero VAD", sileroModelPath(), { provider: "cpu" });
    const state = () => new ort.Tensor("float32", new Float32Array(128), [2, 1, 64]);
    const sr = new ort.Tensor("int64", BigInt64Array.of(8000n), []);
    try {
      const bad = { input: new ort.Tensor("float32", new Float32Array(3), [1, 3]), sr };
      await expect(session.run(bad)).rejects.toThrow(/input|h|c/);
      const good = {
        input: new ort.Tensor("float32", new Float32Array(512), [1, 512]),
        sr,
        h: state(),
        c: state(),
      };
      const outputs = await session.run(good);
      expect(outputs.output!.dims).toEqual([1, 1]);
      expect(outputs.hn!.data).toHaveLength(128);
    } finally {
      await session.release();
    }
    await expect(session.run({})).rejects.toThrow(/released/);
  });

  it("writes prepared outputs into the caller's arrays and returns exactly the outputs asked for", async () => {
    const thread = new InferenceThread();
    const session = await thread.open("Silero VAD", sileroModelPath(), { provider: "cpu" });
    const inline = await ort.InferenceSession.create(sileroModelPath());
    const sr = new ort.Tensor("int64", BigInt64Array.of(8000n), []);
    try {
      let h = new Float32Array(256);
      let c = new Float32Array(256);
      // Several passes in a row: each reuses the buffers the one before sent back.
      for (let pass = 0; pass < 3; pass++) {
        const feeds = {
          input: new ort.Tensor(
            "float32",
            Float32Array.from({ length: 1024 }, (_, i) => 0.3 * Math.sin(i * (0.05 + 0.02 * pass))),
            [2, 512],
          ),
          sr,
          h: new ort.Tensor("float32", h, [2, 2, 64]),
          c: new ort.Tensor("float32", c, [2, 2, 64]),
        };
        const want = await inline.run(feeds);
        const hn = new Float32Array(256).fill(Number.NaN);
        const fetches = { output: null, hn: new ort.Tensor("float32", hn, [2, 2, 64]), cn: null };
        const got = await session.run(feeds, fetches);
        expect(Object.keys(got).sort()).toEqual(["cn", "hn", "output"]);
        expect(got.hn!.data).toBe(hn);
        expect(Array.from(hn)).toEqual(Array.from(want.hn!.data as Float32Array));
        expect(Array.from(got.cn!.data as Float32Array)).toEqual(Array.from(want.cn!.data as Float32Array));
        expect(Array.from(got.output!.data as Float32Array)).toEqual(
          Array.from(want.output!.data as Float32Array),
        );
        const only = await session.run(feeds, { output: null });
        expect(Object.keys(only)).toEqual(["output"]);
        const unknown = new ort.Tensor("float32", new Float32Array(2), [2, 1]);
        await expect(session.run(feeds, { probability: unknown })).rejects.toThrow(
          /no output named "probability"/,
        );
        h = hn.slice();
        c = (got.cn!.data as Float32Array).slice();
      }
    } finally {
      await session.release();
      await inline.release();
    }
  });

  it("reports a thread that stops unasked: passes fail and `failed` settles; an orderly end settles nothing", async () => {
    const sr = new ort.Tensor("int64", BigInt64Array.of(8000n), []);
    const feeds = () => ({
      input: new ort.Tensor("float32", new Float32Array(512), [1, 512]),
      sr,
      h: new ort.Tensor("float32", new Float32Array(128), [2, 1, 64]),
      c: new ort.Tensor("float32", new Float32Array(128), [2, 1, 64]),
    });
    const crashed = new InferenceThread();
    const session = await crashed.open("Silero VAD", sileroModelPath(), { provider: "cpu" });
    await session.run(feeds());
    // Stopped between passes: a worker stopped inside onnxruntime's native code takes the process with it.
    await crashed.terminate();
    await expect(crashed.failed).resolves.toBeInstanceOf(Error);
    await expect(session.run(feeds())).rejects.toThrow(/Silero VAD: inference thread exited/);

    const orderly = new InferenceThread();
    const other = await orderly.open("Silero VAD", sileroModelPath(), { provider: "cpu" });
    await other.release();
    const settled = await Promise.race([orderly.failed.then(() => true), delay(200).then(() => false)]);
    expect(settled).toBe(false);
  });
});
