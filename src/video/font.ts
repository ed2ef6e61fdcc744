// A 3×5 pixel bitmap font (digits and the few signs timestamps need: . : - s) drawn with the
// rasterizer, so contact sheets can label frames without a font library. Each glyph is five rows
// of three bits, most significant bit on the left; glyphs are 4 pixels apart (times the scale).
import { fillRect, type Frame, type RGB } from './raster.js';

const GLYPHS: Record<string, string> = {
  '0': '111 101 101 101 111',
  '1': '010 110 010 010 111',
  '2': '111 001 111 100 111',
  '3': '111 001 111 001 111',
  '4': '101 101 111 001 001',
  '5': '111 100 111 001 111',
  '6': '111 100 111 101 111',
  '7': '111 001 001 001 001',
  '8': '111 101 111 101 111',
  '9': '111 101 111 001 111',
  '.': '000 000 000 000 010',
  ':': '000 010 000 010 000',
  '-': '000 000 111 000 000',
  s: '011 100 010 001 110',
  ' ': '000 000 000 000 000',
};

export const GLYPH_W = 3;
export const GLYPH_H = 5;

/** Width in pixels of a text at a scale. */
export function textWidth(text: string, scale = 1): number {
  return text.length ? (text.length * (GLYPH_W + 1) - 1) * scale : 0;
}

/** Draw text with its top-left corner at (x, y); unknown characters are an error. */
export function drawText(f: Frame, x: number, y: number, text: string, c: RGB, scale = 1): void {
  [...text].forEach((ch, i) => {
    const g = GLYPHS[ch];
    if (g === undefined) throw new RangeError(`pacer: the bitmap font has no glyph for '${ch}'`);
    g.split(' ').forEach((row, ry) => {
      for (let rx = 0; rx < GLYPH_W; rx++)
        if (row[rx] === '1') fillRect(f, x + (i * (GLYPH_W + 1) + rx) * scale, y + ry * scale, scale, scale, c);
    });
  });
}
