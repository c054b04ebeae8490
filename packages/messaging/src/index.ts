export {
  subjects,
  legs,
  isLeg,
  assertToken,
  parseCallSubject,
  SubjectTokenError,
  type Leg,
} from "./subjects.ts";
export { ensureStreams, streamConfigs, defaultStreamLimits, type StreamLimits } from "./streams.ts";
export {
  FrameHeader,
  frameHeaders,
  parseFrameHeaders,
  frameMsgId,
  MessageHeaderError,
  type FrameMeta,
} from "./headers.ts";
export {
  CallStarted,
  CallEnded,
  DtmfEvent,
  UtteranceResult,
  LegDone,
  PartialResult,
  encodeEvent,
  decodeEvent,
  MessageFormatError,
} from "./events.ts";
export { connectMessaging, NatsUnavailableError, type Messaging } from "./connection.ts";
