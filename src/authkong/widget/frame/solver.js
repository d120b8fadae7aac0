// AuthKong solver, protocol v1: AuthKongSolver.solve(challenge, options) finds k distinct
// nonces with workers (worker.js) striding one shared nonce space: worker i tries
// i, i + W, i + 2W, ... so together they test every nonce once (docs/protocol.md §3).
// options: workers (count; default min(hardwareConcurrency, 4)), workerUrl (default
// worker.js next to this script), onProgress({hashes, found, expected, engine}), signal
// (AbortSignal), engine ("js": the workers skip WebAssembly; tests and benchmarks compare).
// Resolves with the k nonces in ascending order; rejects with signal.reason on abort.
(() => {
  "use strict";
  const here = document.currentScript ? document.currentScript.src : location.href;
  const defaultWorkerUrl = new URL("worker.js", here).href;

  function solve(challenge, options = {}) {
    const {workerUrl = defaultWorkerUrl, onProgress, signal} = options;
    const k = challenge.k;
    const wanted = options.workers || Math.min(navigator.hardwareConcurrency || 1, 4);
    const count = Math.max(1, Math.min(wanted, k));
    return new Promise((resolve, reject) => {
      if (signal && signal.aborted) return reject(signal.reason);
      const workers = [], found = new Set();
      let hashes = 0;
      const finish = (settle, value) => {
        if (!workers.length) return;
        for (const w of workers.splice(0)) w.terminate();
        if (signal) signal.removeEventListener("abort", onAbort);
        settle(value);
      };
      const onAbort = () => finish(reject, signal.reason);
      if (signal) signal.addEventListener("abort", onAbort);
      for (let i = 0; i < count; i++) {
        const w = new Worker(workerUrl);
        w.onmessage = ({data}) => {
          if (!workers.length) return; // already settled; the worker is terminated
          if (data.hashes) {
            hashes += data.hashes;
            if (onProgress) {
              const {engine} = data;
              onProgress({hashes, found: found.size, expected: challenge.expected_hashes, engine});
            }
          } else if (found.add(data.nonce).size === k) {
            finish(resolve, [...found].sort((a, b) => a - b));
          }
        };
        w.onerror = (ev) => finish(reject, new Error("AuthKong worker failed: " + ev.message));
        workers.push(w);
        w.postMessage({seed: challenge.seed, target: challenge.target, start: i, stride: count,
          engine: options.engine});
      }
    });
  }

  self.AuthKongSolver = {solve};
})();
