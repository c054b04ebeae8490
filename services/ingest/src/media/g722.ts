// ITU-T G.722 (09/2012) at 64 kbit/s: a 24-tap QMF splits 16 kHz audio into two 8 kHz sub-bands, coded
// with sub-band ADPCM: 6 bits for the lower band, 2 bits for the higher band, one octet per pair of input
// samples (high band in the two most significant bits). Integer arithmetic throughout, as the standard
// specifies it; the scaling of the 16-bit PCM interface is the one ffmpeg and spandsp use (input to the
// transmit QMF is 16-bit, output of the receive QMF is shifted by 11), so that bitstreams and decoded
// samples are interchangeable with theirs.

// Table 11: QMF coefficients h0..h11 (h23..h12 mirror them).
const QMF = Int32Array.of(3, -11, 12, 32, -210, 951, 3876, -805, 362, -156, 53, -11);

// Table 14 / ILA2: inverse of the base-2 logarithm, indexed by the 5 fraction bits of the log scale factor.
const INV_LOG2 = Int32Array.of(
  2048,
  2093,
  2139,
  2186,
  2233,
  2282,
  2332,
  2383,
  2435,
  2489,
  2543,
  2599,
  2656,
  2714,
  2774,
  2834,
  2896,
  2960,
  3025,
  3091,
  3158,
  3228,
  3298,
  3371,
  3444,
  3520,
  3597,
  3676,
  3756,
  3838,
  3922,
  4008,
);

// Lower band, 6-bit codes: QQ6 inverse quantizer output per code (Table 17), signed.
const LOW_INV_QUANT6 = Int32Array.of(
  -17,
  -17,
  -17,
  -17,
  -3101,
  -2738,
  -2376,
  -2088,
  -1873,
  -1689,
  -1535,
  -1399,
  -1279,
  -1170,
  -1072,
  -982,
  -899,
  -822,
  -750,
  -682,
  -618,
  -558,
  -501,
  -447,
  -396,
  -347,
  -300,
  -254,
  -211,
  -170,
  -130,
  -91,
  3101,
  2738,
  2376,
  2088,
  1873,
  1689,
  1535,
  1399,
  1279,
  1170,
  1072,
  982,
  899,
  822,
  750,
  682,
  618,
  558,
  501,
  447,
  396,
  347,
  300,
  254,
  211,
  170,
  130,
  91,
  54,
  17,
  -54,
  -17,
);

// Lower band, the 4-bit truncated codes that drive adaptation: QQ4 (Table 16) and the log scale-factor
// step WL[RIL] of Table 19, both indexed by the code's four most significant bits.
const LOW_INV_QUANT4 = Int32Array.of(
  0,
  -2557,
  -1612,
  -1121,
  -786,
  -530,
  -323,
  -150,
  2557,
  1612,
  1121,
  786,
  530,
  323,
  150,
  0,
);
const LOW_LOG_STEP = Int32Array.of(
  -60,
  3042,
  1198,
  538,
  334,
  172,
  58,
  -30,
  3042,
  1198,
  538,
  334,
  172,
  58,
  -30,
  -60,
);

// Lower band quantizer decision levels Q6 (Table 12), magnitudes for mil = 1..29.
const LOW_DECISION = Int32Array.of(
  35,
  72,
  110,
  150,
  190,
  233,
  276,
  323,
  370,
  422,
  473,
  530,
  587,
  650,
  714,
  786,
  858,
  940,
  1023,
  1121,
  1219,
  1339,
  1458,
  1612,
  1765,
  1980,
  2195,
  2557,
  2919,
);

// Higher band: QQ2 inverse quantizer (Table 18) and WH log step (Table 20).
const HIGH_INV_QUANT = Int32Array.of(-926, -202, 926, 202);
const HIGH_LOG_STEP = Int32Array.of(798, -214);

const LOW_LOG_MAX = 18432;
const HIGH_LOG_MAX = 22528;

const clip16 = (x: number) => (x > 32767 ? 32767 : x < -32768 ? -32768 : x);
const clip15 = (x: number) => (x > 16383 ? 16383 : x < -16384 ? -16384 : x);

/** Adaptive predictor and scale factor of one sub-band (blocks 2-4 of the SB-ADPCM coder). */
class SubBand {
  /** Predictor output s (SL/SH). */
  s = 0;
  /** Zero-section output sz (SZL/SZH). */
  sz = 0;
  /** Signs (1 = negative) of the last two partially reconstructed signals p = sz + d. */
  p1 = 0;
  p2 = 0;
  /** Last reconstructed signal r (×2), for the pole section. */
  r1 = 0;
  /** Pole coefficients a1, a2. */
  a1 = 0;
  a2 = 0;
  /** Zero coefficients b1..b6 and the quantized difference history d1..d6 (×2). */
  readonly b = new Int32Array(6);
  readonly d = new Int32Array(6);
  /** Log scale factor (NBL/NBH) and its linear value (DETL/DETH in the 16-bit interface's scale). */
  nb = 0;
  det: number;

  constructor(
    initialDet: number,
    private readonly logMax: number,
    private readonly logOffset: number,
  ) {
    this.det = initialDet;
  }

  /** UPPOL1/UPPOL2, UPZERO, DELAYA, FILTEZ, FILTEP and PREDIC for a new quantized difference dq. */
  adapt(dq: number): void {
    const p = this.sz + dq < 0 ? 1 : 0;
    const sg0 = p !== this.p1 ? 1 : -1;
    const sg1 = p === this.p2 ? 1 : -1;
    this.p2 = this.p1;
    this.p1 = p;

    const a1c = this.a1 > 8191 ? 8191 : this.a1 < -8191 ? -8191 : this.a1;
    let a2 = ((sg0 * a1c) >> 5) + (sg1 << 7) + ((this.a2 * 127) >> 7);
    a2 = a2 > 12288 ? 12288 : a2 < -12288 ? -12288 : a2;
    this.a2 = a2;
    const limit = 15360 - a2;
    const a1 = -192 * sg0 + ((this.a1 * 255) >> 8);
    this.a1 = a1 > limit ? limit : a1 < -limit ? -limit : a1;

    const b = this.b;
    const d = this.d;
    if (dq !== 0) {
      for (let i = 0; i < 6; i++) b[i] = ((b[i]! * 255) >> 8) + ((d[i]! ^ dq) < 0 ? -128 : 128);
    } else {
      for (let i = 0; i < 6; i++) b[i] = (b[i]! * 255) >> 8;
    }
    for (let i = 5; i > 0; i--) d[i] = d[i - 1]!;
    d[0] = clip16(dq << 1);

    let sz = 0;
    for (let i = 5; i >= 0; i--) sz += (b[i]! * d[i]!) >> 15;
    this.sz = sz;

    const r = clip16((this.s + dq) << 1);
    this.s = clip16(sz + ((this.a1 * r) >> 15) + ((this.a2 * this.r1) >> 15));
    this.r1 = r;
  }

  /** LOGSCL + SCALEL/SCALEH: adapt the scale factor by the code's log step. */
  scale(logStep: number): void {
    let nb = ((this.nb * 127) >> 7) + logStep;
    nb = nb < 0 ? 0 : nb > this.logMax ? this.logMax : nb;
    this.nb = nb;
    const wd = nb - this.logOffset;
    const mantissa = INV_LOG2[(wd >> 6) & 31]!;
    const shift = wd >> 11;
    this.det = shift < 0 ? mantissa >> -shift : mantissa << shift;
  }
}

const lowBand = () => new SubBand(8, LOW_LOG_MAX, 8 << 11);
const highBand = () => new SubBand(2, HIGH_LOG_MAX, 10 << 11);

function updateLow(band: SubBand, code: number): void {
  const ril = code >> 2;
  band.adapt((band.det * LOW_INV_QUANT4[ril]!) >> 10);
  band.scale(LOW_LOG_STEP[ril]!);
}

function updateHigh(band: SubBand, dq: number, code: number): void {
  band.adapt(dq);
  band.scale(HIGH_LOG_STEP[code & 1]!);
}

/**
 * The QMF delay line: 24 taps over a linear buffer that is moved back only when full, so each pair of
 * samples costs two stores and 24 multiply-adds.
 */
class QmfDelayLine {
  private readonly line = new Int32Array(1024);
  private pos = 22;
  out1 = 0;
  out2 = 0;

  push(first: number, second: number): void {
    const line = this.line;
    if (this.pos + 2 > line.length) {
      line.copyWithin(0, this.pos - 22, this.pos);
      this.pos = 22;
    }
    line[this.pos++] = first;
    line[this.pos++] = second;
    const base = this.pos - 24;
    let out1 = 0;
    let out2 = 0;
    for (let i = 0; i < 12; i++) {
      out2 += line[base + 2 * i]! * QMF[i]!;
      out1 += line[base + 2 * i + 1]! * QMF[11 - i]!;
    }
    this.out1 = out1;
    this.out2 = out2;
  }
}

/** 64 kbit/s G.722 decoder: one octet in, two 16 kHz samples out. Keeps state across calls. */
export class G722Decoder {
  private readonly low = lowBand();
  private readonly high = highBand();
  private readonly qmf = new QmfDelayLine();

  decode(bytes: Uint8Array): Int16Array {
    const out = new Int16Array(bytes.length * 2);
    this.decodeInto(bytes, out);
    return out;
  }

  /** Decodes into `out` (at least 2 samples per byte); returns the number of samples written. */
  decodeInto(bytes: Uint8Array, out: Int16Array): number {
    if (out.length < bytes.length * 2) {
      throw new RangeError(`G.722 output holds ${out.length} samples but ${bytes.length * 2} are needed`);
    }
    const low = this.low;
    const high = this.high;
    const qmf = this.qmf;
    let n = 0;
    for (let j = 0; j < bytes.length; j++) {
      const byte = bytes[j]!;
      const ilow = byte & 0x3f;
      const ihigh = byte >> 6;

      const rlow = clip15(((low.det * LOW_INV_QUANT6[ilow]!) >> 10) + low.s);
      updateLow(low, ilow);

      const dhigh = (high.det * HIGH_INV_QUANT[ihigh]!) >> 10;
      const rhigh = clip15(dhigh + high.s);
      updateHigh(high, dhigh, ihigh);

      qmf.push(rlow + rhigh, rlow - rhigh);
      out[n++] = clip16(qmf.out1 >> 11);
      out[n++] = clip16(qmf.out2 >> 11);
    }
    return n;
  }
}

/** 64 kbit/s G.722 encoder (no trellis search): two 16 kHz samples in, one octet out. */
export class G722Encoder {
  private readonly low = lowBand();
  private readonly high = highBand();
  private readonly qmf = new QmfDelayLine();
  /** An odd sample left over from the last call, encoded with the next one. */
  private pending: number | undefined;

  encode(pcm16k: Int16Array): Uint8Array {
    const total = pcm16k.length + (this.pending === undefined ? 0 : 1);
    const out = new Uint8Array(total >> 1);
    let i = 0;
    let n = 0;
    if (this.pending !== undefined && pcm16k.length > 0) {
      out[n++] = this.encodePair(this.pending, pcm16k[0]!);
      this.pending = undefined;
      i = 1;
    }
    for (; i + 1 < pcm16k.length; i += 2) out[n++] = this.encodePair(pcm16k[i]!, pcm16k[i + 1]!);
    if (i < pcm16k.length) this.pending = pcm16k[i]!;
    return out;
  }

  /** Encodes a left-over odd sample by repeating it, as ffmpeg does for an odd-length last frame. */
  flush(): Uint8Array {
    if (this.pending === undefined) return new Uint8Array(0);
    const byte = this.encodePair(this.pending, this.pending);
    this.pending = undefined;
    return Uint8Array.of(byte);
  }

  private encodePair(first: number, second: number): number {
    const low = this.low;
    const high = this.high;
    this.qmf.push(first, second);
    const xlow = (this.qmf.out1 + this.qmf.out2) >> 14;
    const xhigh = (this.qmf.out1 - this.qmf.out2) >> 14;

    // Higher band: one decision level, 141 * DETH / 256 (Table 13 scaled), sign in the upper bit.
    const eh = clip16(xhigh - high.s);
    const magnitudeH = eh ^ (eh >> 31); // eh >= 0 ? eh : -(eh + 1)
    const ihigh = (magnitudeH < (141 * high.det) >> 8 ? 1 : 0) + (eh >= 0 ? 2 : 0);

    // Lower band: the first interval mil whose level Q6(mil) * DETL exceeds |el| (BLOCK 1L, QUANTL).
    const el = clip16(xlow - low.s);
    const wd = ((el ^ (el >> 31)) + 1) << 10;
    let mil = wd > LOW_DECISION[8]! * low.det ? 9 : 0;
    while (mil < 29 && wd > LOW_DECISION[mil]! * low.det) mil++;
    const ilow = (el < 0 ? (mil < 2 ? 63 : 33) : 61) - mil;

    updateHigh(high, (high.det * HIGH_INV_QUANT[ihigh]!) >> 10, ihigh);
    updateLow(low, ilow);
    return (ihigh << 6) | ilow;
  }
}
