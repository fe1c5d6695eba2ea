import type { Icon } from './types';

/** A generic program icon (a terminal window with a prompt), for programs without one. */
const TERMINAL_SVG = `<svg xmlns="http://www.w3.org/2000/svg" width="48" height="48" viewBox="0 0 48 48">
<rect x="3" y="7" width="42" height="34" rx="4" fill="#2e3440"/>
<rect x="3" y="7" width="42" height="7" rx="4" fill="#4c566a"/>
<path d="M11 21l7 5-7 5" fill="none" stroke="#a3be8c" stroke-width="3" stroke-linecap="round" stroke-linejoin="round"/>
<path d="M21 33h12" stroke="#d8dee9" stroke-width="3" stroke-linecap="round"/>
</svg>
`;

export function fallbackIcon(): Icon {
  return { format: 'svg', data: Buffer.from(TERMINAL_SVG), source: { kind: 'fallback', file: '' } };
}
