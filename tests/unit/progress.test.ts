import { describe, expect, it } from 'vitest';
import { cumulative, progressBar } from '../../src/commands/progress.js';

function terminal(isTTY: boolean) {
  let text = '';
  return {
    out: { isTTY, columns: 120, write: (s: string) => ((text += s), true), on: () => undefined, removeListener: () => undefined },
    text: () => text,
  };
}

describe('progress bar', () => {
  it('on a terminal: done/total, rate and ETA; grows the total when the estimate fell short; cleared on stop', () => {
    const t = terminal(true);
    const bar = progressBar(t.out);
    bar.start(10);
    const report = cumulative(bar);
    report({ done: 3, failed: 1 });
    bar.stop();
    // eslint-disable-next-line no-control-regex
    const plain = t.text().replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '');
    expect(plain).toMatch(/ 0\/10 studies \| 0\/s \| ETA /);
    expect(plain).toMatch(/ 4\/10 studies \| [\d.]+\/s \| ETA /);
    // The last thing written clears the line, so the summary that follows starts clean.
    expect(t.text()).toMatch(/\x1b\[2K|\x1b\[0K|\r$/);

    const grown = terminal(true);
    const b2 = progressBar(grown.out);
    b2.start(2);
    b2.tick(5);
    b2.setTotal(8);
    b2.stop();
    expect(grown.text().replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '')).toMatch(/ 5\/8 studies/);
  });

  it('writes nothing when stderr is not a terminal', () => {
    const t = terminal(false);
    const bar = progressBar(t.out);
    bar.start(10);
    bar.tick(4);
    bar.stop();
    expect(t.text()).toBe('');
  });
});
