/** An application icon. PNG and SVG are returned as stored; other formats are converted to PNG. */
export interface Icon {
  format: 'png' | 'svg';
  data: Buffer;
  /** Pixel size (PNG); absent for SVG. */
  width?: number;
  height?: number;
  /** Where it came from: the strategy, and the file read. */
  source: IconSource;
}

export interface IconSource {
  kind: 'freedesktop' | 'macos-bundle' | 'windows-pe' | 'appx' | 'fallback';
  /** The icon file (or executable, for PE resources). */
  file: string;
  /** The desktop entry, Info.plist or AppxManifest.xml that named it, when there was one. */
  via?: string;
}

/** Why no icon was found. */
export type NoIconReason =
  | 'no-program' // neither a path nor a name was given
  | 'no-desktop-entry' // Linux: no desktop entry matches the program
  | 'no-icon-named' // the entry, plist or manifest names no icon
  | 'icon-not-found' // it names one that no theme folder or bundle holds
  | 'no-icon-resource' // a PE file without icon resources
  | 'unreadable' // a file could not be read
  | 'malformed'; // a file is broken (bad plist, PE, ICNS, XPM)

export type IconLookup =
  | { icon: Icon; reason?: undefined }
  | { icon: undefined; reason: NoIconReason; detail?: string };

/** The program whose icon is wanted. */
export interface ProgramRef {
  /** Absolute path of the executable (what @netwho/listeners gives as `path`). */
  path?: string;
  /** Its name (may be the 15-character kernel name), used when the path does not lead to an icon. */
  name?: string;
}

export interface IconOptions {
  /** Wanted size in pixels (default 48): the closest available is chosen. */
  size?: number;
  /** Return a generic icon (a terminal glyph, SVG) instead of nothing. Default false. */
  fallback?: boolean;
}
