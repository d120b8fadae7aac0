"""The proof-of-work search as WebAssembly with 128-bit SIMD: `widget/frame/sha256.wasm`.

    .venv/bin/python -m authkong.widget.build.sha256_wasm          # rewrite sha256.wasm
    .venv/bin/python -m authkong.widget.build.sha256_wasm --wat    # print its text form

One i32x4 vector holds the same SHA-256 word for four nonces (one per lane), so each
instruction advances four tries. The 40-byte message is one padded block (docs/protocol.md
§3): words 0-7 seed, 8 the nonce's high word, 9 its low word, then fixed padding.

Per call, before the loop: the seed's rounds 0-8. Per try, the loop runs rounds 9-63, all
unrolled, in two styles:
- Round 9 and schedule words 16-31, where the low word meets known values, are built as
  a graph that folds constants (padding, round constants) and hoists every part that does
  not depend on the low word out of the loop (this saves about a tenth of each try).
- The other rounds and words are written so that their code depends only on t mod 8 and
  t mod 16 (the state rotates through eight locals), which makes the unrolled code repeat
  byte for byte but for the round constant: gzip shrinks it to a fraction.
The last round computes only what the digest's first word needs.

The exported function `run(n)` reads its inputs from the exported memory, tries up to `n`
iterations of four nonces each, and returns the iterations done; it stops early when a
lane's low word wraps (the caller moves that lane to the next high word) or when the hit
area is full. Memory (little-endian i32 words, byte offsets):

    0   seed words 0-7, as integers (big-endian reading of the seed)
    32  high words of the four lanes' first nonces
    48  low words of the four lanes' first nonces
    64  step: added to every lane's low word per iteration (4 x the worker's stride)
    68  the largest passing value (target - 1)
    72  out: end offset of the hit records
    128 the round constants (ROUND_CONSTANTS, a data segment)
    512 hit records of 20 bytes: iteration index, then the four lanes' first digest words
        (at least one of them passes)

wat2wasm (from the `wasmtime` package) assembles the text; the name section it adds for
the readable `$names` is dropped, as the browser never needs it.
"""

import argparse
import itertools
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from importlib.resources import files
from pathlib import Path

MASK = 0xFFFFFFFF
K = (
    0x428A2F98, 0x71374491, 0xB5C0FBCF, 0xE9B5DBA5, 0x3956C25B, 0x59F111F1, 0x923F82A4, 0xAB1C5ED5,
    0xD807AA98, 0x12835B01, 0x243185BE, 0x550C7DC3, 0x72BE5D74, 0x80DEB1FE, 0x9BDC06A7, 0xC19BF174,
    0xE49B69C1, 0xEFBE4786, 0x0FC19DC6, 0x240CA1CC, 0x2DE92C6F, 0x4A7484AA, 0x5CB0A9DC, 0x76F988DA,
    0x983E5152, 0xA831C66D, 0xB00327C8, 0xBF597FC7, 0xC6E00BF3, 0xD5A79147, 0x06CA6351, 0x14292967,
    0x27B70A85, 0x2E1B2138, 0x4D2C6DFC, 0x53380D13, 0x650A7354, 0x766A0ABB, 0x81C2C92E, 0x92722C85,
    0xA2BFE8A1, 0xA81A664B, 0xC24B8B70, 0xC76C51A3, 0xD192E819, 0xD6990624, 0xF40E3585, 0x106AA070,
    0x19A4C116, 0x1E376C08, 0x2748774C, 0x34B0BCB5, 0x391C0CB3, 0x4ED8AA4A, 0x5B9CCA4F, 0x682E6FF3,
    0x748F82EE, 0x78A5636F, 0x84C87814, 0x8CC70208, 0x90BEFFFA, 0xA4506CEB, 0xBEF9A3F7, 0xC67178F2,
)  # fmt: skip
IV = (
    0x6A09E667,
    0xBB67AE85,
    0x3C6EF372,
    0xA54FF53A,
    0x510E527F,
    0x9B05688C,
    0x1F83D9AB,
    0x5BE0CD19,
)
MESSAGE_BITS = 320  # 40 bytes

# Memory layout (see the module docstring); the worker writes and reads the same offsets.
SEED, HI, LO, STEP, TMAX, HITS_END, CONSTANTS, HITS = 0, 32, 48, 64, 68, 72, 128, 512
RECORD = 20
HITS_LIMIT = HITS + 3200 * RECORD  # within one 64 KiB page
PADDING = (0x80000000, 0, 0, 0, 0, MESSAGE_BITS)  # message words 10-15

# What each round adds to h besides W[t] (or with it, where W[t] is known): loaded from
# memory with one splatting load, which V8 runs faster than a v128.const (~7%).
ROUND_CONSTANTS = (
    *K,
    *((K[t] + PADDING[t - 10]) & MASK for t in range(10, 16)),
    (K[63] + IV[0]) & MASK,  # the last round also does the final addition
)

WASM_PATH = "frame/sha256.wasm"  # inside the authkong.widget package

# What each operation is when its inputs are known at build time.
_FOLD: dict[str, Callable[..., int]] = {
    "i32x4.add": lambda x, y: (x + y) & MASK,
    "v128.xor": lambda x, y: x ^ y,
    "v128.and": lambda x, y: x & y,
    "v128.or": lambda x, y: x | y,
    "i32x4.shl": lambda x, n: (x << n) & MASK,
    "i32x4.shr_u": lambda x, n: x >> n,
    "v128.bitselect": lambda x, y, c: (x & c) | (y & ~c & MASK),
}
_COMMUTATIVE = {"i32x4.add", "v128.xor", "v128.and", "v128.or"}


@dataclass(eq=False, slots=True)
class Node:
    """One v128 value: a leaf (its instructions), a constant, or an operation on nodes."""

    op: str
    args: tuple["Node", ...] = ()
    shift: int | None = None  # the immediate of a shift
    loop: bool = False  # depends on the nonce's low word, so it is computed per try
    value: int | None = None  # known at build time (the same in all four lanes)
    code: tuple[str, ...] = ()  # a leaf's instructions
    # A sum kept as (the part computed before the loop, the per-try terms), so that a sum
    # with one per-try term can be re-associated into the next sum without extra work.
    fixed: "Node | None" = None
    terms: tuple["Node", ...] = ()
    order: int = 0  # creation order, which is a topological order
    label: str = ""  # the round that made it, for comments


@dataclass(slots=True)
class Graph:
    """Builds nodes, folding constants and sharing identical operations."""

    nodes: list[Node] = field(default_factory=list)
    shared: dict[tuple[object, ...], Node] = field(default_factory=dict)
    label: str = ""

    def _new(self, node: Node) -> Node:
        node.order, node.label = len(self.nodes), self.label
        self.nodes.append(node)
        return node

    def leaf(self, *code: str, loop: bool = False) -> Node:
        return self._new(Node("leaf", loop=loop, code=code))

    def const(self, value: int) -> Node:
        key = ("const", value & MASK)
        if key not in self.shared:
            self.shared[key] = self._new(Node("const", value=value & MASK))
        return self.shared[key]

    def op(self, op: str, *args: Node, shift: int | None = None) -> Node:
        if all(a.value is not None for a in args):
            known = [a.value for a in args] + ([shift] if shift is not None else [])
            return self.const(_FOLD[op](*known))
        ids = [a.order for a in args]
        if op in _COMMUTATIVE:
            ids.sort()
        key = (op, shift, *ids)
        if key not in self.shared:
            loop = any(a.loop for a in args)
            self.shared[key] = self._new(Node(op, args, shift, loop))
        return self.shared[key]

    def add(self, *terms: Node) -> Node:
        """The sum, with every term that is fixed during the loop added up before it.

        Terms are added in the order given, so put the ones ready earliest first.
        """
        known, fixed, per_try = 0, list[Node](), list[Node]()
        for term in terms:
            if term.value is not None:
                known += term.value
            elif not term.loop:
                fixed.append(term)
            elif term.fixed is not None and len(term.terms) == 1:
                fixed.append(term.fixed)  # (f + x) + y = (f + y) + x: one add either way
                per_try.append(term.terms[0])
            else:
                per_try.append(term)
        base: Node | None = None
        for term in [*fixed, *([self.const(known)] if known & MASK else [])]:
            base = term if base is None else self.op("i32x4.add", base, term)
        total = base
        for term in per_try:
            total = term if total is None else self.op("i32x4.add", total, term)
        if total is None:
            return self.const(0)
        if per_try and base is not None and total.fixed is None:
            total.fixed, total.terms = base, tuple(per_try)
        return total

    def xor(self, *xs: Node) -> Node:
        out = xs[0]
        for x in xs[1:]:
            out = self.op("v128.xor", out, x)
        return out

    def rotr(self, x: Node, n: int) -> Node:
        return self.op(
            "v128.or", self.op("i32x4.shr_u", x, shift=n), self.op("i32x4.shl", x, shift=32 - n)
        )

    def shr(self, x: Node, n: int) -> Node:
        return self.op("i32x4.shr_u", x, shift=n)


# A value's place at round t: roles a..h are 0..7 and rotate through the slots $s0-$s7
# each round, so round t's code depends only on t % 8 (and W_t's slot on t % 16): the
# unrolled rounds repeat byte for byte except for K[t], which gzip turns into a few bytes.
def _slot(role: int, t: int) -> str:
    return f"$s{(role - t) % 8}"


def _rotr(x: str, n: int) -> list[str]:
    right, left = [f"local.get {x}", f"i32.const {n}", "i32x4.shr_u"], [f"i32.const {32 - n}"]
    return [*right, f"local.get {x}", *left, "i32x4.shl", "v128.or"]


def _sigma(x: str, r1: int, r2: int, r3: int, shift: bool = False) -> list[str]:
    """rotr(x, r1) ^ rotr(x, r2) ^ (x >> r3 if shift else rotr(x, r3))."""
    last = [f"local.get {x}", f"i32.const {r3}", "i32x4.shr_u"] if shift else _rotr(x, r3)
    return [*_rotr(x, r1), *_rotr(x, r2), "v128.xor", *last, "v128.xor"]


def _schedule(t: int) -> list[str]:
    """W[t] = W[t-16] + s0(W[t-15]) + W[t-7] + s1(W[t-2]), into W[t-16]'s slot."""
    slot = f"$w{t % 16}"
    return [
        f";; schedule word {t}",
        f"local.get {slot}",
        *_sigma(f"$w{(t - 15) % 16}", 7, 18, 3, shift=True),
        "i32x4.add",
        f"local.get $w{(t - 7) % 16}",
        "i32x4.add",
        *_sigma(f"$w{(t - 2) % 16}", 17, 19, 10, shift=True),
        "i32x4.add",
        f"local.set {slot}",
    ]


def _round(t: int, known: bool = False, last: bool = False) -> list[str]:
    """Round t with W[t] in its slot, or `known` (padding); the last one leaves the
    digest's first word on the stack."""
    a, b, _, d, e, f, g, h = (_slot(role, t) for role in range(8))  # c: in $ab
    index = len(ROUND_CONSTANTS) - 1 if last else 64 + t - 10 if known else t
    load = f"v128.load32_splat offset={CONSTANTS + 4 * index}"
    out = [f";; round {t}", f"local.get {h}", "i32.const 0", load, "i32x4.add"]
    if not known:
        out += [f"local.get $w{t % 16}", "i32x4.add"]
    out += [f"local.get {f}", f"local.get {g}", f"local.get {e}", "v128.bitselect", "i32x4.add"]
    out += [*_sigma(e, 6, 11, 25), "i32x4.add"]
    if not last:  # the last round's new e is not part of the first word
        out += ["local.tee $t1", f"local.get {d}", "i32x4.add", f"local.set {d}", "local.get $t1"]
    # Maj(a, b, c) = b ^ ((a ^ b) & (b ^ c)); b ^ c is the previous round's a ^ b.
    out += [*_sigma(a, 2, 13, 22), "i32x4.add", f"local.get {b}"]
    out += [f"local.get {a}", f"local.get {b}", "v128.xor", f"local.tee $ab{t % 2}"]
    out += [f"local.get $ab{(t + 1) % 2}", "v128.and", "v128.xor", "i32x4.add"]
    return out if last else [*out, f"local.set {h}"]


def _folded(g: Graph, state: list[Node], words: list[Node]) -> list[tuple[str, Node]]:
    """Round 9 and schedule words 16-31 as a graph: (slot, value) in the order needed.

    These are where the nonce's low word meets known values, so folding pays most.
    """
    a, b, c, d, e, f, h_, hh = state
    g.label = "round 9"
    big_s1 = g.xor(g.rotr(e, 6), g.rotr(e, 11), g.rotr(e, 25))
    t1 = g.add(hh, g.const(K[9]), words[9], g.op("v128.bitselect", f, h_, e), big_s1)
    big_s0 = g.xor(g.rotr(a, 2), g.rotr(a, 13), g.rotr(a, 22))
    ab = g.xor(a, b)
    maj = g.xor(b, g.op("v128.and", ab, g.xor(b, c)))
    after = [g.add(t1, big_s0, maj), a, b, c, g.add(d, t1), e, f, h_]
    out = [(_slot(role, 10), value) for role, value in enumerate(after)]
    out.append(("$ab1", ab))  # round 10's b ^ c
    w = list(words)
    for t in range(16, 32):
        g.label = f"schedule word {t}"
        s0 = g.xor(g.rotr(w[t - 15], 7), g.rotr(w[t - 15], 18), g.shr(w[t - 15], 3))
        s1 = g.xor(g.rotr(w[t - 2], 17), g.rotr(w[t - 2], 19), g.shr(w[t - 2], 10))
        w.append(g.add(w[t - 16], s0, w[t - 7], s1))
        out.append((f"$w{t % 16}", w[t]))
    return out


def _reachable(roots: Iterable[Node], inside: Callable[[Node], bool]) -> dict[Node, int]:
    """Nodes reachable from `roots` through nodes for which `inside` holds, with use counts."""
    uses: dict[Node, int] = {}
    stack = list(roots)
    for root in stack:
        uses[root] = uses.get(root, 0) + 1
    expanded = set()
    while stack:
        node = stack.pop()
        if node in expanded or not inside(node):
            continue  # already counted, or computed before the loop
        expanded.add(node)
        for arg in node.args:
            uses[arg] = uses.get(arg, 0) + 1
            stack.append(arg)
    return uses


@dataclass(slots=True)
class _Emitter:
    """Writes graph nodes as stack code; `names` maps the nodes held in locals."""

    names: dict[Node, str] = field(default_factory=dict)
    out: list[str] = field(default_factory=list)

    def tree(self, node: Node) -> None:
        if node in self.names:
            self.out.append(f"local.get {self.names[node]}")
        elif node.value is not None:
            self.out.append(_const(node.value))
        elif node.op == "leaf":
            self.out.extend(node.code)
        else:
            for arg in node.args:
                self.tree(arg)
            if node.shift is not None:
                self.out.append(f"i32.const {node.shift}")
            self.out.append(node.op)

    def keep(self, node: Node) -> None:
        """Compute `node` into a local of its own."""
        if node.label and f";; {node.label}" not in self.out[-1:]:
            self.out.append(f";; {node.label}")
        self.tree(node)
        self.names[node] = f"$v{len(self.names)}"
        self.out.append(f"local.set {self.names[node]}")

    def roots(self, roots: list[tuple[str, Node]], shared: set[Node]) -> None:
        """Each root into its slot; a `shared` node gets a local before its first use."""
        for slot, node in roots:
            for n in sorted(_reachable([node], _per_try), key=lambda n: n.order):
                if n in shared and n not in self.names:
                    self.keep(n)
            self.tree(node)
            self.out.append(f"local.set {slot}")


def _per_try(node: Node) -> bool:
    return node.loop


def _const(value: int) -> str:
    return "v128.const i32x4" + f" 0x{value:08x}" * 4


def wat_source() -> str:
    """The module in WebAssembly text format."""
    g = Graph()
    words = [g.leaf(f"local.get $w{i}") for i in range(9)]  # seed words, high word
    words.append(g.leaf("local.get $lo", loop=True))
    words += [g.const(p) for p in PADDING]
    state = [g.leaf(f"local.get {_slot(role, 9)}") for role in range(8)]
    folded = _folded(g, state, words)
    uses = _reachable([node for _, node in folded], _per_try)

    # Before the loop: the seed's rounds 0-8, then every fixed value the folded part uses
    # (the loop reuses the slots, so these get locals of their own).
    pre = [
        f"(local.set $w{i} (v128.load32_splat offset={SEED + 4 * i} (i32.const 0)))"
        for i in range(8)
    ]
    pre.append(f"(local.set $w8 (v128.load offset={HI} (i32.const 0)))")
    pre += [f"(local.set $s{role} ({_const(v)}))" for role, v in enumerate(IV)]
    pre.append(f"(local.set $ab1 ({_const(IV[1] ^ IV[2])}))")  # round 0's b ^ c
    for t in range(9):
        pre += _round(t)
    needed = [n for n in uses if not n.loop and n.value is None]
    fixed_uses = _reachable(needed, lambda n: True)
    emit = _Emitter()
    for node in sorted(fixed_uses, key=lambda n: n.order):
        if node in needed or (fixed_uses[node] > 1 and node.op != "leaf" and node.value is None):
            emit.keep(node)
    pre += emit.out

    # Per try: round 9 and words 16-31 from the graph, the rest as repeating code.
    shared = {n for n, count in uses.items() if count > 1 and n.loop and n.op != "leaf"}
    emit.out = []
    emit.roots(folded[:9], shared)
    for t in range(10, 16):
        emit.out += _round(t, known=True)
    for t in range(16, 32):
        emit.roots([folded[t - 7]], shared)
        emit.out += _round(t)
    for t in range(32, 64):
        emit.out += _schedule(t) + _round(t, last=t == 63)
    body = emit.out

    slots = [f"$s{i}" for i in range(8)] + [f"$w{i}" for i in range(16)]
    slots += ["$t1", "$ab0", "$ab1", *emit.names.values()]
    declared = [f"(local {name} v128)" for name in slots]
    locals_ = "\n    ".join(" ".join(declared[i : i + 8]) for i in range(0, len(declared), 8))

    data = "".join(f"\\{b:02x}" for k in ROUND_CONSTANTS for b in k.to_bytes(4, "little"))

    def indent(lines: list[str], depth: int) -> str:
        return "\n".join(" " * depth + line for line in lines)

    return f"""\
;; Generated by src/authkong/widget/build/sha256_wasm.py; edit that, not this.
(module
  (memory (export "memory") 1)
  (data (i32.const {CONSTANTS}) "{data}")
  (func (export "run") (param $n i32) (result i32)
    (local $i i32) (local $hits i32)
    (local $lo v128) (local $step v128) (local $tmax v128) (local $value v128)
    {locals_}
    (local.set $lo (v128.load offset={LO} (i32.const 0)))
    (local.set $step (v128.load32_splat offset={STEP} (i32.const 0)))
    (local.set $tmax (v128.load32_splat offset={TMAX} (i32.const 0)))
    (local.set $hits (i32.const {HITS}))
{indent(pre, 4)}
    (block $done
      (loop $next
{indent(body, 8)}
        local.set $value
        ;; A hit: record the iteration and the four lanes' values.
        (if (v128.any_true (i32x4.le_u (local.get $value) (local.get $tmax)))
          (then
            (i32.store (local.get $hits) (local.get $i))
            (v128.store offset=4 (local.get $hits) (local.get $value))
            (local.set $hits (i32.add (local.get $hits) (i32.const {RECORD})))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (local.set $lo (i32x4.add (local.get $lo) (local.get $step)))
        ;; Stop when a lane's low word wrapped, the hit area is full, or after n.
        (br_if $done (v128.any_true (i32x4.lt_u (local.get $lo) (local.get $step))))
        (br_if $done (i32.gt_u (local.get $hits) (i32.const {HITS_LIMIT - RECORD})))
        (br_if $next (i32.lt_u (local.get $i) (local.get $n)))))
    (i32.store offset={HITS_END} (i32.const 0) (local.get $hits))
    (local.get $i)))
"""


def _leb128(data: bytes, at: int) -> tuple[int, int]:
    """An unsigned LEB128 number at `at`: (value, offset after it)."""
    value = 0
    for shift in itertools.count(0, 7):
        byte = data[at]
        at += 1
        value |= (byte & 0x7F) << shift
        if byte < 0x80:
            return value, at
    raise AssertionError("unreachable")


def without_custom_sections(module: bytes) -> bytes:
    """The module without its custom sections (id 0: names, producers)."""
    out, at = bytearray(module[:8]), 8  # magic and version
    while at < len(module):
        start = at
        section, size_at = module[at], at + 1
        size, payload = _leb128(module, size_at)
        at = payload + size
        if section != 0:
            out += module[start:at]
    return bytes(out)


def assemble(wat: str) -> bytes:
    """The binary module, as committed."""
    import wasmtime  # a development tool (the `test` extra), not needed to serve

    return without_custom_sections(bytes(wasmtime.wat2wasm(wat)))


def wasm_file() -> Path:
    return Path(str(files("authkong.widget").joinpath(WASM_PATH)))


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--wat", action="store_true", help="print the text form instead")
    args = parser.parse_args()
    source = wat_source()
    if args.wat:
        sys.stdout.write(source)
        return
    binary = assemble(source)
    wasm_file().write_bytes(binary)
    print(f"wrote {wasm_file()} ({len(binary)} bytes)")


if __name__ == "__main__":
    main()
