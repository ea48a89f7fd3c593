import { judgeSas, parseSas, sasNeeds, sasPermissions } from '../../core/lifecycle/sas';
import { fakeSas } from './fakes/blobs';

const NOW = Date.parse('2026-03-01T00:00:00Z');
const DAY = 24 * 3600 * 1000;
const judge = (sas: string, kind: 'export' | 'import', options: string[] = [], trigger = false) =>
  judgeSas(parseSas(sas)!, sasNeeds(kind, options, trigger), NOW, { kind, secretName: 's' });

describe('what setup signs', () => {
  it('export: add, list, read, write; import: read and list, delete only with DeleteSourceBlobOnSuccess', () => {
    expect(sasPermissions('export', [], false)).toBe('alrw');
    expect(sasPermissions('export', ['OverwriteBlobs', 'ContinueOnErrors'], false)).toBe('alrw');
    expect(sasPermissions('import', [], true)).toBe('rl');
    expect(sasPermissions('import', ['OverwriteTags'], false)).toBe('rl');
    expect(sasPermissions('import', ['DeleteSourceBlobOnSuccess'], false)).toBe('rld');
  });
});

describe('parseSas', () => {
  it('reads sp, se, st, spr, sr and srt, with or without the leading ?', () => {
    const f = parseSas(`?${fakeSas({ sp: 'rl', se: new Date(NOW + DAY), st: new Date(NOW) })}`)!;
    expect(f).toEqual({ permissions: 'rl', expiresOn: new Date(NOW + DAY), startsOn: new Date(NOW), protocol: 'https', resource: 'c' });
    expect(parseSas('sv=2025&ss=b&srt=co&sp=rl&se=2026-04-01T00:00:00Z&spr=https&sig=x')?.resourceTypes).toBe('co');
  });

  it('is undefined for text that is no SAS', () => {
    expect(parseSas('hello')).toBeUndefined();
    expect(parseSas('sp=rl&se=2026-01-01')).toBeUndefined();
  });
});

describe('judgeSas', () => {
  it('passes a token that allows what the options need, https only, far from expiry, and shows no signature', () => {
    const v = judge(fakeSas({ sp: 'racwl', se: new Date(NOW + 30 * DAY), sig: 'SECRETSIG' }), 'export', ['OverwriteBlobs']);
    expect(v.status).toBe('pass');
    expect(v.summary).toBe('sp=racwl, se=2026-03-31T00:00:00.000Z, spr=https');
    expect(JSON.stringify(v)).not.toContain('SECRETSIG');
  });

  it('fails an expired token with the fix to rotate it', () => {
    const v = judge(fakeSas({ sp: 'rl', se: new Date(NOW - 1000) }), 'import');
    expect(v.status).toBe('fail');
    expect(v.problems).toEqual(['the import SAS expired at 2026-02-28T23:59:59.000Z']);
    expect(v.fixes[0]).toMatch(/run setup .* new import SAS in secret 's'/);
  });

  it('warns within 7 days of expiry, or within half the life of a token that lives 7 days or less', () => {
    const v = judge(fakeSas({ sp: 'rl', se: new Date(NOW + 2 * DAY) }), 'import');
    expect(v.status).toBe('warn');
    expect(v.problems[0]).toContain('expires at 2026-03-03T00:00:00.000Z, in 48 hours');
    expect(judge(fakeSas({ sp: 'rl', st: new Date(NOW - DAY), se: new Date(NOW + 6 * DAY) }), 'import').status).toBe('pass');
    expect(judge(fakeSas({ sp: 'rl', st: new Date(NOW - 4 * DAY), se: new Date(NOW + 3 * DAY) }), 'import').status).toBe('warn');
  });

  it('names write and OverwriteBlobs when an export token lacks w', () => {
    const v = judge(fakeSas({ sp: 'racl', se: new Date(NOW + 30 * DAY) }), 'export', ['OverwriteBlobs']);
    expect(v.status).toBe('fail');
    expect(v.problems[0]).toBe('the export SAS (sp=racl) lacks write (w): the export writes the blob, and OverwriteBlobs replaces an existing blob with it');
    expect(v.fixes[0]).toContain('sp=alrw');
  });

  it('names delete and DeleteSourceBlobOnSuccess, and the trigger for list', () => {
    const v = judge(fakeSas({ sp: 'r', se: new Date(NOW + 30 * DAY) }), 'import', ['DeleteSourceBlobOnSuccess'], true);
    expect(v.problems[0]).toContain('list (l): the source trigger lists the container to find new blobs');
    expect(v.problems[0]).toContain('delete (d): DeleteSourceBlobOnSuccess deletes the blob after the import');
  });

  it('fails tokens that allow http, cover one blob, or an account SAS without containers and objects', () => {
    expect(judge(fakeSas({ sp: 'rl', se: new Date(NOW + 30 * DAY), spr: null }), 'import').problems).toEqual([
      'the import SAS allows http and https, not https only (spr=https)',
    ]);
    expect(judge(fakeSas({ sp: 'rl', se: new Date(NOW + 30 * DAY), spr: 'https,http' }), 'import').status).toBe('fail');
    expect(judge(fakeSas({ sp: 'rl', se: new Date(NOW + 30 * DAY), sr: 'b' }), 'import').problems[0]).toContain('for one blob (sr=b)');
    const account = 'sv=2025&ss=b&srt=s&sp=rl&se=2026-04-01T00:00:00Z&spr=https&sig=x';
    expect(judge(account, 'import').problems[0]).toContain('srt=s');
  });
});

describe('judgeSas without an expiry', () => {
  it('fails a token with no se (or an unreadable one) unless a stored access policy (si) gives the expiry', () => {
    const none = 'sv=2025-05-05&sr=c&sp=rl&spr=https&sig=x';
    expect(judge(none, 'import').status).toBe('fail');
    expect(judge(none, 'import').problems[0]).toContain('no valid expiry (se)');
    expect(judge('sv=2025-05-05&sr=c&sp=rl&se=soon&spr=https&sig=x', 'import').status).toBe('fail');
    expect(judge('sv=2025-05-05&sr=c&si=policy1&sp=rl&spr=https&sig=x', 'import').status).toBe('pass');
  });
});
