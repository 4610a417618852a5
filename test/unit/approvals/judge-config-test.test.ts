import { describe, expect, it } from 'vitest';
import { judgeConfigTest, normaliseConfigTestLine, type ConfigTestRun } from '../../../src/approvals/judge-config-test.ts';

/** keepalived -t writes its messages to stderr, one per line. */
function run(code: number | null, ...stderr: string[]): ConfigTestRun {
  return { code, stdout: '', stderr: stderr.map((l) => `${l}\n`).join('') };
}

/**
 * Real output of `keepalived -t -f <file>` (Keepalived v2.2.7, Debian), captured in a private mount
 * namespace where /etc/keepalived held the files: `…-current` ran on /etc/keepalived/keepalived.conf,
 * the others on the staged /etc/keepalived/keepalived.conf.vipbot-new.
 * - notes-*: test/fixtures/keepalived/node1.conf as is. Where the test ran there is no user `oracle` and
 *   no check script, so even the unchanged file exits 5 (as on a host where the test runs as a user
 *   that cannot see the scripts): the case that must not block every change.
 *   promoted = priority 100 → 150; prio300 = priority 300; typo = advert_int → advert_itn (twice);
 *   missing = no staged file at all (keepalived exits 0!).
 * - noprio-*: node1.conf without its VI_PRIMARY priority line; inserted = vipbot inserted
 *   `priority 150` after `state`, so every later message moves down one line.
 * - clean-*: node1.conf with its scripts pointed at /usr/bin/true and /usr/bin/false and no `user`:
 *   exit 0 and silent. brace = the first block's `}` removed; noval = `priority` with no value.
 */
const RUNS = {
  "clean-brace": run(5,
    "(Line 12) Unknown keyword 'vrrp_script'",
    "(Line 12) Unexpected '{' - ignoring",
    "(Line 13) Unknown keyword 'script'",
    "(Line 14) Unknown keyword 'interval'",
    "There are 1 missing '}'s or extra '{'s",
    "There are 1 missing '}'s or extra '{'s",
    "There are 1 missing '}'s or extra '{'s",
    "There are 1 missing '}'s or extra '{'s",
  ),
  "clean-current": run(0),
  "clean-missing": run(0,
    "Config files missing '/etc/keepalived/keepalived.conf.vipbot-new'.",
  ),
  "clean-noval": run(2,
    "(/etc/keepalived/keepalived.conf.vipbot-new: Line 27) *** Configuration line starting `priority` is missing a parameter after keyword `priority` at word position 2",
  ),
  "clean-prio300": run(5,
    "(/etc/keepalived/keepalived.conf.vipbot-new: Line 27) number '300' outside range [1, 255]",
    "(/etc/keepalived/keepalived.conf.vipbot-new: Line 27) (VI_PRIMARY) Priority not valid! must be between 1 & 255. Using default 100",
  ),
  "clean-promoted": run(0),
  "noprio-current": run(5,
    "(/etc/keepalived/keepalived.conf: Line 15) Unable to set uid/gid for script '/etc/keepalived/primary_check.sh'",
    "(/etc/keepalived/keepalived.conf: Line 22) Unable to set uid/gid for script '/etc/keepalived/standby_check.sh'",
    "(/etc/keepalived/keepalived.conf: Line 42) (VI_PRIMARY) track script chk_primary not found, ignoring...",
    "(/etc/keepalived/keepalived.conf: Line 64) (VI_STANDBY) track script chk_standby not found, ignoring...",
  ),
  "noprio-inserted": run(5,
    "(/etc/keepalived/keepalived.conf.vipbot-new: Line 15) Unable to set uid/gid for script '/etc/keepalived/primary_check.sh'",
    "(/etc/keepalived/keepalived.conf.vipbot-new: Line 22) Unable to set uid/gid for script '/etc/keepalived/standby_check.sh'",
    "(/etc/keepalived/keepalived.conf.vipbot-new: Line 43) (VI_PRIMARY) track script chk_primary not found, ignoring...",
    "(/etc/keepalived/keepalived.conf.vipbot-new: Line 65) (VI_STANDBY) track script chk_standby not found, ignoring...",
  ),
  "notes-current": run(5,
    "(/etc/keepalived/keepalived.conf: Line 15) Unable to set uid/gid for script '/etc/keepalived/primary_check.sh'",
    "(/etc/keepalived/keepalived.conf: Line 22) Unable to set uid/gid for script '/etc/keepalived/standby_check.sh'",
    "(/etc/keepalived/keepalived.conf: Line 43) (VI_PRIMARY) track script chk_primary not found, ignoring...",
    "(/etc/keepalived/keepalived.conf: Line 65) (VI_STANDBY) track script chk_standby not found, ignoring...",
  ),
  "notes-missing": run(0,
    "Config files missing '/etc/keepalived/keepalived.conf.vipbot-new'.",
  ),
  "notes-prio300": run(5,
    "(/etc/keepalived/keepalived.conf.vipbot-new: Line 15) Unable to set uid/gid for script '/etc/keepalived/primary_check.sh'",
    "(/etc/keepalived/keepalived.conf.vipbot-new: Line 22) Unable to set uid/gid for script '/etc/keepalived/standby_check.sh'",
    "(/etc/keepalived/keepalived.conf.vipbot-new: Line 29) number '300' outside range [1, 255]",
    "(/etc/keepalived/keepalived.conf.vipbot-new: Line 29) (VI_PRIMARY) Priority not valid! must be between 1 & 255. Using default 100",
    "(/etc/keepalived/keepalived.conf.vipbot-new: Line 43) (VI_PRIMARY) track script chk_primary not found, ignoring...",
    "(/etc/keepalived/keepalived.conf.vipbot-new: Line 65) (VI_STANDBY) track script chk_standby not found, ignoring...",
  ),
  "notes-promoted": run(5,
    "(/etc/keepalived/keepalived.conf.vipbot-new: Line 15) Unable to set uid/gid for script '/etc/keepalived/primary_check.sh'",
    "(/etc/keepalived/keepalived.conf.vipbot-new: Line 22) Unable to set uid/gid for script '/etc/keepalived/standby_check.sh'",
    "(/etc/keepalived/keepalived.conf.vipbot-new: Line 43) (VI_PRIMARY) track script chk_primary not found, ignoring...",
    "(/etc/keepalived/keepalived.conf.vipbot-new: Line 65) (VI_STANDBY) track script chk_standby not found, ignoring...",
  ),
  "notes-typo": run(5,
    "(/etc/keepalived/keepalived.conf.vipbot-new: Line 15) Unable to set uid/gid for script '/etc/keepalived/primary_check.sh'",
    "(/etc/keepalived/keepalived.conf.vipbot-new: Line 22) Unable to set uid/gid for script '/etc/keepalived/standby_check.sh'",
    "(/etc/keepalived/keepalived.conf.vipbot-new: Line 30) Unknown keyword 'advert_itn'",
    "(/etc/keepalived/keepalived.conf.vipbot-new: Line 43) (VI_PRIMARY) track script chk_primary not found, ignoring...",
    "(/etc/keepalived/keepalived.conf.vipbot-new: Line 52) Unknown keyword 'advert_itn'",
    "(/etc/keepalived/keepalived.conf.vipbot-new: Line 65) (VI_STANDBY) track script chk_standby not found, ignoring...",
  ),
} satisfies Record<string, ConfigTestRun>;

type RunName = keyof typeof RUNS;

describe('judgeConfigTest on real keepalived 2.2.7 output', () => {
  it.each<[string, RunName, RunName, { ok: boolean; reason: string; newProblems: string[] }]>([
    ['clean file, priority raised: accepted', 'clean-current', 'clean-promoted', { ok: true, reason: 'keepalived -t accepts the new file', newProblems: [] }],
    [
      "the notes' file fails here for reasons the change does not touch: same result, accepted",
      'notes-current',
      'notes-promoted',
      { ok: true, reason: 'same result as the current file (exit 5, the same 4 messages): the change adds no problem keepalived -t can see', newProblems: [] },
    ],
    [
      'an inserted priority line shifts later line numbers: still the same result',
      'noprio-current',
      'noprio-inserted',
      { ok: true, reason: 'same result as the current file (exit 5, the same 4 messages): the change adds no problem keepalived -t can see', newProblems: [] },
    ],
    [
      'both exit 5, but the new file adds an out-of-range priority: refused, naming it',
      'notes-current',
      'notes-prio300',
      {
        ok: false,
        reason:
          "keepalived -t reports 2 problems the current file does not have: (/etc/keepalived/keepalived.conf.vipbot-new: Line 29) number '300' outside range [1, 255]; " +
          '(/etc/keepalived/keepalived.conf.vipbot-new: Line 29) (VI_PRIMARY) Priority not valid! must be between 1 & 255. Using default 100',
        newProblems: [
          "(/etc/keepalived/keepalived.conf.vipbot-new: Line 29) number '300' outside range [1, 255]",
          '(/etc/keepalived/keepalived.conf.vipbot-new: Line 29) (VI_PRIMARY) Priority not valid! must be between 1 & 255. Using default 100',
        ],
      },
    ],
    [
      'the same message twice (a typo in two blocks) counts twice',
      'notes-current',
      'notes-typo',
      {
        ok: false,
        reason:
          "keepalived -t reports 2 problems the current file does not have: (/etc/keepalived/keepalived.conf.vipbot-new: Line 30) Unknown keyword 'advert_itn'; " +
          "(/etc/keepalived/keepalived.conf.vipbot-new: Line 52) Unknown keyword 'advert_itn'",
        newProblems: [
          "(/etc/keepalived/keepalived.conf.vipbot-new: Line 30) Unknown keyword 'advert_itn'",
          "(/etc/keepalived/keepalived.conf.vipbot-new: Line 52) Unknown keyword 'advert_itn'",
        ],
      },
    ],
    [
      'a missing staged file exits 0, and is still refused',
      'clean-current',
      'clean-missing',
      {
        ok: false,
        reason: "keepalived -t reports 1 problem the current file does not have: Config files missing '/etc/keepalived/keepalived.conf.vipbot-new'.",
        newProblems: ["Config files missing '/etc/keepalived/keepalived.conf.vipbot-new'."],
      },
    ],
    [
      'a missing staged file next to a current file that fails the test: refused although the exit code is better',
      'notes-current',
      'notes-missing',
      {
        ok: false,
        reason: "keepalived -t reports 1 problem the current file does not have: Config files missing '/etc/keepalived/keepalived.conf.vipbot-new'.",
        newProblems: ["Config files missing '/etc/keepalived/keepalived.conf.vipbot-new'."],
      },
    ],
    [
      'exit 5 where the current file exits 0: refused',
      'clean-current',
      'clean-prio300',
      {
        ok: false,
        reason:
          "keepalived -t rejects the new file (exit 5) but accepts the current one (exit 0): (/etc/keepalived/keepalived.conf.vipbot-new: Line 27) number '300' outside range [1, 255]; " +
          '(/etc/keepalived/keepalived.conf.vipbot-new: Line 27) (VI_PRIMARY) Priority not valid! must be between 1 & 255. Using default 100',
        newProblems: [
          "(/etc/keepalived/keepalived.conf.vipbot-new: Line 27) number '300' outside range [1, 255]",
          '(/etc/keepalived/keepalived.conf.vipbot-new: Line 27) (VI_PRIMARY) Priority not valid! must be between 1 & 255. Using default 100',
        ],
      },
    ],
    [
      'a fatal parse error (exit 2): refused',
      'clean-current',
      'clean-noval',
      {
        ok: false,
        reason:
          'keepalived -t rejects the new file (exit 2) but accepts the current one (exit 0): (/etc/keepalived/keepalived.conf.vipbot-new: Line 27) *** Configuration line starting `priority` is missing a parameter after keyword `priority` at word position 2',
        newProblems: ['(/etc/keepalived/keepalived.conf.vipbot-new: Line 27) *** Configuration line starting `priority` is missing a parameter after keyword `priority` at word position 2'],
      },
    ],
  ])('%s', (_what, current, candidate, verdict) => {
    expect(judgeConfigTest(RUNS[current], RUNS[candidate])).toEqual(verdict);
  });

  it('unbalanced braces: refused, listing each message once and cutting the list at five', () => {
    const verdict = judgeConfigTest(RUNS['clean-current'], RUNS['clean-brace']);
    expect(verdict.ok).toBe(false);
    expect(verdict.newProblems).toEqual([
      "(Line 12) Unknown keyword 'vrrp_script'",
      "(Line 12) Unexpected '{' - ignoring",
      "(Line 13) Unknown keyword 'script'",
      "(Line 14) Unknown keyword 'interval'",
      "There are 1 missing '}'s or extra '{'s",
    ]);
    expect(verdict.reason).toBe(
      "keepalived -t rejects the new file (exit 5) but accepts the current one (exit 0): (Line 12) Unknown keyword 'vrrp_script'; (Line 12) Unexpected '{' - ignoring; " +
        "(Line 13) Unknown keyword 'script'; (Line 14) Unknown keyword 'interval'; There are 1 missing '}'s or extra '{'s",
    );
  });

  it('a current file that is itself broken the same way does not block the change', () => {
    expect(judgeConfigTest(RUNS['clean-brace'], RUNS['clean-brace'])).toEqual({
      ok: true,
      reason: 'same result as the current file (exit 5, the same 8 messages): the change adds no problem keepalived -t can see',
      newProblems: [],
    });
  });

  it('a change that fixes the current file is accepted', () => {
    expect(judgeConfigTest(RUNS['clean-prio300'], RUNS['clean-promoted'])).toEqual({ ok: true, reason: 'keepalived -t accepts the new file (the current one gives exit 5)', newProblems: [] });
    expect(judgeConfigTest(RUNS['notes-prio300'], RUNS['notes-promoted'])).toEqual({
      ok: true,
      reason: 'same result as the current file (exit 5, 4 messages, 2 fewer): the change adds no problem keepalived -t can see',
      newProblems: [],
    });
  });
});

describe('judgeConfigTest edge cases', () => {
  it.each<[string, ConfigTestRun, ConfigTestRun, boolean, RegExp]>([
    ['the new test never finished', run(0), run(null), false, /^keepalived -t did not finish on the new file \(no exit code\) but did on the current one \(exit 0\)$/],
    ['neither test finished: same result', run(null), run(null), true, /^same result as the current file \(no exit code/],
    ['a different failure code with the same messages', run(5, 'x'), run(2, 'x'), false, /^keepalived -t fails differently on the new file \(exit 2\) than on the current one \(exit 5\)$/],
    ['exit 0 with the same warning on both', run(0, '(/a/k.conf: Line 3) w'), run(0, '(/a/k.conf.vipbot-new: Line 4) w'), true, /^keepalived -t accepts the new file; same result as the current file \(exit 0, 1 message both print\)$/],
    ['messages on stdout count too', { code: 0, stdout: 'new warning\n', stderr: '' }, run(0), true, /^keepalived -t accepts the new file$/],
    ['messages on stdout count too (new)', run(0), { code: 0, stdout: 'new warning\n', stderr: '' }, false, /new warning$/],
  ])('%s', (_what, current, candidate, ok, reason) => {
    const verdict = judgeConfigTest(current, candidate);
    expect(verdict.ok).toBe(ok);
    expect(verdict.reason).toMatch(reason);
  });

  it('more than five new messages are summarised', () => {
    const verdict = judgeConfigTest(run(0), run(0, 'a', 'b', 'c', 'd', 'e', 'f', 'g'));
    expect(verdict.reason).toBe('keepalived -t reports 7 problems the current file does not have: a; b; c; d; e; … and 2 more');
    expect(verdict.newProblems).toHaveLength(7);
  });

  it('uses the file names when the caller gives them (messages that carry no "(file: Line N)" prefix)', () => {
    const current = run(0, "Opening file '/srv/ka/current.conf'.");
    const candidate = run(0, "Opening file '/srv/ka/staged.conf'.");
    expect(judgeConfigTest(current, candidate).ok).toBe(false);
    expect(judgeConfigTest(current, candidate, { current: '/srv/ka/current.conf', candidate: '/srv/ka/staged.conf' }).ok).toBe(true);
  });
});

describe('normaliseConfigTestLine', () => {
  const paths = ['/etc/keepalived/keepalived.conf'];
  it.each([
    ["(/etc/keepalived/keepalived.conf.vipbot-new: Line 29) number '300' outside range [1, 255]", "(<file>: Line #) number '300' outside range [1, 255]"],
    ["(/etc/keepalived/keepalived.conf: Line 43) (VI_PRIMARY) track script chk_primary not found, ignoring...", '(<file>: Line #) (VI_PRIMARY) track script chk_primary not found, ignoring...'],
    ['Sun Jan 12 10:00:00 2025: (/etc/keepalived/keepalived.conf: Line 3) x', '(<file>: Line #) x'],
    ['2025-01-08T10:12:41.123456+03:00 Keepalived_vrrp[1234]: (/etc/keepalived/keepalived.conf: Line 3) x', 'Keepalived_vrrp[pid]: (<file>: Line #) x'],
    ['Jan  8 10:12:41 node1 Keepalived_vrrp[1234]: x', 'Keepalived_vrrp[pid]: x'],
    ['Child exited, pid 4242   status 1', 'Child exited, pid # status 1'],
    ["Unable to set uid/gid for script '/etc/keepalived/primary_check.sh'", "Unable to set uid/gid for script '/etc/keepalived/primary_check.sh'"],
  ])('%s', (line, normalised) => {
    expect(normaliseConfigTestLine(line, paths)).toBe(normalised);
  });
});

describe('judgeConfigTest on hostile output (SPEC §8: bounded time, lines cut)', () => {
  const MB = 1024 * 1024;
  const letters = 'a'.repeat(100_000);
  /** Output shaped against each pattern the judgement uses, each several times past the bounds. */
  const HOSTILE: Record<string, string> = {
    'a 100k-character run of letters (the pid pattern)': `${letters}\n`.repeat(20),
    'a 100k-character run of slashes before .vipbot-new (the staged-name pattern)': `${'/'.repeat(100_000)}.vipbot-new x\n`.repeat(20),
    'a 100k-character path of /a segments ending .vipbot-newz': `${'/a'.repeat(50_000)}.vipbot-newz\n`.repeat(20),
    'an open "(" and no ": Line" (the file-prefix pattern)': `(${'x'.repeat(100_000)}\n`.repeat(20),
    'a syslog prefix followed by 100k blanks (the prefix patterns)': `Jan  8 10:12:41${' '.repeat(100_000)}x\n`.repeat(20),
    'half a million short lines': 'Keepalived_vrrp[1234]: (VI_1) x\n'.repeat(500_000),
    'fifty thousand distinct file names': Array.from({ length: 50_000 }, (_, i) => `(/etc/k${i}.conf: Line ${i}) Unknown keyword 'x${i}'`).join('\n'),
    'one line of 4 MB': 'x'.repeat(4 * MB),
  };

  for (const [name, text] of Object.entries(HOSTILE)) {
    it(`${name}: judged in well under a second`, () => {
      expect(text.length).toBeGreaterThan(MB);
      const started = performance.now();
      const verdict = judgeConfigTest({ code: 1, stdout: text, stderr: text }, { code: 1, stdout: '', stderr: text });
      const elapsedMs = performance.now() - started;
      expect(elapsedMs).toBeLessThan(500);
      expect(typeof verdict.ok).toBe('boolean');
      // Every quoted line was cut before matching: the reason stays a few kB at most.
      expect(verdict.reason.length).toBeLessThan(6 * 2_100);
    });
  }

  it('the same huge message in both runs (beyond the cut) is no new problem', () => {
    const huge = `(/etc/keepalived/keepalived.conf: Line 3) ${'y'.repeat(100_000)}`;
    const staged = huge.replace('keepalived.conf:', 'keepalived.conf.vipbot-new:');
    expect(judgeConfigTest(run(5, huge), run(5, staged))).toEqual({ ok: true, reason: expect.stringMatching(/^same result as the current file \(exit 5/), newProblems: [] });
  });

  it('a candidate that prints past the bounds when the current file does not is refused', () => {
    const verdict = judgeConfigTest(run(0), { code: 0, stdout: '', stderr: 'warning\n'.repeat(3_000) });
    expect(verdict.ok).toBe(false);
    expect(verdict.reason).toBe('keepalived -t prints far more on the new file than on the current one (over 2000 lines or 256 KiB)');
  });

  it('normaliseConfigTestLine reads 2 kB of a line and compares 1 kB', () => {
    expect(normaliseConfigTestLine(`Keepalived_vrrp[42]: ${'z'.repeat(10_000)}`)).toBe(`Keepalived_vrrp[pid]: ${'z'.repeat(1_024 - 'Keepalived_vrrp[pid]: '.length)}`);
  });
});

it('a candidate test killed by a signal says so', () => {
  expect(judgeConfigTest(run(0), { code: null, signal: 'SIGTERM', stdout: '', stderr: '' }).reason).toBe('keepalived -t did not finish on the new file (killed by SIGTERM) but did on the current one (exit 0)');
});
