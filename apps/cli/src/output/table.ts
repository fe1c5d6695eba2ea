import stringWidth from 'string-width';

/**
 * Columns padded to their widest cell; the last column is not padded. `maxWidth` caps a column
 * (long paths are cut with an ellipsis in the middle, so both ends stay readable).
 */
export function formatTable(
  header: string[],
  rows: string[][],
  options: { maxWidth?: number[]; style?: (header: string) => string } = {},
): string[] {
  const cut = rows.map((row) => row.map((cell, i) => shorten(cell, options.maxWidth?.[i])));
  const widths = header.map((h, i) => Math.max(stringWidth(h), ...cut.map((r) => stringWidth(r[i] ?? ''))));
  const line = (cells: string[]) =>
    cells
      .map((cell, i) => (i === cells.length - 1 ? cell : cell + ' '.repeat(widths[i]! - stringWidth(cell))))
      .join('  ')
      .trimEnd();
  const head = line(header);
  return [options.style ? options.style(head) : head, ...cut.map(line)];
}

export function shorten(text: string, max?: number): string {
  if (!max || text.length <= max) return text;
  const keep = max - 1;
  const front = Math.ceil(keep / 3);
  return `${text.slice(0, front)}…${text.slice(text.length - (keep - front))}`;
}
