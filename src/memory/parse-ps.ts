/**
 * `ps` output for keepalived's processes, in the two shapes we meet: the sampler's headerless
 * `ps -o pid=,ppid=,rss=,vsz=,etimes=,args= -C keepalived`, and `ps aux` as teams' crontabs log it
 * (`ps aux | egrep '[k]eepalived|[V]SZ'`), which also catches the cron shell, systemctl and the like.
 */
import { VipbotError } from '../errors.ts';
import type { MemoryProcess } from './sample.ts';

/** ps `-o` columns the headerless parser understands; a command column (args/cmd/command/comm) must come last. */
export type PsColumn = 'pid' | 'ppid' | 'rss' | 'vsz' | 'etimes' | 'etime' | 'time' | 'cputimes' | 'stat' | 'args' | 'cmd' | 'command' | 'comm';

/** The sampler's format: `ps -o pid=,ppid=,rss=,vsz=,etimes=,args= -C keepalived`. */
export const DEFAULT_PS_COLUMNS: readonly PsColumn[] = ['pid', 'ppid', 'rss', 'vsz', 'etimes', 'args'];

const COMMAND_COLUMNS = new Set<PsColumn>(['args', 'cmd', 'command', 'comm']);

/**
 * True when the command is keepalived itself (argv[0]'s basename starts with "keepalived", which also
 * covers children renamed by `process_names`), not a shell, grep or systemctl that mentions it.
 */
export function isKeepalivedCommand(command: string): boolean {
  const argv0 = command.trim().split(/\s+/)[0] ?? '';
  const base = argv0.replace(/^.*\//, '').replace(/^[[(]|[\])]$/g, '');
  return base.startsWith('keepalived');
}

/**
 * ps CPU time to seconds: `ps aux` prints `MMM:SS` (minutes may exceed 59), `-o time` prints
 * `[DD-]HH:MM:SS`. Returns undefined when the text is neither.
 */
export function parsePsCpuTime(text: string): number | undefined {
  const match = /^(?:(\d+)-)?(\d+):(\d{2})(?::(\d{2}))?$/.exec(text.trim());
  if (!match) return undefined;
  const days = Number(match[1] ?? '0');
  if (match[4] !== undefined) return days * 86_400 + Number(match[2]) * 3600 + Number(match[3]) * 60 + Number(match[4]);
  if (match[1] !== undefined) return days * 86_400 + Number(match[2]) * 3600 + Number(match[3]) * 60;
  return Number(match[2]) * 60 + Number(match[3]);
}

/** `-o etime` (`[[DD-]HH:]MM:SS`) to seconds. */
function parseEtime(text: string): number | undefined {
  const match = /^(?:(\d+)-)?(?:(\d+):)?(\d+):(\d{2})$/.exec(text.trim());
  if (!match) return undefined;
  return Number(match[1] ?? '0') * 86_400 + Number(match[2] ?? '0') * 3600 + Number(match[3]) * 60 + Number(match[4]);
}

function splitFields(line: string, count: number): string[] | undefined {
  const fields: string[] = [];
  let rest = line.trim();
  for (let i = 0; i < count - 1; i += 1) {
    const match = /^(\S+)\s+/.exec(rest);
    if (!match) return undefined;
    fields.push(match[1]!);
    rest = rest.slice(match[0].length);
  }
  if (rest === '') return undefined;
  fields.push(rest);
  return fields;
}

function badPs(line: string, why: string): VipbotError {
  return new VipbotError('ps_unrecognised', `ps line "${line.trim().slice(0, 80)}": ${why}`, 'use `ps -o pid=,ppid=,rss=,vsz=,etimes=,args= -C keepalived` or `ps aux`');
}

function toInt(text: string | undefined): number | undefined {
  return text !== undefined && /^\d+$/.test(text) ? Number(text) : undefined;
}

/**
 * Headerless `ps -o <columns>=` output → keepalived processes (bytes). Lines whose command is not
 * keepalived are skipped; a keepalived line that does not fit the columns throws `ps_unrecognised`.
 */
export function parsePsColumns(text: string, columns: readonly PsColumn[] = DEFAULT_PS_COLUMNS): MemoryProcess[] {
  const commandIndex = columns.findIndex((c) => COMMAND_COLUMNS.has(c));
  if (commandIndex !== -1 && commandIndex !== columns.length - 1) {
    throw new VipbotError('ps_columns_invalid', 'the command column must be the last ps column', 'put args= last in `ps -o`');
  }
  const processes: MemoryProcess[] = [];
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    const fields = splitFields(line, columns.length);
    const command = commandIndex === -1 ? undefined : fields?.[commandIndex];
    if (command !== undefined && !isKeepalivedCommand(command)) continue;
    if (!fields) throw badPs(line, `expected ${columns.length} columns (${columns.join(',')})`);
    const value = (c: PsColumn): string | undefined => {
      const i = columns.indexOf(c);
      return i === -1 ? undefined : fields[i];
    };
    const pid = toInt(value('pid'));
    const rss = toInt(value('rss'));
    const vsz = toInt(value('vsz'));
    if (pid === undefined || rss === undefined || vsz === undefined) throw badPs(line, 'pid, rss and vsz must be numbers');
    const process: MemoryProcess = { pid, rss: rss * 1024, vsz: vsz * 1024 };
    const ppid = toInt(value('ppid'));
    if (ppid !== undefined) process.ppid = ppid;
    const cpu = value('cputimes') !== undefined ? toInt(value('cputimes')) : value('time') !== undefined ? parsePsCpuTime(value('time')!) : undefined;
    if (cpu !== undefined) process.cpuSeconds = cpu;
    const elapsed = value('etimes') !== undefined ? toInt(value('etimes')) : value('etime') !== undefined ? parseEtime(value('etime')!) : undefined;
    if (elapsed !== undefined) process.elapsedSeconds = elapsed;
    const stat = value('stat');
    if (stat !== undefined) process.stat = stat;
    if (command !== undefined) process.command = command;
    processes.push(process);
  }
  return processes;
}

/** The `ps aux` header (`USER PID %CPU %MEM VSZ RSS TTY STAT START TIME COMMAND`), or undefined. */
export function parsePsAuxHeader(line: string): string[] | undefined {
  const names = line.trim().split(/\s+/);
  return names.includes('PID') && names.includes('RSS') && names.includes('VSZ') && names[names.length - 1] === 'COMMAND' ? names : undefined;
}

const AUX_HEADER = ['USER', 'PID', '%CPU', '%MEM', 'VSZ', 'RSS', 'TTY', 'STAT', 'START', 'TIME', 'COMMAND'];

/**
 * One `ps aux` data line → a keepalived process, or undefined when the line is not keepalived (the cron
 * shell, systemctl, egrep). Columns follow `header` (default: the standard aux header).
 */
export function parsePsAuxLine(line: string, header: readonly string[] = AUX_HEADER): MemoryProcess | undefined {
  const fields = splitFields(line, header.length);
  if (!fields) return undefined;
  const command = fields[header.length - 1]!;
  if (!isKeepalivedCommand(command)) return undefined;
  const at = (name: string): string | undefined => {
    const i = header.indexOf(name);
    return i === -1 ? undefined : fields[i];
  };
  const pid = toInt(at('PID'));
  const rss = toInt(at('RSS'));
  const vsz = toInt(at('VSZ'));
  if (pid === undefined || rss === undefined || vsz === undefined) throw badPs(line, 'PID, VSZ and RSS must be numbers');
  const process: MemoryProcess = { pid, rss: rss * 1024, vsz: vsz * 1024 };
  const ppid = toInt(at('PPID'));
  if (ppid !== undefined) process.ppid = ppid;
  const cpu = at('TIME') !== undefined ? parsePsCpuTime(at('TIME')!) : undefined;
  if (cpu !== undefined) process.cpuSeconds = cpu;
  const stat = at('STAT');
  if (stat !== undefined) process.stat = stat;
  process.command = command;
  return process;
}

/** `ps aux` output (with or without its header line) → keepalived processes (bytes). */
export function parsePsAux(text: string): MemoryProcess[] {
  let header: readonly string[] = AUX_HEADER;
  const processes: MemoryProcess[] = [];
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    const parsedHeader = parsePsAuxHeader(line);
    if (parsedHeader) {
      header = parsedHeader;
      continue;
    }
    const process = parsePsAuxLine(line, header);
    if (process) processes.push(process);
  }
  return processes;
}

/** Either shape: `ps aux` when a `USER … PID … COMMAND` header is present, else the sampler's headerless columns. */
export function parsePs(text: string, columns: readonly PsColumn[] = DEFAULT_PS_COLUMNS): MemoryProcess[] {
  const hasAuxHeader = text.split('\n').some((line) => parsePsAuxHeader(line) !== undefined);
  return hasAuxHeader ? parsePsAux(text) : parsePsColumns(text, columns);
}
