/**
 * Draws the extension and task icon (128x128 PNG): two registries and an arrow between them on Azure blue. Deterministic;
 * `node --import tsx ado-task/make-icon.ts` rewrites ado-task/icon.png. No image library: a PNG is a signature, an IHDR, one
 * zlib-compressed IDAT of filtered scanlines and an IEND, each chunk with a CRC-32.
 */
import { writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { deflateSync } from 'node:zlib';

export const ICON_PATH = path.join(__dirname, 'icon.png');
const SIZE = 128;

type Rgba = readonly [number, number, number, number];
const BLUE: Rgba = [0, 120, 212, 255];
const WHITE: Rgba = [255, 255, 255, 255];
const CLEAR: Rgba = [0, 0, 0, 0];
const LIGHT: Rgba = [190, 225, 250, 255];

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

function crc32(bytes: Buffer): number {
  let c = 0xffffffff;
  for (const b of bytes) c = CRC_TABLE[(c ^ b) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function chunk(type: string, data: Buffer): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(data.length, 0);
  head.write(type, 4, 'ascii');
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), data])), 0);
  return Buffer.concat([head, data, crc]);
}

/** The colour of pixel (x, y). */
function pixel(x: number, y: number): Rgba {
  // Rounded square background.
  const r = 22;
  const cx = Math.min(Math.max(x, r), SIZE - 1 - r);
  const cy = Math.min(Math.max(y, r), SIZE - 1 - r);
  if ((x - cx) ** 2 + (y - cy) ** 2 > r * r) return CLEAR;
  // Two registries: stacked boxes (layers) left and right.
  for (const left of [16, 80]) {
    for (const [i, top] of [36, 56, 76].entries()) {
      if (x >= left && x < left + 32 && y >= top && y < top + 16) {
        const edge = x < left + 3 || x >= left + 29 || y < top + 3 || y >= top + 13;
        return edge ? WHITE : i === 1 ? LIGHT : BLUE;
      }
    }
  }
  // The arrow from left to right: a shaft and a head.
  if (y >= 60 && y < 68 && x >= 50 && x < 68) return WHITE;
  if (x >= 66 && x < 78 && Math.abs(y - 63.5) <= 12 - (x - 66)) return WHITE;
  return BLUE;
}

export function iconPng(): Buffer {
  const rows: Buffer[] = [];
  for (let y = 0; y < SIZE; y++) {
    const row = Buffer.alloc(1 + SIZE * 4); // filter byte 0 (None), then RGBA
    for (let x = 0; x < SIZE; x++) Buffer.from(pixel(x, y)).copy(row, 1 + x * 4);
    rows.push(row);
  }
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(SIZE, 0);
  ihdr.writeUInt32BE(SIZE, 4);
  ihdr.set([8, 6, 0, 0, 0], 8); // 8-bit RGBA, deflate, adaptive filtering, no interlace
  const signature = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  return Buffer.concat([signature, chunk('IHDR', ihdr), chunk('IDAT', deflateSync(Buffer.concat(rows), { level: 9 })), chunk('IEND', Buffer.alloc(0))]);
}

if (require.main === module) {
  const png = iconPng();
  writeFileSync(ICON_PATH, png);
  process.stdout.write(`wrote ${path.relative(process.cwd(), ICON_PATH)} (${SIZE}x${SIZE}, ${png.length} bytes)\n`);
}
