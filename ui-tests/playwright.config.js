/**
 * Galata configuration: Debian's Chromium (never a downloaded browser), a port of our own so
 * no foreign server is reused, no video (it would need a downloaded ffmpeg).
 */
const baseConfig = require('@jupyterlab/galata/lib/playwright-config');

const PORT = process.env.ESAP_UI_PORT || '18888';

module.exports = {
  ...baseConfig,
  timeout: 90000,
  retries: 1,
  workers: 1,
  reporter: [['list']],
  use: {
    ...baseConfig.use,
    baseURL: `http://127.0.0.1:${PORT}`,
    // the size the layout is designed for: every step's primary actions in view
    viewport: { width: 1280, height: 800 },
    video: 'off',
    trace: 'off',
    launchOptions: {
      executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync'
      ]
    }
  },
  webServer: {
    command: `jlpm start --ServerApp.port=${PORT}`,
    url: `http://127.0.0.1:${PORT}/lab`,
    timeout: 120 * 1000,
    reuseExistingServer: false
  }
};
