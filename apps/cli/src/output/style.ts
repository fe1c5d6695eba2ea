import pc from 'picocolors';

/**
 * Colours only on a terminal and never with NO_COLOR (https://no-color.org) or FORCE_COLOR=0;
 * picocolors decides from the environment, and we add the TTY check for the stream we write to.
 */
export const colors = pc.createColors(
  pc.isColorSupported && process.stdout.isTTY === true && !process.env.NO_COLOR,
);

/** Writes one line to stdout. */
export const print = (line = ''): void => {
  process.stdout.write(`${line}\n`);
};

/** Writes `value` as pretty JSON (the documented --json shapes). */
export const printJson = (value: unknown): void => {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
};
