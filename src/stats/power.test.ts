import { auc } from './auc';
import { binormalFit, powerRocTest, powerRocTest2, powerRocTestPaired } from './power';
import { Rng } from '../utils/rng';

describe('power and sample size', () => {
  test('solving for n, then for the power at that n, returns the power asked for', () => {
    const n = powerRocTest({ auc: 0.8, power: 0.9, kappa: 2 });
    expect(n.ncontrols).toBeCloseTo(2 * n.ncases, 12);
    const back = powerRocTest({ auc: 0.8, ncases: n.ncases, ncontrols: n.ncontrols });
    expect(back.power).toBeCloseTo(0.9, 12);
    const sig = powerRocTest({ auc: 0.8, ncases: n.ncases, ncontrols: n.ncontrols, power: 0.9, sigLevel: null });
    expect(sig.sigLevel).toBeCloseTo(0.05, 12);
    const detectable = powerRocTest({ ncases: n.ncases, ncontrols: n.ncontrols, power: 0.9 });
    expect(detectable.auc).toBeCloseTo(0.8, 10);
  });

  test('one-sided tests need fewer cases; two curves need more for a smaller difference', () => {
    expect(powerRocTest({ auc: 0.75, power: 0.8, alternative: 'one.sided' }).ncases).toBeLessThan(powerRocTest({ auc: 0.75, power: 0.8 }).ncases);
    const pars = { A1: 1.2, B1: 1, A2: 0.9, B2: 1, rn: 0.5, ra: 0.5, delta: 0.08 };
    const big = powerRocTest2({ ...pars, delta: 0.04 }, { power: 0.8 }).ncases;
    expect(big).toBeCloseTo(4 * powerRocTest2(pars, { power: 0.8 }).ncases, 8);
  });

  test('from pilot data: DeLong and Obuchowski agree roughly; more power needs more cases', () => {
    const rng = new Rng(6);
    const y: number[] = [];
    const s1: number[] = [];
    const s2: number[] = [];
    for (let i = 0; i < 400; i++) {
      const l = rng.bernoulli(0.5) ? 1 : 0;
      const c = rng.normal();
      y.push(l);
      s1.push(c + rng.normal() + 1.2 * l);
      s2.push(c + rng.normal() + 0.9 * l);
    }
    const d = powerRocTestPaired(y, s1, s2);
    const o = powerRocTestPaired(y, s1, s2, { method: 'obuchowski' });
    expect(Math.abs(d.power - o.power)).toBeLessThan(0.25);
    expect(powerRocTestPaired(y, s1, s2, { power: 0.95 }).ncases).toBeGreaterThan(powerRocTestPaired(y, s1, s2, { power: 0.8 }).ncases);
    // pROC's fit regresses qnorm(sp) on qnorm(se): B < 0, and the binormal AUC is Φ(A / sqrt(1 + B²)).
    const fit = binormalFit(y, s1);
    expect(fit.B).toBeLessThan(-0.7);
    const normal = (z: number): number => 0.5 * (1 + Math.tanh(0.7978845608 * (z + 0.044715 * z ** 3)));
    expect(Math.abs(normal(fit.A / Math.sqrt(1 + fit.B ** 2)) - auc(y, s1))).toBeLessThan(0.03);
  });

  test('the unknown must be exactly one, and inputs in range', () => {
    expect(() => powerRocTest({ auc: 0.8 })).toThrow('leave out exactly one of auc, power, sigLevel (null) or the sample sizes, got 2 unknowns');
    expect(() => powerRocTest({ auc: 0.4, power: 0.8 })).toThrow('auc must be in (0.5, 1), got 0.4');
    expect(() => powerRocTest({ auc: 0.8, power: 1.2 })).toThrow('power must be in (0, 1), got 1.2');
    expect(() => powerRocTest({ ncases: 1, ncontrols: 1, power: 0.9 })).toThrow('no AUC below 1 reaches this power');
    expect(() => powerRocTest2({ A1: NaN, B1: 1, A2: 1, B2: 1, rn: 0, ra: 0, delta: 0.1 }, { power: 0.8 })).toThrow('parameter A1 must be a finite number');
  });
});
