// Optimisers: plain SGD, SGD with (classical) momentum, and Adam. Parameters are the float32 weights the
// workers read; the gradient and the optimiser's state are float64. Every update is elementwise, in
// index order, with no transcendental functions beyond a correctly rounded sqrt, so a step is exactly
// reproducible. Adam's bias corrections use running products of beta1 and beta2 (not Math.pow).

export const OPTIMIZERS = ['sgd', 'momentum', 'adam'] as const;
export type OptimizerName = (typeof OPTIMIZERS)[number];

/** How the learning rate changes over the run: constant, or linearly from lr down to lr/steps at the last step. */
export const LR_SCHEDULES = ['constant', 'linear'] as const;
export type LrSchedule = (typeof LR_SCHEDULES)[number];

/** The learning-rate factor of step `step` (0-based) of `totalSteps`: exact arithmetic, no transcendental functions. */
export function lrFactor(schedule: LrSchedule, step: number, totalSteps: number): number {
  return schedule === 'linear' ? (totalSteps - step) / totalSteps : 1;
}

export interface OptimizerSettings {
  name: OptimizerName;
  learningRate: number;
  /** Learning-rate schedule over the whole run (default constant). */
  schedule?: LrSchedule;
  /** momentum: the velocity's decay (mu). */
  momentum?: number;
  /** adam. */
  beta1?: number;
  beta2?: number;
  epsilon?: number;
}

export interface Optimizer {
  readonly settings: Readonly<OptimizerSettings>;
  /** Steps taken so far. */
  readonly steps: number;
  /** Applies one update to `params` from `grad` (same length), with the learning rate times `lrFactor`. */
  step(params: Float32Array, grad: Float64Array, lrFactor?: number): void;
}

export const defaultOptimizerSettings: Record<OptimizerName, OptimizerSettings> = {
  sgd: { name: 'sgd', learningRate: 0.1 },
  momentum: { name: 'momentum', learningRate: 0.05, momentum: 0.9 },
  adam: { name: 'adam', learningRate: 0.003, beta1: 0.9, beta2: 0.999, epsilon: 1e-8 },
};

export function createOptimizer(settings: OptimizerSettings, size: number): Optimizer {
  const lr = settings.learningRate;
  const schedule = settings.schedule ?? 'constant';
  if (!(lr > 0 && Number.isFinite(lr))) throw new RangeError(`learning rate must be a positive number, got ${lr}`);
  switch (settings.name) {
    case 'sgd':
      return new Sgd({ name: 'sgd', learningRate: lr, schedule });
    case 'momentum': {
      const momentum = settings.momentum ?? 0.9;
      if (!(momentum >= 0 && momentum < 1)) throw new RangeError(`momentum must be in [0, 1), got ${momentum}`);
      return new Momentum({ name: 'momentum', learningRate: lr, schedule, momentum }, size);
    }
    case 'adam': {
      const beta1 = settings.beta1 ?? 0.9;
      const beta2 = settings.beta2 ?? 0.999;
      const epsilon = settings.epsilon ?? 1e-8;
      if (!(beta1 >= 0 && beta1 < 1 && beta2 >= 0 && beta2 < 1 && epsilon > 0))
        throw new RangeError('adam needs 0 <= beta1, beta2 < 1 and epsilon > 0');
      return new Adam({ name: 'adam', learningRate: lr, schedule, beta1, beta2, epsilon }, size);
    }
    default:
      throw new RangeError(`unknown optimizer '${String(settings.name satisfies never)}'`);
  }
}

function checkSizes(params: Float32Array, grad: Float64Array, size: number): void {
  if (params.length !== size || grad.length !== size) {
    throw new RangeError(`optimizer: ${params.length} parameters and ${grad.length} gradients, expected ${size}`);
  }
}

/** w ← w - lr·g */
class Sgd implements Optimizer {
  steps = 0;
  constructor(readonly settings: Readonly<OptimizerSettings>) {}
  step(params: Float32Array, grad: Float64Array, lrFactor = 1): void {
    if (params.length !== grad.length) checkSizes(params, grad, params.length);
    const lr = this.settings.learningRate * lrFactor;
    for (let i = 0; i < params.length; i++) params[i] -= lr * grad[i];
    this.steps++;
  }
}

/** v ← mu·v - lr·g; w ← w + v (the classical momentum of the book and of Polyak). */
class Momentum implements Optimizer {
  steps = 0;
  private readonly velocity: Float64Array;
  constructor(
    readonly settings: Readonly<OptimizerSettings>,
    private readonly size: number,
  ) {
    this.velocity = new Float64Array(size);
  }
  step(params: Float32Array, grad: Float64Array, lrFactor = 1): void {
    checkSizes(params, grad, this.size);
    const lr = this.settings.learningRate * lrFactor;
    const mu = this.settings.momentum!;
    const v = this.velocity;
    for (let i = 0; i < params.length; i++) {
      v[i] = mu * v[i] - lr * grad[i];
      params[i] += v[i];
    }
    this.steps++;
  }
}

/**
 * Adam (Kingma & Ba 2015, Algorithm 1): m ← b1·m + (1-b1)·g; v ← b2·v + (1-b2)·g²;
 * w ← w - lr · m̂ / (sqrt(v̂) + eps) with m̂ = m / (1 - b1^t), v̂ = v / (1 - b2^t).
 */
class Adam implements Optimizer {
  steps = 0;
  private readonly m: Float64Array;
  private readonly v: Float64Array;
  private beta1Power = 1;
  private beta2Power = 1;
  constructor(
    readonly settings: Readonly<OptimizerSettings>,
    private readonly size: number,
  ) {
    this.m = new Float64Array(size);
    this.v = new Float64Array(size);
  }
  step(params: Float32Array, grad: Float64Array, lrFactor = 1): void {
    checkSizes(params, grad, this.size);
    const { beta1, beta2, epsilon } = this.settings as Required<OptimizerSettings>;
    const lr = this.settings.learningRate * lrFactor;
    this.beta1Power *= beta1;
    this.beta2Power *= beta2;
    const c1 = 1 / (1 - this.beta1Power);
    const c2 = 1 / (1 - this.beta2Power);
    const { m, v } = this;
    for (let i = 0; i < params.length; i++) {
      const g = grad[i];
      m[i] = beta1 * m[i] + (1 - beta1) * g;
      v[i] = beta2 * v[i] + (1 - beta2) * g * g;
      params[i] -= (lr * (m[i] * c1)) / (Math.sqrt(v[i] * c2) + epsilon);
    }
    this.steps++;
  }
}
