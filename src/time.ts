// UTC timestamps as Date.prototype.toISOString writes them, computed from the epoch by arithmetic.
// Owns the one formatter the log lines and state.json use; a Date object would load the time zone data (issue 8).

// Days since 1970-01-01 to a proleptic Gregorian civil date (Howard Hinnant's days_from_civil, inverted).
function civil(days: number): [number, number, number] {
  const z = days + 719468;
  const era = Math.floor(z / 146097);
  const doe = z - era * 146097;
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365);
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const d = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const m = mp < 10 ? mp + 3 : mp - 9;
  return [yoe + era * 400 + (m <= 2 ? 1 : 0), m, d];
}

const pad = (n: number, w = 2) => String(n).padStart(w, '0');

/** `YYYY-MM-DDTHH:MM:SS.mmmZ` for ms since the epoch (years 0-9999), exactly as toISOString. */
export function isoTime(ms: number = Date.now()): string {
  const days = Math.floor(ms / 86400000);
  const rest = ms - days * 86400000;
  const [y, mo, d] = civil(days);
  const s = Math.floor(rest / 1000);
  return `${pad(y, 4)}-${pad(mo)}-${pad(d)}T${pad(Math.floor(s / 3600))}:${pad(Math.floor(s / 60) % 60)}:${pad(s % 60)}.${pad(rest % 1000, 3)}Z`;
}
