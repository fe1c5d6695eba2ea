/**
 * Desktop Entry Specification files (https://specifications.freedesktop.org/desktop-entry-spec/):
 * `[Group]` headers, `Key=Value` and `Key[locale]=Value` lines, `#` comments. Pure: text in, data out.
 */
export interface DesktopEntry {
  /** Groups in file order; keys keep their locale suffix (`Name[de]`). */
  groups: Map<string, Map<string, string>>;
}

export function parseDesktopEntry(text: string): DesktopEntry {
  const groups = new Map<string, Map<string, string>>();
  let current: Map<string, string> | undefined;
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    if (line.startsWith('[') && line.endsWith(']')) {
      const name = line.slice(1, -1);
      // A repeated group is an error in the spec; the first one wins.
      current = groups.has(name) ? undefined : new Map();
      if (current) groups.set(name, current);
      continue;
    }
    const eq = line.indexOf('=');
    if (!current || eq <= 0) continue;
    const key = line.slice(0, eq).trim();
    if (!current.has(key)) current.set(key, line.slice(eq + 1).trim());
  }
  return { groups };
}

/** Undoes the value escapes: \s \n \t \r \\ (others are kept as written). */
export function unescapeValue(value: string): string {
  return value.replace(/\\([sntr\\])/g, (_, c: string) =>
    c === 's' ? ' ' : c === 'n' ? '\n' : c === 't' ? '\t' : c === 'r' ? '\r' : '\\',
  );
}

/**
 * A localised string: `Key[lang_COUNTRY@MODIFIER]`, then `Key[lang_COUNTRY]`, `Key[lang@MODIFIER]`,
 * `Key[lang]`, then `Key`, as the spec orders the matches for a locale.
 */
export function localized(group: Map<string, string>, key: string, locale = ''): string | undefined {
  const m = /^([a-zA-Z]+)(?:_([a-zA-Z]+))?(?:\.[^@]*)?(?:@(.+))?$/.exec(locale);
  if (m) {
    const [, lang, country, modifier] = m;
    const candidates = [
      country && modifier && `${lang}_${country}@${modifier}`,
      country && `${lang}_${country}`,
      modifier && `${lang}@${modifier}`,
      lang,
    ];
    for (const c of candidates) {
      const value = c ? group.get(`${key}[${c}]`) : undefined;
      if (value !== undefined) return unescapeValue(value);
    }
  }
  const value = group.get(key);
  return value === undefined ? undefined : unescapeValue(value);
}

/**
 * The argument vector of an `Exec` value (already unescaped): arguments split on spaces, double
 * quotes group, and inside them `\"`, `` \` ``, `\$` and `\\` stand for the character. Field codes
 * (`%f %F %u %U %i %c %k` and the deprecated ones) are dropped; `%%` is a `%`. Returns undefined for
 * a malformed value (an unclosed quote).
 */
export function parseExec(exec: string): string[] | undefined {
  const args: string[] = [];
  let current = '';
  let inArg = false;
  let quoted = false;
  for (let i = 0; i < exec.length; i++) {
    const c = exec[i]!;
    if (quoted) {
      if (c === '\\' && i + 1 < exec.length && '"`$\\'.includes(exec[i + 1]!)) current += exec[++i];
      else if (c === '"') quoted = false;
      else current += c;
    } else if (c === '"') {
      quoted = true;
      inArg = true;
    } else if (c === ' ' || c === '\t') {
      if (inArg) args.push(current);
      current = '';
      inArg = false;
    } else if (c === '%' && i + 1 < exec.length) {
      const code = exec[++i]!;
      if (code === '%') current += '%';
      inArg = inArg || code === '%';
    } else {
      current += c;
      inArg = true;
    }
  }
  if (quoted) return undefined;
  if (inArg) args.push(current);
  return args.filter((a) => a !== '');
}

/**
 * The program an Exec line runs: its first argument, looking through `env VAR=x prog` and
 * `sh -c "prog ..."`-free forms. Flatpak (`flatpak run ... <app-id>`) yields the app id as `appId`.
 */
export function execProgram(args: readonly string[]): { program?: string; appId?: string } {
  let i = 0;
  if (args[i] && /(^|\/)env$/.test(args[i]!)) {
    i++;
    while (args[i] && (args[i]!.includes('=') || args[i]!.startsWith('-'))) i++;
  }
  const program = args[i];
  if (program && /(^|\/)flatpak$/.test(program) && args[i + 1] === 'run') {
    const appId = args.slice(i + 2).find((a) => !a.startsWith('-'));
    return appId ? { program, appId } : { program };
  }
  return program ? { program } : {};
}
