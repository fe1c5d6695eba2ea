/** This package's version, from its package.json at build time. */
export const version: string = __PKG_VERSION__;
