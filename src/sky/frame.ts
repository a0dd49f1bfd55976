/** Where the sky view looks first. */

/** Centre and field of view (degrees) that hold every position. */
export function frame(rows: [number, number, number][]): { ra: number; dec: number; fov: number } {
  if (!rows.length) {
    return { ra: 0, dec: 0, fov: 60 };
  }
  // RA around the first source, so a field across 0h stays in one piece
  const ra0 = rows[0][1];
  let minRa = Infinity;
  let maxRa = -Infinity;
  let minDec = Infinity;
  let maxDec = -Infinity;
  for (const [, ra, dec] of rows) {
    const r = ((ra - ra0 + 540) % 360) - 180;
    minRa = Math.min(minRa, r);
    maxRa = Math.max(maxRa, r);
    minDec = Math.min(minDec, dec);
    maxDec = Math.max(maxDec, dec);
  }
  const dec = (minDec + maxDec) / 2;
  const ra = (ra0 + (minRa + maxRa) / 2 + 360) % 360;
  const width = (maxRa - minRa) * Math.cos((dec * Math.PI) / 180);
  const fov = Math.min(180, Math.max(0.05, 1.3 * Math.max(width, maxDec - minDec)));
  return { ra, dec, fov };
}
