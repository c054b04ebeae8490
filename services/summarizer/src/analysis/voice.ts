import type { EmotionPeak, LanguageShare } from "@callscribe/db";
import type { TranscriptUtterance } from "./transcript.ts";

const round3 = (x: number) => Math.round(x * 1000) / 1000;

export interface LanguageFigures {
  /** Most frequent language, or null when no utterance was tagged. */
  language: string | null;
  languages: LanguageShare[];
  dialect: string | null;
  dialectConfidence: number | null;
}

function mean(values: readonly number[]): number | null {
  return values.length === 0 ? null : round3(values.reduce((s, v) => s + v, 0) / values.length);
}

/** Languages by share of utterances, and the dialect most utterances carry; nulls when untagged. */
export function languageFigures(utterances: readonly TranscriptUtterance[]): LanguageFigures {
  const tagged = utterances.filter((u) => typeof u.language === "string" && u.language !== "");
  const byLanguage = new Map<string, TranscriptUtterance[]>();
  for (const u of tagged) byLanguage.set(u.language!, [...(byLanguage.get(u.language!) ?? []), u]);
  const languages: LanguageShare[] = [...byLanguage.entries()]
    .map(([language, us]) => ({
      language,
      share: round3(us.length / tagged.length),
      confidence: mean(
        us.flatMap((u) => (typeof u.languageConfidence === "number" ? [u.languageConfidence] : [])),
      ),
    }))
    .sort((a, b) => b.share - a.share || a.language.localeCompare(b.language));

  const withDialect = utterances.filter((u) => typeof u.dialect === "string" && u.dialect !== "");
  const byDialect = new Map<string, TranscriptUtterance[]>();
  for (const u of withDialect) byDialect.set(u.dialect!, [...(byDialect.get(u.dialect!) ?? []), u]);
  const top = [...byDialect.entries()].sort(
    (a, b) => b[1].length - a[1].length || a[0].localeCompare(b[0]),
  )[0];
  return {
    language: languages[0]?.language ?? null,
    languages,
    dialect: top?.[0] ?? null,
    dialectConfidence: top
      ? mean(top[1].flatMap((u) => (typeof u.dialectConfidence === "number" ? [u.dialectConfidence] : [])))
      : null,
  };
}

export interface EmotionFigures {
  /** Share of labelled utterances per label; null when no utterance was labelled. */
  mix: Record<string, number> | null;
  peak: EmotionPeak | null;
}

const calm = new Set(["neutral", "calm", "other", "unknown"]);

/** Emotion mix over the utterances the emotion service labelled, and the strongest non-neutral one. */
export function emotionFigures(utterances: readonly TranscriptUtterance[]): EmotionFigures {
  const labelled = utterances.filter((u) => u.emotion);
  if (labelled.length === 0) return { mix: null, peak: null };
  const counts: Record<string, number> = {};
  for (const u of labelled) counts[u.emotion!.label] = (counts[u.emotion!.label] ?? 0) + 1;
  const mix = Object.fromEntries(Object.entries(counts).map(([k, n]) => [k, round3(n / labelled.length)]));
  let peak: EmotionPeak | null = null;
  let peakStrength = -Infinity;
  for (const u of labelled) {
    const e = u.emotion!;
    if (calm.has(e.label)) continue;
    const score = e.scores[e.label] ?? 0;
    const strength = score * (0.5 + 0.5 * e.arousal);
    if (strength > peakStrength) {
      peakStrength = strength;
      peak = {
        label: e.label,
        leg: u.leg,
        startMs: u.startMs,
        score: round3(score),
        arousal: round3(e.arousal),
      };
    }
  }
  return { mix, peak };
}
