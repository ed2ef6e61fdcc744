// Images and videos in chat requests, as vLLM takes them: content parts
//   {"type": "image_url", "image_url": {"url": U}} and {"type": "video_url", "video_url": {"url": U}}
// with U a data: URL (base64) or a local file (file:///path or /path), which, as vLLM's
// --allowed-local-media-path, is read only from under a directory the server was started with.
// The server cannot fetch http(s) URLs. Each part is replaced by {"type": "image"} / {"type": "video"}
// for the chat template, and the media go through the model's processor (src/data/media.ts). With a frame
// selector (serve model --frame-agent) each video's frames are those it picks for the user turns' text.
import { mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { isAbsolute, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type FrameSelector, processRowMedia, rowQuestion, type VisionItem } from '../data/media.js';
import type { PromptMedia } from '../models/generate.js';
import type { ProcessorConfig } from '../models/qwen2_vl/processor.js';
import { HttpError } from './http.js';

export interface ServerMediaOptions {
  processors: { image: ProcessorConfig; video: ProcessorConfig };
  merge: number;
  /** Local media files load only from under this directory; without it only data: URLs are accepted. */
  allowedLocalMediaPath?: string;
  videoFps?: number;
  /** Chooses each video's frames for the request's question (a TSPO agent: serve model --frame-agent). */
  frameSelector?: FrameSelector;
}

export interface ChatMedia {
  media: PromptMedia;
  grids: { image: number[][]; video: number[][] };
  merge: number;
}

const EXT: Record<string, string> = {
  'image/png': '.png',
  'image/jpeg': '.jpg',
  'image/webp': '.webp',
  'image/gif': '.gif',
  'video/mp4': '.mp4',
  'video/webm': '.webm',
  'video/quicktime': '.mov',
};

const bad = (msg: string) => new HttpError(400, msg, { param: 'messages' });

/** A local path for a part's URL: a data: URL written to `tmp`, or a file under the allowed root. */
function sourceOf(url: string, where: string, o: ServerMediaOptions, tmp: () => string, k: number): string {
  const data = /^data:([\w/.+-]+)?(;[^,]*)?,/.exec(url);
  if (data) {
    if (!data[2]?.includes('base64')) throw bad(`${where}: only base64 data: URLs are accepted`);
    const file = join(tmp(), `${k}${EXT[data[1] ?? ''] ?? '.bin'}`);
    writeFileSync(file, Buffer.from(url.slice(data[0].length), 'base64'));
    return file;
  }
  if (/^https?:/i.test(url))
    throw bad(`${where}: this server does not fetch URLs; send a data: URL or a local file path`);
  const path = url.startsWith('file:') ? fileURLToPath(url) : url;
  if (!o.allowedLocalMediaPath || !isAbsolute(path))
    throw bad(`${where}: local media files are read only under --allowed-local-media-path (not set, or not absolute)`);
  let real: string;
  try {
    real = realpathSync(path);
  } catch {
    throw bad(`${where}: no such file: ${path}`);
  }
  const rel = relative(o.allowedLocalMediaPath, real);
  if (rel.startsWith('..') || isAbsolute(rel)) throw bad(`${where}: ${path} is outside --allowed-local-media-path`);
  return real;
}

/**
 * Replace a chat request's image_url / video_url parts by template parts, in place, and process their
 * media; null when the request has none. Throws 400 with what is wrong and where.
 */
export async function resolveChatMedia(
  body: Record<string, unknown>,
  o: ServerMediaOptions | null,
): Promise<ChatMedia | null> {
  const msgs = Array.isArray(body.messages) ? body.messages : [];
  // the question a frame selector reads: the user turns' text, as for a conversational data row
  const question = o?.frameSelector ? rowQuestion({ prompt: msgs }) : '';
  const items: VisionItem[] = [];
  let dir: string | null = null;
  const tmp = () => (dir ??= mkdtempSync(join(tmpdir(), 'pacer-media-')));
  try {
    msgs.forEach((m, i) => {
      if (!Array.isArray(m?.content)) return;
      m.content = m.content.map((p: any, j: number) => {
        if (p?.type !== 'image_url' && p?.type !== 'video_url') return p;
        const kind = p.type === 'image_url' ? 'image' : 'video';
        const where = `messages[${i}].content[${j}]`;
        if (!o) throw bad(`${where}: this model takes text only (it has no vision tower)`);
        const v = p[p.type];
        const url = typeof v === 'string' ? v : v?.url;
        if (typeof url !== 'string') throw bad(`${where}: expected {"${p.type}": {"url": "…"}}`);
        items.push({ kind, source: sourceOf(url, where, o, tmp, items.length) });
        return { type: kind };
      });
    });
    if (!items.length) return null;
    try {
      const { media, grids } = await processRowMedia(
        items,
        { baseDir: '/', videoFps: o!.videoFps, processors: o!.processors, frameSelector: o!.frameSelector },
        'request',
        question,
      );
      return { media: media!, grids, merge: o!.merge };
    } catch (e) {
      throw bad((e as Error).message.replace(/^pacer: /, ''));
    }
  } finally {
    if (dir) rmSync(dir, { recursive: true, force: true });
  }
}
