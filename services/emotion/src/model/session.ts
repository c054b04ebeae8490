import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import * as ort from "onnxruntime-node";
import { ModelLoadError } from "@callscribe/errors";
import type { ExecutionProvider } from "./types.ts";

export { ort };

const require = createRequire(import.meta.url);

/**
 * A session on exactly one execution provider. On CUDA the CPU fallback is off, so a graph that cannot
 * run entirely on the GPU fails to load instead of running half on the CPU.
 */
export async function createSession(
  path: string,
  placement: { provider: ExecutionProvider; deviceId?: number; intraOpThreads?: number },
): Promise<ort.InferenceSession> {
  const options: ort.InferenceSession.SessionOptions = {
    intraOpNumThreads: placement.intraOpThreads ?? 1,
    interOpNumThreads: 1,
    executionMode: "sequential",
    graphOptimizationLevel: "all",
  };
  // Spinning pool threads would take the cores the event loop needs for decoding and segmenting.
  const spinning = { intra_op: { allow_spinning: "0" } };
  if (placement.provider === "cuda") {
    const root = dirname(require.resolve("onnxruntime-node/package.json"));
    const library = join(
      root,
      "bin",
      "napi-v6",
      process.platform,
      process.arch,
      "libonnxruntime_providers_cuda.so",
    );
    if (!existsSync(library)) {
      throw new ModelLoadError(
        `${path}: execution provider cuda is not available: this onnxruntime-node has no CUDA binaries (${library} is missing); ` +
          "install them with `ONNXRUNTIME_NODE_INSTALL=cuda12 npm rebuild onnxruntime-node`, or set EMOTION_EXECUTION_PROVIDER=cpu",
      );
    }
    options.executionProviders = [{ name: "cuda", deviceId: placement.deviceId ?? 0 }];
    options.extra = { session: { ...spinning, disable_cpu_ep_fallback: "1" } };
  } else {
    options.executionProviders = ["cpu"];
    options.extra = { session: spinning };
  }
  try {
    return await ort.InferenceSession.create(path, options);
  } catch (err) {
    const reason = err instanceof Error ? err.message.split("\n")[0] : String(err);
    throw new ModelLoadError(`${path}: onnxruntime cannot load it on ${placement.provider}: ${reason}`, {
      cause: err,
    });
  }
}
