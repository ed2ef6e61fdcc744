// Every `pacer` command, in the order `pacer --help` lists them. A new command is one file under
// src/cli/commands/ exporting a defineCommand() record, plus one line here.
import type { Command } from './command.js';
import { demo, demoText, demoVideo } from './commands/demo.js';
import { train } from './commands/train.js';
import { launchCmd } from './commands/launch.js';
import { logprobs, generateCmd } from './commands/models.js';
import { serveModel, serveRewards } from './commands/serve.js';
import { evalGrounding, evalMcq, evalVinoground } from './commands/eval.js';
import { evalRewards } from './commands/eval-rewards.js';
import {
  benchEngineCmd,
  benchGenerateCmd,
  benchDpoCmd,
  benchGrpoCmd,
  benchVideoCmd,
  benchDdpCmd,
  benchVlmCmd,
  benchPpoCmd,
  benchEnvsCmd,
  benchTspoCmd,
} from './commands/bench.js';
import { videoMake } from './commands/video.js';
import { icpl } from './commands/icpl.js';
import { videoSelect } from './commands/video-select.js';
import { dataFilterCmd } from './commands/data.js';
import { studio, studioAnnotator, studioExport, studioImport, studioStats } from './commands/studio.js';
import { setup } from './commands/setup.js';
import { recipe } from './commands/recipe.js';
import { templePairs } from './commands/temple.js';

export const COMMANDS: Command[] = [
  demo,
  demoText,
  demoVideo,
  train,
  launchCmd,
  serveModel,
  serveRewards,
  logprobs,
  generateCmd,
  videoMake,
  icpl,
  videoSelect,
  dataFilterCmd,
  recipe,
  templePairs,
  studio,
  studioImport,
  studioAnnotator,
  studioExport,
  studioStats,
  evalGrounding,
  evalMcq,
  evalVinoground,
  evalRewards,
  benchEngineCmd,
  benchGenerateCmd,
  benchDpoCmd,
  benchGrpoCmd,
  benchVideoCmd,
  benchDdpCmd,
  benchVlmCmd,
  benchPpoCmd,
  benchEnvsCmd,
  benchTspoCmd,
  setup,
];
