// Video in HTML reports (src/report/video.ts): timeline positions against hand-computed coordinates,
// contact sheets pixel by pixel, the bitmap font against its glyph table, and a whole panel whose
// embedded PNG and WebM/GIF decode (by ffmpeg) to what they should.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as R from '../dist/report/video.js';
import { renderReport } from '../dist/report/html.js';
import * as V from '../dist/video/index.js';

let dir;
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'pacer-video-report-'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

const rects = (svg) =>
  [...svg.matchAll(/<rect class="(\w+)" x="([\d.]+)" y="\d+" width="([\d.]+)"/g)].map((m) => [
    m[1],
    Number(m[2]),
    Number(m[3]),
  ]);

test('timeline segments sit at x = 48 + s/D * 400 on a 460-pixel SVG (reversed and overlong clipped)', () => {
  const svg = R.timelineSvg({
    duration: 30,
    truth: [[10, 20]],
    pred: [
      [25, 40],
      [6, 3],
    ],
  });
  // 48 + 10/30*400 = 181.3, width 133.3; [25, 40] clips to [25, 30]: 381.3, 66.7; [6, 3] -> [3, 6]: 88, 40
  assert.deepEqual(rects(svg), [
    ['truth', 181.3, 133.3],
    ['pred', 381.3, 66.7],
    ['pred', 88, 40],
  ]);
  assert.match(svg, /width="460"/);
  assert.throws(() => R.timelineSvg({ duration: 0 }), /duration > 0/);
});

test('the bitmap font draws its glyphs; a contact sheet places frames and labels on a grid', () => {
  const f = V.createFrame(4, 5, [255, 255, 255]);
  V.drawText(f, 0, 0, '7', [0, 0, 0]);
  const rows = [];
  for (let y = 0; y < 5; y++) rows.push([0, 1, 2].map((x) => (V.getPixel(f, x, y)[0] === 0 ? '1' : '0')).join(''));
  assert.deepEqual(rows, ['111', '001', '001', '001', '001']);
  assert.throws(() => V.drawText(f, 0, 0, 'x', [0, 0, 0]), /no glyph for 'x'/);
  const solid = (c) => V.createFrame(8, 6, c);
  const sheet = R.contactSheet([solid([255, 0, 0]), solid([0, 255, 0]), solid([0, 0, 255])], [0, 1.5, 3], { cols: 2 });
  // 2 columns of (8 + 2) + 2 = 22 wide; 2 rows of (6 + 5 + 4) + 2 = 32 high
  assert.deepEqual([sheet.width, sheet.height], [22, 32]);
  assert.deepEqual(V.getPixel(sheet, 2, 2), [255, 0, 0]);
  assert.deepEqual(V.getPixel(sheet, 12, 7), [0, 255, 0]);
  assert.deepEqual(V.getPixel(sheet, 2, 17), [0, 0, 255]);
  assert.deepEqual(V.getPixel(sheet, 10, 2), [255, 255, 255]);
  // the label "0s" (7 pixels wide) is centred under frame 0: x from 2 + 0 to 8, y from 10 to 14
  let ink = 0;
  for (let y = 10; y < 15; y++) for (let x = 2; x < 10; x++) if (V.getPixel(sheet, x, y)[0] === 0) ink++;
  assert.equal(ink, 12 + 7); // '0' has 12 pixels set, 's' has 7
  assert.equal(R.stamp(1.25), '1.3s');
});

test('a video panel embeds a decodable contact sheet, a WebM or GIF clip and the timeline', async () => {
  const file = join(dir, 'v.mp4');
  execFileSync('ffmpeg', [
    '-v',
    'error',
    '-f',
    'lavfi',
    '-i',
    'testsrc2=size=64x48:rate=10',
    '-t',
    '4',
    '-pix_fmt',
    'yuv420p',
    file,
  ]);
  const html = await R.videoPanel(file, { frames: 6, cols: 3, truth: [[1, 2]], pred: [[1.5, 3]], clipSeconds: 1 });
  const png = Buffer.from(/data:image\/png;base64,([A-Za-z0-9+/=]+)/.exec(html)[1], 'base64');
  writeFileSync(join(dir, 'sheet.png'), png);
  const dims = execFileSync('ffprobe', [
    '-v',
    'error',
    '-show_entries',
    'stream=width,height',
    '-of',
    'csv=p=0',
    join(dir, 'sheet.png'),
  ]);
  // 3 columns of (64 + 2) + 2 = 200; 2 rows of (48 + 5 + 4) + 2 = 116
  assert.equal(dims.toString().trim(), '200,116');
  // the sheet's first cell is frame 0, exactly as decoded
  const sheetRaw = execFileSync('ffmpeg', [
    '-v',
    'error',
    '-i',
    join(dir, 'sheet.png'),
    '-f',
    'rawvideo',
    '-pix_fmt',
    'rgb24',
    'pipe:1',
  ]);
  const f0 = Buffer.from((await V.decodeFrames(file, { indices: [0] })).data());
  for (let y = 0; y < 48; y++)
    assert.ok(
      sheetRaw.subarray(((2 + y) * 200 + 2) * 3, ((2 + y) * 200 + 66) * 3).equals(f0.subarray(y * 192, (y + 1) * 192)),
    );
  const webm = Buffer.from(/data:video\/webm;base64,([A-Za-z0-9+/=]+)/.exec(html)[1], 'base64');
  writeFileSync(join(dir, 'clip.webm'), webm);
  const info = await V.probeVideo(join(dir, 'clip.webm'));
  assert.deepEqual([info.codec, info.frames, info.width], ['vp9', 10, 64]);
  assert.match(html, /<video class="clip"/);
  // 4 s video: truth [1, 2] -> x = 48 + 100 = 148, width 100
  assert.deepEqual(rects(html)[0], ['truth', 148, 100]);
  const gif = await R.videoPanel(file, { frames: 2, clip: 'gif', clipSeconds: 0.5, thumbWidth: 32 });
  assert.match(gif, /<img class="clip" src="data:image\/gif;base64,/);
  assert.doesNotMatch(gif, /<svg/);
  const report = renderReport({
    title: 't',
    summary: {},
    config: {},
    plots: [],
    sections: [{ title: 'Videos', html }],
  });
  assert.ok(report.includes('data:image/png;base64,') && report.includes('<h2>Videos</h2>'));
  assert.equal(V.liveProcesses(), 0);
});
