import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadViewState, saveViewState, viewStateFile } from '../src/watch/remember';

describe('watch --remember', () => {
  const state = mkdtempSync(join(tmpdir(), 'netwho-remember-'));
  const env = { XDG_STATE_HOME: state };

  it('keeps one view per terminal, beside the history file', () => {
    expect(viewStateFile(env, '/dev/pts/3')).toBe(join(state, 'netwho', 'watch-pts-3.json'));
    expect(viewStateFile(env, '/dev/tty2')).toBe(join(state, 'netwho', 'watch-tty2.json'));
    expect(viewStateFile(env, undefined)).toBeUndefined();
  });

  it('saves and loads the view; anything it does not understand gives the defaults', () => {
    const file = viewStateFile(env, '/dev/pts/7')!;
    expect(loadViewState(file)).toBeUndefined();
    saveViewState(file, { tab: 2, sort: 'total', grouping: 'unit' });
    expect(loadViewState(file)).toEqual({ tab: 2, sort: 'total', grouping: 'unit' });
    expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual({ tab: 2, sort: 'total', grouping: 'unit' });
    writeFileSync(file, '{"tab":9,"sort":"total","grouping":"unit"}');
    expect(loadViewState(file)).toBeUndefined();
    writeFileSync(file, 'not json');
    expect(loadViewState(file)).toBeUndefined();
  });
});
