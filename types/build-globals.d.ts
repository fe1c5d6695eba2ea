/** Replaced at build time (tsup) and test time (vitest) by the package's own version. */
declare const __PKG_VERSION__: string;
