// The 'vlm' answerer for learned frame sampling (TSPO, Tang et al., arXiv 2508.04369): a frozen pacer
// Qwen2-VL / Qwen2.5-VL model folder (Hugging Face layout with tokenizer, chat template and processor
// configs, e.g. `pacer recipe vlm-base`'s DIR/model) answers a question about a video from the chosen
// frames only, greedily (TSPO's answerer decodes at temperature 0, so the only randomness is the frame
// choice). The prompt is the row's question as one user turn with the video first — the chat template's
// <|vision_start|><|video_pad|><|vision_end|> expanded to the frames' tokens, as HF's processor does —
// and the chosen frames keep their timestamps in M-RoPE (src/data/media.ts chosenFramesVision). A video's
// frames are decoded once and kept while the same video is asked about (the G subsets of a group).
import { type Frames, expandVisionPads, framesFromTensor, loadProcessorConfigs } from '../models/qwen2_vl/processor.js';
import { Qwen2VLForConditionalGeneration } from '../models/qwen2_vl/model.js';
import { fromPretrained, type PretrainedModel } from '../models/pretrained.js';
import { generate } from '../models/generate.js';
import { noGrad, scope } from '../engine/index.js';
import { Tokenizer } from '../tokenizers/index.js';
import { chosenFramesVision, rowPixels } from '../data/media.js';
import { type Answerer, type VideoQuestion, registerAnswerer } from './answerers.js';
import { allFrames } from './frame-features.js';
import { probeVideo } from './probe.js';

export interface VlmAnswererOptions {
  /** Tokens to generate per answer (default 8: an option letter and the end token). */
  maxNewTokens?: number;
}

export class VlmAnswerer implements Answerer {
  readonly name = 'vlm';
  private readonly pm: PretrainedModel;
  private readonly tok: Tokenizer;
  private readonly processors: ReturnType<typeof loadProcessorConfigs>;
  private readonly merge: number;
  private video: { file: string; frames: Frames; fps: number } | null = null;

  constructor(
    readonly dir: string,
    private readonly o: VlmAnswererOptions = {},
  ) {
    this.pm = fromPretrained(dir);
    if (!(this.pm.model instanceof Qwen2VLForConditionalGeneration)) {
      this.pm.model.dispose();
      throw new Error(`pacer: answerer vlm: ${dir} is a ${this.pm.modelType} model, not Qwen2-VL / Qwen2.5-VL`);
    }
    this.merge = this.pm.model.vl.vision.merge;
    this.tok = Tokenizer.fromPretrained(dir);
    this.processors = loadProcessorConfigs(dir);
  }

  private async framesOf(file: string): Promise<{ frames: Frames; fps: number }> {
    if (this.video?.file !== file) {
      const t = await allFrames(file);
      const frames = framesFromTensor(t, file);
      t.dispose();
      this.video = { file, frames, fps: (await probeVideo(file)).fps };
    }
    return this.video;
  }

  /** The prompt text (chat template, generation prompt) with the video's pads expanded for `grid`. */
  promptText(question: string, grid: number[]): string {
    const msgs = [{ role: 'user', content: [{ type: 'video' }, { type: 'text', text: question }] }];
    const text = this.tok.applyChatTemplate(msgs as any, { addGenerationPrompt: true });
    return expandVisionPads(text, { image: [], video: [grid] }, this.merge, 'answerer vlm');
  }

  async answer(q: VideoQuestion, frames: readonly number[]): Promise<string> {
    if (!frames.length) throw new RangeError(`pacer: answerer vlm: ${q.where}: no frames chosen`);
    const { frames: all, fps } = await this.framesOf(q.video);
    const rv = chosenFramesVision(all, frames, fps, this.processors, q.video);
    const ids = this.tok.encode(this.promptText(q.question, rv.grids.video[0]));
    const [g] = noGrad(() =>
      scope(() =>
        generate(this.pm.model, [ids], { maxNewTokens: this.o.maxNewTokens ?? 8, media: [rowPixels(rv)] }, this.tok),
      ),
    );
    return (g.text ?? '').trim();
  }

  dispose(): void {
    this.pm.model.dispose();
    this.video = null;
  }
}

registerAnswerer('vlm', (o) => {
  if (typeof o.model !== 'string' || !o.model)
    throw new RangeError('pacer: answerer vlm needs a model folder (answerer_model)');
  return new VlmAnswerer(o.model, { maxNewTokens: o.max_new_tokens === undefined ? 8 : Number(o.max_new_tokens) });
});
