import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import * as ort from "onnxruntime-node";
import { ModelLoadError } from "@callscribe/errors";

export { ort };

const require = createRequire(import.meta.url);

/** Where a model runs: onnxruntime's CPU provider, or CUDA with no CPU fallback. */
export type ExecutionProvider = "cpu" | "cuda";

/** Where onnxruntime-node keeps its native libraries (the CUDA provider would be beside them). */
function ortBinaryDir(): string {
  const root = dirname(require.resolve("onnxruntime-node/package.json"));
  return join(root, "bin", "napi-v6", process.platform, process.arch);
}

export interface SessionPlacement {
  provider: ExecutionProvider;
  deviceId?: number;
  intraOpThreads?: number;
  /**
   * onnxruntime's log level for this session (0 verbose … 3 error); default 2, warnings. A graph this
   * project rewrote at load sets 3: onnxruntime warns about every initializer its constant folding made
   * unused, which says nothing to an operator.
   */
  logSeverityLevel?: 0 | 1 | 2 | 3 | 4;
}

/** A model file, or a model's bytes (a graph rewritten at load). */
export type ModelSource = string | Uint8Array;

export function describeSource(source: ModelSource): string {
  return typeof source === "string" ? source : `a model of ${source.byteLength} bytes built at load`;
}

/**
 * Creates a session on exactly one execution provider. For CUDA the CPU provider is not listed and
 * onnxruntime's implicit CPU fallback is switched off, so a graph that cannot run entirely on the GPU
 * fails here instead of running half on the CPU.
 */
export async function createSession(
  what: string,
  source: ModelSource,
  placement: SessionPlacement,
): Promise<ort.InferenceSession> {
  const options: ort.InferenceSession.SessionOptions = {
    intraOpNumThreads: placement.intraOpThreads ?? 2,
    interOpNumThreads: 1,
    executionMode: "sequential",
    graphOptimizationLevel: "all",
    ...(placement.logSeverityLevel !== undefined ? { logSeverityLevel: placement.logSeverityLevel } : {}),
  };
  // Pool threads that spin between runs burn the cores the event loop needs for features, VAD and I/O
  // (measured: about half the process CPU at 64 streams on 2 cores), so they sleep instead.
  const spinning = { intra_op: { allow_spinning: "0" } };
  if (placement.provider === "cuda") {
    const providerLibrary = join(ortBinaryDir(), "libonnxruntime_providers_cuda.so");
    if (!existsSync(providerLibrary)) {
      throw new ModelLoadError(
        `${what}: execution provider cuda is not available: this onnxruntime-node has no CUDA binaries ` +
          `(${providerLibrary} is missing; the repository's .npmrc skips their download). On a machine with an ` +
          `NVIDIA driver, CUDA 12 and cuDNN 9, install them with \`ONNXRUNTIME_NODE_INSTALL=cuda12 npm rebuild onnxruntime-node\`, ` +
          `or set the execution provider to cpu`,
      );
    }
    options.executionProviders = [{ name: "cuda", deviceId: placement.deviceId ?? 0 }];
    options.extra = { session: { ...spinning, disable_cpu_ep_fallback: "1" } };
  } else {
    options.executionProviders = ["cpu"];
    options.extra = { session: spinning };
  }
  try {
    // Two calls for one: create() has one overload for a path and one for bytes, none for either.
    return typeof source === "string"
      ? await ort.InferenceSession.create(source, options)
      : await ort.InferenceSession.create(source, options);
  } catch (err) {
    const reason = err instanceof Error ? err.message.split("\n")[0] : String(err);
    throw new ModelLoadError(
      placement.provider === "cuda"
        ? `${what}: cannot place the model entirely on cuda device ${placement.deviceId ?? 0}: ${reason}`
        : `${what}: onnxruntime cannot load ${describeSource(source)}: ${reason}`,
      { cause: err },
    );
  }
}
