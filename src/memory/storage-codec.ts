/**
 * Compact binary encoding of memory samples for Redis: one Buffer per node per UTC day (key e.g.
 * `vipbot:mem:<node>:<dayIndex>`), so retention is "delete old keys" and a time-range query reads only
 * the days it covers.
 *
 * Hourly samples change little from one hour to the next (same pids, same VSZ, RSS within a page or
 * two, CPU time growing at the same pace), so each record says which values differ from what the
 * previous record predicts, then gives only those differences as zigzag varints. An unchanged process
 * costs one byte. Sizes go in KiB when every size in the record is a multiple of 1 KiB (always, for ps
 * and cgroup figures, which count pages) and in bytes otherwise, so decoding is exact. Times are kept
 * to the second; `startedAt` comes back as a normalised ISO string; CPU seconds are rounded.
 *
 * Layout: "VM" | version u8 | varint dayIndex | records…
 * Record: varint changed-mask | [presence flags] [Δinterval] [Δunit] [Δanon] [Δfile] [process count]
 *   [ΔmainPid] [ΔstartedAt] | processes (when present)
 * Process: varint changed-mask | [presence] [Δrss] [ΔpssAnon] [Δcpu vs its last pace] [Δelapsed vs
 *   expected] [Δpid] [Δvsz] [Δppid] [stat] [command] — strings as table references (0 = new, inline).
 */
import { VipbotError } from '../errors.ts';
import { sortSamples, type MemoryProcess, type MemorySample } from './sample.ts';

const MAGIC_0 = 0x56; // 'V'
const MAGIC_1 = 0x4d; // 'M'
/** Bumped when the layout changes; decoders refuse versions they do not know. */
export const MEMORY_CODEC_VERSION = 1;

const DAY_MS = 86_400_000;

/** Which values a record carries (changes rarely, so it is only written when it changes). */
const F_UNIT = 1 << 0;
const F_ANON = 1 << 1;
const F_FILE = 1 << 2;
const F_MAIN_PID = 1 << 3;
const F_STARTED_AT = 1 << 4;
const F_ACTIVE_KNOWN = 1 << 5;
const F_ACTIVE = 1 << 6;
const F_PROCESSES = 1 << 7;
const F_BYTES = 1 << 8;

/** Record changed-mask: the frequent changes in the low 7 bits keep it to one byte. */
const C_INTERVAL = 1 << 0;
const C_UNIT = 1 << 1;
const C_ANON = 1 << 2;
const C_FILE = 1 << 3;
const C_COUNT = 1 << 4;
const C_PRESENCE = 1 << 5;
const C_MAIN_PID = 1 << 6;
const C_STARTED_AT = 1 << 7;

/** Which values a process carries. */
const P_PPID = 1 << 0;
const P_PSS_ANON = 1 << 1;
const P_CPU = 1 << 2;
const P_ELAPSED = 1 << 3;
const P_STAT = 1 << 4;
const P_COMMAND = 1 << 5;

/** Process changed-mask. */
const D_RSS = 1 << 0;
const D_PSS_ANON = 1 << 1;
const D_CPU = 1 << 2;
const D_ELAPSED = 1 << 3;
const D_PID = 1 << 4;
const D_VSZ = 1 << 5;
const D_PPID = 1 << 6;
const D_PRESENCE = 1 << 7;
const D_STAT = 1 << 8;
const D_COMMAND = 1 << 9;

/** UTC day number of an instant (the storage key's day). */
export function dayIndexOf(t: number): number {
  return Math.floor(t / DAY_MS);
}

/** Day numbers whose buffers hold samples in [from, to]. */
export function dayIndexesInRange(from: number, to: number): number[] {
  const out: number[] = [];
  for (let d = dayIndexOf(from); d <= dayIndexOf(to); d += 1) out.push(d);
  return out;
}

class Writer {
  private bytes: number[] = [];

  u8(value: number): void {
    this.bytes.push(value & 0xff);
  }

  /** Unsigned LEB128; arithmetic, not bit ops, so values up to 2^53 survive. */
  varint(value: number): void {
    let v = value;
    if (!Number.isSafeInteger(v) || v < 0) throw new RangeError(`cannot encode ${value} as varint`);
    while (v >= 0x80) {
      this.bytes.push((v % 0x80) | 0x80);
      v = Math.floor(v / 0x80);
    }
    this.bytes.push(v);
  }

  zigzag(value: number): void {
    this.varint(value >= 0 ? value * 2 : -value * 2 - 1);
  }

  raw(buf: Buffer): void {
    for (const b of buf) this.bytes.push(b);
  }

  toBuffer(): Buffer {
    return Buffer.from(this.bytes);
  }
}

class Reader {
  private offset = 0;

  constructor(private readonly buf: Buffer) {}

  get done(): boolean {
    return this.offset >= this.buf.length;
  }

  u8(): number {
    if (this.offset >= this.buf.length) throw corrupt('unexpected end');
    return this.buf[this.offset++]!;
  }

  varint(): number {
    let result = 0;
    let scale = 1;
    for (;;) {
      const b = this.u8();
      result += (b & 0x7f) * scale;
      if (b < 0x80) return result;
      scale *= 0x80;
      if (scale > 2 ** 56) throw corrupt('varint too long');
    }
  }

  zigzag(): number {
    const v = this.varint();
    return v % 2 === 0 ? v / 2 : -(v + 1) / 2;
  }

  raw(length: number): Buffer {
    if (this.offset + length > this.buf.length) throw corrupt('string past the end');
    const out = this.buf.subarray(this.offset, this.offset + length);
    this.offset += length;
    return out;
  }
}

function corrupt(why: string): VipbotError {
  return new VipbotError('memory_codec_corrupt', `stored memory samples cannot be decoded: ${why}`, 'the day key may be from another version; delete it and let the sampler refill it');
}

/** What the previous record left behind; both sides keep the same state. */
interface ProcessState {
  p: MemoryProcess;
  presence: number;
  /** CPU seconds gained between the last two records: the prediction for the next one. */
  cpuStep: number;
}

interface State {
  t: number;
  interval: number;
  presence: number;
  unit: number;
  anon: number;
  file: number;
  mainPid: number;
  startedAt: number;
  processes: ProcessState[];
}

function emptyState(dayStartMs: number): State {
  return { t: dayStartMs, interval: 0, presence: 0, unit: 0, anon: 0, file: 0, mainPid: 0, startedAt: 0, processes: [] };
}

const EMPTY_PROCESS: ProcessState = { p: { pid: 0, rss: 0, vsz: 0 }, presence: 0, cpuStep: 0 };

/** Size delta in the record's unit: KiB against the previous value's whole KiB, or bytes. */
function sizeDelta(value: number, prev: number, kib: boolean): number {
  return kib ? value / 1024 - Math.floor(prev / 1024) : value - prev;
}

function sizeFromDelta(delta: number, prev: number, kib: boolean): number {
  return kib ? (Math.floor(prev / 1024) + delta) * 1024 : prev + delta;
}

function recordSizes(sample: MemorySample): number[] {
  const sizes = [sample.unitMemory, sample.anon, sample.file].filter((v): v is number => v !== undefined);
  for (const p of sample.processes) {
    sizes.push(p.rss, p.vsz);
    if (p.pssAnon !== undefined) sizes.push(p.pssAnon);
  }
  return sizes;
}

class StringTable {
  private readonly index = new Map<string, number>();

  write(w: Writer, value: string): void {
    const known = this.index.get(value);
    if (known !== undefined) {
      w.varint(known + 1);
      return;
    }
    w.varint(0);
    const bytes = Buffer.from(value, 'utf8');
    w.varint(bytes.length);
    w.raw(bytes);
    this.index.set(value, this.index.size);
  }
}

function processPresence(p: MemoryProcess): number {
  let presence = 0;
  if (p.ppid !== undefined) presence |= P_PPID;
  if (p.pssAnon !== undefined) presence |= P_PSS_ANON;
  if (p.cpuSeconds !== undefined) presence |= P_CPU;
  if (p.elapsedSeconds !== undefined) presence |= P_ELAPSED;
  if (p.stat !== undefined) presence |= P_STAT;
  if (p.command !== undefined) presence |= P_COMMAND;
  return presence;
}

/** A list of (bit, value) pairs written after the mask, in bit order. */
type Deltas = Array<[number, number]>;

function writeProcess(w: Writer, p: MemoryProcess, prev: ProcessState, dtSeconds: number, kib: boolean, strings: StringTable): ProcessState {
  const presence = processPresence(p);
  const cpu = p.cpuSeconds !== undefined ? Math.round(p.cpuSeconds) : undefined;
  const prevCpu = prev.p.cpuSeconds ?? 0;
  const deltas: Deltas = [
    [D_RSS, sizeDelta(p.rss, prev.p.rss, kib)],
    [D_PSS_ANON, p.pssAnon !== undefined ? sizeDelta(p.pssAnon, prev.p.pssAnon ?? 0, kib) : 0],
    [D_CPU, cpu !== undefined ? cpu - (prevCpu + prev.cpuStep) : 0],
    // A process that kept running is older by exactly the time between samples.
    [D_ELAPSED, p.elapsedSeconds !== undefined ? p.elapsedSeconds - ((prev.p.elapsedSeconds ?? 0) + dtSeconds) : 0],
    [D_PID, p.pid - prev.p.pid],
    [D_VSZ, sizeDelta(p.vsz, prev.p.vsz, kib)],
    [D_PPID, p.ppid !== undefined ? p.ppid - (prev.p.ppid ?? 0) : 0],
  ];
  let mask = 0;
  for (const [bit, delta] of deltas) if (delta !== 0) mask |= bit;
  if (presence !== prev.presence) mask |= D_PRESENCE;
  if (p.stat !== undefined && p.stat !== prev.p.stat) mask |= D_STAT;
  if (p.command !== undefined && p.command !== prev.p.command) mask |= D_COMMAND;
  w.varint(mask);
  if (mask & D_PRESENCE) w.varint(presence);
  for (const [bit, delta] of deltas) if (mask & bit) w.zigzag(delta);
  if (mask & D_STAT) strings.write(w, p.stat!);
  if (mask & D_COMMAND) strings.write(w, p.command!);
  const stored: MemoryProcess = cpu !== undefined ? { ...p, cpuSeconds: cpu } : { ...p };
  return { p: stored, presence, cpuStep: cpu !== undefined ? cpu - prevCpu : prev.cpuStep };
}

function writeRecord(w: Writer, sample: MemorySample, state: State, strings: StringTable): void {
  const t = Math.round(sample.t / 1000) * 1000;
  const kib = recordSizes(sample).every((v) => v % 1024 === 0);
  let presence = kib ? 0 : F_BYTES;
  if (sample.unitMemory !== undefined) presence |= F_UNIT;
  if (sample.anon !== undefined) presence |= F_ANON;
  if (sample.file !== undefined) presence |= F_FILE;
  if (sample.mainPid !== undefined) presence |= F_MAIN_PID;
  const startedAt = sample.startedAt !== undefined ? Date.parse(sample.startedAt) : NaN;
  if (Number.isFinite(startedAt)) presence |= F_STARTED_AT;
  if (sample.active !== undefined) presence |= F_ACTIVE_KNOWN | (sample.active ? F_ACTIVE : 0);
  // Same order every hour (by pid) so each process lines up with itself in the previous record.
  const processes = [...sample.processes].sort((a, b) => a.pid - b.pid);
  if (processes.length > 0) presence |= F_PROCESSES;

  const interval = (t - state.t) / 1000;
  const deltas: Deltas = [
    [C_INTERVAL, interval - state.interval],
    [C_UNIT, sample.unitMemory !== undefined ? sizeDelta(sample.unitMemory, state.unit, kib) : 0],
    [C_ANON, sample.anon !== undefined ? sizeDelta(sample.anon, state.anon, kib) : 0],
    [C_FILE, sample.file !== undefined ? sizeDelta(sample.file, state.file, kib) : 0],
    [C_COUNT, processes.length > 0 ? processes.length - state.processes.length : 0],
    [C_MAIN_PID, sample.mainPid !== undefined ? sample.mainPid - state.mainPid : 0],
    [C_STARTED_AT, presence & F_STARTED_AT ? startedAt - state.startedAt : 0],
  ];
  let mask = presence !== state.presence ? C_PRESENCE : 0;
  for (const [bit, delta] of deltas) if (delta !== 0) mask |= bit;
  w.varint(mask);
  if (mask & C_PRESENCE) w.varint(presence);
  for (const [bit, delta] of deltas) if (mask & bit) w.zigzag(delta);

  state.t = t;
  state.interval = interval;
  state.presence = presence;
  if (sample.unitMemory !== undefined) state.unit = sample.unitMemory;
  if (sample.anon !== undefined) state.anon = sample.anon;
  if (sample.file !== undefined) state.file = sample.file;
  if (sample.mainPid !== undefined) state.mainPid = sample.mainPid;
  if (presence & F_STARTED_AT) state.startedAt = startedAt;
  if (processes.length === 0) return;
  state.processes = processes.map((p, i) => writeProcess(w, p, state.processes[i] ?? EMPTY_PROCESS, interval, kib, strings));
}

/**
 * Encodes samples of one node and one UTC day (any order) into one buffer. Throws `memory_codec_day`
 * when the samples span more than one UTC day.
 */
export function encodeDay(samples: readonly MemorySample[]): Buffer {
  const sorted = sortSamples(samples);
  const day = sorted.length > 0 ? dayIndexOf(Math.round(sorted[0]!.t / 1000) * 1000) : 0;
  const w = new Writer();
  w.u8(MAGIC_0);
  w.u8(MAGIC_1);
  w.u8(MEMORY_CODEC_VERSION);
  w.varint(day);
  const state = emptyState(day * DAY_MS);
  const strings = new StringTable();
  for (const sample of sorted) {
    if (dayIndexOf(Math.round(sample.t / 1000) * 1000) !== day) {
      throw new VipbotError('memory_codec_day', 'samples given to encodeDay span more than one UTC day', 'group them with encodeSamplesByDay first');
    }
    writeRecord(w, sample, state, strings);
  }
  return w.toBuffer();
}

/** Decodes one day buffer into samples of `node`, oldest first. */
export function decodeDay(buf: Buffer, node: string): MemorySample[] {
  const r = new Reader(buf);
  if (r.u8() !== MAGIC_0 || r.u8() !== MAGIC_1) throw corrupt('not a memory sample buffer');
  const version = r.u8();
  if (version !== MEMORY_CODEC_VERSION) throw corrupt(`version ${version}, expected ${MEMORY_CODEC_VERSION}`);
  const day = r.varint();
  const state = emptyState(day * DAY_MS);
  const strings: string[] = [];
  const readString = (): string => {
    const ref = r.varint();
    if (ref > 0) {
      const s = strings[ref - 1];
      if (s === undefined) throw corrupt('bad string reference');
      return s;
    }
    const s = r.raw(r.varint()).toString('utf8');
    strings.push(s);
    return s;
  };
  const samples: MemorySample[] = [];
  while (!r.done) {
    const mask = r.varint();
    if (mask & C_PRESENCE) state.presence = r.varint();
    const presence = state.presence;
    const kib = (presence & F_BYTES) === 0;
    const read = (bit: number): number => (mask & bit ? r.zigzag() : 0);
    state.interval += read(C_INTERVAL);
    const t = state.t + state.interval * 1000;
    const dUnit = read(C_UNIT);
    const dAnon = read(C_ANON);
    const dFile = read(C_FILE);
    const dCount = read(C_COUNT);
    const dMainPid = read(C_MAIN_PID);
    const dStartedAt = read(C_STARTED_AT);
    const sample: MemorySample = { t, node, processes: [] };
    if (presence & F_UNIT) sample.unitMemory = state.unit = sizeFromDelta(dUnit, state.unit, kib);
    if (presence & F_ANON) sample.anon = state.anon = sizeFromDelta(dAnon, state.anon, kib);
    if (presence & F_FILE) sample.file = state.file = sizeFromDelta(dFile, state.file, kib);
    if (presence & F_MAIN_PID) sample.mainPid = state.mainPid = state.mainPid + dMainPid;
    if (presence & F_STARTED_AT) {
      state.startedAt += dStartedAt;
      sample.startedAt = new Date(state.startedAt).toISOString();
    }
    if (presence & F_ACTIVE_KNOWN) sample.active = (presence & F_ACTIVE) !== 0;
    state.t = t;
    if (presence & F_PROCESSES) {
      const count = state.processes.length + dCount;
      const next: ProcessState[] = [];
      for (let i = 0; i < count; i += 1) {
        const prev = state.processes[i] ?? EMPTY_PROCESS;
        const pmask = r.varint();
        const pPresence = pmask & D_PRESENCE ? r.varint() : prev.presence;
        const pread = (bit: number): number => (pmask & bit ? r.zigzag() : 0);
        const dRss = pread(D_RSS);
        const dPss = pread(D_PSS_ANON);
        const dCpu = pread(D_CPU);
        const dElapsed = pread(D_ELAPSED);
        const dPid = pread(D_PID);
        const dVsz = pread(D_VSZ);
        const dPpid = pread(D_PPID);
        const p: MemoryProcess = {
          pid: prev.p.pid + dPid,
          rss: sizeFromDelta(dRss, prev.p.rss, kib),
          vsz: sizeFromDelta(dVsz, prev.p.vsz, kib),
        };
        if (pPresence & P_PPID) p.ppid = (prev.p.ppid ?? 0) + dPpid;
        if (pPresence & P_PSS_ANON) p.pssAnon = sizeFromDelta(dPss, prev.p.pssAnon ?? 0, kib);
        const prevCpu = prev.p.cpuSeconds ?? 0;
        if (pPresence & P_CPU) p.cpuSeconds = prevCpu + prev.cpuStep + dCpu;
        if (pPresence & P_ELAPSED) p.elapsedSeconds = (prev.p.elapsedSeconds ?? 0) + state.interval + dElapsed;
        if (pPresence & P_STAT) p.stat = pmask & D_STAT ? readString() : prev.p.stat;
        if (pPresence & P_COMMAND) p.command = pmask & D_COMMAND ? readString() : prev.p.command;
        next.push({ p, presence: pPresence, cpuStep: p.cpuSeconds !== undefined ? p.cpuSeconds - prevCpu : prev.cpuStep });
        sample.processes.push({ ...p });
      }
      state.processes = next;
    }
    samples.push(sample);
  }
  return samples;
}

/** Groups samples by UTC day and encodes each day. */
export function encodeSamplesByDay(samples: readonly MemorySample[]): Map<number, Buffer> {
  const byDay = new Map<number, MemorySample[]>();
  for (const s of samples) {
    const day = dayIndexOf(Math.round(s.t / 1000) * 1000);
    const list = byDay.get(day) ?? [];
    list.push(s);
    byDay.set(day, list);
  }
  return new Map([...byDay.entries()].sort(([a], [b]) => a - b).map(([day, list]) => [day, encodeDay(list)]));
}

/**
 * A day buffer with more samples added (a sample at an already stored second replaces it). A day holds
 * a few dozen records, so decoding and re-encoding is cheaper than any cleverness.
 */
export function appendToDay(existing: Buffer | undefined, samples: readonly MemorySample[], node: string): Buffer {
  const bySecond = new Map<number, MemorySample>();
  for (const s of existing ? decodeDay(existing, node) : []) bySecond.set(Math.round(s.t / 1000), s);
  for (const s of samples) bySecond.set(Math.round(s.t / 1000), s);
  return encodeDay([...bySecond.values()]);
}

/** Samples of `node` in [from, to] from the day buffers that cover it (any order), oldest first. */
export function decodeRange(days: Iterable<Buffer>, node: string, from: number, to: number): MemorySample[] {
  const out: MemorySample[] = [];
  for (const buf of days) for (const s of decodeDay(buf, node)) if (s.t >= from && s.t <= to) out.push(s);
  return sortSamples(out);
}

/** Deterministic PRNG (mulberry32) so the size measurement is repeatable. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let x = a;
    x = Math.imul(x ^ (x >>> 15), x | 1);
    x ^= x + Math.imul(x ^ (x >>> 7), x | 61);
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * A year of realistic samples for one host: three keepalived processes with the notes' sizes, RSS
 * moving by a page now and then, CPU and elapsed time growing, unit memory climbing through page cache
 * with cgroup anon/file split, smaps Pss_Anon, a restart a month, seconds of scheduling jitter.
 */
export function generateSyntheticYear(options: { node?: string; sampleEveryMs?: number; start?: number; seed?: number } = {}): MemorySample[] {
  const node = options.node ?? 'node1';
  const every = options.sampleEveryMs ?? 3_600_000;
  const start = options.start ?? Date.UTC(2025, 0, 1);
  const rand = random(options.seed ?? 1);
  const samples: MemorySample[] = [];
  let base = 23145;
  let startedAt = start - 3_600_000;
  let unit = 120 * 1024 * 1024;
  let rss = [1836, 7312, 6088];
  let cpu = [0, 0, 0];
  for (let t = start; t < start + 365 * DAY_MS; t += every) {
    if ((t - start) % (30 * DAY_MS) < every && t !== start) {
      base += 1000 + Math.floor(rand() * 1000);
      startedAt = t - Math.floor(rand() * every);
      unit = 120 * 1024 * 1024;
      rss = [1836, 7312, 6088];
      cpu = [0, 0, 0];
    }
    unit = Math.max(64 * 1024 * 1024, unit + Math.round((rand() - 0.3) * 2048) * 4096);
    rss = rss.map((r) => (rand() < 0.2 ? r + (rand() < 0.5 ? -4 : 4) : r));
    cpu = cpu.map((c, i) => c + (i === 2 ? 60 : 1));
    const anon = 2 * 1024 * 1024 + Math.round(rand() * 64) * 4096;
    // A scheduled job starts within seconds of the hour.
    const sampleT = Math.round((t + rand() * 20_000) / 1000) * 1000;
    const elapsed = Math.round((sampleT - startedAt) / 1000);
    samples.push({
      t: sampleT,
      node,
      unitMemory: unit,
      anon,
      file: unit - anon,
      mainPid: base,
      startedAt: new Date(startedAt).toISOString(),
      active: true,
      processes: [0, 1, 2].map((i) => ({
        pid: base + i,
        ppid: i === 0 ? 1 : base,
        rss: rss[i]! * 1024,
        vsz: (i === 0 ? 123032 : 125156) * 1024,
        pssAnon: Math.round(rss[i]! * 0.4) * 1024,
        cpuSeconds: cpu[i]!,
        elapsedSeconds: elapsed,
        command: '/usr/sbin/keepalived -D',
      })),
    });
  }
  return samples;
}

/** Measured storage cost of one host's year of samples (payload bytes, before Redis' per-key overhead). */
export interface HostYearSize {
  samples: number;
  bytes: number;
  bytesPerSample: number;
  /** One key per day. */
  keys: number;
  /** bytes × hosts, for the 200-host question. */
  bytesFor200Hosts: number;
}

/** Encodes a synthetic (or the given) year of one host's samples and reports its size. */
export function measureBytesPerHostYear(samples: readonly MemorySample[] = generateSyntheticYear()): HostYearSize {
  const days = encodeSamplesByDay(samples);
  let bytes = 0;
  for (const buf of days.values()) bytes += buf.length;
  return { samples: samples.length, bytes, bytesPerSample: bytes / Math.max(1, samples.length), keys: days.size, bytesFor200Hosts: bytes * 200 };
}
