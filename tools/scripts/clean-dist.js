// Removes dist/ before a build. tsc's incremental build never deletes the output of a
// source file that was moved or removed, and Node resolves a stale `dist/…/http.js` before
// a new `dist/…/http/index.js`: a build must start from nothing to run what the tree says.
require('node:fs').rmSync(require('node:path').join(__dirname, '..', '..', 'dist'), { recursive: true, force: true });
