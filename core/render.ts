/**
 * Pure renderings of a TransferReport, shared by both front-ends: the outputs (JSON strings, by output name)
 * and the summary Markdown (GitHub job summary, ADO task.uploadsummary).
 */
import type { ArtifactReport, CheckItem, ReferrerReport, RunReport, Stage, TransferReport } from './report';

/** imported-artifacts entries: `repo:tag@sha256:…` (a digest reference is already pinned). */
export function pinned(a: ArtifactReport): string {
  const digest = a.targetDigest ?? a.sourceDigest;
  return a.artifact.includes('@') || digest === undefined ? a.artifact : `${a.artifact}@${digest}`;
}

/** Every referrer carried, with the artifact it was carried with. */
function referrerRows(report: TransferReport): { of: ArtifactReport; r: ReferrerReport }[] {
  return report.artifacts.flatMap((of) => (of.referrers ?? []).map((r) => ({ of, r })));
}

/** The outputs `runs`, `blobs`, `imported-artifacts`, `referrers`, `failed-artifacts`, `checks` and `changes`; the front-end adds `report-path`. */
export function renderOutputs(report: TransferReport): Record<string, string> {
  const runs = report.runs.map((r) => ({
    name: r.name,
    pipeline: r.pipeline,
    kind: r.kind,
    status: r.status,
    blob: r.blob,
    artifacts: r.artifacts,
    startTime: r.startTime ?? null,
    finishTime: r.finishTime ?? null,
    error: r.error ?? null,
  }));
  return {
    runs: JSON.stringify(runs),
    blobs: JSON.stringify(report.blobs.filter((b) => b.error === undefined).map((b) => b.name)),
    'imported-artifacts': JSON.stringify(report.artifacts.filter((a) => a.result === 'verified' || a.result === 'imported').map(pinned)),
    referrers: JSON.stringify(
      referrerRows(report).map(({ of, r }) => ({
        artifact: of.artifact,
        referrer: r.artifact,
        digest: r.digest ?? null,
        artifactType: r.artifactType ?? null,
        subject: r.subject,
        result: r.result,
        targetDigest: r.targetDigest ?? null,
        reason: r.reason ?? null,
      })),
    ),
    'failed-artifacts': JSON.stringify([
      ...report.artifacts.filter((a) => a.result === 'failed').map((a) => ({ artifact: a.artifact, reason: a.reason ?? 'unknown reason' })),
      ...referrerRows(report)
        .filter(({ r }) => r.result === 'failed')
        .map(({ of, r }) => ({
          artifact: r.artifact,
          reason: `referrer (${r.artifactType ?? 'no artifactType'}) of '${of.artifact}': ${r.reason ?? 'unknown reason'}`,
        })),
    ]),
    checks: JSON.stringify(report.checks.map((c) => ({ id: c.id, title: c.title, status: c.status, detail: c.detail, fix: c.fix ?? null }))),
    changes: JSON.stringify(
      report.changes.map((c) => ({
        kind: c.kind,
        name: c.name,
        scope: c.scope,
        action: c.action,
        status: c.status,
        detail: c.detail ?? null,
        fields: c.fields ?? [],
        error: c.error ?? null,
      })),
    ),
  };
}

/** A table cell: `|` would end the cell, a newline the row, and `<`/`>` would open HTML. */
export function cell(text: string | number | undefined): string {
  if (text === undefined || text === '') return '';
  return String(text).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/\|/g, '\\|').replace(/\r?\n/g, '<br>');
}

/** `sha256:0123456789ab` (the first 12 hex digits, as docker shows image ids). */
export function shortDigest(digest: string | undefined): string {
  if (digest === undefined) return '';
  const [algo, hex = ''] = digest.split(':');
  return `${algo}:${hex.slice(0, 12)}`;
}

export function duration(startTime: string | undefined, finishTime: string | undefined): string {
  if (startTime === undefined || finishTime === undefined) return '';
  const s = Math.round((Date.parse(finishTime) - Date.parse(startTime)) / 1000);
  if (!Number.isFinite(s) || s < 0) return '';
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  return h > 0 ? `${h}h ${m}m` : m > 0 ? `${m}m ${s % 60}s` : `${s}s`;
}

function bytes(n: number, unit: string): string {
  if (unit.toLowerCase() !== 'bytes') return String(n);
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let i = 0;
  while (Math.abs(v) >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${i === 0 ? v : v.toFixed(1)} ${units[i]}`;
}

const CHECK_MARK: Record<CheckItem['status'], string> = { pass: '✅', warn: '⚠️', fail: '❌' };

const OUTCOME: Record<TransferReport['outcome'], string> = {
  succeeded: '✅ succeeded',
  partial: '⚠️ partial (ContinueOnErrors)',
  failed: '❌ failed',
  cancelled: '🛑 cancelled',
  'timed-out': '⏱️ timed out',
};

// GitHub caps a step summary at 1 MiB; past this many rows the report file has the rest.
const MAX_ROWS = 1000;

function table(header: readonly string[], rows: readonly (readonly (string | number | undefined)[])[]): string[] {
  const shown = rows.slice(0, MAX_ROWS);
  return [
    `| ${header.join(' | ')} |`,
    `|${header.map(() => '---').join('|')}|`,
    ...shown.map((r) => `| ${r.map(cell).join(' | ')} |`),
    ...(rows.length > shown.length ? ['', `…and ${rows.length - shown.length} more rows: see the JSON report (report-path).`] : []),
  ];
}

function resultCell(a: { result: string; reason?: string }): string {
  return a.result === 'failed' && a.reason ? `failed: ${a.reason}` : a.result;
}

function runOf(a: ArtifactReport): string {
  return [a.exportRun, a.importRun].filter((r): r is string => r !== undefined).join(', ');
}

function runRow(r: RunReport): (string | undefined)[] {
  return [r.name, r.kind, r.status, duration(r.startTime, r.finishTime), r.error];
}

/** Batches the summary's timeline shows; the JSON report has every one. */
export const TIMELINE_ROWS = 20;
const STAGES: readonly Stage[] = ['export', 'copy', 'import', 'verify'];

/** `m:ss` from the operation's start. */
function offset(start: string, at: string): string {
  const s = Math.max(0, Math.round((Date.parse(at) - Date.parse(start)) / 1000));
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
}

/** A transfer's timeline: a row per batch, a `start–end` cell per stage, the first TIMELINE_ROWS batches. */
export function timelineRows(report: TransferReport): string[] {
  const timeline = report.timeline ?? [];
  const batches = [...new Set(timeline.map((t) => t.batch))].sort((a, b) => a - b);
  if (batches.length === 0) return [];
  const shown = batches.slice(0, TIMELINE_ROWS);
  const cellOf = (batch: number, stage: Stage): string => {
    const t = timeline.find((x) => x.batch === batch && x.stage === stage);
    return t ? `${offset(report.startTime, t.startTime)}–${offset(report.startTime, t.finishTime)}` : '';
  };
  return [
    `Each stage's start–end, in minutes:seconds from the start (${report.startTime}).`,
    '',
    ...table(
      ['batch', ...STAGES],
      shown.map((b) => [b, ...STAGES.map((st) => cellOf(b, st))]),
    ),
    ...(batches.length > shown.length ? ['', `…and ${batches.length - shown.length} more batches: see the JSON report (report-path).`] : []),
  ];
}

export function renderSummary(report: TransferReport): string {
  const count = (pred: (a: ArtifactReport) => boolean): number => report.artifacts.filter(pred).length;
  const lifecycle = report.operation === 'setup' || report.operation === 'check' || report.operation === 'cleanup';
  const tally = <T>(items: readonly T[], key: (t: T) => string): string[] => {
    const n = new Map<string, number>();
    for (const i of items) n.set(key(i), (n.get(key(i)) ?? 0) + 1);
    return [...n].map(([k, v]) => `${v} ${k}`);
  };
  const facts = lifecycle
    ? [
        ...(report.checks.length > 0 ? [`${report.checks.length} checks (${tally(report.checks, (c) => c.status).join(', ')})`] : []),
        ...(report.changes.length > 0 ? [`${report.changes.length} changes (${tally(report.changes, (c) => c.status).join(', ')})`] : []),
        duration(report.startTime, report.finishTime),
      ].filter(Boolean)
    : [
        `${report.artifacts.length} artifacts`,
        ...(referrerRows(report).length > 0 ? [`${referrerRows(report).length} referrers`] : []),
        ...(['verified', 'imported', 'exported', 'skipped', 'failed', 'pending', 'planned'] as const)
          .map((r) => [r, count((a) => a.result === r)] as const)
          .filter(([, n]) => n > 0)
          .map(([r, n]) => `${n} ${r}`),
        `${report.runs.length} runs`,
        duration(report.startTime, report.finishTime),
      ].filter(Boolean);
  const out: string[] = [
    `## acr-transfer: ${report.operation}${report.dryRun ? ' (dry run: nothing was changed)' : ''}`,
    '',
    `**Outcome:** ${OUTCOME[report.outcome]}${facts.length > 0 ? `. ${facts.join(', ')}` : ''}.`,
  ];
  if (report.error !== undefined) out.push('', `**Error:** ${cell(report.error)}`);

  // check shows every item; the other operations only what did not pass.
  const shownChecks = report.operation === 'check' || report.operation === 'setup' ? report.checks : report.checks.filter((c) => c.status !== 'pass');
  if (shownChecks.length > 0) {
    const counts = (['pass', 'warn', 'fail'] as const).map((st) => [st, report.checks.filter((c) => c.status === st).length] as const).filter(([, n]) => n > 0);
    out.push(
      '',
      '### Checks',
      '',
      ...(report.operation === 'check' || report.operation === 'setup' ? [`${counts.map(([st, n]) => `${n} ${CHECK_MARK[st]} ${st}`).join(', ')}.`, ''] : []),
      ...table(
        ['check', 'status', 'detail', 'fix'],
        shownChecks.map((c) => [c.title, c.status, c.detail, c.fix]),
      ),
    );
  }
  if (report.changes.length > 0) {
    out.push(
      '',
      report.dryRun ? '### Changes (planned: nothing was changed)' : '### Changes',
      '',
      ...table(
        ['kind', 'name', 'where', 'action', 'status', 'detail'],
        report.changes.map((c) => [
          c.kind,
          c.name,
          c.scope,
          c.action,
          c.status,
          c.error !== undefined ? `${c.detail ? `${c.detail}; ` : ''}error: ${c.error}` : c.detail,
        ]),
      ),
    );
  }
  if (report.artifacts.length > 0) {
    out.push(
      '',
      '### Artifacts',
      '',
      ...table(
        ['artifact', 'source digest', 'batch', 'run', 'blob', 'result', 'target digest'],
        report.artifacts.flatMap((a) => [
          [a.artifact, shortDigest(a.sourceDigest), a.batch, runOf(a), a.blob, resultCell(a), shortDigest(a.targetDigest)],
          // Each referrer under its artifact: what it is, and how it travels when that is by a cosign tag.
          ...(a.referrers ?? []).map((r) => [
            `↳ ${r.artifactType ?? 'referrer'}${r.artifact.includes('@') ? '' : ` (tag ${r.artifact.slice(r.artifact.lastIndexOf(':') + 1)})`}`,
            shortDigest(r.digest),
            r.batch,
            '',
            '',
            resultCell(r),
            shortDigest(r.targetDigest),
          ]),
        ]),
      ),
    );
  }
  if (report.runs.length > 0) out.push('', '### Pipeline runs', '', ...table(['run', 'kind', 'status', 'duration', 'error'], report.runs.map(runRow)));
  const timeline = timelineRows(report);
  if (timeline.length > 0) out.push('', '### Timeline', '', ...timeline);
  if (report.warnings.length > 0) out.push('', '### Warnings', '', ...report.warnings.map((w) => `- ${cell(w)}`));
  const usage = report.usage.flatMap((u) => {
    const names = [...new Set([...(u.before ?? []), ...(u.after ?? [])].map((x) => x.name))];
    return names.map((name) => {
      const b = u.before?.find((x) => x.name === name);
      const a = u.after?.find((x) => x.name === name);
      const any = b ?? a;
      const unit = any?.unit ?? '';
      const show = (x: typeof b): string => (x ? bytes(x.currentValue, unit) : '');
      return [u.registry, name, show(b), show(a), any && any.limit > 0 ? bytes(any.limit, unit) : ''];
    });
  });
  if (usage.length > 0) out.push('', '### Registry usage', '', ...table(['registry', 'usage', 'before', 'after', 'limit'], usage));
  return `${out.join('\n')}\n`;
}
