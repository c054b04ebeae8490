/**
 * Triangular mel filters over FFT bins, built the way kaldi-native-fbank builds its librosa-compatible
 * banks (the layout sherpa-onnx uses for NeMo models): mel points equally spaced between the edge
 * frequencies, triangles in Hz between neighbouring points, optional Slaney area normalisation.
 * Arithmetic is rounded to float32 where knf computes in float, so the weights match bit for bit.
 */
export interface MelBankOptions {
  sampleRate: number;
  nFft: number;
  bins: number;
  lowHz: number;
  highHz: number;
  scale: "slaney" | "htk";
  norm: "slaney" | "none";
}

/** Sparse filters: filter b weights FFT bins first[b] .. first[b]+weights[b].length-1. */
export interface MelBank {
  first: Int32Array;
  weights: Float64Array[];
}

const f32 = Math.fround;
const SLANEY_LOG_STEP = Math.log(6.4) / 27;

function hzToMel(hz: number, scale: MelBankOptions["scale"]): number {
  if (scale === "htk") return 1127 * Math.log(1 + hz / 700);
  return hz <= 1000 ? (3 * hz) / 200 : 15 + Math.log(hz / 1000) / SLANEY_LOG_STEP;
}

function melToHz(mel: number, scale: MelBankOptions["scale"]): number {
  if (scale === "htk") return 700 * (Math.exp(mel / 1127) - 1);
  return mel <= 15 ? (200 * mel) / 3 : 1000 * Math.exp((mel - 15) * SLANEY_LOG_STEP);
}

export function createMelBank(options: MelBankOptions): MelBank {
  const { sampleRate, nFft, bins, scale } = options;
  const nyquist = f32(sampleRate / 2);
  const highHz = options.highHz > 0 ? options.highHz : nyquist + options.highHz;
  if (!(options.lowHz >= 0 && highHz > options.lowHz && highHz <= nyquist)) {
    throw new RangeError(`mel range ${options.lowHz}..${highHz} Hz does not fit in 0..${nyquist} Hz`);
  }
  const melLow = f32(hzToMel(options.lowHz, scale));
  const melHigh = f32(hzToMel(highHz, scale));
  const delta = f32((melHigh - melLow) / f32(bins + 1));
  const binWidth = f32(sampleRate / nFft);
  const first = new Int32Array(bins);
  const weights: Float64Array[] = [];
  for (let b = 0; b < bins; b++) {
    const left = f32(melToHz(f32(melLow + f32(b * delta)), scale));
    const centre = f32(melToHz(f32(melLow + f32((b + 1) * delta)), scale));
    const right = f32(melToHz(f32(melLow + f32((b + 2) * delta)), scale));
    const norm = options.norm === "slaney" ? f32(2 / f32(right - left)) : 1;
    const row: number[] = [];
    let start = -1;
    for (let k = 0; k <= nFft / 2; k++) {
      const hz = f32(binWidth * k);
      if (hz > left && hz < right) {
        const w =
          hz <= centre
            ? f32(f32(hz - left) / f32(centre - left))
            : f32(f32(right - hz) / f32(right - centre));
        if (start < 0) start = k;
        row.push(f32(w * norm));
      }
    }
    first[b] = Math.max(start, 0);
    weights.push(Float64Array.from(row));
  }
  return { first, weights };
}
