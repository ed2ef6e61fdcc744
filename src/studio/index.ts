// pacer/studio: the preference studio — projects (SQLite, one file each), the HTTP server and its
// pages, import from JSONL or a run's completions, TRL export, and the `studio:` dataset scheme
// (registered when this module loads).
import './scheme.js';

export { createStudioServer } from './server.js';
export { Studio, type StudioOptions } from './studio.js';
export { Project, type GroupInput, type CandidateInput, type Segment } from './project.js';
export { DEFAULT_SETTINGS, TASK_KINDS, parseSettings, type ProjectSettings, type TaskKind } from './settings.js';
export { addGroups } from './items.js';
export { groupsFromJsonl, groupsFromRun } from './import.js';
export { exportRows, EXPORT_FORMATS, type ExportOptions, type ExportFormat } from './export.js';
export { ratings, agreement, progress, labelAgreement, type Ratings, type Agreement, type Progress } from './stats.js';
export { renderMarkdown, escapeHtml, wordDiff } from './markdown.js';
export { Users } from './users.js';
