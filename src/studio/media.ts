// Media of a project: video files inside DATA/projects/NAME/media/, named by their content hash. A
// request names a file, never a path: the name must be a plain file name, the file must resolve
// (symlinks followed) to a regular file inside the project's media folder, and it is served with
// HTTP range requests (which players need to seek). Imports copy files in; uploads stream to a temp
// file under a byte limit, are checked for an MP4 or WebM header, then renamed into place.
import { createHash, randomBytes } from 'node:crypto';
import {
  closeSync,
  copyFileSync,
  createReadStream,
  createWriteStream,
  existsSync,
  openSync,
  readSync,
  realpathSync,
  renameSync,
  rmSync,
  statSync,
} from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { extname, join, sep } from 'node:path';
import { HttpError } from '../server/http.js';

export const MEDIA_TYPES: Record<string, string> = { '.mp4': 'video/mp4', '.webm': 'video/webm' };
const NAME_RE = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/;

/** The real path of a media file of this folder, or null when the name or the file is not acceptable. */
export function resolveMedia(mediaDir: string, name: string): string | null {
  if (!NAME_RE.test(name) || name.includes('..') || !(extname(name).toLowerCase() in MEDIA_TYPES)) return null;
  let root: string, real: string;
  try {
    root = realpathSync(mediaDir);
    real = realpathSync(join(mediaDir, name));
  } catch {
    return null;
  }
  if (!real.startsWith(root + sep)) return null; // a symlink that leads out of the folder
  try {
    return statSync(real).isFile() ? real : null;
  } catch {
    return null;
  }
}

/** Which container the first bytes announce: 'mp4' (an ftyp box), 'webm' (EBML), or null. */
export function sniffVideo(head: Buffer): '.mp4' | '.webm' | null {
  if (head.length >= 8 && head.toString('latin1', 4, 8) === 'ftyp') return '.mp4';
  if (head.length >= 4 && head.readUInt32BE(0) === 0x1a45dfa3) return '.webm';
  return null;
}

function headOf(file: string): Buffer {
  const fd = openSync(file, 'r');
  try {
    const b = Buffer.alloc(16);
    return b.subarray(0, readSync(fd, b, 0, 16, 0));
  } finally {
    closeSync(fd);
  }
}

function hashFile(file: string): string {
  const h = createHash('sha256');
  const fd = openSync(file, 'r');
  const buf = Buffer.alloc(1 << 20);
  try {
    for (let n = readSync(fd, buf); n > 0; n = readSync(fd, buf)) h.update(buf.subarray(0, n));
  } finally {
    closeSync(fd);
  }
  return h.digest('hex').slice(0, 32);
}

/** Copy a video into the media folder; returns its name there (the same content gets the same name). */
export function importMedia(mediaDir: string, src: string, where: string): string {
  if (!existsSync(src)) throw new Error(`pacer: ${where}: video ${src} does not exist`);
  if (!statSync(src).isFile()) throw new Error(`pacer: ${where}: video ${src} is not a file`);
  const ext = sniffVideo(headOf(src));
  if (!ext) throw new Error(`pacer: ${where}: ${src} is not an MP4 or WebM video (its first bytes say otherwise)`);
  const name = `${hashFile(src)}${ext}`;
  const dst = join(mediaDir, name);
  if (!existsSync(dst)) {
    const tmp = join(mediaDir, `.import-${randomBytes(6).toString('hex')}`);
    copyFileSync(src, tmp);
    renameSync(tmp, dst);
  }
  return name;
}

/**
 * Receive an uploaded video (the raw request body) of at most `limit` bytes into the media folder.
 * Over the limit: 413 with Connection: close — declared sizes are refused before reading; a body that
 * turns out larger is drained (up to 1 MiB more, then the socket is cut) so the answer is not lost
 * to a reset, as src/server/http.ts does for JSON bodies; the partial file is removed.
 */
export function receiveUpload(req: IncomingMessage, mediaDir: string, limit: number): Promise<string> {
  const tooLarge = () =>
    new HttpError(413, `uploads are limited to ${limit} bytes`, { headers: { connection: 'close' } });
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) return Promise.reject(tooLarge());
  const tmp = join(mediaDir, `.upload-${randomBytes(8).toString('hex')}`);
  const out = createWriteStream(tmp, { flags: 'wx' });
  const h = createHash('sha256');
  let size = 0;
  let over = false;
  let head = Buffer.alloc(0);
  return new Promise<string>((resolve, reject) => {
    const fail = (e: Error) => {
      out.destroy();
      rmSync(tmp, { force: true });
      reject(e);
    };
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (over || size > limit) {
        if (!over) out.destroy();
        over = true;
        if (size > limit + 2 ** 20) {
          req.destroy();
          fail(tooLarge());
        }
        return;
      }
      if (head.length < 16) head = Buffer.concat([head, c.subarray(0, 16)]);
      h.update(c);
      if (!out.write(c)) req.pause();
    });
    out.on('drain', () => req.resume());
    req.on('error', fail);
    req.on('end', () => {
      if (over) return fail(tooLarge());
      out.end(() => {
        const ext = sniffVideo(head);
        if (!ext) return fail(new HttpError(415, 'the upload is not an MP4 or WebM video'));
        const name = `${h.digest('hex').slice(0, 32)}${ext}`;
        renameSync(tmp, join(mediaDir, name));
        resolve(name);
      });
    });
  });
}

/** Serve a resolved media file, honouring a single "Range: bytes=a-b" request. */
export function serveMedia(req: IncomingMessage, res: ServerResponse, real: string): void {
  const size = statSync(real).size;
  const type = MEDIA_TYPES[extname(real).toLowerCase()];
  const headers: Record<string, string | number> = {
    'content-type': type,
    'accept-ranges': 'bytes',
    'cache-control': 'private, max-age=3600',
    'x-content-type-options': 'nosniff',
  };
  const m = /^bytes=(\d*)-(\d*)$/.exec(req.headers.range ?? '');
  if (req.headers.range && m && (m[1] || m[2])) {
    let start = m[1] ? Number(m[1]) : Math.max(0, size - Number(m[2]));
    let end = m[1] && m[2] ? Math.min(Number(m[2]), size - 1) : size - 1;
    if (!m[1]) end = size - 1;
    if (start >= size || start > end) {
      res.writeHead(416, { 'content-range': `bytes */${size}` });
      res.end();
      return;
    }
    start = Math.max(0, start);
    res.writeHead(206, {
      ...headers,
      'content-range': `bytes ${start}-${end}/${size}`,
      'content-length': end - start + 1,
    });
    if (req.method === 'HEAD') return void res.end();
    createReadStream(real, { start, end }).pipe(res);
    return;
  }
  res.writeHead(200, { ...headers, 'content-length': size });
  if (req.method === 'HEAD') return void res.end();
  createReadStream(real).pipe(res);
}
