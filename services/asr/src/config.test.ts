import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ConfigError } from "@callscribe/config";
import { describe, expect, it } from "vitest";
import { loadConfig } from "./config.ts";

function folder(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), "asr-config-"));
  for (const [name, body] of Object.entries(files)) writeFileSync(join(dir, name), body);
  return dir;
}

describe("loadConfig", () => {
  it("refuses a folder that is not a model, naming ASR_MODEL_DIR and what to set", () => {
    const dir = folder({ "README.md": "" });
    expect(() => loadConfig({ ASR_MODEL_DIR: dir })).toThrow(ConfigError);
    expect(() => loadConfig({ ASR_MODEL_DIR: dir })).toThrow(
      `ASR_MODEL_DIR: no manifest.json or model.onnx+tokens.txt in ${dir}; set it to a model folder`,
    );
  });

  it("defaults to int8 on the CPU when the manifest provides it, and fp32 otherwise", () => {
    const withInt8 = folder({
      "manifest.json": JSON.stringify({ files: { fp32: "model.onnx", int8: "model.int8.onnx" } }),
      "model.int8.onnx": "",
    });
    expect(loadConfig({ ASR_MODEL_DIR: withInt8 }).model.precision).toBe("int8");
    expect(loadConfig({ ASR_MODEL_DIR: withInt8, ASR_PRECISION: "fp32" }).model.precision).toBe("fp32");
    expect(loadConfig({ ASR_MODEL_DIR: withInt8, ASR_EXECUTION_PROVIDER: "cuda" }).model.precision).toBe(
      "fp32",
    );
    expect(
      loadConfig({ ASR_MODEL_DIR: withInt8, ASR_EXECUTION_PROVIDER: "cuda", ASR_PRECISION: "int8" }).model
        .precision,
    ).toBe("int8");
    const sherpa = folder({ "model.onnx": "", "tokens.txt": "" });
    expect(loadConfig({ ASR_MODEL_DIR: sherpa }).model.precision).toBe("fp32");
    expect(() => loadConfig({ ASR_MODEL_DIR: sherpa, ASR_PRECISION: "int8" })).toThrow(
      /ASR_PRECISION: int8 was asked for/,
    );
  });

  it("reads limits and derives the per-replica call bound from the stream bound", () => {
    const dir = folder({ "model.onnx": "", "tokens.txt": "" });
    const config = loadConfig({
      ASR_MODEL_DIR: dir,
      ASR_MAX_STREAMS: "9",
      ASR_GRPC_PORT: "0",
      ASR_REPLICA_ID: "r1",
    });
    expect(config.engine.maxStreams).toBe(9);
    expect(config.worker.maxCalls).toBe(4);
    expect(config.grpc).toMatchObject({ host: "127.0.0.1", port: 0 });
    expect(config.worker.replicaId).toBe("r1");
    expect(() => loadConfig({ ASR_MODEL_DIR: dir, ASR_EXECUTION_PROVIDER: "tpu" })).toThrow(
      /ASR_EXECUTION_PROVIDER: must be one of: cpu, cuda/,
    );
  });

  it("runs the model on its inference thread and gates quiet VAD windows by default, and both can be turned off", () => {
    const dir = folder({ "model.onnx": "", "tokens.txt": "" });
    const defaults = loadConfig({ ASR_MODEL_DIR: dir });
    expect(defaults.model.inferenceThread).toBe(true);
    expect(defaults.engine.vadEnergyFloorDbfs).toBe(-60);
    expect(defaults.engine.vadMaxBatch).toBe(256);
    expect(defaults.model.vadRewriteConvolutions).toBe(true);
    expect(
      loadConfig({ ASR_MODEL_DIR: dir, ASR_VAD_REWRITE_CONVOLUTIONS: "false" }).model.vadRewriteConvolutions,
    ).toBe(false);
    expect(loadConfig({ ASR_MODEL_DIR: dir, ASR_VAD_MAX_BATCH: "1" }).engine.vadMaxBatch).toBe(1);
    expect(() => loadConfig({ ASR_MODEL_DIR: dir, ASR_VAD_MAX_BATCH: "0" })).toThrow(/ASR_VAD_MAX_BATCH/);
    const off = loadConfig({
      ASR_MODEL_DIR: dir,
      ASR_INFERENCE_THREAD: "false",
      ASR_VAD_ENERGY_FLOOR_DBFS: "0",
    });
    expect(off.model.inferenceThread).toBe(false);
    expect(off.engine.vadEnergyFloorDbfs).toBeNull();
    expect(() => loadConfig({ ASR_MODEL_DIR: dir, ASR_VAD_ENERGY_FLOOR_DBFS: "6" })).toThrow(
      /ASR_VAD_ENERGY_FLOOR_DBFS/,
    );
  });

  it("reads the decoder knobs and refuses bad values, naming the variable and the range", () => {
    const dir = folder({ "model.onnx": "", "tokens.txt": "" });
    const defaults = loadConfig({ ASR_MODEL_DIR: dir });
    expect(defaults.engine).toMatchObject({ decoder: undefined, beamWidth: 32, oovPolicy: "refuse" });
    const set = loadConfig({
      ASR_MODEL_DIR: dir,
      ASR_DECODER: "lm",
      ASR_LM_WEIGHT: "0.7",
      ASR_WORD_BONUS: "-0.5",
      ASR_BEAM_WIDTH: "6",
      ASR_OOV_POLICY: "allow",
      ASR_OOV_PENALTY: "-4.5",
    });
    expect(set.engine).toMatchObject({
      decoder: "lm",
      lmWeight: 0.7,
      wordBonus: -0.5,
      beamWidth: 6,
      oovPolicy: "allow",
      oovPenalty: -4.5,
    });
    const bad: Array<[string, string, RegExp]> = [
      ["ASR_DECODER", "viterbi", /ASR_DECODER: must be one of: greedy, beam, lm/],
      ["ASR_LM_WEIGHT", "heavy", /ASR_LM_WEIGHT: must be a number from 0 to 5/],
      ["ASR_LM_WEIGHT", "-1", /ASR_LM_WEIGHT: must be a number from 0 to 5/],
      ["ASR_WORD_BONUS", "99", /ASR_WORD_BONUS: must be a number from -20 to 20/],
      ["ASR_BEAM_WIDTH", "0", /ASR_BEAM_WIDTH: must be a whole number from 1 to 128/],
      ["ASR_OOV_POLICY", "maybe", /ASR_OOV_POLICY: must be one of: refuse, allow/],
      ["ASR_OOV_PENALTY", "3", /ASR_OOV_PENALTY: must be a number from -100 to 0/],
    ];
    for (const [variable, value, message] of bad)
      expect(() => loadConfig({ ASR_MODEL_DIR: dir, [variable]: value })).toThrow(message);
  });
});
