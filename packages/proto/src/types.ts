// Curated re-exports of the generated message types (generated/ is written by npm run proto).

export type {
  AudioEncoding as AsrAudioEncoding,
  AudioEncoding__Output as AsrAudioEncoding__Output,
} from "./generated/callscribe/asr/v1/AudioEncoding.ts";
export type {
  EndpointingConfig,
  EndpointingConfig__Output,
} from "./generated/callscribe/asr/v1/EndpointingConfig.ts";
export type { Hotword, Hotword__Output } from "./generated/callscribe/asr/v1/Hotword.ts";
export type {
  ListModelsRequest,
  ListModelsRequest__Output,
} from "./generated/callscribe/asr/v1/ListModelsRequest.ts";
export type {
  ListModelsResponse,
  ListModelsResponse__Output,
} from "./generated/callscribe/asr/v1/ListModelsResponse.ts";
export type { ModelInfo, ModelInfo__Output } from "./generated/callscribe/asr/v1/ModelInfo.ts";
export type {
  RecognitionConfig,
  RecognitionConfig__Output,
} from "./generated/callscribe/asr/v1/RecognitionConfig.ts";
export type {
  RecognitionResult,
  RecognitionResult__Output,
} from "./generated/callscribe/asr/v1/RecognitionResult.ts";
export type {
  RecognizeRequest,
  RecognizeRequest__Output,
} from "./generated/callscribe/asr/v1/RecognizeRequest.ts";
export type {
  RecognizeResponse,
  RecognizeResponse__Output,
} from "./generated/callscribe/asr/v1/RecognizeResponse.ts";
export type {
  RecognizerClient,
  RecognizerHandlers,
  RecognizerDefinition,
} from "./generated/callscribe/asr/v1/Recognizer.ts";
export type {
  StreamingRecognizeRequest,
  StreamingRecognizeRequest__Output,
} from "./generated/callscribe/asr/v1/StreamingRecognizeRequest.ts";
export type {
  StreamingRecognizeResponse,
  StreamingRecognizeResponse__Output,
} from "./generated/callscribe/asr/v1/StreamingRecognizeResponse.ts";
export type { WordInfo, WordInfo__Output } from "./generated/callscribe/asr/v1/WordInfo.ts";
export type {
  AudioEncoding as EmotionAudioEncoding,
  AudioEncoding__Output as EmotionAudioEncoding__Output,
} from "./generated/callscribe/emotion/v1/AudioEncoding.ts";
export type { AudioFormat, AudioFormat__Output } from "./generated/callscribe/emotion/v1/AudioFormat.ts";
export type { ClassScore, ClassScore__Output } from "./generated/callscribe/emotion/v1/ClassScore.ts";
export type {
  ClassifyRequest,
  ClassifyRequest__Output,
} from "./generated/callscribe/emotion/v1/ClassifyRequest.ts";
export type {
  ClassifyResponse,
  ClassifyResponse__Output,
} from "./generated/callscribe/emotion/v1/ClassifyResponse.ts";
export type {
  EmotionClassifierClient,
  EmotionClassifierHandlers,
  EmotionClassifierDefinition,
} from "./generated/callscribe/emotion/v1/EmotionClassifier.ts";
export type {
  EmotionResult,
  EmotionResult__Output,
} from "./generated/callscribe/emotion/v1/EmotionResult.ts";
export type {
  StreamingClassifyRequest,
  StreamingClassifyRequest__Output,
} from "./generated/callscribe/emotion/v1/StreamingClassifyRequest.ts";
