// Frame selection with a trained TSPO agent (./sampler-agent.ts) as a plug-in for any video model: the
// agent folder (config.json names its frame encoder) scores every frame of a video against a question
// and picks k frames (`topk` or `bin-max`); the indices and timestamps (index / fps) go to a pacer
// video model or, as a list, to any external one. `pacer video select` prints them; FrameAgent is the
// frame selector `pacer generate --frame-agent` and the media path (src/data/media.ts) use.
import { isAbsolute, resolve } from 'node:path';
import { noGrad, scope } from '../engine/index.js';
import { FeatureCache, type FrameEncoder, loadFrameEncoder } from './frame-features.js';
import './histogram-encoder.js'; // registers the colour_histogram encoder type
import { probeVideo } from './probe.js';
import { type SelectMode, TemporalAgent, selectFrames } from './sampler-agent.js';

export interface Selection {
  /** Chosen frame indices, ascending. */
  indices: number[];
  /** Their times in seconds (index / fps). */
  timestamps: number[];
  fps: number;
  /** Frames in the video. */
  frames: number;
}

export interface SelectOptions {
  k: number;
  mode?: SelectMode;
  /** Keep frame features here (.safetensors per video and encoder). */
  cacheDir?: string | null;
  /**
   * Keep each video's features in memory for later questions about it (default true); a server whose
   * videos arrive as temporary files turns it off, so memory does not grow with the requests.
   */
  memo?: boolean;
}

/**
 * A trained agent loaded once (with its frame encoder) that chooses frames for many (video, question)
 * pairs; a FrameSelector for the media path (src/data/media.ts), so a pacer video model sees its frames.
 */
export class FrameAgent {
  private constructor(
    private readonly agent: TemporalAgent,
    private readonly enc: FrameEncoder,
    private readonly cache: FeatureCache,
    private readonly tau: number,
    readonly k: number,
    readonly mode: SelectMode,
    private readonly memo: boolean,
  ) {}

  /** Load DIR; k and mode default to the agent's config (num_frames, select), else 16 and topk. */
  static load(dir: string, o: Partial<SelectOptions> = {}): FrameAgent {
    const { agent, config } = TemporalAgent.load(dir);
    try {
      const encDir = config.frame_encoder;
      if (typeof encDir !== 'string')
        throw new Error(`pacer: ${dir}/config.json names no frame_encoder; the agent cannot read frames without one`);
      const k = o.k ?? (Number.isInteger(config.num_frames) ? config.num_frames : 16);
      if (!Number.isInteger(k) || k < 1)
        throw new RangeError(`pacer: the number of frames to choose must be >= 1, got ${k}`);
      const mode = o.mode ?? (config.select === 'bin-max' ? 'bin-max' : 'topk');
      const enc = loadFrameEncoder(isAbsolute(encDir) ? encDir : resolve(dir, encDir));
      const cache = new FeatureCache(o.cacheDir ?? null);
      return new FrameAgent(agent, enc, cache, Number(config.tau) || 0.01, k, mode, o.memo ?? true);
    } catch (e) {
      agent.dispose();
      throw e;
    }
  }

  /** The agent's k frames of `video` (a file ffmpeg reads, or a .npz frame array) for `question`. */
  async select(video: string, question: string): Promise<Selection> {
    const info = await probeVideo(video);
    const f = this.memo ? await this.cache.frames(video, this.enc) : await this.cache.compute(video, this.enc);
    let s: number[];
    try {
      s = noGrad(() =>
        scope(() => this.agent.scores(f, this.enc.encodeText([question]), this.tau).toArray() as number[]),
      );
    } finally {
      if (!this.memo) f.dispose();
    }
    const indices = selectFrames(s, Math.min(this.k, s.length), this.mode);
    const round = (t: number) => Math.round(t * 1e6) / 1e6;
    return { indices, timestamps: indices.map((i) => round(i / info.fps)), fps: info.fps, frames: s.length };
  }

  dispose(): void {
    this.cache.clear();
    this.enc.dispose();
    this.agent.dispose();
  }
}

/** Choose k frames of `video` for `question` with the agent saved in `agentDir`. */
export async function selectWithAgent(
  agentDir: string,
  video: string,
  question: string,
  o: SelectOptions,
): Promise<Selection> {
  const fa = FrameAgent.load(agentDir, o);
  try {
    return await fa.select(video, question);
  } finally {
    fa.dispose();
  }
}
