/**
 * DINO's schedules, as `utils.cosine_scheduler` and the teacher-temperature warm-up of
 * `DINOLoss`: plain arrays indexed by iteration or epoch, so a resumed run reads the same value.
 */

/**
 * A value per iteration: `warmupEpochs` of linear warm-up from `startWarmupValue` to `base` (both
 * ends included, as `np.linspace`), then a half cosine from `base` down (or up) to `final`, which
 * it approaches but never reaches at the last iteration. DINO schedules the learning rate, the
 * weight decay (0.04 to 0.4) and the teacher momentum (0.996 to 1) with it.
 *
 * @example
 * cosineSchedule(0.996, 1, 100, 50)[0]; // 0.996
 */
export function cosineSchedule(base: number, final: number, epochs: number, itersPerEpoch: number, warmupEpochs = 0, startWarmupValue = 0): Float64Array {
  for (const [name, v] of [['epochs', epochs], ['itersPerEpoch', itersPerEpoch], ['warmupEpochs', warmupEpochs]] as const) {
    if (!(Number.isInteger(v) && v >= 0)) throw new Error(`cosineSchedule: ${name} must be a non-negative integer, got ${v}`);
  }
  if (warmupEpochs > epochs) throw new Error(`cosineSchedule: warmupEpochs ${warmupEpochs} exceeds epochs ${epochs}`);
  const total = epochs * itersPerEpoch;
  const warm = warmupEpochs * itersPerEpoch;
  const out = new Float64Array(total);
  for (let i = 0; i < warm; i++) out[i] = warm === 1 ? startWarmupValue : startWarmupValue + ((base - startWarmupValue) * i) / (warm - 1);
  const rest = total - warm;
  for (let i = 0; i < rest; i++) out[warm + i] = final + 0.5 * (base - final) * (1 + Math.cos((Math.PI * i) / rest));
  return out;
}

/**
 * The teacher temperature per epoch: linear from `warmupTemp` to `temp` over `warmupEpochs`
 * (both ends included), then `temp` (DINO: 0.04 to 0.07 over 30 epochs).
 *
 * @example
 * teacherTempSchedule(0.04, 0.07, 3, 5); // [0.04, 0.055, 0.07, 0.07, 0.07]
 */
export function teacherTempSchedule(warmupTemp: number, temp: number, warmupEpochs: number, epochs: number): number[] {
  if (!(Number.isInteger(warmupEpochs) && warmupEpochs >= 0 && warmupEpochs <= epochs)) {
    throw new Error(`teacherTempSchedule: warmupEpochs must be an integer in [0, epochs = ${epochs}], got ${warmupEpochs}`);
  }
  if (!(warmupTemp > 0 && temp > 0)) throw new Error(`teacherTempSchedule: temperatures must be positive, got ${warmupTemp} and ${temp}`);
  const out: number[] = [];
  for (let i = 0; i < warmupEpochs; i++) out.push(warmupEpochs === 1 ? warmupTemp : warmupTemp + ((temp - warmupTemp) * i) / (warmupEpochs - 1));
  while (out.length < epochs) out.push(temp);
  return out;
}
