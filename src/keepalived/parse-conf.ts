/**
 * A lossless parser for keepalived.conf.
 *
 * The file is turned into a concrete syntax tree in which every byte (indentation, comments, blank
 * lines, quotes, line endings) sits in exactly one token, so `printKeepalivedConf(parse(text)) === text`
 * and an edit of one token changes exactly one line. Typed views (`instances`, `scripts`) sit on top.
 *
 * Lexing follows keepalived 2.x (checked against 2.2.7 with `-d` dumps):
 * - `!` and `#` start a comment anywhere on a line, even inside a word (`eth0#x` is `eth0`), unless inside
 *   double quotes. Single quotes do NOT protect a comment character (keepalived strips comments first,
 *   honouring only `"`), so `'a # b'` is an unterminated quote there and here.
 * - Words are split on whitespace; `"…"` and `'…'` group whitespace and may sit mid-word (`a"b c"d` is one
 *   word `ab cd`); a backslash escapes the next character.
 * - `{` and `}` outside quotes are tokens of their own even without surrounding space (`VI_1{`).
 * - A statement ends at the end of its line or at a brace, so `} vrrp_instance X {` is legal, and
 *   `vrrp_script s { script "x" interval 5 }` gives `script` the args `x interval 5` (keepalived then
 *   runs only `x` and never sees `interval`).
 * - A `{` may sit on the line(s) after its keyword: it belongs to the statement before it.
 *
 * Not interpreted (kept byte-for-byte, but not expanded): `include` files, `$PARAM=` substitutions,
 * `@id` conditional lines, `~SEQ` blocks.
 */
import { z } from 'zod';
import { VipbotError } from '../errors.ts';

/** One lexical token. Concatenating every token's `text` in order gives back the file. */
export interface ConfToken {
  kind: 'space' | 'word' | 'open' | 'close' | 'comment' | 'newline';
  /** Exactly as in the file. */
  text: string;
  /** 1-based line number. */
  line: number;
  /** For words: the value with quotes removed and escapes resolved. */
  value?: string;
}

/** Blank or comment-only line, kept as-is. */
export interface ConfTrivia {
  kind: 'trivia';
  line: number;
  tokens: ConfToken[];
}

/**
 * `keyword arg…` up to the end of its line or a brace, optionally followed by a `{ … }` block.
 * `head` holds the indentation, words, the `{` (if any) and what trails them on the line;
 * `tail` holds the `}` with its indentation and trailing comment/newline.
 */
export interface ConfStatement {
  kind: 'statement';
  keyword: string;
  args: string[];
  /** Line of the keyword. */
  line: number;
  /** Line of the closing `}` for a block, else the line of the keyword. */
  endLine: number;
  head: ConfToken[];
  /** Present when the statement opens a block. */
  children?: ConfNode[];
  tail: ConfToken[];
}

/** A node of the tree: a statement (maybe with a block) or a blank/comment line. */
export type ConfNode = ConfTrivia | ConfStatement;

/** One entry of a vrrp_instance's `track_script { … }` block. */
export const TrackScriptRef = z.object({
  name: z.string(),
  /** `weight N` on the track_script line; overrides the vrrp_script's own weight. */
  weight: z.number().int().optional(),
});
export type TrackScriptRef = z.infer<typeof TrackScriptRef>;

/** The parts of a `vrrp_instance NAME { … }` block vipbot reads. */
export const VrrpInstance = z.object({
  name: z.string(),
  /** As written (MASTER/BACKUP); keepalived's default when absent is BACKUP. */
  state: z.string().optional(),
  interface: z.string().optional(),
  virtualRouterId: z.number().int().optional(),
  /** keepalived's default when absent is 100. */
  priority: z.number().int().optional(),
  advertInt: z.number().optional(),
  /** True when `nopreempt` is set (and not undone by a later `preempt`). Note keepalived ignores it with `state MASTER`. */
  nopreempt: z.boolean(),
  unicastSrcIp: z.string().optional(),
  unicastPeers: z.array(z.string()),
  /** Addresses only: no `/prefix`, no `dev …`/`label …`. */
  virtualIpaddresses: z.array(z.string()),
  trackScripts: z.array(TrackScriptRef),
  /** Line of `vrrp_instance NAME`. */
  line: z.number().int(),
  /** Line of its closing `}`. */
  endLine: z.number().int(),
  stateLine: z.number().int().optional(),
  priorityLine: z.number().int().optional(),
});
export type VrrpInstance = z.infer<typeof VrrpInstance>;

/** A `vrrp_script NAME { … }` block: what to run for a track_script, and as whom. */
export const VrrpScript = z.object({
  name: z.string(),
  /** The command keepalived runs: the first argument of `script` (quotes removed); "" when there is no `script`. */
  script: z.string(),
  /** `script` split as keepalived splits it: whitespace, with '…' and "…" grouping. */
  argv: z.array(z.string()),
  user: z.string().optional(),
  group: z.string().optional(),
  interval: z.number().optional(),
  timeout: z.number().optional(),
  weight: z.number().int().optional(),
  fall: z.number().int().optional(),
  rise: z.number().int().optional(),
  line: z.number().int(),
});
export type VrrpScript = z.infer<typeof VrrpScript>;

/**
 * The `global_defs` settings that decide how keepalived runs scripts (several global_defs blocks add
 * up, the last setting wins, as in keepalived).
 */
export const ScriptGlobals = z.object({
  /** `script_user USER [GROUP]`: who runs a vrrp_script without its own `user`. */
  scriptUser: z.string().optional(),
  scriptGroup: z.string().optional(),
  /** `enable_script_security`: keepalived refuses a script run as root whose path a non-root user could change. */
  scriptSecurity: z.boolean(),
});
export type ScriptGlobals = z.infer<typeof ScriptGlobals>;

/** A parsed keepalived.conf: the lossless tree plus typed views of the VRRP parts. */
export interface KeepalivedConf {
  nodes: ConfNode[];
  instances: VrrpInstance[];
  scripts: VrrpScript[];
  globals: ScriptGlobals;
}

/** Parses keepalived.conf text. Throws `keepalived_conf_invalid` (with the line) on unbalanced braces or quotes. */
export function parseKeepalivedConf(text: string): KeepalivedConf {
  const nodes = buildTree(tokenizeKeepalivedConf(text));
  const top = nodes.filter(isStatement);
  return {
    nodes,
    instances: top.filter((s) => s.keyword === 'vrrp_instance').map(readInstance),
    scripts: top.filter((s) => s.keyword === 'vrrp_script').map(readScript),
    globals: readScriptGlobals(top.filter((s) => s.keyword === 'global_defs').flatMap(childStatements)),
  };
}

/** Prints the tree back; for an unmodified tree this is the original text, byte for byte. */
export function printKeepalivedConf(conf: { nodes: ConfNode[] }): string {
  let out = '';
  const visit = (list: ConfNode[]): void => {
    for (const node of list) {
      if (node.kind === 'trivia') {
        for (const t of node.tokens) out += t.text;
        continue;
      }
      for (const t of node.head) out += t.text;
      if (node.children) visit(node.children);
      for (const t of node.tail) out += t.text;
    }
  };
  visit(conf.nodes);
  return out;
}

/** Type guard for statements (as opposed to blank/comment lines). */
export function isStatement(node: ConfNode): node is ConfStatement {
  return node.kind === 'statement';
}

/** Child statements of a block statement (trivia skipped). */
export function childStatements(statement: ConfStatement): ConfStatement[] {
  return (statement.children ?? []).filter(isStatement);
}

/** Splits text into lines, each with its own line ending ("\n", "\r\n" or "" for a last line without one). */
export function splitLines(text: string): { content: string; eol: string }[] {
  const lines: { content: string; eol: string }[] = [];
  let start = 0;
  while (start < text.length) {
    const nl = text.indexOf('\n', start);
    if (nl < 0) {
      lines.push({ content: text.slice(start), eol: '' });
      break;
    }
    const cr = nl > start && text[nl - 1] === '\r';
    lines.push({ content: text.slice(start, cr ? nl - 1 : nl), eol: cr ? '\r\n' : '\n' });
    start = nl + 1;
  }
  return lines;
}

/** The lexer. Exposed for tests and for edits that need token positions. */
export function tokenizeKeepalivedConf(text: string): ConfToken[] {
  const tokens: ConfToken[] = [];
  splitLines(text).forEach(({ content, eol }, index) => {
    const line = index + 1;
    const commentAt = findCommentStart(content);
    const code = commentAt < 0 ? content : content.slice(0, commentAt);
    let i = 0;
    while (i < code.length) {
      const ch = code[i]!;
      if (isSpace(ch)) {
        let j = i;
        while (j < code.length && isSpace(code[j]!)) j++;
        tokens.push({ kind: 'space', text: code.slice(i, j), line });
        i = j;
      } else if (ch === '{' || ch === '}') {
        tokens.push({ kind: ch === '{' ? 'open' : 'close', text: ch, line });
        i++;
      } else {
        const { end, value } = readWord(code, i, line);
        tokens.push({ kind: 'word', text: code.slice(i, end), line, value });
        i = end;
      }
    }
    if (commentAt >= 0) tokens.push({ kind: 'comment', text: content.slice(commentAt), line });
    if (eol) tokens.push({ kind: 'newline', text: eol, line });
  });
  return tokens;
}

function isSpace(ch: string): boolean {
  return ch === ' ' || ch === '\t' || ch === '\v' || ch === '\f' || ch === '\r';
}

/** Index of the first `!`/`#` outside double quotes, or -1. */
function findCommentStart(content: string): number {
  let inDouble = false;
  for (let i = 0; i < content.length; i++) {
    const ch = content[i];
    if (inDouble && ch === '\\') {
      i++;
    } else if (ch === '"') {
      inDouble = !inDouble;
    } else if (!inDouble && (ch === '!' || ch === '#')) {
      return i;
    }
  }
  return -1;
}

const ESCAPES: Record<string, string> = { a: '\x07', b: '\b', E: '\x1b', f: '\f', n: '\n', r: '\r', t: '\t', v: '\v' };

/** Reads one word starting at `start`: up to unquoted whitespace or brace. */
function readWord(code: string, start: number, line: number): { end: number; value: string } {
  let value = '';
  let quote: string | null = null;
  let i = start;
  for (; i < code.length; i++) {
    const ch = code[i]!;
    if (quote) {
      if (ch === '\\' && i + 1 < code.length) {
        const next = code[++i]!;
        value += ESCAPES[next] ?? next;
      } else if (ch === quote) {
        quote = null;
      } else {
        value += ch;
      }
      continue;
    }
    if (isSpace(ch) || ch === '{' || ch === '}') break;
    if (ch === '"' || ch === "'") {
      quote = ch;
    } else if (ch === '\\' && i + 1 < code.length) {
      value += code[++i]!;
    } else {
      value += ch;
    }
  }
  if (quote) {
    throw invalid(line, `missing terminating ${quote} in ${code.slice(start).trim()}`,
      quote === "'" ? "a '!' or '#' inside single quotes starts a comment in keepalived; use double quotes" : 'close the quoted string on the same line');
  }
  return { end: i, value };
}

function invalid(line: number, what: string, advice: string): VipbotError {
  return new VipbotError('keepalived_conf_invalid', `keepalived.conf line ${line}: ${what}`, advice);
}

interface Frame {
  children: ConfNode[];
  owner?: ConfStatement;
}

function buildTree(tokens: ConfToken[]): ConfNode[] {
  const root: Frame = { children: [] };
  const stack: Frame[] = [root];
  /** Indentation (and comment-only/blank line material) waiting for the node it belongs to. */
  let pending: ConfToken[] = [];
  /** Where material trailing on the current line goes: the open statement's head or a closed block's tail. */
  let trailing: ConfToken[] | null = null;
  /** Statement whose words are being read (same line, no brace yet). */
  let current: ConfStatement | null = null;
  let atLineStart = true;

  const frame = (): Frame => stack[stack.length - 1]!;

  for (const tok of tokens) {
    switch (tok.kind) {
      case 'space':
      case 'comment':
        if (atLineStart || !trailing) pending.push(tok);
        else trailing.push(tok);
        break;
      case 'newline':
        if (atLineStart || !trailing) {
          pending.push(tok);
          frame().children.push({ kind: 'trivia', line: pending[0]!.line, tokens: pending });
          pending = [];
        } else {
          trailing.push(tok);
        }
        current = null;
        trailing = null;
        atLineStart = true;
        break;
      case 'word':
        if (current) {
          current.head.push(tok);
          current.args.push(tok.value ?? tok.text);
        } else {
          current = { kind: 'statement', keyword: tok.value ?? tok.text, args: [], line: tok.line, endLine: tok.line, head: [...pending, tok], tail: [] };
          pending = [];
          frame().children.push(current);
          trailing = current.head;
        }
        atLineStart = false;
        break;
      case 'open': {
        let owner = current;
        if (!owner) {
          // `{` on a later line than its keyword: it opens the block of the statement before it,
          // taking along any blank/comment lines in between.
          const siblings = frame().children;
          let k = siblings.length - 1;
          while (k >= 0 && siblings[k]!.kind === 'trivia') k--;
          const previous = siblings[k];
          if (!previous || previous.kind !== 'statement' || previous.children || !atLineStart) {
            throw invalid(tok.line, "'{' with no keyword before it", 'put the block keyword (e.g. vrrp_instance NAME) before the {');
          }
          for (const moved of siblings.splice(k + 1)) previous.head.push(...(moved as ConfTrivia).tokens);
          owner = previous;
        }
        owner.head.push(...pending, tok);
        pending = [];
        owner.children = [];
        stack.push({ children: owner.children, owner });
        trailing = owner.head;
        current = null;
        atLineStart = false;
        break;
      }
      case 'close': {
        const closing = frame().owner;
        if (!closing) throw invalid(tok.line, "'}' with no block open", 'remove the extra } or add the missing opening {');
        // `pending` can only be this line's indentation here: blank/comment lines were flushed as trivia.
        closing.tail.push(...pending, tok);
        closing.endLine = tok.line;
        pending = [];
        stack.pop();
        trailing = closing.tail;
        current = null;
        atLineStart = false;
        break;
      }
    }
  }
  if (pending.length > 0) frame().children.push({ kind: 'trivia', line: pending[0]!.line, tokens: pending });
  const unclosed = stack[stack.length - 1]!.owner;
  if (unclosed) {
    const what = [unclosed.keyword, ...unclosed.args].join(' ');
    throw invalid(unclosed.line, `block "${what}" is never closed`, 'add the missing } (braces must balance)');
  }
  return root.children;
}

function lastOf(statements: ConfStatement[], keyword: string): ConfStatement | undefined {
  return statements.filter((s) => s.keyword === keyword).at(-1);
}

function intArg(statement: ConfStatement | undefined): number | undefined {
  if (!statement) return undefined;
  const raw = statement.args[0];
  if (raw === undefined || !/^-?\d+$/.test(raw)) {
    throw invalid(statement.line, `${statement.keyword} needs an integer, got ${raw === undefined ? 'nothing' : `"${raw}"`}`, `write e.g. "${statement.keyword} 100"`);
  }
  return Number(raw);
}

function numberArg(statement: ConfStatement | undefined): number | undefined {
  if (!statement) return undefined;
  const raw = statement.args[0];
  if (raw === undefined || !/^\d+(\.\d+)?$/.test(raw)) {
    throw invalid(statement.line, `${statement.keyword} needs a number, got ${raw === undefined ? 'nothing' : `"${raw}"`}`, `write e.g. "${statement.keyword} 1"`);
  }
  return Number(raw);
}

/** `weight N` among args (track_script lines and vrrp_script). */
function weightOf(statement: ConfStatement, args: string[]): number | undefined {
  const at = args.indexOf('weight');
  if (at < 0) return undefined;
  const raw = args[at + 1];
  if (raw === undefined || !/^[-+]?\d+$/.test(raw)) throw invalid(statement.line, `weight needs an integer, got ${raw === undefined ? 'nothing' : `"${raw}"`}`, 'write e.g. "weight -20"');
  return Number(raw);
}

function readInstance(block: ConfStatement): VrrpInstance {
  const body = childStatements(block);
  const state = lastOf(body, 'state');
  const priority = lastOf(body, 'priority');
  const vrid = lastOf(body, 'virtual_router_id');
  const advert = lastOf(body, 'advert_int');
  const src = lastOf(body, 'unicast_src_ip');
  const iface = lastOf(body, 'interface');
  // keepalived: the later of nopreempt/preempt wins ("preempt" is kept for backwards compatibility).
  const preemptFlag = body.filter((s) => s.keyword === 'nopreempt' || s.keyword === 'preempt').at(-1);
  // Several blocks of one kind add up, as in keepalived.
  const inner = (keyword: string) => body.filter((s) => s.keyword === keyword).flatMap(childStatements);
  return {
    name: block.args[0] ?? '',
    ...(state?.args[0] !== undefined ? { state: state.args[0] } : {}),
    ...(iface?.args[0] !== undefined ? { interface: iface.args[0] } : {}),
    ...(vrid ? { virtualRouterId: intArg(vrid) } : {}),
    ...(priority ? { priority: intArg(priority) } : {}),
    ...(advert ? { advertInt: numberArg(advert) } : {}),
    nopreempt: preemptFlag?.keyword === 'nopreempt',
    ...(src?.args[0] !== undefined ? { unicastSrcIp: src.args[0] } : {}),
    unicastPeers: inner('unicast_peer').map((s) => s.keyword),
    // `198.51.100.100/24 dev eth0 label eth0:1` → the address alone
    virtualIpaddresses: inner('virtual_ipaddress').map((s) => s.keyword.split('/')[0]!),
    trackScripts: inner('track_script').map((s) => {
      const weight = weightOf(s, s.args);
      return weight === undefined ? { name: s.keyword } : { name: s.keyword, weight };
    }),
    line: block.line,
    endLine: block.endLine,
    ...(state ? { stateLine: state.line } : {}),
    ...(priority ? { priorityLine: priority.line } : {}),
  };
}

function readScriptGlobals(body: ConfStatement[]): ScriptGlobals {
  const user = lastOf(body, 'script_user');
  return {
    ...(user?.args[0] !== undefined ? { scriptUser: user.args[0] } : {}),
    ...(user?.args[1] !== undefined ? { scriptGroup: user.args[1] } : {}),
    // A bare keyword (keepalived takes no argument here).
    scriptSecurity: body.some((s) => s.keyword === 'enable_script_security'),
  };
}

function readScript(block: ConfStatement): VrrpScript {
  const body = childStatements(block);
  // keepalived 2.x runs only the first word after `script` and splits that again, so
  // `script "/x.sh a 'b c'"` runs /x.sh with [a, "b c"] and `script /x.sh a` runs /x.sh alone.
  const command = lastOf(body, 'script')?.args[0] ?? '';
  const user = lastOf(body, 'user');
  const weight = lastOf(body, 'weight');
  const interval = numberArg(lastOf(body, 'interval'));
  const timeout = numberArg(lastOf(body, 'timeout'));
  const fall = intArg(lastOf(body, 'fall'));
  const rise = intArg(lastOf(body, 'rise'));
  return {
    name: block.args[0] ?? '',
    script: command,
    argv: splitScriptArgv(command),
    ...(user?.args[0] !== undefined ? { user: user.args[0] } : {}),
    ...(user?.args[1] !== undefined ? { group: user.args[1] } : {}),
    ...(interval !== undefined ? { interval } : {}),
    ...(timeout !== undefined ? { timeout } : {}),
    ...(weight ? { weight: weightOf(weight, [weight.keyword, ...weight.args]) } : {}),
    ...(fall !== undefined ? { fall } : {}),
    ...(rise !== undefined ? { rise } : {}),
    line: block.line,
  };
}

/** Splits a script command into argv like keepalived: whitespace separates, '…' and "…" group, `\` escapes. */
export function splitScriptArgv(command: string): string[] {
  const argv: string[] = [];
  let word: string | null = null;
  let quote: string | null = null;
  for (let i = 0; i < command.length; i++) {
    const ch = command[i]!;
    if (quote) {
      if (ch === quote) quote = null;
      else if (ch === '\\' && quote === '"' && i + 1 < command.length) word += command[++i]!;
      else word += ch;
    } else if (isSpace(ch) || ch === '\n') {
      if (word !== null) argv.push(word);
      word = null;
    } else if (ch === '"' || ch === "'") {
      quote = ch;
      word ??= '';
    } else if (ch === '\\' && i + 1 < command.length) {
      word = (word ?? '') + command[++i]!;
    } else {
      word = (word ?? '') + ch;
    }
  }
  if (word !== null) argv.push(word);
  return argv;
}
