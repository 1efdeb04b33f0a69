import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger, redactUrl } from '../../src/log.js';

function capture(): { stream: Writable; lines: () => Record<string, unknown>[] } {
  let text = '';
  const stream = new Writable({
    write(chunk, _enc, done) {
      text += String(chunk);
      done();
    },
  });
  return { stream, lines: () => text.trim().split('\n').map((l) => JSON.parse(l)) };
}

describe('logging', () => {
  it('writes JSON lines with secrets redacted', () => {
    const out = capture();
    const log = createLogger({ level: 'info', pretty: false }, false, out.stream);
    log.info({ password: 'hunter2', config: { database: { url: 'postgres://u:p@h/db' } }, db: { password: 'x' } }, 'started');
    const [line] = out.lines();
    expect(line).toMatchObject({ msg: 'started', level: 30, password: '[redacted]', db: { password: '[redacted]' } });
    expect(JSON.stringify(line)).not.toContain('hunter2');
    expect(JSON.stringify(line)).not.toContain('u:p@');
  });

  it('respects the level', () => {
    const out = capture();
    const log = createLogger({ level: 'warn', pretty: false }, false, out.stream);
    log.info('hidden');
    log.warn('shown');
    expect(out.lines().map((l) => l.msg)).toEqual(['shown']);
  });

  it('hides the password of a connection URL shown to people', () => {
    expect(redactUrl('postgres://user:secret@db.example.org:5432/ctgov')).toBe('postgres://user:***@db.example.org:5432/ctgov');
    expect(redactUrl('postgres://user@db/ctgov')).toBe('postgres://user@db/ctgov');
    expect(redactUrl('not a url')).toBe('[unparseable url]');
  });
});
