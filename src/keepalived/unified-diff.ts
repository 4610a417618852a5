/**
 * A small unified diff (as `diff -u` prints it) for showing a config change in Slack. Files are small
 * (a keepalived.conf is a few hundred lines), so a plain LCS over the lines between the common prefix
 * and suffix is plenty.
 */

const CONTEXT = 3;

type Op = { kind: ' ' | '-' | '+'; text: string; oldLine: number; newLine: number };

/**
 * Returns the unified diff of `before` → `after` labelled with `path`, or "" when they are equal.
 * Line endings are not shown (a trailing "\r" is dropped from displayed lines); a missing final newline
 * is marked like GNU diff does.
 */
export function unifiedDiff(before: string, after: string, path: string, context = CONTEXT): string {
  if (before === after) return '';
  const a = toLines(before);
  const b = toLines(after);
  const ops = diffLines(a, b);
  const hunks = groupHunks(ops, context);
  let out = `--- ${path}\n+++ ${path}\n`;
  for (const hunk of hunks) {
    const first = hunk[0]!;
    const oldCount = hunk.filter((o) => o.kind !== '+').length;
    const newCount = hunk.filter((o) => o.kind !== '-').length;
    out += `@@ -${range(first.oldLine, oldCount)} +${range(first.newLine, newCount)} @@\n`;
    for (const op of hunk) {
      out += `${op.kind}${op.text.replace(/\r?\n$/, '').replace(/\r$/, '')}\n`;
      if (!op.text.endsWith('\n')) out += '\\ No newline at end of file\n';
    }
  }
  return out;
}

/** GNU diff: "start,count", "start" alone when count is 1, and the line before when count is 0. */
function range(start: number, count: number): string {
  if (count === 1) return String(start);
  return `${count === 0 ? start - 1 : start},${count}`;
}

/** Lines with their endings, so "x" and "x\n" differ (final-newline changes show up). */
function toLines(text: string): string[] {
  return text.match(/[^\n]*\n|[^\n]+$/g) ?? [];
}

function diffLines(a: string[], b: string[]): Op[] {
  let prefix = 0;
  while (prefix < a.length && prefix < b.length && a[prefix] === b[prefix]) prefix++;
  let suffix = 0;
  while (suffix < a.length - prefix && suffix < b.length - prefix && a[a.length - 1 - suffix] === b[b.length - 1 - suffix]) suffix++;
  const midA = a.slice(prefix, a.length - suffix);
  const midB = b.slice(prefix, b.length - suffix);
  // lcs[i][j] = length of the LCS of midA[i..] and midB[j..]
  const lcs: number[][] = Array.from({ length: midA.length + 1 }, () => new Array<number>(midB.length + 1).fill(0));
  for (let i = midA.length - 1; i >= 0; i--) {
    for (let j = midB.length - 1; j >= 0; j--) {
      lcs[i]![j] = midA[i] === midB[j] ? lcs[i + 1]![j + 1]! + 1 : Math.max(lcs[i + 1]![j]!, lcs[i]![j + 1]!);
    }
  }
  const ops: Op[] = [];
  let oldLine = 1;
  let newLine = 1;
  const push = (kind: Op['kind'], text: string) => {
    ops.push({ kind, text, oldLine, newLine });
    if (kind !== '+') oldLine++;
    if (kind !== '-') newLine++;
  };
  for (let k = 0; k < prefix; k++) push(' ', a[k]!);
  let i = 0;
  let j = 0;
  while (i < midA.length || j < midB.length) {
    if (i < midA.length && j < midB.length && midA[i] === midB[j]) {
      push(' ', midA[i]!);
      i++;
      j++;
    } else if (j < midB.length && (i === midA.length || lcs[i]![j + 1]! > lcs[i + 1]![j]!)) {
      push('+', midB[j]!);
      j++;
    } else {
      push('-', midA[i]!);
      i++;
    }
  }
  for (let k = a.length - suffix; k < a.length; k++) push(' ', a[k]!);
  return ops;
}

/** Splits ops into hunks: each change with up to `context` unchanged lines around it, close changes merged. */
function groupHunks(ops: Op[], context: number): Op[][] {
  const changed = ops.map((o, idx) => (o.kind === ' ' ? -1 : idx)).filter((idx) => idx >= 0);
  const hunks: Op[][] = [];
  let start = -1;
  let end = -1;
  for (const idx of changed) {
    const from = Math.max(0, idx - context);
    const to = Math.min(ops.length - 1, idx + context);
    if (start >= 0 && from <= end + 1) {
      end = to;
    } else {
      if (start >= 0) hunks.push(ops.slice(start, end + 1));
      start = from;
      end = to;
    }
  }
  if (start >= 0) hunks.push(ops.slice(start, end + 1));
  return hunks;
}
