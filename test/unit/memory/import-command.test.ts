/**
 * `vipbot memory import` tells the crontab's two logs apart by content; the console pulls the chart
 * out of the upload body to save it.
 */
import { describe, expect, it } from 'vitest';
import { classifyCronLog } from '../../../src/memory/import-command.ts';
import { fileFromUploadBody } from '../../../src/slack/console-receiver.ts';
import { readMemoryFixture } from './fixtures.ts';

describe('classifyCronLog', () => {
  it.each<[string, string, 'mem' | 'ps' | undefined]>([
    ['the notes\' mem.log', readMemoryFixture('notes-mem.log'), 'mem'],
    ['the notes\' ps_mem.log', readMemoryFixture('notes-ps_mem.log'), 'ps'],
    ['ps_mem.log with en_GB dates and no header', 'Sun 29 Dec 2024 09:00:01 AM MSK\nroot 23145 0.0 0.0 123032 1836 ? Ss Dec28 0:07 /usr/sbin/keepalived -D\n', 'ps'],
    ['a config file', 'vrrp_instance VI_1 {\n  state MASTER\n}\n', undefined],
    ['nothing', '', undefined],
  ])('%s', (_what, text, kind) => {
    expect(classifyCronLog(text)).toBe(kind);
  });
});

describe('fileFromUploadBody', () => {
  const png = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x0d, 0x0a, 0x2d, 0x2d, 0x01]);
  it('takes the file out of the multipart body @slack/web-api sends', () => {
    const boundary = '----formdata-undici-047938461361';
    const body = Buffer.concat([
      Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="body"; filename="Untitled"\r\nContent-Type: application/octet-stream\r\n\r\n`),
      png,
      Buffer.from(`\r\n--${boundary}--\r\n`),
    ]);
    expect(fileFromUploadBody(body)).toEqual(png);
  });

  it('leaves a raw body as it is', () => {
    expect(fileFromUploadBody(png)).toEqual(png);
  });
});

describe('shiftToNow (the demo loads the notes\' figures as recent history)', () => {
  it('moves every sample and its start time by the same amount, the last one to now', async () => {
    const { shiftToNow } = await import('../../../src/memory/import-command.ts');
    const now = Date.UTC(2026, 11, 1, 22, 0, 0);
    const samples = [
      { t: Date.UTC(2024, 11, 20, 9, 0), node: 'node1', processes: [], startedAt: '2024-12-01T08:00:00.000Z' },
      { t: Date.UTC(2024, 11, 27, 9, 0), node: 'node1', processes: [] },
    ];
    const shifted = shiftToNow(samples, now);
    expect(shifted.map((s) => s.t)).toEqual([now - 7 * 86_400_000, now]);
    expect(shifted[0]!.startedAt).toBe(new Date(now - 7 * 86_400_000 - 19 * 86_400_000 - 3_600_000).toISOString());
    expect(shiftToNow([], now)).toEqual([]);
  });
});
