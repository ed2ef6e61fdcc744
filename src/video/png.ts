// A small PNG encoder (RGB, 8 bits per channel, no interlace) for contact sheets and frame dumps,
// following the PNG spec (W3C, 3rd ed.): signature, IHDR, IDAT (zlib stream of scanlines, each with
// a filter-type byte; filter 1 "Sub" here), IEND; each chunk carries a CRC-32 of its type and data.
// Deterministic: the same frame always gives the same bytes.
import * as zlib from 'node:zlib';
import type { Frame } from './raster.js';

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

/** zlib's own CRC-32 (Node ≥ 20.15), ~10× the table loop below; absent on older Node 20 releases. */
const zcrc = (zlib as { crc32?: (data: Uint8Array, value?: number) => number }).crc32;

/** CRC-32 (ISO 3309, as in PNG and ZIP) of one or more byte ranges, in order. */
export function crc32(...parts: Uint8Array[]): number {
  if (zcrc) return parts.reduce((c, p) => zcrc(p, c), 0);
  return crc32Table(parts);
}

/** The same CRC by the classic byte-at-a-time table (the reference the test checks zlib's against). */
export function crc32Table(parts: Uint8Array[]): number {
  let c = 0xffffffff;
  for (const p of parts) for (let i = 0; i < p.length; i++) c = CRC_TABLE[(c ^ p[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function chunk(type: string, data: Uint8Array): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(data.length, 0);
  head.write(type, 4, 'latin1');
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(head.subarray(4), data), 0);
  return Buffer.concat([head, data, crc]);
}

/** Scanlines with the Sub filter: each byte minus the byte one pixel to its left. */
function filtered(f: Frame): Uint8Array {
  const row = f.width * 3;
  const out = new Uint8Array((row + 1) * f.height);
  for (let y = 0; y < f.height; y++) {
    const o = y * (row + 1);
    const s = y * row;
    out[o] = 1;
    for (let i = 0; i < row; i++) out[o + 1 + i] = (f.data[s + i] - (i >= 3 ? f.data[s + i - 3] : 0)) & 0xff;
  }
  return out;
}

/** An RGB frame as PNG bytes. */
export function encodePng(f: Frame): Buffer {
  if (f.data.length !== f.width * f.height * 3)
    throw new RangeError(`pacer: encodePng needs ${f.width}x${f.height}x3 bytes, got ${f.data.length}`);
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(f.width, 0);
  ihdr.writeUInt32BE(f.height, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 2; // colour type: truecolour RGB
  const sig = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  const idat = zlib.deflateSync(filtered(f), { level: 6 });
  return Buffer.concat([sig, chunk('IHDR', ihdr), chunk('IDAT', idat), chunk('IEND', new Uint8Array(0))]);
}
