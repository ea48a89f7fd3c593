/** One transfer's timeline as an SVG chart: a row per batch, a bar per stage, seconds from the operation's start. */
import type { Stage, StageTiming } from '../../core/report';

const COLOURS: Record<Stage, string> = { export: '#4e79a7', copy: '#f28e2b', import: '#59a14f', verify: '#b07aa1' };
const ROW = 22;
const LEFT = 70;
const WIDTH = 900;

export function timelineSvg(timeline: readonly StageTiming[], startTime: string, title: string): string {
  const t0 = Date.parse(startTime);
  const sec = (iso: string): number => (Date.parse(iso) - t0) / 1000;
  const batches = [...new Set(timeline.map((s) => s.batch))].sort((a, b) => a - b);
  const end = Math.max(1, ...timeline.map((s) => sec(s.finishTime)));
  const x = (s: number): number => LEFT + (s / end) * (WIDTH - LEFT - 20);
  const top = 40;
  const height = top + batches.length * ROW + 50;
  const ticks = Array.from({ length: Math.floor(end / 10) + 1 }, (_, i) => i * 10);
  const esc = (t: string): string => t.replace(/&/g, '&amp;').replace(/</g, '&lt;');
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" font-family="sans-serif" font-size="12">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="${LEFT}" y="20" font-size="14">${esc(title)}</text>`,
    ...ticks.map(
      (t) =>
        `<line x1="${x(t)}" y1="${top - 5}" x2="${x(t)}" y2="${top + batches.length * ROW}" stroke="#ddd"/><text x="${x(t)}" y="${top + batches.length * ROW + 15}" text-anchor="middle">${t}s</text>`,
    ),
    ...batches.map((b, i) => `<text x="${LEFT - 8}" y="${top + i * ROW + 15}" text-anchor="end">batch ${b}</text>`),
    ...timeline.map((s) => {
      const i = batches.indexOf(s.batch);
      const w = Math.max(1, x(sec(s.finishTime)) - x(sec(s.startTime)));
      return `<rect x="${x(sec(s.startTime)).toFixed(1)}" y="${top + i * ROW + 3}" width="${w.toFixed(1)}" height="${ROW - 6}" fill="${COLOURS[s.stage]}"><title>batch ${s.batch} ${s.stage}: ${sec(s.startTime).toFixed(1)}–${sec(s.finishTime).toFixed(1)} s</title></rect>`;
    }),
    ...(Object.keys(COLOURS) as Stage[]).map(
      (st, i) =>
        `<rect x="${LEFT + i * 90}" y="${height - 22}" width="12" height="12" fill="${COLOURS[st]}"/><text x="${LEFT + i * 90 + 16}" y="${height - 12}">${st}</text>`,
    ),
    '</svg>',
    '',
  ].join('\n');
}
