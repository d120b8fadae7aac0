// AuthKong proof-of-work search in plain JavaScript, protocol v1 (docs/protocol.md §3): what
// worker.js uses where sha256.wasm cannot run (no WebAssembly SIMD). Loaded with
// importScripts; defines self.AuthKongSha256 = {name, prepare(seed), run(...)} (see the end).
// The 40-byte message is one padded block: words 0-7 are the seed, 8-9 the nonce
// (hi, lo), 10 = 0x80000000, 11-14 = 0, 15 = 320 (bit length). Everything that does not
// depend on lo is computed once per challenge or per hi word, not per try.
(() => {
  "use strict";
  const K = new Int32Array([
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
  ]);
  const H0 = 0x6a09e667;
  const W = new Int32Array(64); // words 10-15 never change; 17, 19, 21 once per challenge
  W[10] = 0x80000000;
  W[15] = 320;
  const BATCH = 100000; // the most tries one run() makes
  const s0 = (x) => (x >>> 7 | x << 25) ^ (x >>> 18 | x << 14) ^ (x >>> 3);
  const s1 = (x) => (x >>> 17 | x << 15) ^ (x >>> 19 | x << 13) ^ (x >>> 10);

  // One round on a state array [a..h]; used only for what is computed once.
  function round(v, kw) {
    const a = v[0], e = v[4];
    const t1 = v[7] + ((e >>> 6 | e << 26) ^ (e >>> 11 | e << 21) ^ (e >>> 25 | e << 7)) +
      (v[6] ^ e & (v[5] ^ v[6])) + kw | 0;
    const t2 = ((a >>> 2 | a << 30) ^ (a >>> 13 | a << 19) ^ (a >>> 22 | a << 10)) +
      (a & v[1] | v[2] & (a | v[1])) | 0;
    v.copyWithin(1, 0, 7);
    v[0] = t1 + t2;
    v[4] += t1;
  }

  // Per challenge: the state after rounds 0-7 and the nonce-free parts of the schedule.
  const S8 = new Int32Array(8), C = new Int32Array(8), V = new Int32Array(8);
  const hits = new Float64Array(BATCH), values = new Float64Array(BATCH), found = [0];

  function prepare(seed) {
    const w = new Int32Array(8);
    for (let i = 0; i < 8; i++) w[i] = parseInt(seed.substr(8 * i, 8), 16);
    S8.set([0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19]);
    for (let i = 0; i < 8; i++) round(S8, K[i] + w[i]);
    const c17 = s1(320) + 0x80000000 + s0(w[2]) + w[1] | 0;
    const c19 = s1(c17) + s0(w[4]) + w[3] | 0;
    const c21 = s1(c19) + s0(w[6]) + w[5] | 0;
    W[17] = c17; W[19] = c19; W[21] = c21;
    C.set([s0(w[1]) + w[0], s0(w[3]) + w[2], s0(w[5]) + w[4], 320 + s0(w[7]) + w[6], c17, c19,
      c21, s1(c21) + w[7]]);
  }

  // Up to n tries from nonce hi * 2**32 + lo (lo as int32), stopping early where lo wraps.
  // Finds go to hits/values (found[0] of them); returns the tries made. The loop touches
  // only locals and typed arrays, so the optimizer never leaves it.
  function batch(hi, lo, n, target, stride) {
    const c16 = C[0], c18 = C[1], c20 = C[2], c22 = C[3], c17 = C[4], c19 = C[5], c21 = C[6];
    const c23h = C[7] + s0(hi) | 0, c24 = c17 + hi | 0;
    V.set(S8);
    round(V, K[8] + hi);
    // Round 9 is everything but the nonce's lo word: t1 = p9 + lo.
    const a8 = V[0], e8 = V[4];
    const p9 = V[7] + ((e8 >>> 6 | e8 << 26) ^ (e8 >>> 11 | e8 << 21) ^ (e8 >>> 25 | e8 << 7)) +
      (V[6] ^ e8 & (V[5] ^ V[6])) + K[9] | 0;
    const pq = p9 + ((a8 >>> 2 | a8 << 30) ^ (a8 >>> 13 | a8 << 19) ^ (a8 >>> 22 | a8 << 10)) +
      (a8 & V[1] | V[2] & (a8 | V[1])) | 0;
    const pd = V[3] + p9 | 0, a9 = V[0], b9 = V[1], c9 = V[2], e9 = V[4], f9 = V[5], g9 = V[6];
    let i = 0, nh = 0;
    while (i < n) {
      i++;
      const w16 = lo + c16 | 0, w18 = s1(w16) + c18 | 0, w20 = s1(w18) + c20 | 0;
      const w22 = s1(w20) + c22 | 0, w23 = w16 + c23h | 0, w24 = s1(w22) + s0(lo) + c24 | 0;
      const w25 = s1(w23) + w18 + lo + 0x11002000 | 0; // s0(0x80000000) = 0x11002000
      const w26 = s1(w24) + c19 + 0x80000000 | 0, w27 = s1(w25) + w20 | 0;
      const w28 = s1(w26) + c21 | 0, w29 = s1(w27) + w22 | 0;
      const w30 = s1(w28) + w23 + 0x8050002a | 0; // s0(320) = 0x8050002a
      const w31 = s1(w29) + w24 + s0(w16) + 320 | 0;
      W[16] = w16; W[18] = w18; W[20] = w20; W[22] = w22; W[23] = w23; W[24] = w24;
      W[25] = w25; W[26] = w26; W[27] = w27; W[28] = w28; W[29] = w29; W[30] = w30; W[31] = w31;
      // The state after round 9, placed so that rounds 10-15 end aligned for the loop.
      let g = pq + lo | 0, h = a9, a = b9, b = c9, c = pd + lo | 0, d = e9, e = f9, f = g9;
      for (let t = 10; t < 32; t += 8) {
        if (t > 10) {
          h = h + ((e >>> 6 | e << 26) ^ (e >>> 11 | e << 21) ^ (e >>> 25 | e << 7)) + (g ^ e & (f ^ g)) + K[t - 2] + W[t - 2] | 0;
          d = d + h | 0;
          h = h + ((a >>> 2 | a << 30) ^ (a >>> 13 | a << 19) ^ (a >>> 22 | a << 10)) + (a & b | c & (a | b)) | 0;
          g = g + ((d >>> 6 | d << 26) ^ (d >>> 11 | d << 21) ^ (d >>> 25 | d << 7)) + (f ^ d & (e ^ f)) + K[t - 1] + W[t - 1] | 0;
          c = c + g | 0;
          g = g + ((h >>> 2 | h << 30) ^ (h >>> 13 | h << 19) ^ (h >>> 22 | h << 10)) + (h & a | b & (h | a)) | 0;
        }
        f = f + ((c >>> 6 | c << 26) ^ (c >>> 11 | c << 21) ^ (c >>> 25 | c << 7)) + (e ^ c & (d ^ e)) + K[t] + W[t] | 0;
        b = b + f | 0;
        f = f + ((g >>> 2 | g << 30) ^ (g >>> 13 | g << 19) ^ (g >>> 22 | g << 10)) + (g & h | a & (g | h)) | 0;
        e = e + ((b >>> 6 | b << 26) ^ (b >>> 11 | b << 21) ^ (b >>> 25 | b << 7)) + (d ^ b & (c ^ d)) + K[t + 1] + W[t + 1] | 0;
        a = a + e | 0;
        e = e + ((f >>> 2 | f << 30) ^ (f >>> 13 | f << 19) ^ (f >>> 22 | f << 10)) + (f & g | h & (f | g)) | 0;
        d = d + ((a >>> 6 | a << 26) ^ (a >>> 11 | a << 21) ^ (a >>> 25 | a << 7)) + (c ^ a & (b ^ c)) + K[t + 2] + W[t + 2] | 0;
        h = h + d | 0;
        d = d + ((e >>> 2 | e << 30) ^ (e >>> 13 | e << 19) ^ (e >>> 22 | e << 10)) + (e & f | g & (e | f)) | 0;
        c = c + ((h >>> 6 | h << 26) ^ (h >>> 11 | h << 21) ^ (h >>> 25 | h << 7)) + (b ^ h & (a ^ b)) + K[t + 3] + W[t + 3] | 0;
        g = g + c | 0;
        c = c + ((d >>> 2 | d << 30) ^ (d >>> 13 | d << 19) ^ (d >>> 22 | d << 10)) + (d & e | f & (d | e)) | 0;
        b = b + ((g >>> 6 | g << 26) ^ (g >>> 11 | g << 21) ^ (g >>> 25 | g << 7)) + (a ^ g & (h ^ a)) + K[t + 4] + W[t + 4] | 0;
        f = f + b | 0;
        b = b + ((c >>> 2 | c << 30) ^ (c >>> 13 | c << 19) ^ (c >>> 22 | c << 10)) + (c & d | e & (c | d)) | 0;
        a = a + ((f >>> 6 | f << 26) ^ (f >>> 11 | f << 21) ^ (f >>> 25 | f << 7)) + (h ^ f & (g ^ h)) + K[t + 5] + W[t + 5] | 0;
        e = e + a | 0;
        a = a + ((b >>> 2 | b << 30) ^ (b >>> 13 | b << 19) ^ (b >>> 22 | b << 10)) + (b & c | d & (b | c)) | 0;
      }
      // Rounds 32-63 compute each schedule word where they use it.
      for (let t = 34; t < 64; t += 8) {
        h = h + ((e >>> 6 | e << 26) ^ (e >>> 11 | e << 21) ^ (e >>> 25 | e << 7)) + (g ^ e & (f ^ g)) + K[t - 2] + (W[t - 2] = s1(W[t - 4]) + W[t - 9] + s0(W[t - 17]) + W[t - 18] | 0) | 0;
        d = d + h | 0;
        h = h + ((a >>> 2 | a << 30) ^ (a >>> 13 | a << 19) ^ (a >>> 22 | a << 10)) + (a & b | c & (a | b)) | 0;
        g = g + ((d >>> 6 | d << 26) ^ (d >>> 11 | d << 21) ^ (d >>> 25 | d << 7)) + (f ^ d & (e ^ f)) + K[t - 1] + (W[t - 1] = s1(W[t - 3]) + W[t - 8] + s0(W[t - 16]) + W[t - 17] | 0) | 0;
        c = c + g | 0;
        g = g + ((h >>> 2 | h << 30) ^ (h >>> 13 | h << 19) ^ (h >>> 22 | h << 10)) + (h & a | b & (h | a)) | 0;
        f = f + ((c >>> 6 | c << 26) ^ (c >>> 11 | c << 21) ^ (c >>> 25 | c << 7)) + (e ^ c & (d ^ e)) + K[t] + (W[t] = s1(W[t - 2]) + W[t - 7] + s0(W[t - 15]) + W[t - 16] | 0) | 0;
        b = b + f | 0;
        f = f + ((g >>> 2 | g << 30) ^ (g >>> 13 | g << 19) ^ (g >>> 22 | g << 10)) + (g & h | a & (g | h)) | 0;
        e = e + ((b >>> 6 | b << 26) ^ (b >>> 11 | b << 21) ^ (b >>> 25 | b << 7)) + (d ^ b & (c ^ d)) + K[t + 1] + (W[t + 1] = s1(W[t - 1]) + W[t - 6] + s0(W[t - 14]) + W[t - 15] | 0) | 0;
        a = a + e | 0;
        e = e + ((f >>> 2 | f << 30) ^ (f >>> 13 | f << 19) ^ (f >>> 22 | f << 10)) + (f & g | h & (f | g)) | 0;
        d = d + ((a >>> 6 | a << 26) ^ (a >>> 11 | a << 21) ^ (a >>> 25 | a << 7)) + (c ^ a & (b ^ c)) + K[t + 2] + (W[t + 2] = s1(W[t]) + W[t - 5] + s0(W[t - 13]) + W[t - 14] | 0) | 0;
        h = h + d | 0;
        d = d + ((e >>> 2 | e << 30) ^ (e >>> 13 | e << 19) ^ (e >>> 22 | e << 10)) + (e & f | g & (e | f)) | 0;
        c = c + ((h >>> 6 | h << 26) ^ (h >>> 11 | h << 21) ^ (h >>> 25 | h << 7)) + (b ^ h & (a ^ b)) + K[t + 3] + (W[t + 3] = s1(W[t + 1]) + W[t - 4] + s0(W[t - 12]) + W[t - 13] | 0) | 0;
        g = g + c | 0;
        c = c + ((d >>> 2 | d << 30) ^ (d >>> 13 | d << 19) ^ (d >>> 22 | d << 10)) + (d & e | f & (d | e)) | 0;
        b = b + ((g >>> 6 | g << 26) ^ (g >>> 11 | g << 21) ^ (g >>> 25 | g << 7)) + (a ^ g & (h ^ a)) + K[t + 4] + (W[t + 4] = s1(W[t + 2]) + W[t - 3] + s0(W[t - 11]) + W[t - 12] | 0) | 0;
        f = f + b | 0;
        b = b + ((c >>> 2 | c << 30) ^ (c >>> 13 | c << 19) ^ (c >>> 22 | c << 10)) + (c & d | e & (c | d)) | 0;
        a = a + ((f >>> 6 | f << 26) ^ (f >>> 11 | f << 21) ^ (f >>> 25 | f << 7)) + (h ^ f & (g ^ h)) + K[t + 5] + (W[t + 5] = s1(W[t + 3]) + W[t - 2] + s0(W[t - 10]) + W[t - 11] | 0) | 0;
        e = e + a | 0;
        a = a + ((b >>> 2 | b << 30) ^ (b >>> 13 | b << 19) ^ (b >>> 22 | b << 10)) + (b & c | d & (b | c)) | 0;
      }
      const value = a + H0 >>> 0;
      if (value < target) {
        hits[nh] = hi * 2 ** 32 + (lo >>> 0);
        values[nh++] = value;
      }
      lo = lo + stride | 0;
      if ((lo >>> 0) < stride) break;
    }
    found[0] = nh;
    return i;
  }

  // Up to n tries from `start` (a nonce below 2**53) by `stride`; calls found(nonce, value)
  // for each try whose value is below target, in nonce order; returns the tries made.
  function run(start, stride, n, target, report) {
    const done = batch(Math.floor(start / 2 ** 32), start | 0, Math.min(n, BATCH), target, stride);
    for (let i = 0; i < found[0]; i++) report(hits[i], values[i]);
    return done;
  }

  self.AuthKongSha256 = {name: "js", prepare, run};
})();
