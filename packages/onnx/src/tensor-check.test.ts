import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { checkDeclaredAgainstSession, createSession, type DeclaredTensor, type ort } from "./index.ts";

// A committed graph with one input and one output: features [N, T, 80] -> log_probs [N, 19].
const modelPath = fileURLToPath(new URL("../../../models/language-id/model.onnx", import.meta.url));
const features: DeclaredTensor = { name: "features", dtype: "float32", shape: ["N", "T", 80] };
const logProbs: DeclaredTensor = { name: "log_probs", dtype: "float32", shape: ["N", 19] };

describe("checkDeclaredAgainstSession on a real graph", () => {
  let session: ort.InferenceSession;
  beforeAll(async () => {
    session = await createSession(modelPath, modelPath, { provider: "cpu", intraOpThreads: 1 });
  });
  afterAll(async () => {
    await session.release();
  });

  function problemsOf(declared: DeclaredTensor[], kind: "input" | "output"): string[] {
    const problems: string[] = [];
    checkDeclaredAgainstSession(session, declared, kind, problems);
    return problems;
  }

  it("accepts a manifest that declares the graph's tensors", () => {
    expect(problemsOf([features], "input")).toEqual([]);
    expect(problemsOf([logProbs], "output")).toEqual([]);
  });

  it("names a misspelt tensor and the graph's real names", () => {
    expect(problemsOf([{ ...features, name: "feats" }], "input")).toEqual([
      'input "feats" is declared but the graph\'s inputs are "features"',
      'the graph needs input "features", which the manifest does not declare',
    ]);
  });

  it("names a wrong element type, rank or fixed dimension", () => {
    expect(problemsOf([{ ...features, dtype: "int64" }], "input")).toEqual([
      'input "features" is float32 in the graph, declared int64',
    ]);
    expect(problemsOf([{ ...features, shape: ["N", 80] }], "input")).toEqual([
      'input "features" has rank 3 in the graph, declared rank 2',
    ]);
    expect(problemsOf([{ ...logProbs, shape: ["N", 20] }], "output")).toEqual([
      'output "log_probs" dim 1 is 19 in the graph, declared 20',
    ]);
  });

  it("lets a dimension check take over one dimension", () => {
    const problems: string[] = [];
    checkDeclaredAgainstSession(
      session,
      [{ ...logProbs, shape: ["N", 20] }],
      "output",
      problems,
      (_t, d, size) => {
        if (d !== 1) return false;
        problems.push(`width ${size} checked elsewhere`);
        return true;
      },
    );
    expect(problems).toEqual(["width 19 checked elsewhere"]);
  });
});

describe("createSession", () => {
  it("refuses a file that is not a model, naming it", async () => {
    const notAModel = fileURLToPath(new URL("../package.json", import.meta.url));
    await expect(createSession("the test model", notAModel, { provider: "cpu" })).rejects.toThrow(
      /the test model: onnxruntime cannot load .*package\.json/,
    );
  });
});
