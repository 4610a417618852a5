/**
 * keepalived's processes as `ps` prints them. keepalived 2.x runs a parent plus one child per
 * subsystem (VRRP, checker, BFD), so expect two or three rows. ps reports RSS and VSZ in KiB.
 */
import { z } from 'zod';
import { VipbotError } from '../errors.ts';

export const PsProcess = z.object({
  pid: z.number().int(),
  ppid: z.number().int(),
  rssBytes: z.number().int(),
  vszBytes: z.number().int(),
  elapsedSeconds: z.number().int(),
  args: z.string(),
});
export type PsProcess = z.infer<typeof PsProcess>;

export const PsAuxProcess = z.object({
  user: z.string(),
  pid: z.number().int(),
  cpuPercent: z.number(),
  memPercent: z.number(),
  vszBytes: z.number().int(),
  rssBytes: z.number().int(),
  tty: z.string(),
  stat: z.string(),
  /** As ps prints it: "06:00", "Dec28" or "2024" depending on age. */
  start: z.string(),
  /** Cumulative CPU time as printed, e.g. "10:55". */
  time: z.string(),
  args: z.string(),
});
export type PsAuxProcess = z.infer<typeof PsAuxProcess>;

const KIB = 1024;
const PS_ROW = /^\s*(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s+(\S.*)$/;

/**
 * Parses `ps -o pid=,ppid=,rss=,vsz=,etimes=,args= -C keepalived` (no header). Empty output (ps exits 1
 * when nothing matches) gives []. A row that does not fit throws `ps_output_invalid`.
 */
export function parsePsKeepalived(text: string): PsProcess[] {
  return rows(text).map(({ line, number }) => {
    const m = PS_ROW.exec(line);
    if (!m) throw invalid(number, line, 'pid= ppid= rss= vsz= etimes= args=');
    return {
      pid: Number(m[1]),
      ppid: Number(m[2]),
      rssBytes: Number(m[3]) * KIB,
      vszBytes: Number(m[4]) * KIB,
      elapsedSeconds: Number(m[5]),
      args: m[6]!.trimEnd(),
    };
  });
}

const AUX_ROW = /^(\S+)\s+(\d+)\s+(\d+(?:[.,]\d+)?)\s+(\d+(?:[.,]\d+)?)\s+(\d+)\s+(\d+)\s+(\S+)\s+(\S+)\s+(\S+)\s+(\S+)\s+(\S.*)$/;

/**
 * Parses `ps aux` rows, as the team logged them (`ps aux | egrep '[k]eepalived|[V]SZ'`). Header lines
 * (starting with USER) and blank lines are skipped, so several samples' worth of rows can be passed.
 */
export function parsePsAux(text: string): PsAuxProcess[] {
  return rows(text)
    .filter(({ line }) => !/^\s*USER\s+PID\s/.test(line))
    .map(({ line, number }) => {
      const m = AUX_ROW.exec(line.trim());
      if (!m) throw invalid(number, line, 'USER PID %CPU %MEM VSZ RSS TTY STAT START TIME COMMAND');
      return {
        user: m[1]!,
        pid: Number(m[2]),
        cpuPercent: Number(m[3]!.replace(',', '.')),
        memPercent: Number(m[4]!.replace(',', '.')),
        vszBytes: Number(m[5]) * KIB,
        rssBytes: Number(m[6]) * KIB,
        tty: m[7]!,
        stat: m[8]!,
        start: m[9]!,
        time: m[10]!,
        args: m[11]!,
      };
    });
}

function rows(text: string): { line: string; number: number }[] {
  return text
    .split('\n')
    .map((line, i) => ({ line: line.replace(/\r$/, ''), number: i + 1 }))
    .filter(({ line }) => line.trim() !== '');
}

function invalid(number: number, line: string, columns: string): VipbotError {
  return new VipbotError('ps_output_invalid', `ps output line ${number} does not match the expected columns (${columns}): ${line.slice(0, 120)}`, 'check the ps command the host runs (procps-ng ps is expected)');
}
