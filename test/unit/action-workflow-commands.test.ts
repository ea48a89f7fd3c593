import { applyMasks, logSections, parseFileCommand, parseWorkflowCommands, visibleLog } from '../e2e/support/workflow-commands';
import { inputEnvName } from '../e2e/support/action-runner';

describe('parseFileCommand (GITHUB_OUTPUT, GITHUB_STATE, GITHUB_ENV)', () => {
  it('reads heredoc values the way @actions/core writes them, multi-line included', () => {
    const text = [
      'runs<<ghadelimiter_1f0c7a2e-9a55-4bde-8a2e-3b7c6f1d0e11',
      '[{"name":"run1"}]',
      'ghadelimiter_1f0c7a2e-9a55-4bde-8a2e-3b7c6f1d0e11',
      'failed-artifacts<<ghadelimiter_22',
      'line one',
      '',
      'line three = with equals << and arrows',
      'ghadelimiter_22',
      '',
    ].join('\n');
    expect(parseFileCommand(text)).toEqual({ runs: '[{"name":"run1"}]', 'failed-artifacts': 'line one\n\nline three = with equals << and arrows' });
  });

  it('reads name=value lines, an empty heredoc value, CRLF, and lets a later value win', () => {
    expect(parseFileCommand('a=1\r\nb<<EOF\r\nEOF\r\na=x=y\n')).toEqual({ a: 'x=y', b: '' });
  });

  it('takes = before << as a plain value, like the runner', () => {
    expect(parseFileCommand('a=b<<c\n')).toEqual({ a: 'b<<c' });
  });

  it('fails on an unterminated heredoc or a line that is neither form', () => {
    expect(() => parseFileCommand('x<<EOF\nvalue\n')).toThrow(/no closing delimiter 'EOF'/);
    expect(() => parseFileCommand('just text\n')).toThrow(/expected name=value/);
    expect(() => parseFileCommand('<<EOF\nEOF\n')).toThrow(/empty name/);
  });

  it('is empty for an empty file', () => {
    expect(parseFileCommand('')).toEqual({});
  });
});

describe('parseWorkflowCommands (stdout)', () => {
  const stdout = [
    '::add-mask::s3cr3t-value',
    'plain line',
    '::group::Export batch 1',
    '::debug::GET https%3A//x',
    '::error title=Artifact app%3Av1,file=a.ts::app:v1: not found%0Asecond line %25 done',
    '::endgroup::',
    '  ::warning::indented warning',
    '::notice::fyi',
    '::stop-commands::tok123',
    '::error::not a command while stopped',
    '::tok123::',
    '::warning::after resume',
    ':: not a command',
  ].join('\n');

  it('parses names, properties and messages with the runner unescaping', () => {
    const cmds = parseWorkflowCommands(stdout);
    expect(cmds.map((c) => c.command)).toEqual(['add-mask', 'group', 'debug', 'error', 'endgroup', 'warning', 'notice', 'warning']);
    const error = cmds.find((c) => c.command === 'error')!;
    expect(error.properties).toEqual({ title: 'Artifact app:v1', file: 'a.ts' });
    expect(error.message).toBe('app:v1: not found\nsecond line % done');
    expect(error.line).toBe(4);
    expect(cmds[0]!.message).toBe('s3cr3t-value');
    expect(cmds.find((c) => c.command === 'debug')!.message).toBe('GET https%3A//x');
  });

  it('ignores commands between stop-commands and its token', () => {
    expect(parseWorkflowCommands(stdout).filter((c) => c.command === 'error')).toHaveLength(1);
    expect(parseWorkflowCommands(stdout).at(-1)!.message).toBe('after resume');
  });

  it('collects the log into group sections, without commands', () => {
    expect(logSections('a\n::group::G1\nb\nc\n::endgroup::\nd\n')).toEqual([
      { name: '', lines: ['a'] },
      { name: 'G1', lines: ['b', 'c'] },
      { name: '', lines: ['d', ''] },
    ]);
  });

  it('visibleLog drops ::add-mask:: lines only; applyMasks hides every occurrence, longest first', () => {
    expect(visibleLog('::add-mask::abc\nuse abc\n::warning::w')).toBe('use abc\n::warning::w');
    expect(applyMasks('token abcdef and abc', ['abc', 'abcdef'])).toBe('token *** and ***');
  });
});

describe('inputEnvName', () => {
  it('keeps hyphens and upper-cases, as core.getInput reads them', () => {
    expect(inputEnvName('source-registry')).toBe('INPUT_SOURCE-REGISTRY');
    expect(inputEnvName('my input')).toBe('INPUT_MY_INPUT');
  });
});
