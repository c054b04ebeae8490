/**
 * The ASR engine's boundary: what the gRPC server, the JetStream worker and the CLI use.
 * Everything else under engine/ is internal.
 */
export type {
  ExecutionProvider,
  Precision,
  ModelInfo,
  AsrModel,
  LoadAsrModelOptions,
  VadModel,
  LoadVadOptions,
  EngineOptions,
  Hotword,
  EndpointingOptions,
  StreamOptions,
  Decoder,
  WordLanguageModel,
  WordTiming,
  RecognitionEvent,
  RecognitionStream,
  EngineStats,
  RecognizerEngine,
  EngineDeps,
} from "./types.ts";
export { loadAsrModel } from "./model/load.ts";
export { loadVad } from "./vad/silero.ts";
export { createRecognizerEngine, defaultEngineOptions, engineChunkMs } from "./engine.ts";
