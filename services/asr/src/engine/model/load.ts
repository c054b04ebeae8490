import { existsSync, readFileSync, statSync } from "node:fs";
import { basename, join, resolve } from "node:path";
import { ModelLoadError } from "@callscribe/errors";
import type { FbankConfig } from "../features/fbank.ts";
import type { LoadAsrModelOptions, ModelInfo } from "../types.ts";
import {
  AcousticModel,
  initialStates,
  releaseFrontEnd,
  type AcousticModelSpec,
  type FrontEndSessions,
  type ModelStateSpec,
} from "./acoustic-model.ts";
import { frontEndDisagreement, openFrontEnd } from "./front-end-sessions.ts";
import { withWindowSessions } from "./window-sessions.ts";
import {
  FeatureSpec,
  Manifest,
  describeManifestIssues,
  type FeatureSpecInput,
  type StreamingSpec,
  type TensorSpec,
} from "./manifest.ts";
import { OnnxParseError, readOnnxMetadata } from "./onnx-metadata.ts";
import {
  checkDeclaredAgainstSession as checkTensors,
  type GraphTensors,
  type SessionPlacement,
} from "@callscribe/onnx";
import { ThreadSession, openRunner, type InferenceRunner } from "../inference/inference-thread.ts";
import { TokensFileError, createVocabulary, parseTokens } from "./vocabulary.ts";
import { LmFileError } from "../lm/errors.ts";
import { DecodingLoadError, loadModelDecoding, type ModelDecoding } from "../lm/model-decoding.ts";

/** FLT_EPSILON: kaldi-native-fbank's log floor. */
const KNF_LOG_FLOOR = 1.1920928955078125e-7;
/** Input frames of the dry run that checks output shapes; a multiple of every subsampling factor in use. */
const DRY_RUN_FRAMES = 96;

/**
 * Where a CPU model's small passes run: on the calling thread, on one intra-op thread whatever the model's
 * setting. Pool threads sleep between passes (they do not spin), and waking one costs more than it saves
 * on a pass of one or two windows: on two threads those passes took about a quarter longer
 * (`bench/asr/pass-latency.ts`).
 */
export function smallPassPlacement<P extends SessionPlacement>(placement: P): P & { thread: false } {
  return { ...placement, intraOpThreads: 1, thread: false };
}

/**
 * Loads a model folder: ours (manifest.json beside the ONNX files) or a published sherpa-onnx NeMo CTC
 * folder (model.onnx + tokens.txt, settings derived from the ONNX metadata). Every declared input and
 * output is checked against the session and a one-batch dry run; any mismatch is a ModelLoadError
 * that names it.
 */
export async function loadAsrModel(options: LoadAsrModelOptions): Promise<AcousticModel> {
  const dir = resolve(options.dir);
  if (!existsSync(dir) || !statSync(dir).isDirectory()) {
    throw new ModelLoadError(
      `model folder ${dir} does not exist; set it to a folder with manifest.json or a sherpa-onnx model`,
    );
  }
  const manifestPath = join(dir, "manifest.json");
  const declared = existsSync(manifestPath)
    ? readManifest(dir, manifestPath)
    : derivePublishedManifest(dir, options.sampleRate ?? 16000);
  const label = `model ${declared.name}`;
  const streaming = options.graph === "offline" ? undefined : declared.streaming;
  if (options.graph === "streaming" && !streaming) {
    throw new ModelLoadError(
      `${label}: a cache-aware streaming graph was requested but the manifest declares none (streaming)`,
    );
  }
  const files = streaming ? streaming.files : declared.files;
  const fileName = options.precision === "int8" ? files.int8 : files.fp32;
  if (!fileName) {
    throw new ModelLoadError(
      `${label}: precision int8 requested but the manifest declares no int8 file (${streaming ? "streaming.files.int8" : "files.int8"}); use fp32`,
    );
  }
  const declaredInputs = streaming ? streaming.inputs : declared.inputs;
  const declaredOutputs = streaming ? streaming.outputs : declared.outputs;
  const stateInputs = new Set(streaming?.states.map((st) => st.input) ?? []);
  const modelPath = join(dir, fileName);
  const problems: string[] = [];
  if (!existsSync(modelPath))
    throw new ModelLoadError(`${label}: ${options.precision} model file ${fileName} is missing in ${dir}`);
  const vocabPath = join(dir, declared.vocabulary.file);
  if (!existsSync(vocabPath))
    throw new ModelLoadError(`${label}: vocabulary file ${declared.vocabulary.file} is missing in ${dir}`);

  let tokens: string[];
  try {
    tokens = parseTokens(readFileSync(vocabPath, "utf8"));
  } catch (err) {
    if (err instanceof TokensFileError)
      throw new ModelLoadError(`${label}: ${declared.vocabulary.file}: ${err.message}`);
    throw err;
  }
  const { vocabulary: vocab } = declared;
  if (tokens.length !== vocab.size) {
    problems.push(`vocabulary.size ${vocab.size}, vocabulary (${vocab.file}) has ${tokens.length} tokens`);
  }
  if (
    vocab.tokens &&
    (vocab.tokens.length !== tokens.length || vocab.tokens.some((t, i) => t !== tokens[i]))
  ) {
    const at = vocab.tokens.findIndex((t, i) => t !== tokens[i]);
    problems.push(
      at >= 0 && at < tokens.length
        ? `vocabulary.tokens[${at}] is ${JSON.stringify(vocab.tokens[at])}, ${vocab.file} has ${JSON.stringify(tokens[at])}`
        : `vocabulary.tokens lists ${vocab.tokens.length} tokens, ${vocab.file} has ${tokens.length}`,
    );
  }
  if (vocab.blankId >= tokens.length)
    problems.push(`blank id ${vocab.blankId} is out of range (${vocab.file} has ${tokens.length} tokens)`);
  if (!tokens.includes(vocab.spaceToken))
    problems.push(`space token ${JSON.stringify(vocab.spaceToken)} is not in ${vocab.file}`);
  const decoding = problems.length === 0 ? readDecoding(label, dir, declared, tokens) : null;

  let metadata: Map<string, string>;
  try {
    metadata = readOnnxMetadata(readFileSync(modelPath));
  } catch (err) {
    if (err instanceof OnnxParseError) throw new ModelLoadError(`${label}: ${fileName}: ${err.message}`);
    throw err;
  }
  const metaVocab = metadata.get("vocab_size");
  // NeMo's streaming (cache-aware) exports count the vocabulary without the blank.
  const expectedVocab = streaming ? [tokens.length, tokens.length - 1] : [tokens.length];
  if (metaVocab !== undefined && !expectedVocab.includes(Number(metaVocab))) {
    problems.push(
      `ONNX metadata vocab_size ${metaVocab}, vocabulary (${vocab.file}) has ${tokens.length} tokens` +
        (streaming ? " (a streaming graph may count them without the blank)" : ""),
    );
  }
  const metaSubsampling = metadata.get("subsampling_factor");
  if (metaSubsampling !== undefined && Number(metaSubsampling) !== declared.subsampling) {
    problems.push(
      `ONNX metadata subsampling_factor ${metaSubsampling}, manifest subsampling ${declared.subsampling}`,
    );
  }

  let features: FbankConfig;
  try {
    features = resolveFeatures(declared.features, declared.sampleRate);
  } catch (err) {
    throw new ModelLoadError(`${label}: features: ${err instanceof Error ? err.message : String(err)}`);
  }
  if (declared.sampleRate !== 8000 && declared.sampleRate !== 16000) {
    problems.push(
      `sample rate ${declared.sampleRate} Hz is not supported (the VAD and the resampler serve 8000 and 16000)`,
    );
  }
  const [featureSpec, lengthSpec] = identifyInputs(
    label,
    declaredInputs.filter((i) => !stateInputs.has(i.name)),
  );
  const logProbSpec = declaredOutputs[0]!;
  const lengthOutSpec = declaredOutputs[1];
  if (featureSpec.shape.length !== 3)
    problems.push(
      `input "${featureSpec.name}" is declared with rank ${featureSpec.shape.length}, expected 3 [N, ${features.dim}, T]`,
    );
  else if (featureSpec.shape[1] !== features.dim) {
    problems.push(
      `input "${featureSpec.name}" feature dim ${String(featureSpec.shape[1])}, feature extractor dim ${features.dim}`,
    );
  }
  if (logProbSpec.dtype !== "float32")
    problems.push(
      `output "${logProbSpec.name}" is declared ${logProbSpec.dtype}, expected float32 log-probs`,
    );
  if (
    logProbSpec.shape.length === 3 &&
    typeof logProbSpec.shape[2] === "number" &&
    logProbSpec.shape[2] !== tokens.length
  ) {
    problems.push(
      `output "${logProbSpec.name}" is declared with width ${logProbSpec.shape[2]}, vocabulary (${vocab.file}) has ${tokens.length} tokens`,
    );
  }
  if (declared.receptiveField && declared.receptiveField.left === 0 && declared.receptiveField.right === 0) {
    problems.push(
      "receptiveField left and right are both 0; a convolutional model sees at least its own frame",
    );
  }
  if (problems.length > 0) throw new ModelLoadError(`${label}: ${problems.join("; ")}`);

  const placement = {
    provider: options.provider,
    deviceId: options.deviceId,
    // On its own thread the model shares the cores with the event loop's features and decoding only.
    intraOpThreads: options.intraOpThreads ?? (options.inferenceThread === false ? 2 : 1),
  };
  const thread = options.inferenceThread ?? true;
  const session = await openRunner(label, modelPath, { ...placement, thread });
  // A CPU model on a thread also gets a session here for small passes (see AcousticModel).
  let smallPassSession: InferenceRunner | null = null;
  // A cache-aware graph on a thread that normalises its own features gets the feature front end: its
  // passes take audio, and onnxruntime computes the features (AcousticModel.takesSamples).
  let frontEnd: FrontEndSessions | null = null;
  let frontEndGraph: Uint8Array | null = null;
  try {
    if (thread && options.provider === "cpu")
      smallPassSession = await openRunner(label, modelPath, smallPassPlacement(placement));
    if (session instanceof ThreadSession && streaming && declared.features.normalization !== "per_feature") {
      const opened = await openFrontEnd(
        label,
        modelPath,
        featureSpec.name,
        features,
        session,
        placement,
        smallPassSession ? smallPassPlacement(placement) : null,
      );
      frontEnd = opened?.sessions ?? null;
      frontEndGraph = opened?.graph ?? null;
    }
  } catch (err) {
    await session.release();
    await smallPassSession?.release();
    throw err;
  }
  try {
    nameByPosition(session, declaredInputs, "input", problems);
    nameByPosition(session, declaredOutputs, "output", problems);
    checkDeclaredAgainstSession(session, declaredInputs, "input", problems);
    checkDeclaredAgainstSession(session, declaredOutputs, "output", problems, {
      name: logProbSpec.name,
      tokens: tokens.length,
      file: vocab.file,
    });
    const stateSpecs = streaming ? resolveStates(streaming, problems) : [];
    if (problems.length > 0) throw new ModelLoadError(`${label}: ${problems.join("; ")}`);

    const spec: AcousticModelSpec = {
      name: declared.name,
      version: declared.version,
      language: declared.language,
      sampleRate: declared.sampleRate,
      features,
      normalize: declared.features.normalization === "per_feature" ? "per_feature" : "",
      featureInput: featureSpec.name,
      lengthInput: lengthSpec.name,
      logProbOutput: logProbSpec.name,
      lengthOutput: lengthOutSpec && lengthOutSpec.dtype !== "float32" ? lengthOutSpec.name : null,
      vocabulary: createVocabulary(tokens, vocab.blankId, vocab.spaceToken),
      subsampling: declared.subsampling,
      receptiveField: declared.receptiveField
        ? { left: declared.receptiveField.left, right: declared.receptiveField.right }
        : null,
      cacheAware: streaming
        ? {
            states: stateSpecs,
            lookaheadFrames: streaming.lookaheadFrames,
            windowFrames: fixedWindow(session, featureSpec.name) ?? streaming.windowFrames ?? null,
          }
        : null,
      decoding,
    };
    const info: ModelInfo = {
      name: declared.name,
      version: declared.version,
      language: declared.language,
      sampleRate: declared.sampleRate,
      provider: options.provider,
      precision: options.precision,
      streamingExact: spec.cacheAware !== null || (spec.receptiveField !== null && spec.normalize === ""),
    };
    let model = new AcousticModel(info, spec, { session, smallPassSession, frontEnd });
    await dryRun(label, model, tokens.length, vocab.file, problems);
    if (problems.length > 0) throw new ModelLoadError(`${label}: ${[...new Set(problems)].join("; ")}`);
    const disagreement = frontEnd
      ? await frontEndDisagreement(model, spec.cacheAware?.windowFrames ?? DRY_RUN_FRAMES, placement)
      : null;
    if (disagreement) {
      // The features are then computed in TypeScript, as for any other model.
      options.logger.warn(
        { model: declared.name, disagreement },
        "the feature front end does not agree with the feature extractor; features are computed in TypeScript",
      );
      await releaseFrontEnd(frontEnd);
      frontEnd = null;
      frontEndGraph = null;
      model = new AcousticModel(info, spec, { session, smallPassSession });
    }
    const graph = frontEndGraph;
    model = await withWindowSessions(
      model,
      label,
      () => graph ?? readFileSync(modelPath),
      options.streamingChunkMs ?? [],
      smallPassPlacement(placement),
      options.logger,
    );
    options.logger.info(
      {
        model: info.name,
        version: info.version,
        file: fileName,
        provider: info.provider,
        streamingExact: info.streamingExact,
        cacheAware: spec.cacheAware !== null,
        featureFrontEnd: frontEnd !== null,
        windowSessions: [...model.windowSessions.keys()],
      },
      "asr model loaded",
    );
    return model;
  } catch (err) {
    await session.release();
    await smallPassSession?.release();
    await releaseFrontEnd(frontEnd);
    throw err;
  }
}

type DeclaredManifest = Pick<
  Manifest,
  | "name"
  | "version"
  | "language"
  | "sampleRate"
  | "features"
  | "inputs"
  | "outputs"
  | "vocabulary"
  | "subsampling"
  | "receptiveField"
  | "files"
  | "streaming"
  | "decoding"
>;

/**
 * The folder's word LM and lexicon when the manifest declares them (a `decoding` object); null for a
 * description only or none (greedy and beam decoding).
 */
function readDecoding(
  label: string,
  dir: string,
  declared: DeclaredManifest,
  tokens: readonly string[],
): ModelDecoding | null {
  if (declared.decoding === undefined || typeof declared.decoding === "string") return null;
  try {
    return loadModelDecoding(
      dir,
      declared.decoding,
      tokens,
      declared.vocabulary.blankId,
      declared.vocabulary.spaceToken,
    );
  } catch (err) {
    if (err instanceof LmFileError || err instanceof DecodingLoadError)
      throw new ModelLoadError(`${label}: ${err.message}`, { cause: err });
    throw err;
  }
}

function readManifest(dir: string, path: string): DeclaredManifest {
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(path, "utf8"));
  } catch (err) {
    throw new ModelLoadError(
      `model in ${dir}: manifest.json is not valid JSON: ${err instanceof Error ? err.message : String(err)}`,
    );
  }
  const parsed = Manifest.safeParse(json);
  if (!parsed.success) {
    const name =
      typeof (json as { name?: unknown })?.name === "string"
        ? (json as { name: string }).name
        : basename(dir);
    throw new ModelLoadError(`model ${name}: manifest.json: ${describeManifestIssues(parsed.error)}`);
  }
  return parsed.data;
}

/**
 * A sherpa-onnx NeMo CTC folder has no manifest: the layout is fixed (audio_signal [N, 80, T] and
 * length [N] in; log-probs [N, T', V] out), the ONNX metadata gives vocab_size, subsampling_factor and
 * normalize_type, and the features are sherpa-onnx's for NeMo (librosa-style 80-bin fbank, 25/10 ms,
 * Hann window, no DC removal, 0.97 pre-emphasis, no dither).
 */
function derivePublishedManifest(dir: string, sampleRate: number): DeclaredManifest {
  const name = basename(dir);
  const file = ["model.onnx", "model.int8.onnx"].find((f) => existsSync(join(dir, f)));
  if (!file || !existsSync(join(dir, "tokens.txt"))) {
    throw new ModelLoadError(
      `model ${name}: ${dir} has no manifest.json and is not a sherpa-onnx NeMo CTC folder (model.onnx or model.int8.onnx with tokens.txt)`,
    );
  }
  let metadata: Map<string, string>;
  try {
    metadata = readOnnxMetadata(readFileSync(join(dir, file)));
  } catch (err) {
    throw new ModelLoadError(`model ${name}: ${file}: ${err instanceof Error ? err.message : String(err)}`);
  }
  const vocabSize = Number(metadata.get("vocab_size"));
  const subsampling = Number(metadata.get("subsampling_factor"));
  const normalize = metadata.get("normalize_type") ?? "";
  if (!Number.isInteger(vocabSize) || vocabSize <= 0)
    throw new ModelLoadError(`model ${name}: ${file} has no vocab_size in its ONNX metadata`);
  if (!Number.isInteger(subsampling) || subsampling <= 0) {
    throw new ModelLoadError(`model ${name}: ${file} has no subsampling_factor in its ONNX metadata`);
  }
  if (normalize !== "" && normalize !== "per_feature") {
    throw new ModelLoadError(
      `model ${name}: normalize_type ${JSON.stringify(normalize)} is not supported (only "" and "per_feature")`,
    );
  }
  let tokens: string[];
  try {
    tokens = parseTokens(readFileSync(join(dir, "tokens.txt"), "utf8"));
  } catch (err) {
    throw new ModelLoadError(
      `model ${name}: tokens.txt: ${err instanceof Error ? err.message : String(err)}`,
    );
  }
  const streaming = derivePublishedStreaming(name, file, metadata, normalize, tokens.length);
  // NeMo's streaming exports count the vocabulary without the blank; the output has one more.
  const width = streaming ? tokens.length : vocabSize;
  // sherpa-onnx requires <blk> as the last token of NeMo CTC vocabularies.
  const blankId = tokens.indexOf("<blk>") >= 0 ? tokens.indexOf("<blk>") : width - 1;
  const windowMs = 25;
  return {
    name,
    version: metadata.get("version") ?? metadata.get("model_version") ?? "published",
    language: metadata.get("language") ?? "und",
    sampleRate,
    features: FeatureSpec.parse({
      type: "log-mel-fbank",
      dim: 80,
      windowMs,
      hopMs: 10,
      nFft: nextPowerOfTwo((sampleRate * windowMs) / 1000),
      window: "hann",
      windowPeriodic: true,
      sampleScale: 1,
      preemphasis: 0.97,
      dither: 0,
      removeDcOffset: false,
      melLowHz: 0,
      melHighHz: 0,
      melScale: "slaney",
      melNorm: "slaney",
      logFloor: KNF_LOG_FLOOR,
      snipEdges: false,
      normalization: normalize === "per_feature" ? "per_feature" : "global-in-graph",
    } satisfies FeatureSpecInput),
    inputs: [
      { name: "audio_signal", dtype: "float32", shape: ["N", 80, "T"] },
      { name: "length", dtype: "int64", shape: ["N"] },
    ],
    outputs: [{ name: "", dtype: "float32", shape: ["N", "T'", width] }],
    streaming,
    vocabulary: {
      file: "tokens.txt",
      size: width,
      blankId,
      spaceToken: tokens.includes("▁") ? "▁" : " ",
    },
    subsampling,
    receptiveField: null,
    files: { fp32: file, int8: existsSync(join(dir, "model.int8.onnx")) ? "model.int8.onnx" : undefined },
  };
}

/**
 * A sherpa-onnx online NeMo CTC model (cache-aware streaming) says so in its metadata: window_size,
 * chunk_shift and the shapes of its caches. Its inputs are audio_signal, length, cache_last_channel,
 * cache_last_time and cache_last_channel_len; its outputs, by position, log-probs, their length and the
 * three next caches. A window covers window_size frames and the next starts chunk_shift later.
 */
function derivePublishedStreaming(
  name: string,
  file: string,
  metadata: Map<string, string>,
  normalize: string,
  tokens: number,
): StreamingSpec | undefined {
  if (!metadata.has("window_size") || !metadata.has("cache_last_time_dim1")) return undefined;
  const int = (key: string): number => {
    const value = Number(metadata.get(key));
    if (!Number.isInteger(value) || value <= 0)
      throw new ModelLoadError(`model ${name}: ${file} has no usable ${key} in its ONNX metadata`);
    return value;
  };
  if (normalize === "per_feature") {
    throw new ModelLoadError(
      `model ${name}: a streaming model cannot normalise per utterance (normalize_type "per_feature"): the statistics would need audio that has not arrived`,
    );
  }
  const window = int("window_size");
  const shift = int("chunk_shift");
  if (shift > window)
    throw new ModelLoadError(`model ${name}: chunk_shift ${shift} is longer than window_size ${window}`);
  const channel = [
    "N",
    int("cache_last_channel_dim1"),
    int("cache_last_channel_dim2"),
    int("cache_last_channel_dim3"),
  ];
  const time = ["N", int("cache_last_time_dim1"), int("cache_last_time_dim2"), int("cache_last_time_dim3")];
  const tensor = (n: string, dtype: "float32" | "int64", shape: Array<string | number>) => ({
    name: n,
    dtype,
    shape,
  });
  return {
    type: "cache-aware",
    files: { fp32: file },
    inputs: [
      tensor("audio_signal", "float32", ["N", 80, "T"]),
      tensor("length", "int64", ["N"]),
      tensor("cache_last_channel", "float32", channel),
      tensor("cache_last_time", "float32", time),
      tensor("cache_last_channel_len", "int64", ["N"]),
    ],
    outputs: [
      tensor("", "float32", ["N", "T'", tokens]),
      tensor("", "int64", ["N"]),
      tensor("", "float32", channel),
      tensor("", "float32", time),
      tensor("", "int64", ["N"]),
    ],
    states: [
      { input: "cache_last_channel", output: "#2" },
      { input: "cache_last_time", output: "#3" },
      { input: "cache_last_channel_len", output: "#4" },
    ],
    lookaheadFrames: window - shift,
    windowFrames: window,
  };
}

function nextPowerOfTwo(n: number): number {
  let p = 1;
  while (p < n) p *= 2;
  return p;
}

export function resolveFeatures(spec: FeatureSpec, sampleRate: number): FbankConfig {
  const frameLength = Math.round((spec.windowMs * sampleRate) / 1000);
  const frameShift = Math.round((spec.hopMs * sampleRate) / 1000);
  if (Math.abs((frameLength * 1000) / sampleRate - spec.windowMs) > 1e-9) {
    throw new Error(`windowMs ${spec.windowMs} is not a whole number of samples at ${sampleRate} Hz`);
  }
  if (Math.abs((frameShift * 1000) / sampleRate - spec.hopMs) > 1e-9) {
    throw new Error(`hopMs ${spec.hopMs} is not a whole number of samples at ${sampleRate} Hz`);
  }
  if (spec.windowSamples !== undefined && spec.windowSamples !== frameLength) {
    throw new Error(
      `windowSamples ${spec.windowSamples}, but windowMs ${spec.windowMs} at ${sampleRate} Hz is ${frameLength} samples`,
    );
  }
  if (spec.hopSamples !== undefined && spec.hopSamples !== frameShift) {
    throw new Error(
      `hopSamples ${spec.hopSamples}, but hopMs ${spec.hopMs} at ${sampleRate} Hz is ${frameShift} samples`,
    );
  }
  if (spec.melBins !== undefined && spec.melBins !== spec.dim)
    throw new Error(`melBins ${spec.melBins}, feature dim ${spec.dim}`);
  if ((spec.nFft & (spec.nFft - 1)) !== 0) throw new Error(`nFft ${spec.nFft} is not a power of two`);
  if (spec.nFft < frameLength)
    throw new Error(`nFft ${spec.nFft} is shorter than the ${frameLength}-sample window`);
  if (spec.dither !== 0)
    throw new Error(
      `dither ${spec.dither}: recognition features must be deterministic; export the model with dither 0`,
    );
  const nyquist = sampleRate / 2;
  const highHz = spec.melHighHz > 0 ? spec.melHighHz : nyquist + spec.melHighHz;
  if (!(highHz > spec.melLowHz && highHz <= nyquist)) {
    throw new Error(
      `mel range ${spec.melLowHz}..${highHz} Hz does not fit in 0..${nyquist} Hz at ${sampleRate} Hz`,
    );
  }
  const window =
    spec.window === "hann" ? (spec.windowPeriodic ? "hann-periodic" : "hann-symmetric") : spec.window;
  return {
    sampleRate,
    dim: spec.dim,
    frameLength,
    frameShift,
    nFft: spec.nFft,
    window,
    preemphasis: spec.preemphasis,
    removeDcOffset: spec.removeDcOffset,
    melLowHz: spec.melLowHz,
    melHighHz: spec.melHighHz,
    melScale: spec.melScale,
    melNorm: spec.melNorm,
    logFloor: spec.logFloor,
    snipEdges: spec.snipEdges,
    sampleScale: spec.sampleScale,
  };
}

/**
 * Each declared state: its input and output tensors must be declared, of one dtype, batch first and with
 * the same fixed per-stream shape (the engine keeps one slice per stream and stacks them per pass).
 */
function resolveStates(streaming: StreamingSpec, problems: string[]): ModelStateSpec[] {
  const out: ModelStateSpec[] = [];
  for (const pair of streaming.states) {
    const input = streaming.inputs.find((t) => t.name === pair.input);
    // "#k": the graph's output k (a derived manifest of a published model names outputs by position).
    const positional = /^#\d+$/.test(pair.output)
      ? streaming.outputs[Number(pair.output.slice(1))]
      : undefined;
    const output = positional ?? streaming.outputs.find((t) => t.name === pair.output);
    if (!input || !output) {
      problems.push(
        `streaming state ${pair.input} -> ${pair.output}: ${!input ? `input "${pair.input}"` : `output "${pair.output}"`} is not declared`,
      );
      continue;
    }
    const item = input.shape.slice(1);
    if (input.shape.length < 1 || item.some((d) => typeof d !== "number")) {
      problems.push(
        `streaming state "${pair.input}" must be [N, fixed dims...], declared [${input.shape.join(", ")}]`,
      );
      continue;
    }
    const outItem = output.shape.slice(1);
    if (outItem.length !== item.length || outItem.some((d, i) => d !== item[i])) {
      problems.push(
        `streaming state output "${pair.output}" is declared [${output.shape.join(", ")}], its input "${pair.input}" [${input.shape.join(", ")}]`,
      );
      continue;
    }
    if (input.dtype !== output.dtype || (input.dtype !== "float32" && input.dtype !== "int64")) {
      problems.push(
        `streaming state "${pair.input}" is ${input.dtype} and "${pair.output}" ${output.dtype}; both must be float32 or both int64`,
      );
      continue;
    }
    const itemShape = item as number[];
    out.push({
      input: pair.input,
      output: output.name,
      dtype: input.dtype,
      itemShape,
      itemSize: itemShape.reduce((a, b) => a * b, 1),
    });
  }
  return out;
}

/** The window length a graph fixes in its feature input's time dimension, if it does. */
function fixedWindow(session: InferenceRunner, featureInput: string): number | null {
  const meta = session.inputMetadata[session.inputNames.indexOf(featureInput)];
  if (!meta || !meta.isTensor) return null;
  const t = meta.shape[2];
  return typeof t === "number" && t > 0 ? t : null;
}

/** The float input carries features, the integer one lengths, whatever order the manifest lists them in. */
function identifyInputs(label: string, inputs: readonly TensorSpec[]): [TensorSpec, TensorSpec] {
  const feature = inputs.find((i) => i.dtype === "float32" || i.dtype === "float16");
  const length = inputs.find((i) => i.dtype === "int64" || i.dtype === "int32");
  if (!feature || !length) {
    throw new ModelLoadError(
      `${label}: inputs must be one float feature tensor [N, dim, T] and one integer length tensor [N]`,
    );
  }
  return [feature, length];
}

/** A derived (published) manifest leaves output names to the graph: those tensors are taken by position. */
function nameByPosition(
  session: GraphTensors,
  declared: readonly TensorSpec[],
  kind: "input" | "output",
  problems: string[],
): void {
  const names = kind === "input" ? session.inputNames : session.outputNames;
  declared.forEach((spec, index) => {
    if (spec.name !== "") return;
    const actual = names[index];
    if (actual === undefined) problems.push(`the graph has no ${kind} ${index}`);
    else spec.name = actual;
  });
}

/**
 * Compares declared tensors with the graph's (`@callscribe/onnx`); with `vocabulary`, that output's width
 * is checked against the token list instead of the manifest.
 */
export function checkDeclaredAgainstSession(
  session: GraphTensors,
  declared: readonly TensorSpec[],
  kind: "input" | "output",
  problems: string[],
  vocabulary?: { name: string; tokens: number; file: string },
): void {
  checkTensors(session, declared, kind, problems, (spec, d, size) => {
    if (!vocabulary || spec.name !== vocabulary.name || d !== 2) return false;
    if (size !== vocabulary.tokens)
      problems.push(
        `output "${spec.name}" width ${size}, vocabulary (${vocabulary.file}) has ${vocabulary.tokens} tokens`,
      );
    return true;
  });
}

/**
 * Runs the model on silence of DRY_RUN_FRAMES frames: catches what symbolic dimensions hide (the real
 * vocabulary width, the time subsampling, whether the output is log-softmax).
 */
async function dryRun(
  label: string,
  model: AcousticModel,
  tokenCount: number,
  vocabFile: string,
  problems: string[],
): Promise<void> {
  const { spec } = model;
  const frames = spec.cacheAware?.windowFrames ?? DRY_RUN_FRAMES;
  let result;
  try {
    const lengths = BigInt64Array.of(BigInt(frames));
    const states = spec.cacheAware ? initialStates(spec.cacheAware) : undefined;
    result = await model.forward(new Float32Array(spec.features.dim * frames), 1, frames, lengths, states);
  } catch (err) {
    problems.push(
      `a forward pass on ${frames} frames of silence failed: ${err instanceof Error ? err.message.split("\n")[0] : String(err)}`,
    );
    return;
  }
  const output = model.session.outputMetadata.find((m) => m.name === spec.logProbOutput);
  const out = result;
  if (out.vocab !== tokenCount) {
    problems.push(
      `output "${spec.logProbOutput}" width ${out.vocab}, vocabulary (${vocabFile}) has ${tokenCount} tokens`,
    );
  }
  const expected = Math.floor(frames / spec.subsampling);
  const produced = out.lengths[0]!;
  if (produced !== expected || out.frames < expected || out.frames > Math.ceil(frames / spec.subsampling)) {
    problems.push(
      `output "${spec.logProbOutput}" has ${out.frames} frames (${produced} valid) for ${frames} input frames; ` +
        `subsampling ${spec.subsampling} gives ${expected}`,
    );
  }
  spec.cacheAware?.states.forEach((st, i) => {
    const next = result.states?.[i];
    if (!next || next.length !== st.itemSize)
      problems.push(
        `streaming state output "${st.output}" has ${next?.length ?? 0} values for one stream, its input "${st.input}" ${st.itemSize}`,
      );
  });
  if (output && output.isTensor && output.shape.length !== 3)
    problems.push(`output "${spec.logProbOutput}" has rank ${output.shape.length}, expected 3 [N, T', V]`);
  if (out.vocab === tokenCount && out.frames > 0) {
    let max = -Infinity;
    for (let v = 0; v < out.vocab; v++) max = Math.max(max, out.logProbs[v]!);
    let sum = 0;
    for (let v = 0; v < out.vocab; v++) sum += Math.exp(out.logProbs[v]! - max);
    const logSum = max + Math.log(sum);
    if (!(Math.abs(logSum) < 1e-3)) {
      problems.push(
        `output "${spec.logProbOutput}" is not log-probabilities (log-sum-exp of a frame is ${logSum.toFixed(4)}); the graph must end with log_softmax`,
      );
    }
  }
}
