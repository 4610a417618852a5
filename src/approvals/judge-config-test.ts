/**
 * Judges `keepalived -t -f <new file>` against the same test of the current file (SPEC §5.4).
 *
 * Why not simply "exit 0 = good": keepalived's config test is not a reliable oracle on its own.
 * - Exit codes differ across 2.x versions, and a file that works in production often "fails" the
 *   test: 2.2.7 exits 5 for the notes' own config because the `vrrp_script` user (`oracle`) or the
 *   script is missing where the test runs, and then also reports every `track_script` as "not found".
 * - It passes a file it cannot read: `keepalived -t -f /missing` prints "Config files missing
 *   '/missing'." and exits 0 (without `-e`).
 * - Every message carries the file name and line number (`(/etc/keepalived/keepalived.conf.vipbot-new:
 *   Line 29) …`), which differ between the staged and the current file, and shift by one when a
 *   `priority` line is inserted.
 *
 * So the candidate is refused only for what the change makes worse: a non-zero exit where the current
 * file gets zero (or a different failure), or messages the current file's test does not print once
 * file names, line numbers, pids and timestamps are normalised away. Pure: no I/O.
 */

/** What one `keepalived -t -f <file>` run gave (the SSH runner's result). */
export interface ConfigTestRun {
  /** Exit code; null when the run gave none (killed by the host-side timeout, connection lost). */
  code: number | null;
  stdout: string;
  stderr: string;
}

/** The verdict on the new file. */
export interface ConfigTestVerdict {
  ok: boolean;
  /** One line for the progress thread and the audit: why it passed, or what the change makes worse. */
  reason: string;
  /** Messages of the new file's test that the current file's test does not print (as printed, deduplicated). */
  newProblems: string[];
}

/** The file names given to `-f`, when the caller knows them; others are found in the messages. */
export interface ConfigTestFiles {
  current?: string;
  candidate?: string;
}

/** At most this many new messages are quoted in `reason` (Slack threads stay readable). */
const MAX_QUOTED = 5;

/**
 * Judges the test of the new file (`candidate`) against the test of the current file (`current`).
 * Pass `files` (the two `-f` paths) when known; without them the paths are taken from keepalived's
 * `(<file>: Line N)` prefixes, and a staged `<path>.vipbot-new` is read as `<path>`.
 */
export function judgeConfigTest(current: ConfigTestRun, candidate: ConfigTestRun, files: ConfigTestFiles = {}): ConfigTestVerdict {
  const paths = collectPaths([current, candidate], files);
  const before = countMessages(current, paths);
  const after = messagesOf(candidate);
  const newProblems = findNewMessages(before, after, paths);
  const quoted = quote(newProblems);
  const exit = (code: number | null) => (code === null ? 'no exit code' : `exit ${code}`);

  if (candidate.code === null && current.code !== null) {
    return refuse(`keepalived -t did not finish on the new file (no exit code) but did on the current one (${exit(current.code)})${quoted ? `: ${quoted}` : ''}`, newProblems);
  }
  if (candidate.code !== 0 && current.code === 0) {
    return refuse(`keepalived -t rejects the new file (${exit(candidate.code)}) but accepts the current one (exit 0)${quoted ? `: ${quoted}` : ''}`, newProblems);
  }
  if (candidate.code !== 0 && candidate.code !== current.code) {
    // Same keepalived, same host, one line changed: a different failure is a different problem.
    return refuse(`keepalived -t fails differently on the new file (${exit(candidate.code)}) than on the current one (${exit(current.code)})${quoted ? `: ${quoted}` : ''}`, newProblems);
  }
  if (newProblems.length > 0) {
    return refuse(`keepalived -t reports ${plural(newProblems.length, 'problem')} the current file does not have: ${quoted}`, newProblems);
  }

  const messages = after.length;
  if (candidate.code === 0 && current.code === 0) {
    return accept(messages === 0 ? 'keepalived -t accepts the new file' : `keepalived -t accepts the new file; same result as the current file (exit 0, ${plural(messages, 'message')} both print)`);
  }
  if (candidate.code === 0) {
    return accept(`keepalived -t accepts the new file (the current one gives ${exit(current.code)})`);
  }
  const fewer = before.total - messages;
  return accept(
    `same result as the current file (${exit(candidate.code)}, ${fewer > 0 ? `${plural(messages, 'message')}, ${fewer} fewer` : `the same ${plural(messages, 'message')}`}): ` +
      'the change adds no problem keepalived -t can see',
  );
}

/**
 * One message reduced to what the change could alter: file names → `<file>`, `Line N` → `Line #`,
 * pids and leading timestamps dropped, blanks collapsed. Exposed for tests.
 */
export function normaliseConfigTestLine(line: string, paths: readonly string[] = []): string {
  let text = stripLogPrefix(line.trim());
  text = text.replace(/([A-Za-z_][\w.-]*)\[\d+\]/g, '$1[pid]').replace(/\bpid \d+/gi, 'pid #');
  text = replacePaths(text, paths);
  text = text.replace(/\b(Line|line) \d+/g, '$1 #');
  return text.replace(/\s+/g, ' ');
}

/**
 * Drops the console/syslog/journal prefixes other versions or `-l`/`-D` add: "Sun Jan 12 10:00:00
 * 2025: ", "2025-01-08T10:12:41.123+03:00 ", "Jan  8 10:12:41 node1 " (before "Keepalived_vrrp[1234]: ").
 */
function stripLogPrefix(line: string): string {
  return line
    .replace(/^[A-Z][a-z]{2} [A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d \d{4}:?\s+/, '')
    .replace(/^\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d(?:[.,]\d+)?(?:Z|[+-]\d\d:?\d\d)?:?\s+/, '')
    .replace(/^[A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d(?:\.\d+)?\s+(?:\S+\s+(?=[\w.-]+\[\d+\]:))?/, '');
}

/** vipbot stages the new file as `<path>.vipbot-new` (stagingPathFor): read that name as `<path>`. */
function unstage(text: string): string {
  return text.replace(/(\/[^\s'"`():]+)\.vipbot-new\b/g, '$1');
}

function accept(reason: string): ConfigTestVerdict {
  return { ok: true, reason, newProblems: [] };
}

function refuse(reason: string, newProblems: string[]): ConfigTestVerdict {
  return { ok: false, reason, newProblems };
}

/** keepalived -t writes its messages to stderr; stdout is read too, since log targets vary by build. */
function messagesOf(run: ConfigTestRun): string[] {
  return `${run.stdout}\n${run.stderr}`.split(/\r?\n/).map((l) => l.trim()).filter((l) => l.length > 0);
}

/** The config file names that appear in messages, longest first (one may be a prefix of another). */
function collectPaths(runs: ConfigTestRun[], files: ConfigTestFiles): string[] {
  const found = new Set<string>();
  for (const p of [files.current, files.candidate]) if (p) found.add(unstage(p));
  for (const run of runs) {
    for (const line of messagesOf(run)) {
      // "(<file>: Line 29) …" names the file keepalived was reading. An include file keeps its own
      // name, which both tests share, so replacing it too is harmless.
      const m = /^\(([^()]+?): Line \d+\)/.exec(stripLogPrefix(line));
      if (m?.[1]) found.add(unstage(m[1]));
    }
  }
  return [...found].sort((a, b) => b.length - a.length);
}

function replacePaths(text: string, paths: readonly string[]): string {
  let out = unstage(text);
  for (const p of paths) out = out.split(p).join('<file>');
  return out;
}

interface MessageCounts {
  counts: Map<string, number>;
  total: number;
}

function countMessages(run: ConfigTestRun, paths: readonly string[]): MessageCounts {
  const counts = new Map<string, number>();
  const lines = messagesOf(run);
  for (const line of lines) {
    const key = normaliseConfigTestLine(line, paths);
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return { counts, total: lines.length };
}

/**
 * Messages of the new file's test beyond what the current file's test prints, counted per message:
 * keepalived prints "Unknown keyword 'x'" once per occurrence, so a second one is a new problem even
 * though the text (after removing line numbers) is the same.
 */
function findNewMessages(before: MessageCounts, after: string[], paths: readonly string[]): string[] {
  const left = new Map(before.counts);
  const surplus: string[] = [];
  const seen = new Set<string>();
  for (const line of after) {
    const key = normaliseConfigTestLine(line, paths);
    const remaining = left.get(key) ?? 0;
    if (remaining > 0) {
      left.set(key, remaining - 1);
      continue;
    }
    // Quote each new message once, as printed (with its real line number, which helps the reader).
    if (!seen.has(line)) surplus.push(line);
    seen.add(line);
  }
  return surplus;
}

function quote(lines: string[]): string {
  if (lines.length === 0) return '';
  const shown = lines.slice(0, MAX_QUOTED).join('; ');
  return lines.length > MAX_QUOTED ? `${shown}; … and ${lines.length - MAX_QUOTED} more` : shown;
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}
