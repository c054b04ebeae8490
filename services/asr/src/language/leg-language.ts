import { resample } from "@callscribe/audio";
import type { Logger } from "pino";
import { LanguageEvidence, speechSpan, type LanguageTag } from "./decision.ts";
import type { LanguageIdModel } from "./model.ts";

export interface LegLanguageOptions {
  model: LanguageIdModel;
  /** Utterances classified per leg; later ones carry the tag those settled on. */
  maxUtterances: number;
  logger: Logger;
}

/** Audio older than this is dropped even before its utterance ends (an utterance is never this long). */
const MAX_BUFFER_S = 120;

/**
 * The language of one leg, refined over the call: the leg's audio is kept only while its first
 * `maxUtterances` utterances are classified; each final utterance gets the tag of the evidence so far.
 * Utterances with less speech than the model's minimum add nothing and carry the current tag.
 */
export class LegLanguage {
  readonly #model: LanguageIdModel;
  readonly #maxUtterances: number;
  readonly #log: Logger;
  readonly #evidence: LanguageEvidence;
  #sampleRate = 0;
  /** Buffered audio: chunks in order, the first starting at sample #bufferStart of the leg. */
  #chunks: Int16Array[] = [];
  #bufferStart = 0;
  #bufferEnd = 0;
  #done = false;

  constructor(options: LegLanguageOptions) {
    this.#model = options.model;
    this.#maxUtterances = options.maxUtterances;
    this.#log = options.logger;
    this.#evidence = new LanguageEvidence(options.model.labels, options.model.manifest.undBelow);
  }

  /** The tag the evidence so far gives (`und` before any). */
  get current(): LanguageTag {
    return this.#evidence.decide();
  }

  /** The leg's audio, in the order (and with the sample count) its recognition stream receives it. */
  pushAudio(pcm: Int16Array, sampleRate: number): void {
    if (this.#done) return;
    if (this.#sampleRate === 0) this.#sampleRate = sampleRate;
    if (sampleRate !== this.#sampleRate) return;
    this.#chunks.push(pcm.slice());
    this.#bufferEnd += pcm.length;
    this.#dropBefore(this.#bufferEnd - MAX_BUFFER_S * sampleRate);
  }

  /**
   * The tag for the final utterance [startMs, endMs) of the leg, after classifying it while the leg is
   * still in its first utterances. Utterances must come in order. A failed classification is logged
   * and leaves the evidence as it was.
   */
  async tagUtterance(startMs: number, endMs: number): Promise<LanguageTag> {
    if (this.#done || this.#sampleRate === 0) return this.current;
    const rate = this.#sampleRate;
    const from = Math.max(this.#bufferStart, Math.floor((startMs * rate) / 1000));
    const to = Math.min(this.#bufferEnd, Math.ceil((endMs * rate) / 1000));
    const audio = this.#copy(from, to);
    this.#dropBefore(to);
    if (audio.length > 0) {
      const samples =
        rate === this.#model.sampleRate ? toFloat(audio) : resample(audio, rate, this.#model.sampleRate);
      const speech = speechSpan(samples, this.#model.sampleRate);
      if ((speech.length * 1000) / this.#model.sampleRate >= this.#model.manifest.minSpeechMs) {
        try {
          this.#evidence.add(await this.#model.classify(speech));
        } catch (err) {
          this.#log.warn(
            { err },
            "language identification of an utterance failed; the leg keeps its tag so far",
          );
        }
      }
    }
    if (this.#evidence.utterances >= this.#maxUtterances) {
      this.#done = true;
      this.#chunks = [];
      const tag = this.current;
      this.#log.info(
        { language: tag.language, dialect: tag.dialect, confidence: tag.confidence },
        "leg language settled",
      );
    }
    return this.current;
  }

  #copy(from: number, to: number): Int16Array {
    const out = new Int16Array(Math.max(0, to - from));
    let offset = this.#bufferStart;
    for (const chunk of this.#chunks) {
      const end = offset + chunk.length;
      if (end > from && offset < to) {
        const a = Math.max(from, offset) - offset;
        const b = Math.min(to, end) - offset;
        out.set(chunk.subarray(a, b), offset + a - from);
      }
      offset = end;
    }
    return out;
  }

  #dropBefore(sample: number): void {
    while (this.#chunks.length > 0 && this.#bufferStart + this.#chunks[0]!.length <= sample) {
      this.#bufferStart += this.#chunks.shift()!.length;
    }
  }
}

function toFloat(pcm: Int16Array): Float32Array {
  const out = new Float32Array(pcm.length);
  for (let i = 0; i < pcm.length; i++) out[i] = pcm[i]! / 32768;
  return out;
}
