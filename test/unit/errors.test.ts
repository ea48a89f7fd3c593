/**
 * What may reach a log: redact() removes credentials from any text, sanitize() also makes a value safe to echo in one
 * error line (control characters escaped, long values cut with their length).
 */
import { redact, sanitize } from '../../core/errors';

describe('redact', () => {
  it.each([
    ['a SAS signature', 'https://a.blob.core.windows.net/c?sv=1&sig=abc%2Bdef&se=x', 'https://a.blob.core.windows.net/c?sv=1&sig=REDACTED&se=x'],
    ['a bearer token', 'Authorization: Bearer eyJ0eXAi.eyJhdWQi.sig', 'Authorization: Bearer REDACTED'],
    [
      'a user name and password in a URL',
      'GET https://user:hunter2@acct.blob.core.windows.net/c failed',
      'GET https://REDACTED@acct.blob.core.windows.net/c failed',
    ],
    ['a user name alone in a URL', "'https://token@kv.vault.azure.net/secrets/x'", "'https://REDACTED@kv.vault.azure.net/secrets/x'"],
    ['an @ in a path is no user info', 'https://host/a@b', 'https://host/a@b'],
  ])('%s', (_what, text, expected) => {
    expect(redact(text)).toBe(expected);
  });
});

describe('sanitize', () => {
  it('escapes control characters, so the line stays one line and a terminal interprets nothing', () => {
    expect(sanitize('app:v1\u001b[31m\r\nnext\u0000')).toBe('app:v1\\u001b[31m\\u000d\\u000anext\\u0000');
  });

  it('cuts a long value and says how long it was', () => {
    expect(sanitize('x'.repeat(10_000))).toBe(`${'x'.repeat(200)}… (10000 characters)`);
  });

  it('removes credentials first', () => {
    expect(sanitize('https://u:p@h/c?sig=s')).toBe('https://REDACTED@h/c?sig=REDACTED');
  });
});
