/**
 * One-value edits of keepalived.conf that leave every other byte alone, so the diff shown for approval
 * is exactly one line and the operator's comments, indentation and line endings survive.
 */
import { VipbotError } from '../errors.ts';
import {
  childStatements,
  parseKeepalivedConf,
  printKeepalivedConf,
  splitLines,
  type ConfStatement,
  type ConfToken,
  type KeepalivedConf,
} from './parse-conf.ts';

export { unifiedDiff } from './unified-diff.ts';

/** The one line an edit touched. `before` is null when the line was inserted. Texts exclude the line ending. */
export interface LineChange {
  line: number;
  before: string | null;
  after: string;
}

/** The new file text and the one line that changed. */
export interface ConfEdit {
  text: string;
  diff: LineChange;
}

/** VRRP priorities a non-owner may use: 255 is reserved for the address owner and 0 means "resign". */
export const MIN_PRIORITY = 1;
export const MAX_PRIORITY = 254;

/**
 * Sets `priority` in `vrrp_instance <instance>`. An existing priority line keeps its indentation,
 * trailing comment and line ending; when there is none, a line is inserted after `state` (or as the
 * block's first line) with the siblings' indentation. Setting the current value returns the text
 * unchanged with `before === after`.
 */
export function setInstancePriority(text: string, instance: string, priority: number): ConfEdit {
  if (!Number.isInteger(priority) || priority < MIN_PRIORITY || priority > MAX_PRIORITY) {
    throw new VipbotError(
      'keepalived_priority_invalid',
      `priority ${priority} for ${instance} is out of range`,
      `use a whole number from ${MIN_PRIORITY} to ${MAX_PRIORITY}; 255 is reserved for the address owner`,
    );
  }
  const conf = parseKeepalivedConf(text);
  const block = findInstanceBlock(conf, instance);
  const existing = childStatements(block).filter((s) => s.keyword === 'priority').at(-1);
  // keepalived takes the last `priority` line of a block, so that is the one to change.
  if (existing) return replaceValue(text, conf, existing, String(priority));
  return insertPriority(text, conf, block, priority);
}

function findInstanceBlock(conf: KeepalivedConf, instance: string): ConfStatement {
  const blocks = conf.nodes.filter((n): n is ConfStatement => n.kind === 'statement' && n.keyword === 'vrrp_instance' && n.children !== undefined);
  const matches = blocks.filter((b) => b.args[0] === instance);
  if (matches.length === 0) {
    const known = blocks.map((b) => b.args[0] ?? '').filter(Boolean);
    throw new VipbotError(
      'keepalived_instance_unknown',
      `keepalived.conf has no vrrp_instance ${instance}`,
      known.length ? `instances in the file: ${known.join(', ')}; fix the instance name in vipbot.yaml` : 'the file defines no vrrp_instance',
    );
  }
  if (matches.length > 1) {
    throw new VipbotError(
      'keepalived_conf_invalid',
      `keepalived.conf line ${matches[1]!.line}: vrrp_instance ${instance} is defined again (first on line ${matches[0]!.line})`,
      'keep one definition per instance',
    );
  }
  return matches[0]!;
}

function replaceValue(text: string, conf: KeepalivedConf, statement: ConfStatement, value: string): ConfEdit {
  const words = statement.head.filter((t) => t.kind === 'word');
  const token = words[1];
  if (!token) {
    throw new VipbotError('keepalived_conf_invalid', `keepalived.conf line ${statement.line}: ${statement.keyword} has no value`, `write "${statement.keyword} ${value}"`);
  }
  const before = splitLines(text)[token.line - 1]!.content;
  token.text = value;
  token.value = value;
  const next = printKeepalivedConf(conf);
  return { text: next, diff: { line: token.line, before, after: splitLines(next)[token.line - 1]!.content } };
}

function insertPriority(text: string, conf: KeepalivedConf, block: ConfStatement, priority: number): ConfEdit {
  const lines = splitLines(text);
  const children = block.children!;
  const state = childStatements(block).filter((s) => s.keyword === 'state').at(-1);
  let at: number;
  let afterLine: number;
  let eol: string;
  if (state && !state.children && endsLine(state.head)) {
    at = children.indexOf(state) + 1;
    afterLine = state.line;
    eol = state.head.at(-1)!.text;
  } else if (endsLine(block.head)) {
    at = 0;
    afterLine = block.head.at(-1)!.line;
    eol = block.head.at(-1)!.text;
  } else {
    throw new VipbotError(
      'keepalived_conf_unsupported',
      `keepalived.conf line ${block.line}: vrrp_instance ${block.args[0] ?? ''} has no priority line and its block does not start on a line of its own`,
      'add a "priority" line to the instance by hand once, then retry',
    );
  }
  const indent = siblingIndent(conf, block, lines);
  const line = afterLine + 1;
  const inserted: ConfStatement = {
    kind: 'statement',
    keyword: 'priority',
    args: [String(priority)],
    line,
    endLine: line,
    head: [
      ...(indent ? [{ kind: 'space', text: indent, line } satisfies ConfToken] : []),
      { kind: 'word', text: 'priority', line, value: 'priority' },
      { kind: 'space', text: ' ', line },
      { kind: 'word', text: String(priority), line, value: String(priority) },
      { kind: 'newline', text: eol, line },
    ],
    tail: [],
  };
  children.splice(at, 0, inserted);
  return { text: printKeepalivedConf(conf), diff: { line, before: null, after: `${indent}priority ${priority}` } };
}

function endsLine(tokens: ConfToken[]): boolean {
  return tokens.at(-1)?.kind === 'newline';
}

/** Leading whitespace of the statement's line when the statement is the first thing on it. */
function ownIndent(statement: ConfStatement, lines: { content: string }[]): string | undefined {
  const keyword = statement.head.find((t) => t.kind === 'word');
  if (!keyword) return undefined;
  const content = lines[keyword.line - 1]?.content ?? '';
  const indent = /^[ \t]*/.exec(content)![0];
  return content.slice(indent.length).startsWith(keyword.text) ? indent : undefined;
}

/**
 * Indentation for a new line in `block`: that of its first child on a line of its own; else the depth
 * step used elsewhere in the file added to the block's own indentation; else four spaces.
 */
function siblingIndent(conf: KeepalivedConf, block: ConfStatement, lines: { content: string }[]): string {
  for (const child of childStatements(block)) {
    const indent = ownIndent(child, lines);
    if (indent !== undefined) return indent;
  }
  const base = ownIndent(block, lines) ?? '';
  for (const top of conf.nodes) {
    if (top.kind !== 'statement' || top === block) continue;
    const parentIndent = ownIndent(top, lines);
    if (parentIndent === undefined) continue;
    for (const child of childStatements(top)) {
      const indent = ownIndent(child, lines);
      if (indent !== undefined && indent.startsWith(parentIndent) && indent.length > parentIndent.length) {
        return base + indent.slice(parentIndent.length);
      }
    }
  }
  return `${base}    `;
}
