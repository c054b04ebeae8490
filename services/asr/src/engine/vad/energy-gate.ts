/**
 * A gate in front of the Silero VAD: a window whose mean power is below a floor (digital silence, an
 * idle telephone line) is not speech whatever the model would say, so it gets probability 0 without a
 * forward pass. Speech on a telephone line sits around -30 to -15 dBFS; an idle G.711 line near -70.
 */
export class EnergyGate {
  /** Mean of x² below which a window is quiet (x in [-1, 1)); 0 disables the gate. */
  readonly floor: number;

  /** `floorDbfs`: the floor in dB relative to full scale, or null for no gate. */
  constructor(floorDbfs: number | null) {
    this.floor = floorDbfs === null ? 0 : 10 ** (floorDbfs / 10);
  }

  isQuiet(samples: Float32Array): boolean {
    if (this.floor === 0 || samples.length === 0) return false;
    let energy = 0;
    for (let i = 0; i < samples.length; i++) energy += samples[i]! * samples[i]!;
    return energy < this.floor * samples.length;
  }
}
