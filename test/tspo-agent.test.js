// TSPO's temporal agent (src/video/sampler-agent.ts) and loss (src/objectives/tspo.ts) against an
// independent PyTorch port of the authors' code (test/fixtures/make_tspo_agent.py): the time encoding,
// frame scores, clip scores and log-softmax, the group advantages, the ratio loss and every parameter's
// gradient, the topk and bin-max selections; plus property tests of Gumbel-top-k sampling (k = 1 draws
// follow softmax(s); k = 2 pairs follow the Plackett–Luce probability computed by hand; seeds repeat;
// a peaked score vector gives top-k), the τ schedule and save/load (the authors' ffn_o is skipped).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { P, FIXTURES, assertClose } from './helpers.js';
import {
  TemporalAgent,
  annealedTau,
  chosenLogProbs,
  clipScores,
  gumbelTopK,
  selectFrames,
  timeEncoding,
  uniformProposals,
} from '../dist/video/sampler-agent.js';
import { tspoLoss, groupAdvantages } from '../dist/objectives/index.js';

const REF = JSON.parse(readFileSync(join(FIXTURES, 'tspo_agent.json'), 'utf8'));
const load = () => P.loadSafetensors(join(FIXTURES, 'tspo_agent.safetensors'));

function agentOf(sd, c) {
  const agent = new TemporalAgent({ dim: c.D, heads: c.heads, window: c.window });
  const w = new Map();
  for (const [k, t] of sd) if (k.startsWith(`${c.prefix}.w.`)) w.set(k.slice(c.prefix.length + 3), t);
  agent.loadStateDict(w);
  return agent;
}

for (const prefix of ['a', 'b']) {
  test(`agent ${prefix}: scores, clip scores, log-softmax, loss and gradients match PyTorch`, () => {
    const c = { ...REF[prefix], prefix };
    const sd = load();
    const agent = agentOf(sd, c);
    P.scope(() => {
      const f = sd.get(`${prefix}.features`);
      const q = sd.get(`${prefix}.question`);
      const pe = P.tensor(timeEncoding(c.T, c.D), { shape: [c.T, c.D] });
      assertClose(pe, sd.get(`${prefix}.pe`), { rtol: 1e-6, atol: 1e-6, what: 'time encoding' });
      assertClose(clipScores(f, q), sd.get(`${prefix}.clip`), { rtol: 1e-5, what: 'clip scores' });
      const s = agent.scores(f, q, c.tau);
      assertClose(s.detach(), sd.get(`${prefix}.scores`), { rtol: 1e-5, what: 'scores' });
      assertClose(s.detach().logSoftmax(0), sd.get(`${prefix}.logsoftmax`), { rtol: 1e-5, what: 'log-softmax' });
      const G = c.sets.length;
      const adv = groupAdvantages(c.rewards, G, 'group');
      assertClose(P.tensor(adv), sd.get(`${prefix}.advantages`), { rtol: 1e-6, what: 'advantages' });
      const o = tspoLoss({ logps: c.sets.map((set) => chosenLogProbs(s, set)), advantages: adv, groupSize: G });
      assert.ok(Math.abs(o.metrics.loss - c.loss) < 1e-5, `loss ${o.metrics.loss} vs ${c.loss}`);
      o.loss.backward();
      for (const [name, p] of agent.namedParameters())
        assertClose(p.grad, sd.get(`${prefix}.grad.${name}`), { rtol: 1e-5, atol: 1e-6, what: `grad ${name}` });
      for (const [k, idx] of Object.entries(c.topk)) assert.deepEqual(selectFrames(s.toArray(), +k, 'topk'), idx, k);
      for (const [k, idx] of Object.entries(c.bin_max))
        assert.deepEqual(selectFrames(s.toArray(), +k, 'bin-max'), idx, `bin-max ${k}`);
    });
    agent.dispose();
  });
}

test('uniform proposals follow generate_uniform_integers (Python round, half to even)', () => {
  for (const [key, want] of Object.entries(REF.uniform_ints)) {
    const [t, l] = key.split(',').map(Number);
    assert.deepEqual(uniformProposals(t, l), want, key);
  }
});

test('bin-max takes the argmax of each bin around the uniform proposals', () => {
  const s = [0, 5, 1, 1, 9, 2, 3, 3, 0, 7];
  // proposals for k = 3 over 10 frames: 0, round(4.5) = 4, 9; frames 0-2 → 0, 3-6 → 4, 7-9 → 9
  assert.deepEqual(selectFrames(s, 3, 'bin-max'), [1, 4, 9]);
  assert.deepEqual(selectFrames(s, 3, 'topk'), [1, 4, 9]);
  assert.deepEqual(selectFrames([1, 1, 1, 1], 2, 'topk'), [0, 1], 'ties: lower index first');
  assert.throws(() => selectFrames(s, 0, 'topk'), /number of frames must be >= 1/);
  assert.throws(() => selectFrames(s, 2, 'middle'), /unknown selection mode 'middle'/);
});

test('Gumbel-top-k: k distinct sorted frames; k = 1 draws follow softmax; pairs follow Plackett–Luce', () => {
  const s = [1.0, 0.0, -0.5, 0.7, 2.0];
  const p = s.map((x) => Math.exp(x));
  const Z = p.reduce((a, b) => a + b);
  const prob = p.map((x) => x / Z);
  const N = 6000;
  const gen = new P.Generator(11);
  P.scope(() => {
    const st = P.tensor(s);
    const count = new Array(5).fill(0);
    const pairs = new Map();
    for (let n = 0; n < N; n++) {
      count[gumbelTopK(st, 1, gen)[0]]++;
      const two = gumbelTopK(st, 2, gen);
      assert.equal(two.length, 2);
      assert.ok(two[0] < two[1], `sorted and distinct: ${two}`);
      pairs.set(two.join(','), (pairs.get(two.join(',')) ?? 0) + 1);
    }
    for (let i = 0; i < 5; i++) {
      const sd = Math.sqrt((prob[i] * (1 - prob[i])) / N);
      assert.ok(Math.abs(count[i] / N - prob[i]) < 5 * sd, `frame ${i}: ${count[i] / N} vs ${prob[i]}`);
    }
    // P({i, j}) = p_i p_j / (1 − p_i) + p_j p_i / (1 − p_j) (draw i then j, or j then i)
    for (let i = 0; i < 5; i++)
      for (let j = i + 1; j < 5; j++) {
        const want = (prob[i] * prob[j]) / (1 - prob[i]) + (prob[j] * prob[i]) / (1 - prob[j]);
        const got = (pairs.get(`${i},${j}`) ?? 0) / N;
        const sd = Math.sqrt((want * (1 - want)) / N);
        assert.ok(Math.abs(got - want) < 5 * sd + 1e-3, `pair ${i},${j}: ${got} vs ${want}`);
      }
    // seeded: the same generator state gives the same draws; peaked scores give the top-k
    const a = gumbelTopK(st, 3, new P.Generator(5));
    assert.deepEqual(gumbelTopK(st, 3, new P.Generator(5)), a);
    const peaked = P.tensor([0, 100, 0, 0, 100, 100, 0]);
    assert.deepEqual(gumbelTopK(peaked, 3, gen), [1, 4, 5]);
    assert.throws(() => gumbelTopK(st, 0, gen), /number of frames must be >= 1/);
  });
});

test('chosen-set log-probs are log softmax at the chosen frames, and carry gradients', () => {
  P.scope(() => {
    const s = P.tensor([0.5, -1, 2, 0]).requiresGrad_(true);
    const lp = chosenLogProbs(s, [0, 2]);
    const Z = Math.log(Math.exp(0.5) + Math.exp(-1) + Math.exp(2) + 1);
    assertClose(lp, P.tensor([0.5 - Z, 2 - Z]), { rtol: 1e-6 });
    lp.sum().backward();
    // d/ds_j Σ_{i∈C} (s_i − logZ) = [j ∈ C] − |C|·softmax_j
    const sm = [0.5, -1, 2, 0].map((x) => Math.exp(x - Z));
    assertClose(s.grad, P.tensor(sm.map((v, j) => (j === 0 || j === 2 ? 1 : 0) - 2 * v)), { rtol: 1e-5 });
  });
});

test('τ anneals linearly from 0.025 to 0.01 over max_steps', () => {
  assert.equal(annealedTau(0, 100), 0.025);
  assert.ok(Math.abs(annealedTau(100, 100) - 0.01) < 1e-15);
  assert.ok(Math.abs(annealedTau(50, 100) - 0.0175) < 1e-15);
  assert.ok(Math.abs(annealedTau(1, 3, 0.1, 0.04) - 0.08) < 1e-15);
});

test("agent save/load round trip; the authors' unused ffn_o is skipped; bad inputs are named", () => {
  const d = mkdtempSync(join(tmpdir(), 'pacer-agent-'));
  try {
    const agent = new TemporalAgent({ dim: 8, heads: 2, window: 4 }, { generator: new P.Generator(1) });
    agent.save(d, { encoder: 'enc' });
    // the authors' selector state dict also holds temporal.ffn_o
    const sd = P.loadSafetensors(join(d, 'model.safetensors'));
    sd.set('temporal.ffn_o.weight', P.zeros([8, 8]));
    sd.set('temporal.ffn_o.bias', P.zeros([8]));
    P.saveSafetensors(join(d, 'model.safetensors'), sd);
    const { agent: back, config } = TemporalAgent.load(d);
    assert.equal(config.encoder, 'enc');
    assert.deepEqual(back.config, { dim: 8, heads: 2, window: 4 });
    P.scope(() => {
      const f = P.randn([6, 8], { generator: new P.Generator(2) });
      const q = P.randn([8], { generator: new P.Generator(3) });
      assertClose(back.scores(f, q, 0.02).detach(), agent.scores(f, q, 0.02).detach(), { rtol: 0, atol: 0 });
      assert.throws(() => agent.scores(P.zeros([6, 4]), q, 0.02), /frame features \[T, 8\], got \[6,4\]/);
      assert.throws(() => agent.scores(f, P.zeros([3]), 0.02), /question features \[M, 8\] or \[8\]/);
      assert.throws(() => agent.scores(f, q, 0), /temperature must be > 0/);
    });
    assert.throws(() => new TemporalAgent({ dim: 6, heads: 4, window: 12 }), /multiple of its heads/);
    assert.throws(() => TemporalAgent.load(join(d, 'nope')), /not an agent folder/);
  } finally {
    rmSync(d, { recursive: true, force: true });
  }
});
