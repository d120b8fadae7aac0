// AuthKong proof-of-work worker, protocol v1 (docs/protocol.md §3).
// in:  {seed: 64 hex digits, target, start, stride, engine} starts a search; {stop: true}
//      ends it. engine "js" skips WebAssembly (tests and benchmarks compare the two).
// out: {nonce, value} for each nonce n = start, start+stride, ... (n < 2**53) whose
//      SHA-256(seed || uint64_be(n)) has a first word `value` below target;
//      {hashes, engine} (tries since the last report; "wasm" or "js") every 100k tries,
//      after that batch's finds. If no engine loads, the worker raises an error event.
// The search runs in sha256.wasm (128-bit SIMD, four nonces per instruction; built by
// src/authkong/widget/build/sha256_wasm.py, which documents its memory layout) and falls
// back to sha256.js where WebAssembly SIMD cannot run.
"use strict";
const BATCH = 100000, LIMIT = 2 ** 53;
// The smallest module with a SIMD instruction: browsers without SIMD skip the download.
const PROBE = new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0, 1, 5, 1, 96, 0, 1, 123, 3, 2, 1, 0,
  10, 8, 1, 6, 0, 65, 0, 253, 15, 11]);

// The frame loads this worker as worker.js?v=<release>; its engines carry the same query,
// so that a cache never pairs this file with another release's engine.
const VERSION = location.search;

function js() {
  importScripts("sha256.js" + VERSION); // defines its one global
  return self.AuthKongSha256;
}

async function wasm() {
  if (!WebAssembly.validate(PROBE)) throw new Error("no WebAssembly SIMD");
  const {instance} = await WebAssembly.instantiateStreaming(fetch("sha256.wasm" + VERSION));
  const {memory, run} = instance.exports;
  const u = new Uint32Array(memory.buffer);
  return {
    name: "wasm",
    prepare(seed) {
      for (let i = 0; i < 8; i++) u[i] = parseInt(seed.substr(8 * i, 8), 16);
    },
    // Same contract as sha256.js's run; lane j tries start + (4i + j) * stride. In u:
    // 0-7 seed, 8-11 and 12-15 the lanes' hi and lo words, 16 step, 17 target - 1,
    // 18 the hit records' end (bytes); records of 5 words from 128 (byte 512).
    run(start, stride, n, target, report) {
      for (let j = 0; j < 4; j++) {
        const nonce = start + j * stride;
        u[8 + j] = nonce / 2 ** 32;
        u[12 + j] = nonce % 2 ** 32;
      }
      u[16] = 4 * stride;
      u[17] = Math.max(1, Math.min(target, 2 ** 32)) - 1;
      const done = run(Math.ceil(n / 4));
      for (let r = 128; r < u[18] / 4; r += 5) {
        for (let j = 0; j < 4; j++) {
          if (u[r + 1 + j] < target) report(start + (4 * u[r] + j) * stride, u[r + 1 + j]);
        }
      }
      return 4 * done;
    },
  };
}

let best = null, job = null, gens = 0; // best: the fastest engine here (a promise)
const report = (nonce, value) => {
  if (nonce < LIMIT) postMessage({nonce, value}); // the last lanes may pass the limit
};
const tick = new MessageChannel(); // yields between batches without setTimeout's clamping
tick.port1.onmessage = ({data}) => {
  const j = job;
  if (!j || data !== j.gen) return;
  const done = j.engine.run(j.next, j.stride, BATCH, j.target, report);
  postMessage({hashes: done, engine: j.engine.name}); // after the batch's finds
  j.next += done * j.stride;
  if (j.next < LIMIT) tick.port2.postMessage(j.gen);
};
self.onmessage = ({data}) => {
  const gen = ++gens;
  job = null;
  if (data.stop) return;
  const engine = data.engine === "js" ? Promise.resolve().then(js) : (best ||= wasm().catch(js));
  engine.then((use) => {
    if (gen !== gens) return; // stopped or replaced while WebAssembly was loading
    use.prepare(data.seed);
    job = {gen, engine: use, target: +data.target, stride: data.stride, next: data.start};
    tick.port2.postMessage(gen);
  }).catch((err) => setTimeout(() => { throw err; })); // an error event for the page
};
