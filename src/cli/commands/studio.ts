// `pacer studio` (serve the preference studio) and `pacer studio import | annotator | export | stats`.
import { readFileSync, rmSync } from 'node:fs';
import { resolve } from 'node:path';
import { writeFileAtomic } from '../../util/atomic.js';
import { SYNC_MODES } from '../../studio/db.js';
import { EXPORT_FORMATS, exportRows } from '../../studio/export.js';
import { groupsFromJsonl, groupsFromRun } from '../../studio/import.js';
import { addGroups } from '../../studio/items.js';
import { Project } from '../../studio/project.js';
import '../../studio/scheme.js';
import { createStudioServer } from '../../studio/server.js';
import { PAIR_MODES, TASK_KINDS } from '../../studio/settings.js';
import { ratings } from '../../studio/stats.js';
import { Users, newToken } from '../../studio/users.js';
import { TIE_MODELS } from '../../preferences/bradley-terry.js';
import { UsageError, defineCommand, int, num, oneOf, output, str, type OptionValues } from '../command.js';
import { listenUntilSignal } from '../listen.js';

const LOOPBACK = /^(127\.\d+\.\d+\.\d+|::1|localhost)$/;
const data = { type: 'string', arg: 'DIR', help: 'the studio folder (users, projects/NAME/…)' } as const;
const project = { type: 'string', arg: 'NAME', help: 'the project' } as const;

function need(v: OptionValues, key: string, cmd: string): string {
  const x = str(v[key]);
  if (!x) throw new UsageError(`${cmd} needs --${key}`);
  return x;
}

function openProject(dir: string, name: string): Project {
  try {
    return Project.open(dir, name);
  } catch (e) {
    throw new UsageError((e as Error).message.replace(/^pacer: /, ''));
  }
}

export const studio = defineCommand({
  name: 'studio',
  summary: 'the preference studio: people compare and rank text and video in the browser',
  usage: 'pacer studio --data DIR [--port 8080] [--host 127.0.0.1] [--sync normal|full] [options]',
  description: `Serves the studio at http://HOST:PORT/ and prints one JSON line with the URL and the admin token
(a fresh one each start, or PACER_STUDIO_TOKEN's). Sign in with a token on the page; annotators get
theirs from 'pacer studio annotator --add NAME' or the admin page. Projects live in DIR/projects/NAME
(project.sqlite, media/), made by 'pacer studio import' or the JSON API (POST /api/projects,
/api/projects/NAME/media, /api/projects/NAME/groups; GET /api/projects/NAME/tasks/ID?wait=S waits for
answers — the ICPL loop's calls; see src/studio/server.ts). Every write needs a token; pages use a
session cookie plus a CSRF token. Binds 127.0.0.1 unless --host says otherwise (plain HTTP).
--sync full makes each vote survive a power cut too (one fsync per vote); normal survives kill -9.`,
  options: {
    data,
    port: { type: 'string', arg: 'P', help: 'port (0 picks a free one)', default: '8080' },
    host: { type: 'string', arg: 'H', help: 'address to bind', default: '127.0.0.1' },
    sync: { type: 'string', arg: 'S', help: `SQLite synchronous mode: ${SYNC_MODES.join(' or ')}`, default: 'normal' },
    'upload-limit-mb': { type: 'string', arg: 'MB', help: 'largest video upload', default: '256' },
    rounds: { type: 'string', arg: 'N', help: 'bootstrap resamples for the leaderboard intervals', default: '1000' },
  },
  async run(v) {
    const dir = resolve(need(v, 'data', 'studio'));
    const host = str(v.host) ?? '127.0.0.1';
    const env = process.env.PACER_STUDIO_TOKEN;
    if (env !== undefined && env.length < 16) throw new UsageError('PACER_STUDIO_TOKEN must be at least 16 characters');
    const adminToken = env ?? newToken('psa');
    const { server } = createStudioServer({
      dataDir: dir,
      adminToken,
      sync: oneOf(v.sync, 'sync', SYNC_MODES, 'normal'),
      uploadLimit: int(v['upload-limit-mb'], 'upload-limit-mb', 256) * 2 ** 20,
      rounds: int(v.rounds, 'rounds', 1000),
      log: (s) => console.error(s),
    });
    if (!LOOPBACK.test(host))
      console.error(
        `pacer: WARNING: the studio listens on ${host}, beyond this machine, over plain HTTP ` +
          '(tokens travel unencrypted)',
      );
    await listenUntilSignal(server, int(v.port, 'port', 8080, 0), host, (port) => ({
      url: `http://${host.includes(':') ? `[${host}]` : host}:${port}/`,
      port,
      host,
      data: dir,
      admin_token: env === undefined ? adminToken : '(PACER_STUDIO_TOKEN)',
    }));
    return 0;
  },
});

const SETTING_FLAGS = {
  task: { type: 'string', arg: 'T', help: `${TASK_KINDS.join(', ')} (new projects)`, default: 'pairwise' },
  overlap: { type: 'string', arg: 'N', help: 'annotators per task', default: '1' },
  pairs: { type: 'string', arg: 'M', help: `pairwise: ${PAIR_MODES.join(' or ')} pairs`, default: 'all' },
  budget: { type: 'string', arg: 'N', help: 'pairs: active — at most N pair tasks', default: 'every pair' },
  ties: { type: 'string', arg: 'T', help: `ratings: ties as ${TIE_MODELS.join(' or ')}`, default: 'half' },
  prior: { type: 'string', arg: 'X', help: 'ratings: virtual ties per item (0: plain MLE)', default: '1' },
  title: { type: 'string', arg: 'TEXT', help: 'the title on the pages' },
  guidelines: { type: 'string', arg: 'FILE.md', help: 'Markdown shown above every task' },
} as const;

function settingsFrom(v: OptionValues): Record<string, unknown> {
  const s: Record<string, unknown> = {};
  if (v.task !== undefined) s.task = oneOf(v.task, 'task', TASK_KINDS, 'pairwise');
  if (v.overlap !== undefined) s.overlap = int(v.overlap, 'overlap', 1);
  if (v.pairs !== undefined) s.pairs = oneOf(v.pairs, 'pairs', PAIR_MODES, 'all');
  if (v.budget !== undefined) s.budget = int(v.budget, 'budget', 1);
  if (v.ties !== undefined) s.ties = oneOf(v.ties, 'ties', TIE_MODELS, 'half');
  if (v.prior !== undefined) s.prior = num(v.prior, 'prior');
  if (v.title !== undefined) s.title = str(v.title);
  if (v.guidelines !== undefined) s.guidelines = readFileSync(str(v.guidelines)!, 'utf8');
  return s;
}

export const studioImport = defineCommand({
  name: 'studio import',
  summary: 'make or extend a studio project from JSONL (text or video candidates) or a run’s completions',
  usage: 'pacer studio import --data DIR --project NAME (--jsonl FILE | --run OUTPUT_DIR) [--task T] [options]',
  description: `--jsonl lines: {"prompt", "completions": [...], "models"?}, TRL {"prompt", "completion", "model"?}
(lines sharing a prompt are its candidates), TRL {"prompt", "chosen", "rejected"} (to audit), or
{"prompt", "videos": [paths], "models"?, "segments"?} / {"prompt", "video", "model"?}; optional "gold"
(a rank per candidate), "category" or "subset". --run reads OUTPUT_DIR/completions.jsonl (online
trainers with log_completions: true): each prompt's completions at a step become its candidates.
A new project takes the settings flags; an existing one keeps its task and takes the rest.`,
  options: {
    data,
    project,
    jsonl: { type: 'string', arg: 'FILE', help: 'a JSONL file' },
    run: { type: 'string', arg: 'DIR', help: "a pacer run's output_dir" },
    ...SETTING_FLAGS,
    json: { type: 'boolean', help: 'print one JSON line' },
  },
  run(v) {
    const dir = resolve(need(v, 'data', 'studio import'));
    const name = need(v, 'project', 'studio import');
    const file = str(v.jsonl),
      run = str(v.run);
    if (!file === !run) throw new UsageError('studio import needs exactly one of --jsonl FILE and --run DIR');
    const s = settingsFrom(v);
    let p: Project;
    let created = false;
    try {
      if (Project.exists(dir, name)) {
        p = Project.open(dir, name);
        if (Object.keys(s).length) p.updateSettings(s);
      } else {
        p = Project.create(dir, name, s);
        created = true;
      }
    } catch (e) {
      throw new UsageError((e as Error).message.replace(/^pacer: /, ''));
    }
    let r: { groups: number[]; tasks: number[] };
    try {
      r = addGroups(p, file ? groupsFromJsonl(p, file) : groupsFromRun(run!));
    } catch (e) {
      p.close();
      if (created) rmSync(p.dir, { recursive: true, force: true }); // no half-made project stays behind
      throw e;
    }
    p.close();
    const out = { project: name, created, groups: r.groups.length, tasks: r.tasks.length, folder: p.dir };
    output(!!v.json, out, () =>
      console.log(`${created ? 'created' : 'extended'} ${name}: ${out.groups} prompts, ${out.tasks} tasks (${p.dir})`),
    );
    return 0;
  },
});

export const studioAnnotator = defineCommand({
  name: 'studio annotator',
  summary: 'add studio annotators (prints their token once), give a new token, or list them',
  usage: 'pacer studio annotator --data DIR (--add NAME [--admin] | --rotate NAME | --list)',
  options: {
    data,
    add: { type: 'string', arg: 'NAME', help: 'add a person; prints the token' },
    admin: { type: 'boolean', help: 'with --add: an admin rather than an annotator' },
    rotate: { type: 'string', arg: 'NAME', help: 'a new token for NAME (the old one and its sessions stop working)' },
    list: { type: 'boolean', help: 'list the people' },
  },
  run(v) {
    const users = new Users(resolve(need(v, 'data', 'studio annotator')));
    try {
      const add = str(v.add),
        rotate = str(v.rotate);
      if ([add, rotate, v.list].filter(Boolean).length !== 1)
        throw new UsageError('studio annotator needs one of --add NAME, --rotate NAME, --list');
      if (v.admin && !add) throw new UsageError('--admin goes with --add');
      if (v.list) for (const u of users.list()) console.log(JSON.stringify(u));
      else {
        const who = (add ?? rotate)!;
        let token: string;
        try {
          token = add ? users.add(add, v.admin ? 'admin' : 'annotator') : users.rotate(who);
        } catch (e) {
          throw new UsageError((e as Error).message.replace(/^pacer: /, ''));
        }
        console.log(JSON.stringify({ name: who, token }));
      }
    } finally {
      users.close();
    }
    return 0;
  },
});

export const studioExport = defineCommand({
  name: 'studio export',
  summary: 'a studio project’s votes as TRL JSONL: preference pairs, all pairs per prompt, or KTO rows',
  usage:
    'pacer studio export --data DIR --project NAME --out FILE.jsonl [--format preference] [--ties drop] ' +
    '[--aggregate vote]',
  description: `preference: {"prompt", "chosen", "rejected"} (pairwise winners; best over worst; top over bottom
rank; Likert highest over lowest mean with "margin"); pairs: every pair a judgment implies, grouped
per prompt ("group"); kto: {"prompt", "completion", "label"}. --ties keep keeps ties and "both bad"
with "outcome"; --aggregate majority gives one row per task and pair by majority vote. Rows keep
annotator, task, duration_ms, category and the systems. Written through a temp file and a rename.`,
  options: {
    data,
    project,
    out: { type: 'string', arg: 'FILE', help: 'the JSONL to write' },
    format: { type: 'string', arg: 'F', help: EXPORT_FORMATS.join(', '), default: 'preference' },
    ties: { type: 'string', arg: 'T', help: 'drop or keep', default: 'drop' },
    aggregate: { type: 'string', arg: 'A', help: 'vote or majority', default: 'vote' },
  },
  run(v) {
    const out = need(v, 'out', 'studio export');
    const p = openProject(resolve(need(v, 'data', 'studio export')), need(v, 'project', 'studio export'));
    try {
      const rows = exportRows(p, {
        format: oneOf(v.format, 'format', EXPORT_FORMATS, 'preference'),
        ties: oneOf(v.ties, 'ties', ['drop', 'keep'] as const, 'drop'),
        aggregate: oneOf(v.aggregate, 'aggregate', ['vote', 'majority'] as const, 'vote'),
      });
      writeFileAtomic(out, rows.map((r) => `${JSON.stringify(r)}\n`).join(''));
      console.log(JSON.stringify({ rows: rows.length, out }));
    } finally {
      p.close();
    }
    return 0;
  },
});

export const studioStats = defineCommand({
  name: 'studio stats',
  summary: 'a studio project’s leaderboard: Bradley–Terry ratings with bootstrap intervals, Elo',
  usage: 'pacer studio stats --data DIR --project NAME [--rounds 1000] [--json]',
  options: {
    data,
    project,
    rounds: { type: 'string', arg: 'N', help: 'bootstrap resamples', default: '1000' },
    json: { type: 'boolean', help: 'print one JSON object' },
  },
  run(v) {
    const p = openProject(resolve(need(v, 'data', 'studio stats')), need(v, 'project', 'studio stats'));
    try {
      const r = ratings(p, int(v.rounds, 'rounds', 1000));
      output(!!v.json, r, () => {
        if (r.note) console.log(r.note);
        for (const x of r.rows)
          console.log(
            `${String(x.rank).padStart(3)}  ${x.name.padEnd(24)} ${String(x.rating).padStart(8)}  ` +
              `[${x.lower}, ${x.upper}]`,
          );
      });
    } finally {
      p.close();
    }
    return 0;
  },
});
