// Decodes camera frames for the scan screen (scan.js), off the page's thread, so the page stays
// responsive on a slow tablet. A classic worker: jsQR (from npm, served from node_modules at
// /app/vendor/ and precached by the service worker, so it works offline) is a UMD bundle that
// sets self.jsQR when loaded with importScripts.
importScripts('/app/vendor/jsqr/jsQR.js');

self.addEventListener('message', (event) => {
  const { width, height, pixels } = event.data;
  // Printed codes are dark on light paper: skipping the inverted pass halves the work per frame.
  const found = self.jsQR(new Uint8ClampedArray(pixels), width, height, { inversionAttempts: 'dontInvert' });
  self.postMessage({ text: found ? found.data : null });
});
