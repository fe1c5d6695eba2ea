import { describe, expect, it } from 'vitest';
import {
  CHUNK,
  CTL_WORDS,
  Ctl,
  claim,
  claimed,
  firstClaim,
  lastClaim,
} from '../src/platform/linux/walk-protocol';

function job(gen: number, count: number): Int32Array {
  const ctl = new Int32Array(new SharedArrayBuffer(CTL_WORDS * 4));
  ctl[Ctl.COUNT] = count;
  ctl[Ctl.NEXT] = firstClaim(gen);
  ctl[Ctl.GEN] = gen;
  return ctl;
}

describe('claiming pids of a shared walk', () => {
  it('two claimers taking turns get every pid exactly once, CHUNK at a time', () => {
    const ctl = job(7, 45);
    const taken: number[][] = [[], []];
    for (let turn = 0, at = claim(ctl, 7); at >= 0; turn ^= 1, at = claim(ctl, 7)) {
      for (let i = at; i < Math.min(at + CHUNK, 45); i++) taken[turn]!.push(i);
    }
    expect(taken[0]!.length).toBeGreaterThan(0);
    expect(taken[1]!.length).toBeGreaterThan(0);
    expect([...taken[0]!, ...taken[1]!].sort((a, b) => a - b)).toEqual([...Array(45).keys()]);
    expect(claim(ctl, 7)).toBe(-1);
  });

  it('a claimer of another generation gets nothing, even when the low bits of the index match', () => {
    const ctl = job(3, 100);
    expect(claim(ctl, 2)).toBe(-1);
    expect(claim(ctl, 3 + 2048)).toBe(0); // generations wrap at 2048: same job
    expect(claim(ctl, 3)).toBe(CHUNK);
  });

  it('claimed() says how far the claims got, and nothing for another job', () => {
    const ctl = job(9, 100);
    expect(claimed(ctl, 9)).toBe(0);
    claim(ctl, 9);
    claim(ctl, 9);
    expect(claimed(ctl, 9)).toBe(2 * CHUNK);
    expect(claimed(ctl, 10)).toBe(0);
  });

  it('a closed job has nothing left to claim', () => {
    const ctl = job(5, 100);
    expect(claim(ctl, 5)).toBe(0);
    ctl[Ctl.NEXT] = lastClaim(5);
    expect(claim(ctl, 5)).toBe(-1);
  });
});
