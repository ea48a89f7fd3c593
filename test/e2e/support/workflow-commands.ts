/**
 * Parsers for what a JavaScript action leaves behind on a GitHub runner, written from the runner's documented
 * formats: the file commands (GITHUB_OUTPUT, GITHUB_STATE, GITHUB_ENV: `name=value` or `name<<DELIMITER` heredocs)
 * and the stdout workflow commands (`::name key=value,…::message`).
 */

/** Parses a GITHUB_OUTPUT / GITHUB_STATE / GITHUB_ENV file the way the runner does; later values win. */
export function parseFileCommand(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  const lines = text.split('\n');
  // A trailing newline leaves one empty last element; it is not a line.
  if (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.replace(/\r$/, '');
    if (line === '') continue;
    const eq = line.indexOf('=');
    const heredoc = line.indexOf('<<');
    if (eq >= 0 && (heredoc < 0 || eq < heredoc)) {
      const name = line.slice(0, eq);
      if (!name) throw new Error(`file command line ${i + 1}: empty name in '${line}'`);
      out[name] = line.slice(eq + 1);
      continue;
    }
    if (heredoc < 0) throw new Error(`file command line ${i + 1}: expected name=value or name<<DELIMITER, got '${line}'`);
    const name = line.slice(0, heredoc);
    const delimiter = line.slice(heredoc + 2);
    if (!name || !delimiter) throw new Error(`file command line ${i + 1}: empty name or delimiter in '${line}'`);
    const value: string[] = [];
    let closed = false;
    for (i++; i < lines.length; i++) {
      const l = lines[i]!.replace(/\r$/, '');
      if (l === delimiter) {
        closed = true;
        break;
      }
      value.push(l);
    }
    if (!closed) throw new Error(`file command: no closing delimiter '${delimiter}' for '${name}'`);
    out[name] = value.join('\n');
  }
  return out;
}

export interface WorkflowCommand {
  readonly command: string;
  readonly properties: Readonly<Record<string, string>>;
  readonly message: string;
  /** 0-based index of the stdout line. */
  readonly line: number;
}

/** The runner's unescaping: data %25 %0D %0A; property values also %3A and %2C. */
function unescapeData(s: string): string {
  return s.replace(/%0D/gi, '\r').replace(/%0A/gi, '\n').replace(/%25/g, '%');
}
function unescapeProperty(s: string): string {
  return s.replace(/%0D/gi, '\r').replace(/%0A/gi, '\n').replace(/%3A/gi, ':').replace(/%2C/gi, ',').replace(/%25/g, '%');
}

const COMMAND = /^::([A-Za-z][\w-]*)(?: ([^:]*))?::(.*)$/;

/**
 * Workflow commands in stdout, in order. Honours `::stop-commands::<token>` … `::<token>::` (commands in between are
 * plain text), as the runner does.
 */
export function parseWorkflowCommands(stdout: string): WorkflowCommand[] {
  const out: WorkflowCommand[] = [];
  let stopToken: string | undefined;
  stdout.split(/\r?\n/).forEach((raw, line) => {
    const text = raw.trimStart();
    if (stopToken !== undefined) {
      if (text === `::${stopToken}::`) stopToken = undefined;
      return;
    }
    const m = COMMAND.exec(text);
    if (!m) return;
    const [, command = '', props = '', message = ''] = m;
    const properties: Record<string, string> = {};
    for (const p of props.split(',').filter(Boolean)) {
      const eq = p.indexOf('=');
      if (eq > 0) properties[p.slice(0, eq).trim()] = unescapeProperty(p.slice(eq + 1));
    }
    if (command === 'stop-commands') {
      stopToken = message;
      return;
    }
    out.push({ command, properties, message: unescapeData(message), line });
  });
  return out;
}

export interface GroupedLog {
  readonly name: string;
  readonly lines: readonly string[];
}

/** The log as the runner shows it: commands removed, `::group::` sections collected. Lines outside groups have name ''. */
export function logSections(stdout: string): GroupedLog[] {
  const sections: { name: string; lines: string[] }[] = [{ name: '', lines: [] }];
  for (const raw of stdout.split(/\r?\n/)) {
    const m = COMMAND.exec(raw.trimStart());
    if (m?.[1] === 'group') sections.push({ name: unescapeData(m[3] ?? ''), lines: [] });
    else if (m?.[1] === 'endgroup') sections.push({ name: '', lines: [] });
    else if (!m) sections[sections.length - 1]!.lines.push(raw);
  }
  return sections.filter((s) => s.name !== '' || s.lines.some((l) => l !== ''));
}

/** Plain log text: stdout without `::add-mask::` lines (the runner consumes them; they are never shown). */
export function visibleLog(stdout: string): string {
  return stdout
    .split(/\r?\n/)
    .filter((l) => !/^::add-mask::/.test(l.trimStart()))
    .join('\n');
}

/** Applies masks the way the runner does: every occurrence of each registered secret becomes ***. */
export function applyMasks(text: string, masks: readonly string[]): string {
  let out = text;
  for (const m of [...masks].filter(Boolean).sort((a, b) => b.length - a.length)) out = out.split(m).join('***');
  return out;
}

/** The log as the runner's UI shows it without step debug: groups as headings, annotations as lines, no debug. */
export function runnerView(stdout: string): string {
  const out: string[] = [];
  for (const raw of stdout.split(/\r?\n/)) {
    const m = COMMAND.exec(raw.trimStart());
    if (!m) out.push(raw);
    else if (m[1] === 'group') out.push(`▸ ${unescapeData(m[3] ?? '')}`);
    else if (m[1] === 'error' || m[1] === 'warning' || m[1] === 'notice')
      out.push(`${m[1].replace(/^./, (c) => c.toUpperCase())}: ${unescapeData(m[3] ?? '')}`);
  }
  return out.join('\n');
}
