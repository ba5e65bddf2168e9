// Colours for the canvas and chart views, read from console.css's custom
// properties, and one hook for when they change (prefers-color-scheme) so
// those views can redraw: CSS restyles the rest of the page by itself.

// Read once per scheme (reading computed style mid-frame forces a style
// recalculation of the page).
let cache = null;
export function colors() {
  if (cache) return cache;
  const s = getComputedStyle(document.documentElement);
  const v = (n) => s.getPropertyValue(n).trim();
  return cache = { fg: v('--fg'), muted: v('--muted'), line: v('--line'), grid: v('--grid'), bg: v('--bg'),
    accent: v('--accent'), accent2: v('--accent2'), ok: v('--ok'), bad: v('--bad') };
}

// 'dark' or 'light': the scheme the canvases were last drawn for (views put
// it in a data-scheme attribute, so a scheme change can be seen in the DOM).
export const scheme = () => (matchMedia('(prefers-color-scheme: dark)').matches ? 'dark' : 'light');

export const reducedMotion = () => matchMedia('(prefers-reduced-motion: reduce)').matches;

export function onSchemeChange(fn) {
  matchMedia('(prefers-color-scheme: dark)').addEventListener('change', () => {
    cache = null;
    fn();
  });
}
