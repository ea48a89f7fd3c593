import { ConfigError } from '../../core/errors';
import { parseSettings } from '../../core/settings';
import { DST_ID, SRC_ID } from './fakes/world';

const parse =
  (inputs: Record<string, string>): (() => unknown) =>
  () =>
    parseSettings({ get: (name) => inputs[name] });

describe('parseSettings: bad inputs are refused before any Azure call', () => {
  it('does not repeat a SAS signature of a URL that does not parse', () => {
    const run = parse({
      operation: 'export',
      'source-registry': SRC_ID,
      artifacts: 'app:v1',
      'export-storage-uri': 'srcacct.blob.core.windows.net/transfer?sv=2022-11-02&sp=racwdl&sig=SuperSecretSig123%3D',
    });
    expect(run).toThrow(ConfigError);
    expect(run).toThrow(/^Input 'export-storage-uri' is '.*sig=REDACTED': it must be an https URL/);
    expect(run).not.toThrow(/SuperSecretSig123/);
  });

  it.each(['null', '"text"', '[1]'])('refuses creds that are JSON but not an object (%s), without repeating them', (creds) => {
    const run = parse({ operation: 'check', creds });
    expect(run).toThrow(ConfigError);
    expect(run).toThrow(/^Input 'creds' is not a JSON object/);
  });

  it('refuses copy without blobs', () => {
    expect(parse({ operation: 'copy' })).toThrow(new ConfigError("Input 'blobs' is required for operation 'copy': the blob names the export wrote"));
  });

  it('refuses skip-existing on export without a target registry', () => {
    expect(parse({ operation: 'export', 'source-registry': SRC_ID, artifacts: 'app:v1', 'skip-existing': 'true' })).toThrow(
      new ConfigError("Input 'target-registry' is required with 'skip-existing': its digests decide what to leave out"),
    );
    expect(parse({ operation: 'export', 'source-registry': SRC_ID, 'target-registry': DST_ID, artifacts: 'app:v1', 'skip-existing': 'true' })).not.toThrow();
  });

  it('refuses cleanup without any registry', () => {
    expect(parse({ operation: 'cleanup' })).toThrow(/^Operation 'cleanup' needs 'source-registry' .* or 'target-registry'/);
    expect(parse({ operation: 'cleanup', 'target-registry': DST_ID })).not.toThrow();
  });
});
