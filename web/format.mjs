// Number formats shared by the views: money with two decimals, parameters
// and metrics as written (short, without float noise).
export const fmtUsd = (v) => `$${v.toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 })}`;

export function fmtNum(v) {
  if (typeof v !== 'number') return v == null ? '' : String(v);
  if (v !== 0 && (Math.abs(v) < 1e-3 || Math.abs(v) >= 1e7)) return v.toExponential().replace(/\.?0+e/, 'e');
  return String(Number(v.toPrecision(12)));
}
