// `pacer generate` and `pacer logprobs` with images and videos in TRL's standard and conversational row
// shapes: a frame folder and an image written from the parity fixture's frames give the PyTorch
// reference's greedy tokens (test/fixtures/make_qwen2_vl.py); a conversational row scores exactly as the
// standard row its chat template renders to; a video file is sampled at --video-fps; bad rows name the
// file and line and write nothing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { FIXTURES, P } from './helpers.js';
import { encodePng } from '../dist/video/index.js';
import { Tokenizer } from '../dist/tokenizers/index.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const pacer = (...args) =>
  spawnSync(process.execPath, [join(root, 'bin/pacer.js'), ...args], { encoding: 'utf8', cwd: root, timeout: 300_000 });
const MODEL = join(FIXTURES, 'models', 'qwen2_vl');

function setup() {
  const dir = mkdtempSync(join(tmpdir(), 'pacer-vl-cli-'));
  const frames = P.loadSafetensors(join(MODEL, 'frames.safetensors'));
  const write = (t, i, file) => {
    const [, H, W] = t.shape;
    const data = t.data().slice(i * H * W * 3, (i + 1) * H * W * 3);
    writeFileSync(file, encodePng({ width: W, height: H, data }));
  };
  mkdirSync(join(dir, 'clip'));
  const v = frames.get('video0');
  for (let i = 0; i < v.shape[0]; i++) write(v, i, join(dir, 'clip', `${String(i).padStart(4, '0')}.png`));
  write(frames.get('image0'), 0, join(dir, 'img.png'));
  return dir;
}

const jsonl = (rows) => `${rows.map((r) => JSON.stringify(r)).join('\n')}\n`;

test('generate: a standard row (frame folder + image) gives the PyTorch reference greedy tokens', () => {
  const dir = setup();
  try {
    const meta = JSON.parse(readFileSync(join(MODEL, 'reference.json'), 'utf8'));
    const want = P.loadSafetensors(join(MODEL, 'reference.safetensors')).get('greedy').toArray().slice(0, 8);
    execFileSync('ffmpeg', [
      '-v',
      'error',
      '-f',
      'lavfi',
      '-i',
      'testsrc2=size=56x56:rate=4',
      '-t',
      '2',
      join(dir, 'v.mp4'),
    ]);
    const rows = [
      { prompt: meta.prompts[0], videos: ['clip'], images: ['img.png'] },
      { prompt: 'See<|vision_start|><|video_pad|><|vision_end|>', videos: ['v.mp4'] },
    ];
    writeFileSync(join(dir, 'rows.jsonl'), jsonl(rows));
    const r = pacer('generate', '--model', MODEL, '--data', join(dir, 'rows.jsonl'), '--max-new-tokens', '8', '--json');
    assert.equal(r.status, 0, r.stderr);
    const out = r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    assert.equal(out.length, 2);
    assert.deepEqual(out[0].tokens.slice(0, 8), want.slice(0, out[0].tokens.length));
    assert.ok(out[1].tokens.length > 0);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('logprobs: a conversational row scores exactly as the standard row its template renders', () => {
  const dir = setup();
  try {
    const tok = Tokenizer.fromPretrained(MODEL);
    const messages = [
      {
        role: 'user',
        content: [{ type: 'video', path: 'clip', fps: 2 }, { type: 'image' }, { type: 'text', text: 'which?' }],
      },
    ];
    const rendered = tok.applyChatTemplate(messages, { addGenerationPrompt: true });
    const rows = [
      { prompt: messages, images: ['img.png'], completion: [{ role: 'assistant', content: 'a red one' }] },
      { prompt: rendered, videos: ['clip'], images: ['img.png'], completion: 'a red one<|im_end|>\n' },
    ];
    writeFileSync(join(dir, 'rows.jsonl'), jsonl(rows));
    const r = pacer('logprobs', '--model', MODEL, '--data', join(dir, 'rows.jsonl'));
    assert.equal(r.status, 0, r.stderr);
    const [a, b] = r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    assert.equal(a.tokens, b.tokens);
    assert.ok(Number.isFinite(a.logprob) && a.logprob < 0);
    assert.ok(Math.abs(a.logprob - b.logprob) < 1e-5, `${a.logprob} vs ${b.logprob}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('bad rows: a video the prompt does not mention, a missing file, a text-only model; nothing written', () => {
  const dir = setup();
  try {
    const cases = [
      [
        { prompt: 'no pad here', videos: ['clip'], completion: 'x' },
        MODEL,
        /rows\.jsonl:1: .*0 <\|video_pad\|> placeholder\(s\) but 1 video/,
      ],
      [
        {
          prompt: [{ role: 'user', content: [{ type: 'video', path: 'gone.mp4' }] }],
          completion: [{ role: 'assistant', content: 'x' }],
        },
        MODEL,
        /rows\.jsonl:1: video not found: .*gone\.mp4/,
      ],
      [
        { prompt: 'a<|vision_start|><|video_pad|><|vision_end|>', videos: ['clip'], completion: 'x' },
        join(FIXTURES, 'models', 'qwen2'),
        /rows\.jsonl:1: the row has images or videos but .* is a text-only model \(qwen2\)/,
      ],
    ];
    for (const [row, model, re] of cases) {
      writeFileSync(join(dir, 'rows.jsonl'), jsonl([row]));
      const r = pacer('logprobs', '--model', model, '--data', join(dir, 'rows.jsonl'));
      assert.notEqual(r.status, 0);
      assert.match(r.stderr, re);
      assert.equal(r.stdout, '');
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('bench vlm: pacer and the PyTorch peer generate the same tokens; the breakdown is reported', () => {
  const args = ['bench', 'vlm', '--frames', '2', '--repeats', '1', '--rounds', '1', '--gen-batches', '1'];
  const r = pacer(...args, '--train-batch', '1', '--new-tokens', '3', '--threads', '1', '--vs-pytorch', '--json');
  assert.equal(r.status, 0, r.stderr);
  const j = JSON.parse(r.stdout);
  for (const k of ['processor_ms', 'vision_tower_ms', 'language_model_ms']) assert.ok(j[k] > 0, k);
  assert.ok(j.train_step.pacer_ms > 0);
  if (j.pytorch_error) return; // no python3-torch on this machine
  assert.equal(j.generate['1'].same_tokens_as_pytorch, true);
  assert.ok(j.train_step.ratio_best_vs_best > 0 && j.generate['1'].ratio_best_vs_best > 0);
});

test('serve model: image_url (data: URL) and video_url (local file under the allowed root) as vLLM takes them', async () => {
  const { withModelServer } = await import('./server-helpers.js');
  const { loadProcessorConfigs } = await import('../dist/models/qwen2_vl/processor.js');
  const { generate } = await import('../dist/models/generate.js');
  const { visionPrompt } = await import('../dist/data/media.js');
  const dir = setup();
  try {
    const png = readFileSync(join(dir, 'img.png')).toString('base64');
    const content = [
      { type: 'video_url', video_url: { url: `file://${join(dir, 'clip')}` } },
      { type: 'image_url', image_url: { url: `data:image/png;base64,${png}` } },
      { type: 'text', text: 'which?' },
    ];
    const opts = { media: { processors: loadProcessorConfigs(MODEL), merge: 2, allowedLocalMediaPath: dir } };
    await withModelServer(
      opts,
      async (base, model, tok) => {
        const post = (messages) =>
          fetch(`${base}/v1/chat/completions`, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({ messages, max_tokens: 6, temperature: 0, n: 2 }),
          });
        const res = await post([{ role: 'user', content }]);
        const body = await res.json();
        assert.equal(res.status, 200, JSON.stringify(body));
        // the same request as a conversational row, generated in-process
        const row = {
          prompt: [
            {
              role: 'user',
              content: [{ type: 'video', path: 'clip' }, { type: 'image', path: 'img.png' }, content[2]],
            },
          ],
        };
        const vp = await visionPrompt(tok, row, { baseDir: dir, processors: opts.media.processors, merge: 2 }, 'row');
        const [local] = generate(model, [tok.encode(vp.text)], { maxNewTokens: 6, media: [vp.media] }, tok);
        assert.equal(body.choices.length, 2);
        for (const c of body.choices) assert.equal(c.message.content, local.text);
        const refuse = async (part, re) => {
          const r = await post([{ role: 'user', content: [part] }]);
          assert.equal(r.status, 400);
          assert.match((await r.json()).error.message, re);
        };
        await refuse({ type: 'image_url', image_url: { url: 'https://example.com/a.png' } }, /does not fetch URLs/);
        await refuse({ type: 'video_url', video_url: { url: '/etc/passwd' } }, /outside --allowed-local-media-path/);
        await refuse({ type: 'audio_url', audio_url: { url: 'x' } }, /must be \{"type": "text"/);
      },
      'qwen2_vl',
    );
    await withModelServer({}, async (base) => {
      const r = await fetch(`${base}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ messages: [{ role: 'user', content: [content[1]] }], max_tokens: 2 }),
      });
      assert.equal(r.status, 400);
      assert.match((await r.json()).error.message, /takes text only/);
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
