/**
 * Turns what the recorder appended during a live run (one sanitised JSON line per ARM interaction) into a recording file
 * (docs/local-azure.md#recording-and-replay), and refuses to write one in which a secret of the settings survived.
 * Usage: recording.ts <lines.jsonl> <recording.json> <settings.json>
 */
import { readFileSync, writeFileSync } from 'node:fs';

export interface Interaction {
  readonly request: { readonly method: string; readonly url: string; readonly body?: unknown };
  readonly response: { readonly status: number; readonly headers: Readonly<Record<string, string>>; readonly body?: unknown };
}

export interface Recording {
  readonly about: string;
  readonly recordedAgainst: 'local Azure' | 'Azure';
  readonly recordedAt: string;
  readonly interactions: readonly Interaction[];
}

if (require.main === module) {
  const [lines = '', out = '', settingsPath = ''] = process.argv.slice(2);
  const settings = JSON.parse(readFileSync(settingsPath, 'utf8')) as {
    armEndpoint: string;
    clientSecret: string;
    storage: Record<'source' | 'target', { key: string }>;
  };
  const text = readFileSync(lines, 'utf8');
  const leaked = [settings.clientSecret, settings.storage.source.key, settings.storage.target.key].filter((s) => s && text.includes(s));
  if (leaked.length > 0 || /eyJ[\w-]{10,}\.[\w-]{10,}\./.test(text) || /[?&]sig=(?!REDACTED)/i.test(text)) {
    process.stderr.write('recording: a secret survived sanitising; nothing written\n');
    process.exit(1);
  }
  const local = /^https:\/\/(127\.0\.0\.1|localhost)[:/]/.test(settings.armEndpoint);
  const recording: Recording = {
    about: `Sanitised ARM traffic of npm run test:live, recorded against ${local ? 'the local Azure' : 'Azure'}; placeholders in braces are the settings' values`,
    recordedAgainst: local ? 'local Azure' : 'Azure',
    recordedAt: new Date().toISOString(),
    interactions: text
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as Interaction),
  };
  writeFileSync(out, `${JSON.stringify(recording, null, 2)}\n`);
  process.stderr.write(`recording: ${recording.interactions.length} interactions written to ${out}\n`);
}
