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
 *
 * Host output is hostile input (SPEC §8): each stream is cut to MAX_STREAM_CHARS and MAX_LINES, every
 * line to MAX_LINE_CHARS, before any pattern runs, and every pattern is linear in its line — a megabyte
 * of junk is judged in milliseconds, never blocking the bot's event loop.
 */

/** What one `keepalived -t -f <file>` run gave (the SSH runner's result). */
export interface ConfigTestRun {
  /** Exit code; null when the run gave none (killed by the host-side timeout, connection lost). */
  code: number | null;
  /** The signal that ended it when `code` is null ("SIGTERM"), when known. */
  signal?: string;
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
/** keepalived -t prints a few kB; what lies beyond these bounds is not read (and a cut candidate is refused). */
const MAX_STREAM_CHARS = 256 * 1024;
const MAX_LINES = 2_000;
const MAX_LINE_CHARS = 2_048;
/** Normalised messages are compared on this many characters (below MAX_LINE_CHARS: see normaliseConfigTestLine). */
const MAX_KEY_CHARS = 1_024;
/** Config file names learnt from `(<file>: Line N)` prefixes: the file and its includes, never thousands. */
const MAX_FOUND_PATHS = 16;

/**
 * Judges the test of the new file (`candidate`) against the test of the current file (`current`).
 * Pass `files` (the two `-f` paths) when known; without them the paths are taken from keepalived's
 * `(<file>: Line N)` prefixes, and a staged `<path>.vipbot-new` is read as `<path>`.
 */
export function judgeConfigTest(current: ConfigTestRun, candidate: ConfigTestRun, files: ConfigTestFiles = {}): ConfigTestVerdict {
  const currentOut = messagesOf(current);
  const candidateOut = messagesOf(candidate);
  const paths = collectPaths([currentOut.lines, candidateOut.lines], files);
  const before = countMessages(currentOut.lines, paths);
  const after = candidateOut.lines;
  const newProblems = findNewMessages(before, after, paths);
  const quoted = quote(newProblems);
  const exit = (code: number | null, signal?: string) => {
    if (code !== null) return `exit ${code}`;
    return signal ? `killed by ${signal}` : 'no exit code';
  };

  if (candidateOut.cut && !currentOut.cut) {
    // Whatever lies past the cut is unjudged: a candidate that prints that much more is not "no worse".
    const bounds = `over ${MAX_LINES} lines or ${MAX_STREAM_CHARS / 1024} KiB`;
    return refuse(`keepalived -t prints far more on the new file than on the current one (${bounds})`, newProblems);
  }
  if (candidate.code === null && current.code !== null) {
    const detail = quoted ? `: ${quoted}` : '';
    const ends = `(${exit(null, candidate.signal)}) but did on the current one (${exit(current.code)})`;
    return refuse(`keepalived -t did not finish on the new file ${ends}${detail}`, newProblems);
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
  let text = stripLogPrefix(cutLine(line).trim());
  // "Keepalived_vrrp[1234]" → "Keepalived_vrrp[pid]". The name check looks back from each "[" (one
  // word run each), never forward from every letter: that was quadratic on a long run of letters.
  text = text.replace(/\[(?<=[A-Za-z_][\w.-]*\[)\d+\]/g, '[pid]').replace(/\bpid \d+/gi, 'pid #');
  text = replacePaths(text, paths);
  text = text.replace(/\b(Line|line) \d+/g, '$1 #');
  // Compared on a shorter prefix than read: the staged name is longer, so a line cut at the same
  // length in both runs would end at different places.
  return text.replace(/\s+/g, ' ').slice(0, MAX_KEY_CHARS);
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

const STAGED_SUFFIX = '.vipbot-new';

/**
 * vipbot stages the new file as `<path>.vipbot-new` (stagingPathFor): read that name as `<path>`.
 * By hand, in one pass: a path pattern tried from every "/" was quadratic on a line of slashes.
 */
function unstage(text: string): string {
  if (!text.includes(STAGED_SUFFIX)) return text;
  // Words of a path: anything but blanks, quotes, parentheses and colons (as keepalived quotes files).
  return text.split(/([\s'"`():]+)/).map((word) => {
    const slash = word.indexOf('/');
    if (slash < 0) return word;
    let out = word.slice(0, slash + 1);
    let rest = word.slice(slash + 1);
    for (let at = rest.indexOf(STAGED_SUFFIX); at >= 0; at = rest.indexOf(STAGED_SUFFIX)) {
      const after = rest.charAt(at + STAGED_SUFFIX.length);
      // `\b` after "new": the suffix ends the name (end, or a non-word character follows).
      const ends = at > 0 && !/\w/.test(after);
      out += ends ? rest.slice(0, at) : rest.slice(0, at + STAGED_SUFFIX.length);
      rest = rest.slice(at + STAGED_SUFFIX.length);
    }
    return out + rest;
  }).join('');
}

/** One line as the judgement reads it: at most MAX_LINE_CHARS. */
function cutLine(line: string): string {
  return line.length > MAX_LINE_CHARS ? line.slice(0, MAX_LINE_CHARS) : line;
}

function accept(reason: string): ConfigTestVerdict {
  return { ok: true, reason, newProblems: [] };
}

function refuse(reason: string, newProblems: string[]): ConfigTestVerdict {
  return { ok: false, reason, newProblems };
}

/**
 * keepalived -t writes its messages to stderr; stdout is read too, since log targets vary by build.
 * Bounded: `cut` says something was left unread.
 */
function messagesOf(run: ConfigTestRun): { lines: string[]; cut: boolean } {
  const lines: string[] = [];
  let cut = false;
  for (const stream of [run.stdout, run.stderr]) {
    const text = stream.length > MAX_STREAM_CHARS ? stream.slice(0, MAX_STREAM_CHARS) : stream;
    if (text !== stream) cut = true;
    for (const raw of text.split('\n')) {
      const line = cutLine(raw).trim();
      if (line.length === 0) continue;
      if (lines.length >= MAX_LINES) return { lines, cut: true };
      lines.push(line);
    }
  }
  return { lines, cut };
}

/** The config file names that appear in messages, longest first (one may be a prefix of another). */
function collectPaths(runs: ReadonlyArray<readonly string[]>, files: ConfigTestFiles): string[] {
  const found = new Set<string>();
  for (const p of [files.current, files.candidate]) if (p) found.add(unstage(p));
  const given = found.size;
  for (const lines of runs) {
    for (const line of lines) {
      if (found.size >= given + MAX_FOUND_PATHS) break;
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

function countMessages(lines: readonly string[], paths: readonly string[]): MessageCounts {
  const counts = new Map<string, number>();
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
