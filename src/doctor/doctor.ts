/**
 * `vipbot doctor`: one command after an install that says whether it will work, one line per check
 * (`PASS|WARN|FAIL <check> — <detail>`) and, under each FAIL, the fix (SPEC §9). The checks are
 * grouped by what they need (config, Redis, Slack, each node, each cluster) and run independently:
 * one failure never hides the others.
 */
import { z } from 'zod';

export const CheckStatus = z.enum(['pass', 'warn', 'fail']);
export type CheckStatus = z.infer<typeof CheckStatus>;

export const CheckResult = z.object({
  name: z.string(),
  status: CheckStatus,
  detail: z.string(),
  fix: z.string().optional(),
});
export type CheckResult = z.infer<typeof CheckResult>;

export const DoctorReport = z.object({ checks: z.array(CheckResult) });
export type DoctorReport = z.infer<typeof DoctorReport>;

export const pass = (name: string, detail: string): CheckResult => ({ name, status: 'pass', detail });
export const warn = (name: string, detail: string, fix?: string): CheckResult => ({ name, status: 'warn', detail, ...(fix ? { fix } : {}) });
export const fail = (name: string, detail: string, fix: string): CheckResult => ({ name, status: 'fail', detail, fix });

/** A group of checks; a group that throws becomes one FAIL naming the group rather than ending the run. */
export interface CheckGroup {
  name: string;
  run(): Promise<CheckResult[]>;
}

/** Runs every group (concurrently: nodes are independent) and returns the results in group order. */
export async function runChecks(groups: readonly CheckGroup[], onProgress?: (done: number, total: number) => void): Promise<DoctorReport> {
  let done = 0;
  const results = await Promise.all(
    groups.map(async (group) => {
      try {
        return await group.run();
      } catch (err) {
        return [fail(group.name, `the check itself failed: ${err instanceof Error ? err.message : String(err)}`, 'run vipbot doctor again with LOG_LEVEL=debug and report the output')];
      } finally {
        onProgress?.(++done, groups.length);
      }
    }),
  );
  return { checks: results.flat() };
}

export function doctorExitCode(report: DoctorReport): number {
  return report.checks.some((c) => c.status === 'fail') ? 1 : 0;
}

/** The checklist as text: one line per check, the fix indented under each FAIL (and WARN with one), then a tally. */
export function formatDoctorReport(report: DoctorReport): string {
  const lines: string[] = [];
  for (const check of report.checks) {
    lines.push(`${check.status.toUpperCase()} ${check.name} — ${oneLine(check.detail)}`);
    if (check.fix && check.status !== 'pass') lines.push(`     fix: ${oneLine(check.fix)}`);
  }
  const count = (s: CheckStatus): number => report.checks.filter((c) => c.status === s).length;
  const n = report.checks.length;
  lines.push('', `${n} ${n === 1 ? 'check' : 'checks'}: ${count('pass')} pass, ${count('warn')} warn, ${count('fail')} fail`);
  return `${lines.join('\n')}\n`;
}

/** Host and server text can carry newlines; a checklist line stays one line. */
function oneLine(text: string): string {
  return text.replace(/\s*\n\s*/g, ' ').slice(0, 500);
}
