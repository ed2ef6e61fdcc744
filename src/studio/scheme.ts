// `studio:PROJECT_DIR[?format=preference|pairs|kto&aggregate=vote|majority]` as a dataset for
// `pacer train` (train_dataset / eval_dataset): the project's votes exported as TRL rows
// (src/studio/export.ts; ties are always dropped here — a tie is not a preference). PROJECT_DIR is the
// project's folder, DATA/projects/NAME, relative to the config file. Registered on import.
import { createHash } from 'node:crypto';
import { registerDatasetScheme } from '../data/schemes.js';
import { type ExportOptions, exportRows } from './export.js';
import { Project } from './project.js';

function parse(rest: string): { dir: string; o: ExportOptions } {
  const q = rest.indexOf('?');
  const dir = q < 0 ? rest : rest.slice(0, q);
  const params = new URLSearchParams(q < 0 ? '' : rest.slice(q + 1));
  const o: ExportOptions = {};
  for (const [k, v] of params) {
    if (k === 'format') o.format = v as ExportOptions['format'];
    else if (k === 'aggregate') o.aggregate = v as ExportOptions['aggregate'];
    else if (k === 'ties' && v !== 'drop')
      throw new Error(`pacer: studio:${rest}: ties=${v} rows are not preferences; train on ties dropped`);
    else if (k !== 'ties') throw new Error(`pacer: studio:${rest}: unknown option '${k}' (format, aggregate)`);
  }
  return { dir, o };
}

function rowsOf(rest: string): Array<Record<string, unknown>> {
  const { dir, o } = parse(rest);
  const p = Project.openDir(dir);
  try {
    return exportRows(p, o);
  } finally {
    p.close();
  }
}

registerDatasetScheme('studio', {
  async rows(rest) {
    const rows = rowsOf(rest);
    if (rows.length === 0) throw new Error(`pacer: studio:${rest}: the project has no votes that make rows yet`);
    return rows.map((value, i) => ({ where: `studio:${rest} row ${i + 1}`, value }));
  },
  digest(rest) {
    const rows = rowsOf(rest);
    return `${rows.length}:${createHash('sha256').update(JSON.stringify(rows)).digest('hex').slice(0, 16)}`;
  },
});
