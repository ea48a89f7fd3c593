/**
 * What a pipeline's SAS token must allow, and what a stored one does allow. Pure: setup asks which permissions to sign,
 * check reads `sp`, `se`, `spr`, `sr`/`srt` of the stored token (never its signature) and says what is wrong and how to fix it.
 * Permissions per the transfer docs (https://learn.microsoft.com/azure/container-registry/container-registry-transfer-prerequisites):
 * export reads, writes, lists and adds (alrw); import reads and lists, and deletes only for DeleteSourceBlobOnSuccess.
 */
import { definedOnly } from '../domain/objects';
import type { PipelineKind } from '../ports';

/** One permission letter a pipeline needs, and why (for the check's message). */
export interface SasNeed {
  readonly letter: string;
  readonly name: string;
  readonly why: string;
}

/** The parts of a SAS query string check looks at. */
export interface SasFacts {
  /** sp: permission letters. */
  readonly permissions: string;
  readonly expiresOn?: Date;
  readonly startsOn?: Date;
  /** spr: 'https', 'https,http', or absent (both). */
  readonly protocol?: string;
  /** sr: c (container), b (blob)… on a service SAS. */
  readonly resource?: string;
  /** srt: s, c, o on an account SAS. */
  readonly resourceTypes?: string;
  /** si: a stored access policy, which may hold the expiry instead of se. */
  readonly policy?: string;
}

export interface SasVerdict {
  readonly status: 'pass' | 'warn' | 'fail';
  /** What the token allows, without its signature: sp, se, spr. */
  readonly summary: string;
  readonly problems: readonly string[];
  readonly fixes: readonly string[];
}

/** Tokens expiring within this many days are warned about. */
export const EXPIRY_WARNING_DAYS = 7;
const DAY_MS = 24 * 3600 * 1000;

/**
 * How close to its expiry a token is worth a warning: 7 days, or half its life for tokens that live 7 days or less
 * (a user-delegation SAS lives at most 7 days: warning for all of its life would say nothing).
 */
function warnWithin(facts: SasFacts): number {
  const life = facts.startsOn !== undefined && facts.expiresOn !== undefined ? facts.expiresOn.getTime() - facts.startsOn.getTime() : Infinity;
  return Math.min(EXPIRY_WARNING_DAYS * DAY_MS, life / 2);
}

/** What a pipeline of `kind` with these options (and, for import, the source trigger) needs its SAS to allow. */
export function sasNeeds(kind: PipelineKind, options: readonly string[], sourceTrigger: boolean): SasNeed[] {
  const has = (o: string): boolean => options.some((x) => x.toLowerCase() === o.toLowerCase());
  if (kind === 'export') {
    return [
      { letter: 'a', name: 'add', why: 'the export adds to the blob it writes' },
      { letter: 'l', name: 'list', why: 'the export lists the container' },
      { letter: 'r', name: 'read', why: 'the export reads the blob back (and the copy reads it)' },
      {
        letter: 'w',
        name: 'write',
        why: has('OverwriteBlobs') ? 'the export writes the blob, and OverwriteBlobs replaces an existing blob with it' : 'the export writes the blob',
      },
    ];
  }
  return [
    { letter: 'r', name: 'read', why: 'the import reads the blob' },
    { letter: 'l', name: 'list', why: sourceTrigger ? 'the source trigger lists the container to find new blobs' : 'the import lists the container' },
    ...(has('DeleteSourceBlobOnSuccess') ? [{ letter: 'd', name: 'delete', why: 'DeleteSourceBlobOnSuccess deletes the blob after the import' }] : []),
  ];
}

/** Exactly the letters setup signs: no more than the options need. */
export function sasPermissions(kind: PipelineKind, options: readonly string[], sourceTrigger: boolean): string {
  return sasNeeds(kind, options, sourceTrigger)
    .map((n) => n.letter)
    .join('');
}

/** The facts of a SAS (with or without the leading '?'); undefined when the text is no SAS (no sig=). */
export function parseSas(text: string): SasFacts | undefined {
  const params = new URLSearchParams(text.trim().replace(/^\?/, ''));
  if (!params.get('sig')) return undefined;
  const date = (k: string): Date | undefined => {
    const v = params.get(k);
    const t = v ? Date.parse(v) : NaN;
    return Number.isFinite(t) ? new Date(t) : undefined;
  };
  const param = (k: string): string | undefined => params.get(k) || undefined;
  return definedOnly<SasFacts>({
    permissions: params.get('sp') ?? '',
    expiresOn: date('se'),
    startsOn: date('st'),
    protocol: param('spr'),
    resource: param('sr'),
    resourceTypes: param('srt'),
    policy: param('si'),
  });
}

/** Judges a stored SAS against what the pipeline needs at `now`. */
export function judgeSas(facts: SasFacts, needs: readonly SasNeed[], now: number, o: { readonly kind: PipelineKind; readonly secretName: string }): SasVerdict {
  const problems: string[] = [];
  const fixes: string[] = [];
  let warn = false;
  const rotate = `run setup (operation: setup) to store a new ${o.kind} SAS in secret '${o.secretName}'`;
  const summary = [
    `sp=${facts.permissions || '(none)'}`,
    `se=${facts.expiresOn?.toISOString() ?? '(none)'}`,
    `spr=${facts.protocol ?? '(http and https)'}`,
    ...(facts.resourceTypes !== undefined ? [`srt=${facts.resourceTypes}`] : []),
  ].join(', ');

  if (facts.expiresOn !== undefined) {
    const left = facts.expiresOn.getTime() - now;
    if (left <= 0) {
      problems.push(`the ${o.kind} SAS expired at ${facts.expiresOn.toISOString()}`);
      fixes.push(rotate);
    } else if (left <= warnWithin(facts)) {
      warn = true;
      problems.push(`the ${o.kind} SAS expires at ${facts.expiresOn.toISOString()}, in ${Math.max(1, Math.round(left / 3_600_000))} hours`);
      fixes.push(`${rotate} before it expires`);
    }
  } else if (facts.policy === undefined) {
    // Storage refuses a SAS without a (valid) se unless a stored access policy (si) supplies the expiry.
    problems.push(`the ${o.kind} SAS has no valid expiry (se) and no stored access policy (si): storage refuses it`);
    fixes.push(rotate);
  }
  if (facts.startsOn !== undefined && facts.startsOn.getTime() > now + 5 * 60_000) {
    problems.push(`the ${o.kind} SAS is not valid before ${facts.startsOn.toISOString()}`);
    fixes.push(rotate);
  }
  if (facts.protocol?.toLowerCase() !== 'https') {
    // The service expects https-only tokens: a token without spr=https is refused (docs/azure-service.md#storage-access-and-the-sas-secret).
    problems.push(`the ${o.kind} SAS allows ${facts.protocol ? facts.protocol : 'http and https'}, not https only (spr=https)`);
    fixes.push(rotate);
  }
  const missing = needs.filter((n) => !facts.permissions.includes(n.letter));
  if (missing.length > 0) {
    problems.push(`the ${o.kind} SAS (sp=${facts.permissions || 'none'}) lacks ${missing.map((n) => `${n.name} (${n.letter}): ${n.why}`).join('; ')}`);
    fixes.push(`${rotate} (it signs sp=${needs.map((n) => n.letter).join('')})`);
  }
  if (facts.resource !== undefined && facts.resource !== 'c') {
    problems.push(
      `the ${o.kind} SAS is for one ${facts.resource === 'b' ? 'blob' : `'${facts.resource}' resource`} (sr=${facts.resource}), not the container (sr=c)`,
    );
    fixes.push(rotate);
  }
  if (facts.resourceTypes !== undefined && !(facts.resourceTypes.includes('c') && facts.resourceTypes.includes('o'))) {
    problems.push(`the ${o.kind} account SAS covers srt=${facts.resourceTypes}; the pipeline needs containers and objects (srt=co or sco)`);
    fixes.push(rotate);
  }
  const failing = problems.length > (warn ? 1 : 0);
  return { status: failing ? 'fail' : warn ? 'warn' : 'pass', summary, problems, fixes: [...new Set(fixes)] };
}
