"""Generators of the widget's built files; run at development time, never served.

`sha256_wasm` writes `widget/frame/sha256.wasm`, the SIMD search the worker prefers.
"""
