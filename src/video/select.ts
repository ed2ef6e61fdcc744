// Frame selection with a trained TSPO agent (./sampler-agent.ts) as a plug-in for any video model: the
// agent folder (config.json names its frame encoder) scores every frame of a video against a question
// and picks k frames (`topk` or `bin-max`); the indices and timestamps (index / fps) go to a pacer
// video model or, as a list, to any external one. `pacer video select` prints them.
import { isAbsolute, resolve } from 'node:path';
import { noGrad, scope } from '../engine/index.js';
import { FeatureCache, loadFrameEncoder } from './frame-features.js';
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
}

/** Choose k frames of `video` for `question` with the agent saved in `agentDir`. */
export async function selectWithAgent(
  agentDir: string,
  video: string,
  question: string,
  o: SelectOptions,
): Promise<Selection> {
  const { agent, config } = TemporalAgent.load(agentDir);
  const encDir = config.frame_encoder;
  if (typeof encDir !== 'string')
    throw new Error(`pacer: ${agentDir}/config.json names no frame_encoder; the agent cannot read frames without one`);
  const enc = loadFrameEncoder(isAbsolute(encDir) ? encDir : resolve(agentDir, encDir));
  const cache = new FeatureCache(o.cacheDir ?? null);
  try {
    const info = await probeVideo(video);
    const f = await cache.frames(video, enc);
    const s = noGrad(() =>
      scope(() => agent.scores(f, enc.encodeText([question]), Number(config.tau) || 0.01).toArray() as number[]),
    );
    const indices = selectFrames(s, Math.min(o.k, s.length), o.mode ?? 'topk');
    const round = (t: number) => Math.round(t * 1e6) / 1e6;
    return { indices, timestamps: indices.map((i) => round(i / info.fps)), fps: info.fps, frames: s.length };
  } finally {
    cache.clear();
    enc.dispose();
    agent.dispose();
  }
}
