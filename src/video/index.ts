/**
 * pacer/video: video I/O through ffmpeg (probe, decode to uint8/float tensors, encode MP4/WebM/GIF),
 * frame arrays (.npz), frame sampling (uniform, qwen-vl-utils fps, TSN segments, scene changes,
 * explicit), a frame cache, the rasterizer and bitmap font, PNG encoding, and procedural video worlds.
 *
 * @module pacer/video
 */
export { VideoError, liveProcesses, ffmpegBin, ffprobeBin, DEFAULT_TIMEOUT_MS } from './ffmpeg.js';
export { probeVideo, type VideoInfo, type ProbeOptions } from './probe.js';
export {
  decodeFrames,
  decodeFramesFloat,
  iterFrames,
  toFloatFrames,
  timestampToIndex,
  selectionIndices,
  type FrameSelection,
  type DecodeOptions,
  type DecodedFrame,
  type FloatOptions,
  type Interpolation,
} from './decode.js';
export { encodeVideo, type EncodeOptions, type VideoFormat, type FrameSource } from './encode.js';
export { encodeFramesNpz, readFramesNpz, encodeNpz, decodeNpz, type FramesArray, type NpyArray } from './npz.js';
export { encodePng, crc32 } from './png.js';
export {
  uniformSample,
  fpsSample,
  smartNframes,
  segmentSample,
  sceneSample,
  sceneScores,
  explicitSample,
  linspaceF32,
  roundHalfEven,
  type Sampled,
  type FpsOptions,
  type SegmentOptions,
  type SceneOptions,
} from './sampling.js';
export { FrameCache } from './cache.js';
export * from './raster.js';
export { drawText, textWidth } from './font.js';
export * as worlds from './worlds/index.js';
export { makeDataset, WORLDS } from './worlds/index.js';
export * from './perturb.js';
export {
  TemporalAgent,
  SELECT_MODES,
  selectFrames,
  gumbelTopK,
  chosenLogProbs,
  annealedTau,
  clipScores,
  type AgentConfig,
  type SelectMode,
} from './sampler-agent.js';
export {
  FeatureCache,
  PooledVLMEncoder,
  ProjectionHeads,
  allFrames,
  clipLoss,
  contrastiveWarmup,
  createPooledEncoder,
  loadFrameEncoder,
  registerFrameEncoder,
  type FrameEncoder,
  type EncoderLoader,
  type WarmupOptions,
} from './frame-features.js';
export { HistogramEncoder, colourHistograms, bagsOfWords } from './histogram-encoder.js';
export { FrameAgent, selectWithAgent, type Selection, type SelectOptions } from './select.js';
export { VlmAnswerer, type VlmAnswererOptions } from './vlm-answerer.js';
export {
  makeAnswerer,
  registerAnswerer,
  answererNames,
  readVideoQuestions,
  accuracyReward,
  temporalReward,
  optionLetter,
  type Answerer,
  type AnswererOptions,
  type VideoQuestion,
} from './answerers.js';
