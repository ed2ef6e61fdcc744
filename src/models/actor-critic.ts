// The actor-critic of CleanRL's control agents (vwxyzjn/cleanrl cleanrl/ppo.py and ppo_continuous_action.py,
// class Agent): separate critic and actor MLPs with tanh hidden layers (64-64 by default), weights
// initialised orthogonally (torch.nn.init.orthogonal_) with gain √2, 0.01 on the policy output and 1 on the
// value output, biases 0; for continuous actions a state-independent log-std parameter (actor_logstd).
// Parameter names follow CleanRL's nn.Sequential: critic.0/2/4, actor.0/2/4 (actor_mean.* when continuous).
import { type Generator, Linear, Module, noGrad, randn, tensor, zeros, type Tensor } from '../engine/index.js';

/** torch.nn.init.orthogonal_: Q of the QR decomposition of a N(0, 1) matrix, signs fixed by diag(R), × gain. */
export function orthogonal(rows: number, cols: number, gain: number, gen: Generator): Tensor {
  const [r, c] = rows < cols ? [cols, rows] : [rows, cols];
  const a = noGrad(() => randn([r, c], { dtype: 'float64', generator: gen }).toArray());
  // Modified Gram-Schmidt on the c columns (length r) gives Q with a positive diagonal of R.
  const q: number[][] = [];
  for (let j = 0; j < c; j++) {
    const v = Array.from({ length: r }, (_, i) => a[i * c + j]);
    for (const u of q) {
      const d = u.reduce((s, x, i) => s + x * v[i], 0);
      for (let i = 0; i < r; i++) v[i] -= d * u[i];
    }
    const norm = Math.sqrt(v.reduce((s, x) => s + x * x, 0));
    q.push(v.map((x) => x / norm));
  }
  const out = new Float32Array(rows * cols);
  for (let i = 0; i < rows; i++)
    for (let j = 0; j < cols; j++) out[i * cols + j] = gain * (rows < cols ? q[i][j] : q[j][i]);
  return tensor(out, { shape: [rows, cols] });
}

function layer(inF: number, outF: number, gain: number, gen: Generator): Linear {
  const l = new Linear(inF, outF);
  noGrad(() => {
    l.weight.copy_(orthogonal(outF, inF, gain, gen));
    l.bias?.zero_();
  });
  return l;
}

/** Linear layers with tanh between them; children named 0, 2, 4, … as in nn.Sequential with Tanh layers. */
export class TanhMLP extends Module {
  readonly layers: Linear[];
  constructor(sizes: number[], outGain: number, gen: Generator) {
    super();
    this.layers = sizes.slice(1).map((s, k) => {
      const last = k === sizes.length - 2;
      return this.addModule(String(k * 2), layer(sizes[k], s, last ? outGain : Math.SQRT2, gen));
    });
  }
  forward(x: Tensor): Tensor {
    let h = x;
    this.layers.forEach((l, k) => {
      h = l.forward(h);
      if (k < this.layers.length - 1) h = h.tanh();
    });
    return h;
  }
}

export type ActionHead = { type: 'discrete'; n: number } | { type: 'box'; dim: number };

export class ActorCritic extends Module {
  readonly critic: TanhMLP;
  /** Logits (discrete) or the Gaussian mean (continuous). */
  readonly actor: TanhMLP;
  /** log σ of the Gaussian policy, [1, dim] (null for discrete actions). */
  readonly logStd: Tensor | null;
  constructor(
    readonly obsDim: number,
    readonly action: ActionHead,
    hidden: number[],
    gen: Generator,
    initLogStd = 0,
  ) {
    super();
    const out = action.type === 'discrete' ? action.n : action.dim;
    this.critic = this.addModule('critic', new TanhMLP([obsDim, ...hidden, 1], 1.0, gen));
    const name = action.type === 'discrete' ? 'actor' : 'actor_mean';
    this.actor = this.addModule(name, new TanhMLP([obsDim, ...hidden, out], 0.01, gen));
    this.logStd = action.type === 'box' ? this.param('actor_logstd', zeros([1, out]).add_(initLogStd)) : null;
  }
  /** V(s), [B]. */
  value(x: Tensor): Tensor {
    return this.critic.forward(x).squeeze(-1);
  }
}
