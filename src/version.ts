/** The front end's version; the server's must match (checked at start-up). Kept equal to
 * package.json and esap_lab/_version.py (a test checks it). */
export const FRONTEND_VERSION = '0.1.0';
