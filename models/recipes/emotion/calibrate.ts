/**
 * Builds models/emotion-prosody/manifest.json: the prosody model's scales are the within-speaker
 * spread of each measure across real recorded prompts (one speaker per corpus), so one unit of
 * deviation means "as different as this speaker's prompts are from each other".
 *
 *   npx tsx models/recipes/emotion/calibrate.ts [out-dir]
 */
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseWav, resample } from "@callscribe/audio";
import { PROSODY_MEASURES, type ProsodyMeasure } from "../../../services/emotion/src/prosody/baseline.ts";
import { measureProsody, type ProsodyFeatures } from "../../../services/emotion/src/prosody/features.ts";

const corpora: { name: string; dir: string }[] = [
  { name: "asterisk-core-sounds-en (female, US English)", dir: "/usr/share/asterisk/sounds/en_US_f_Allison" },
  { name: "asterisk-core-sounds-es (female, Mexican Spanish)", dir: "/usr/share/asterisk/sounds/es_MX_f_Allison" },
  { name: "asterisk-core-sounds-fr (female, Canadian French)", dir: "/usr/share/asterisk/sounds/fr_CA_f_June" },
  { name: "asterisk-core-sounds-ru (female, Russian)", dir: "/usr/share/asterisk/sounds/ru_RU_f_IvrvoiceRU" },
  { name: "festvox-ru (male, Russian)", dir: "/usr/share/festival/voices/russian/msu_ru_nsh_clunits/wav" },
];
const PROMPTS_PER_SPEAKER = 120;
const MIN_PROMPT_S = 1.5;
const ORDINARY_VARIATION_SPREADS = 4;

const outDir = process.argv[2] ?? "models/emotion-prosody";

function measureCorpus(dir: string): ProsodyFeatures[] {
  const files = readdirSync(dir)
    .filter((f) => f.endsWith(".wav"))
    .sort();
  const out: ProsodyFeatures[] = [];
  for (const file of files) {
    if (out.length >= PROMPTS_PER_SPEAKER) break;
    const wav = parseWav(readFileSync(join(dir, file)));
    const pcm = wav.samples[0]!;
    if (pcm.length / wav.sampleRate < MIN_PROMPT_S) continue;
    const audio = resample(pcm, wav.sampleRate, 16000);
    const features = measureProsody(audio);
    if (features.voicedS >= 0.5) out.push(features);
  }
  return out;
}

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
};

const weights: Record<ProsodyMeasure, number> = { energyDb: 1, pitchSt: 1, pitchRangeSt: 0.5, logRate: 1 };
const measured: { features: ProsodyFeatures[]; means: Record<string, number> }[] = [];
const perSpeaker: { name: string; prompts: number; std: Record<string, number>; mean: Record<string, number> }[] = [];
const pooled: Record<ProsodyMeasure, { sumSq: number; dof: number }> = Object.fromEntries(
  PROSODY_MEASURES.map((m) => [m, { sumSq: 0, dof: 0 }]),
) as Record<ProsodyMeasure, { sumSq: number; dof: number }>;
const all: Record<ProsodyMeasure, number[]> = Object.fromEntries(PROSODY_MEASURES.map((m) => [m, []])) as unknown as Record<
  ProsodyMeasure,
  number[]
>;

for (const corpus of corpora) {
  if (!existsSync(corpus.dir)) throw new Error(`${corpus.dir} is missing: run models/recipes/emotion/setup.sh`);
  const features = measureCorpus(corpus.dir);
  const std: Record<string, number> = {};
  const means: Record<string, number> = {};
  for (const m of PROSODY_MEASURES) {
    const xs = features.map((f) => f[m]).filter(Number.isFinite);
    const mu = mean(xs);
    const ss = xs.reduce((a, x) => a + (x - mu) ** 2, 0);
    pooled[m].sumSq += ss;
    pooled[m].dof += xs.length - 1;
    std[m] = Math.sqrt(ss / (xs.length - 1));
    means[m] = mu;
    all[m].push(...xs);
  }
  measured.push({ features, means });
  perSpeaker.push({ name: corpus.name, prompts: features.length, std, mean: means });
  console.log(corpus.name, features.length, "prompts; std", JSON.stringify(std), "mean", JSON.stringify(means));
}

const round = (v: number) => Math.round(v * 1000) / 1000;
const scales = Object.fromEntries(PROSODY_MEASURES.map((m) => [m, round(Math.sqrt(pooled[m].sumSq / pooled[m].dof))]));
// The weighted deviation of each prompt from its speaker's mean, as the model computes it; its pooled
// spread is one speaker's ordinary prompt-to-prompt variation.
let combinedSq = 0;
let combinedDof = 0;
for (const { features, means } of measured) {
  for (const f of features) {
    let sum = 0;
    let w = 0;
    for (const m of PROSODY_MEASURES) {
      if (!Number.isFinite(f[m])) continue;
      sum += (weights[m] * (f[m] - means[m]!)) / scales[m]!;
      w += weights[m];
    }
    if (w > 0) combinedSq += (sum / w) ** 2;
  }
  combinedDof += features.length - 1;
}
const combinedSpread = Math.sqrt(combinedSq / combinedDof);
// Ordinary variation (one spread) maps to arousal tanh(1/4) ≈ 0.24, inside the neutral band.
const arousalScale = round(ORDINARY_VARIATION_SPREADS * combinedSpread);

const manifest = {
  name: "emotion-prosody",
  version: "1",
  task: "prosody-arousal",
  sampleRate: 16000,
  labels: ["calm", "neutral", "agitated"],
  scales,
  weights,
  arousalScale,
  // Before a speaker has a baseline only the scale-free measures are compared, with every speaker's median;
  // absolute level and pitch depend on the channel's gain and on the speaker.
  reference: { pitchRangeSt: round(median(all.pitchRangeSt)), logRate: round(median(all.logRate)) },
  minBaselineS: 3,
  // |tanh(c / 4σ)| < 0.4 for |c| < 1.7σ: the neutral band holds about 9 in 10 of a speaker's ordinary
  // prompt-to-prompt variation (if it is normal), so a calm or agitated label needs a real departure.
  bands: { calm: -0.4, agitated: 0.4 },
  pitch: { minHz: 60, maxHz: 400, voicingThreshold: 0.55 },
  provenance: {
    recipe: "models/recipes/emotion/calibrate.ts",
    combinedSpread: round(combinedSpread),
    method:
      "scales: pooled within-speaker standard deviation of each measure over real recorded prompts; no emotion labels are used",
    speakers: perSpeaker.map((s) => ({
      corpus: s.name,
      prompts: s.prompts,
      std: Object.fromEntries(Object.entries(s.std).map(([k, v]) => [k, round(v)])),
    })),
  },
};
mkdirSync(outDir, { recursive: true });
writeFileSync(join(outDir, "manifest.json"), JSON.stringify(manifest, null, 2) + "\n");
console.log(`wrote ${outDir}/manifest.json; scales ${JSON.stringify(scales)}`);
