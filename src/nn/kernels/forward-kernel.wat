;; The dense-layer kernel of the WebAssembly engine (wasm-engine.ts), in WebAssembly SIMD (128-bit).
;; Compiled to forward-kernel.wasm by scripts/build-wasm.mjs (wabt); the .wasm is build output, never committed.
;;
;; layer() computes, for each row r < rows:
;;   out[r, 0..nPad) = act(x[r, 0..inputs) · W + b)
;; with W stored inputs x nPad row-major (the network's W with its columns padded with zeros to a multiple
;; of 4), b padded the same way. All arithmetic is float32, as numpy/BLAS do; the caller checks the
;; accuracy against the float64-accumulating reference (src/nn/forward.ts).
;;
;; layerBytes() is the same for a first layer fed raw bytes (pixels), x = byte / divisor in float32, so
;; that normalisation fuses into the first layer.
;;
;; layer() (and layerBytes()), for the first layer, per row, in three steps that all stay in L1:
;;  1. compact: the nonzero inputs of the row are left-packed into two lists, their values and the byte
;;     offsets of their W rows. MNIST pixels are ~80% zero, so the first layer does a fifth of the work;
;;     a zero input changes no sum (weights are finite), so skipping any zero keeps the results.
;;     Branch-free per 4 inputs: one compare, a 4-bit mask and a shuffle from the 16-entry table below;
;;     a group of 16 zero inputs costs one test.
;;  2. column blocks: the row's columns in as few blocks of up to 7 vectors (28 columns) as possible;
;;     a block's accumulators stay in registers while the packed list is walked
;;     (acc += x[k] * W[k, block]: the W row slice is contiguous); bias added on the way out.
;;  3. activation on the finished row: relu, step, or sigmoid through a float32 exp polynomial.
;; denseLayer(), for the later layers (hidden activations are seldom zero): no compaction; two rows at a
;; time, up to 4 column vectors per pass, so that every W vector loaded serves both rows.
;; Either way each column is ((0 + x[k1] W[k1]) + x[k2] W[k2] + ...) + b over k ascending, one rounding
;; per operation: the paths give the same bits, and the native kernel (native/kernel.cc) does the same.
;;
;; Memory layout (owned by the caller, see wasm-engine.ts): bytes 0..255 hold the shuffle table; the
;; caller places everything else at or after address 256 (kernelReservedBytes).
(module
  (memory (export "memory") 1)

  ;; Left-pack shuffles: entry m (16 bytes at m * 16) moves the 4-byte lanes whose bit is set in m to the
  ;; front, in lane order; 0x80 selects a zero byte.
  (data (i32.const 0)
    "\80\80\80\80\80\80\80\80\80\80\80\80\80\80\80\80"  ;; 0000
    "\00\01\02\03\80\80\80\80\80\80\80\80\80\80\80\80"  ;; 0001
    "\04\05\06\07\80\80\80\80\80\80\80\80\80\80\80\80"  ;; 0010
    "\00\01\02\03\04\05\06\07\80\80\80\80\80\80\80\80"  ;; 0011
    "\08\09\0a\0b\80\80\80\80\80\80\80\80\80\80\80\80"  ;; 0100
    "\00\01\02\03\08\09\0a\0b\80\80\80\80\80\80\80\80"  ;; 0101
    "\04\05\06\07\08\09\0a\0b\80\80\80\80\80\80\80\80"  ;; 0110
    "\00\01\02\03\04\05\06\07\08\09\0a\0b\80\80\80\80"  ;; 0111
    "\0c\0d\0e\0f\80\80\80\80\80\80\80\80\80\80\80\80"  ;; 1000
    "\00\01\02\03\0c\0d\0e\0f\80\80\80\80\80\80\80\80"  ;; 1001
    "\04\05\06\07\0c\0d\0e\0f\80\80\80\80\80\80\80\80"  ;; 1010
    "\00\01\02\03\04\05\06\07\0c\0d\0e\0f\80\80\80\80"  ;; 1011
    "\08\09\0a\0b\0c\0d\0e\0f\80\80\80\80\80\80\80\80"  ;; 1100
    "\00\01\02\03\08\09\0a\0b\0c\0d\0e\0f\80\80\80\80"  ;; 1101
    "\04\05\06\07\08\09\0a\0b\0c\0d\0e\0f\80\80\80\80"  ;; 1110
    "\00\01\02\03\04\05\06\07\08\09\0a\0b\0c\0d\0e\0f") ;; 1111

  ;; Left-packs the nonzero x[k], k < inputs, into $vals and their W row offsets (k * rowBytes) into $offs;
  ;; returns how many. Each list needs room for inputs + 4 entries (a group store writes 16 bytes).
  ;; -0 counts as zero (it adds nothing to a sum); NaN counts as nonzero, so it propagates as in the reference.
  ;; Per 16 inputs: one test, and a group of 16 zeros costs nothing more (MNIST rows are ~80% zero, in
  ;; runs: ~20 of a row's 49 groups); the others, and then the last inputs % 16, 4 at a time.
  (func $compact (param $x i32) (param $inputs i32) (param $rowBytes i32) (param $vals i32) (param $offs i32)
      (result i32)
    (local $k i32) (local $n i32) (local $end4 i32) (local $end16 i32) (local $mask i32) (local $e f32) (local $p i32)
    (local $v v128) (local $shuffle v128) (local $kOffsets v128) (local $step v128)
    (local.set $end4 (i32.and (local.get $inputs) (i32.const -4)))
    (local.set $end16 (i32.and (local.get $inputs) (i32.const -16)))
    (local.set $kOffsets (i32x4.mul (i32x4.splat (local.get $rowBytes)) (v128.const i32x4 0 1 2 3)))
    (local.set $step (i32x4.splat (i32.shl (local.get $rowBytes) (i32.const 2))))
    (block $sixteensDone
      (loop $sixteen
        (br_if $sixteensDone (i32.ge_u (local.get $k) (local.get $end16)))
        (local.set $p (i32.add (local.get $x) (i32.shl (local.get $k) (i32.const 2))))
        (if (v128.any_true (v128.or
              (v128.or (f32x4.ne (v128.load offset=0 (local.get $p)) (v128.const f32x4 0 0 0 0))
                       (f32x4.ne (v128.load offset=16 (local.get $p)) (v128.const f32x4 0 0 0 0)))
              (v128.or (f32x4.ne (v128.load offset=32 (local.get $p)) (v128.const f32x4 0 0 0 0))
                       (f32x4.ne (v128.load offset=48 (local.get $p)) (v128.const f32x4 0 0 0 0)))))
          (then
            (local.set $v (v128.load offset=0 (local.get $p)))
            (local.set $mask (i32x4.bitmask (f32x4.ne (local.get $v) (v128.const f32x4 0 0 0 0))))
            (local.set $shuffle (v128.load (i32.shl (local.get $mask) (i32.const 4))))
            (v128.store (i32.add (local.get $vals) (i32.shl (local.get $n) (i32.const 2))) (i8x16.swizzle (local.get $v) (local.get $shuffle)))
            (v128.store (i32.add (local.get $offs) (i32.shl (local.get $n) (i32.const 2))) (i8x16.swizzle (local.get $kOffsets) (local.get $shuffle)))
            (local.set $n (i32.add (local.get $n) (i32.popcnt (local.get $mask))))
            (local.set $kOffsets (i32x4.add (local.get $kOffsets) (local.get $step)))
            (local.set $v (v128.load offset=16 (local.get $p)))
            (local.set $mask (i32x4.bitmask (f32x4.ne (local.get $v) (v128.const f32x4 0 0 0 0))))
            (local.set $shuffle (v128.load (i32.shl (local.get $mask) (i32.const 4))))
            (v128.store (i32.add (local.get $vals) (i32.shl (local.get $n) (i32.const 2))) (i8x16.swizzle (local.get $v) (local.get $shuffle)))
            (v128.store (i32.add (local.get $offs) (i32.shl (local.get $n) (i32.const 2))) (i8x16.swizzle (local.get $kOffsets) (local.get $shuffle)))
            (local.set $n (i32.add (local.get $n) (i32.popcnt (local.get $mask))))
            (local.set $kOffsets (i32x4.add (local.get $kOffsets) (local.get $step)))
            (local.set $v (v128.load offset=32 (local.get $p)))
            (local.set $mask (i32x4.bitmask (f32x4.ne (local.get $v) (v128.const f32x4 0 0 0 0))))
            (local.set $shuffle (v128.load (i32.shl (local.get $mask) (i32.const 4))))
            (v128.store (i32.add (local.get $vals) (i32.shl (local.get $n) (i32.const 2))) (i8x16.swizzle (local.get $v) (local.get $shuffle)))
            (v128.store (i32.add (local.get $offs) (i32.shl (local.get $n) (i32.const 2))) (i8x16.swizzle (local.get $kOffsets) (local.get $shuffle)))
            (local.set $n (i32.add (local.get $n) (i32.popcnt (local.get $mask))))
            (local.set $kOffsets (i32x4.add (local.get $kOffsets) (local.get $step)))
            (local.set $v (v128.load offset=48 (local.get $p)))
            (local.set $mask (i32x4.bitmask (f32x4.ne (local.get $v) (v128.const f32x4 0 0 0 0))))
            (local.set $shuffle (v128.load (i32.shl (local.get $mask) (i32.const 4))))
            (v128.store (i32.add (local.get $vals) (i32.shl (local.get $n) (i32.const 2))) (i8x16.swizzle (local.get $v) (local.get $shuffle)))
            (v128.store (i32.add (local.get $offs) (i32.shl (local.get $n) (i32.const 2))) (i8x16.swizzle (local.get $kOffsets) (local.get $shuffle)))
            (local.set $n (i32.add (local.get $n) (i32.popcnt (local.get $mask))))
            (local.set $kOffsets (i32x4.add (local.get $kOffsets) (local.get $step)))
          )
          (else
            (local.set $kOffsets (i32x4.add (local.get $kOffsets) (i32x4.shl (local.get $step) (i32.const 2))))))
        (local.set $k (i32.add (local.get $k) (i32.const 16)))
        (br $sixteen)))
    (block $groupsDone
      (loop $group
        (br_if $groupsDone (i32.ge_u (local.get $k) (local.get $end4)))
        (local.set $p (i32.add (local.get $x) (i32.shl (local.get $k) (i32.const 2))))
        (local.set $v (v128.load offset=0 (local.get $p)))
        (local.set $mask (i32x4.bitmask (f32x4.ne (local.get $v) (v128.const f32x4 0 0 0 0))))
        (local.set $shuffle (v128.load (i32.shl (local.get $mask) (i32.const 4))))
        (v128.store (i32.add (local.get $vals) (i32.shl (local.get $n) (i32.const 2))) (i8x16.swizzle (local.get $v) (local.get $shuffle)))
        (v128.store (i32.add (local.get $offs) (i32.shl (local.get $n) (i32.const 2))) (i8x16.swizzle (local.get $kOffsets) (local.get $shuffle)))
        (local.set $n (i32.add (local.get $n) (i32.popcnt (local.get $mask))))
        (local.set $kOffsets (i32x4.add (local.get $kOffsets) (local.get $step)))
        (local.set $k (i32.add (local.get $k) (i32.const 4)))
        (br $group)))
    ;; the last inputs % 4, one at a time (still branch-free: write, then advance only past a nonzero)
    (block $tailDone
      (loop $tail
        (br_if $tailDone (i32.ge_u (local.get $k) (local.get $inputs)))
        (local.set $e (f32.load (i32.add (local.get $x) (i32.shl (local.get $k) (i32.const 2)))))
        (f32.store (i32.add (local.get $vals) (i32.shl (local.get $n) (i32.const 2))) (local.get $e))
        (i32.store (i32.add (local.get $offs) (i32.shl (local.get $n) (i32.const 2)))
          (i32.mul (local.get $k) (local.get $rowBytes)))
        (local.set $n (i32.add (local.get $n) (f32.ne (local.get $e) (f32.const 0))))
        (local.set $k (i32.add (local.get $k) (i32.const 1)))
        (br $tail)))
    (local.get $n))

  ;; The same for a row of bytes (raw pixels): value = pixel / $divisor in float32, so that the
  ;; normalisation fuses into the first layer ($divisor 255: f32(p) / 255 correctly rounded, which is the
  ;; 'unit' table's Math.fround(p / 255) exactly, double rounding of a quotient being harmless; 1: 'none').
  ;; Per 16 pixels: one compare; a group of 16 zero pixels costs nothing more (MNIST rows are ~80% zero,
  ;; in runs). Each list needs room for inputs + 4 entries.
  (func $compactBytes (param $x i32) (param $inputs i32) (param $rowBytes i32) (param $vals i32) (param $offs i32)
      (param $divisor f32) (result i32)
    (local $k i32) (local $n i32) (local $end16 i32) (local $mask i32) (local $m i32) (local $e f32)
    (local $v v128) (local $half v128) (local $f v128) (local $shuffle v128) (local $kOffsets v128) (local $step4 v128)
    (local $div v128)
    (local.set $div (f32x4.splat (local.get $divisor)))
    (local.set $end16 (i32.and (local.get $inputs) (i32.const -16)))
    (local.set $kOffsets (i32x4.mul (i32x4.splat (local.get $rowBytes)) (v128.const i32x4 0 1 2 3)))
    (local.set $step4 (i32x4.splat (i32.shl (local.get $rowBytes) (i32.const 2))))
    (block $groupsDone
      (loop $group
        (br_if $groupsDone (i32.ge_u (local.get $k) (local.get $end16)))
        (local.set $v (v128.load (i32.add (local.get $x) (local.get $k))))
        (local.set $mask (i8x16.bitmask (i8x16.ne (local.get $v) (v128.const i32x4 0 0 0 0))))
        (if (local.get $mask)
          (then
            ;; pixels 0-3, 4-7 from the low 8, 8-11, 12-15 from the high 8; each 4 widened to f32x4
            (local.set $half (i16x8.extend_low_i8x16_u (local.get $v)))
            (local.set $f (f32x4.div (f32x4.convert_i32x4_u (i32x4.extend_low_i16x8_u (local.get $half))) (local.get $div)))
            (local.set $m (i32.and (local.get $mask) (i32.const 15)))
            (local.set $shuffle (v128.load (i32.shl (local.get $m) (i32.const 4))))
            (v128.store (i32.add (local.get $vals) (i32.shl (local.get $n) (i32.const 2))) (i8x16.swizzle (local.get $f) (local.get $shuffle)))
            (v128.store (i32.add (local.get $offs) (i32.shl (local.get $n) (i32.const 2))) (i8x16.swizzle (local.get $kOffsets) (local.get $shuffle)))
            (local.set $n (i32.add (local.get $n) (i32.popcnt (local.get $m))))
            (local.set $kOffsets (i32x4.add (local.get $kOffsets) (local.get $step4)))
            (local.set $f (f32x4.div (f32x4.convert_i32x4_u (i32x4.extend_high_i16x8_u (local.get $half))) (local.get $div)))
            (local.set $m (i32.and (i32.shr_u (local.get $mask) (i32.const 4)) (i32.const 15)))
            (local.set $shuffle (v128.load (i32.shl (local.get $m) (i32.const 4))))
            (v128.store (i32.add (local.get $vals) (i32.shl (local.get $n) (i32.const 2))) (i8x16.swizzle (local.get $f) (local.get $shuffle)))
            (v128.store (i32.add (local.get $offs) (i32.shl (local.get $n) (i32.const 2))) (i8x16.swizzle (local.get $kOffsets) (local.get $shuffle)))
            (local.set $n (i32.add (local.get $n) (i32.popcnt (local.get $m))))
            (local.set $kOffsets (i32x4.add (local.get $kOffsets) (local.get $step4)))
            (local.set $half (i16x8.extend_high_i8x16_u (local.get $v)))
            (local.set $f (f32x4.div (f32x4.convert_i32x4_u (i32x4.extend_low_i16x8_u (local.get $half))) (local.get $div)))
            (local.set $m (i32.and (i32.shr_u (local.get $mask) (i32.const 8)) (i32.const 15)))
            (local.set $shuffle (v128.load (i32.shl (local.get $m) (i32.const 4))))
            (v128.store (i32.add (local.get $vals) (i32.shl (local.get $n) (i32.const 2))) (i8x16.swizzle (local.get $f) (local.get $shuffle)))
            (v128.store (i32.add (local.get $offs) (i32.shl (local.get $n) (i32.const 2))) (i8x16.swizzle (local.get $kOffsets) (local.get $shuffle)))
            (local.set $n (i32.add (local.get $n) (i32.popcnt (local.get $m))))
            (local.set $kOffsets (i32x4.add (local.get $kOffsets) (local.get $step4)))
            (local.set $f (f32x4.div (f32x4.convert_i32x4_u (i32x4.extend_high_i16x8_u (local.get $half))) (local.get $div)))
            (local.set $m (i32.shr_u (local.get $mask) (i32.const 12)))
            (local.set $shuffle (v128.load (i32.shl (local.get $m) (i32.const 4))))
            (v128.store (i32.add (local.get $vals) (i32.shl (local.get $n) (i32.const 2))) (i8x16.swizzle (local.get $f) (local.get $shuffle)))
            (v128.store (i32.add (local.get $offs) (i32.shl (local.get $n) (i32.const 2))) (i8x16.swizzle (local.get $kOffsets) (local.get $shuffle)))
            (local.set $n (i32.add (local.get $n) (i32.popcnt (local.get $m))))
            (local.set $kOffsets (i32x4.add (local.get $kOffsets) (local.get $step4))))
          (else
            (local.set $kOffsets (i32x4.add (local.get $kOffsets) (i32x4.shl (local.get $step4) (i32.const 2))))))
        (local.set $k (i32.add (local.get $k) (i32.const 16)))
        (br $group)))
    (block $tailDone
      (loop $tail
        (br_if $tailDone (i32.ge_u (local.get $k) (local.get $inputs)))
        (local.set $e (f32.div (f32.convert_i32_u (i32.load8_u (i32.add (local.get $x) (local.get $k)))) (local.get $divisor)))
        (f32.store (i32.add (local.get $vals) (i32.shl (local.get $n) (i32.const 2))) (local.get $e))
        (i32.store (i32.add (local.get $offs) (i32.shl (local.get $n) (i32.const 2)))
          (i32.mul (local.get $k) (local.get $rowBytes)))
        (local.set $n (i32.add (local.get $n) (f32.ne (local.get $e) (f32.const 0))))
        (local.set $k (i32.add (local.get $k) (i32.const 1)))
        (br $tail)))
    (local.get $n))

  ;; Column blocks. $blockN computes N column vectors (4N columns) of one output row:
  ;;   o[j] = sum over the packed list of value * W[row offset + w + j] + b[j]
  ;; with $w, $b, $o pointing at the block's first column. The N accumulators stay in registers while the
  ;; list is walked once. N = 7 is the widest that V8 keeps in registers on x64 (7 accumulators, 7 loaded
  ;; W vectors, the broadcast value: 15 xmm registers); at 8 it spills accumulators to the stack.
  ;; The seven functions differ only in N.
  ;; 7 column vectors (28 columns).
  (func $block7 (param $vp i32) (param $op i32) (param $count i32) (param $w i32) (param $b i32) (param $o i32)
    (local $end i32) (local $wp i32) (local $s v128) (local $a0 v128) (local $a1 v128) (local $a2 v128) (local $a3 v128) (local $a4 v128) (local $a5 v128) (local $a6 v128)
    (local.set $end (i32.add (local.get $vp) (i32.shl (local.get $count) (i32.const 2))))
    (if (local.get $count)
      (then
        (loop $k
          (local.set $wp (i32.add (local.get $w) (i32.load (local.get $op))))
          (local.set $s (v128.load32_splat (local.get $vp)))
          (local.set $a0 (f32x4.add (local.get $a0) (f32x4.mul (local.get $s) (v128.load offset=0 (local.get $wp)))))
          (local.set $a1 (f32x4.add (local.get $a1) (f32x4.mul (local.get $s) (v128.load offset=16 (local.get $wp)))))
          (local.set $a2 (f32x4.add (local.get $a2) (f32x4.mul (local.get $s) (v128.load offset=32 (local.get $wp)))))
          (local.set $a3 (f32x4.add (local.get $a3) (f32x4.mul (local.get $s) (v128.load offset=48 (local.get $wp)))))
          (local.set $a4 (f32x4.add (local.get $a4) (f32x4.mul (local.get $s) (v128.load offset=64 (local.get $wp)))))
          (local.set $a5 (f32x4.add (local.get $a5) (f32x4.mul (local.get $s) (v128.load offset=80 (local.get $wp)))))
          (local.set $a6 (f32x4.add (local.get $a6) (f32x4.mul (local.get $s) (v128.load offset=96 (local.get $wp)))))
          (local.set $vp (i32.add (local.get $vp) (i32.const 4)))
          (local.set $op (i32.add (local.get $op) (i32.const 4)))
          (br_if $k (i32.lt_u (local.get $vp) (local.get $end))))))
    (v128.store offset=0 (local.get $o) (f32x4.add (local.get $a0) (v128.load offset=0 (local.get $b))))
    (v128.store offset=16 (local.get $o) (f32x4.add (local.get $a1) (v128.load offset=16 (local.get $b))))
    (v128.store offset=32 (local.get $o) (f32x4.add (local.get $a2) (v128.load offset=32 (local.get $b))))
    (v128.store offset=48 (local.get $o) (f32x4.add (local.get $a3) (v128.load offset=48 (local.get $b))))
    (v128.store offset=64 (local.get $o) (f32x4.add (local.get $a4) (v128.load offset=64 (local.get $b))))
    (v128.store offset=80 (local.get $o) (f32x4.add (local.get $a5) (v128.load offset=80 (local.get $b))))
    (v128.store offset=96 (local.get $o) (f32x4.add (local.get $a6) (v128.load offset=96 (local.get $b)))))

  ;; 6 column vectors (24 columns).
  (func $block6 (param $vp i32) (param $op i32) (param $count i32) (param $w i32) (param $b i32) (param $o i32)
    (local $end i32) (local $wp i32) (local $s v128) (local $a0 v128) (local $a1 v128) (local $a2 v128) (local $a3 v128) (local $a4 v128) (local $a5 v128)
    (local.set $end (i32.add (local.get $vp) (i32.shl (local.get $count) (i32.const 2))))
    (if (local.get $count)
      (then
        (loop $k
          (local.set $wp (i32.add (local.get $w) (i32.load (local.get $op))))
          (local.set $s (v128.load32_splat (local.get $vp)))
          (local.set $a0 (f32x4.add (local.get $a0) (f32x4.mul (local.get $s) (v128.load offset=0 (local.get $wp)))))
          (local.set $a1 (f32x4.add (local.get $a1) (f32x4.mul (local.get $s) (v128.load offset=16 (local.get $wp)))))
          (local.set $a2 (f32x4.add (local.get $a2) (f32x4.mul (local.get $s) (v128.load offset=32 (local.get $wp)))))
          (local.set $a3 (f32x4.add (local.get $a3) (f32x4.mul (local.get $s) (v128.load offset=48 (local.get $wp)))))
          (local.set $a4 (f32x4.add (local.get $a4) (f32x4.mul (local.get $s) (v128.load offset=64 (local.get $wp)))))
          (local.set $a5 (f32x4.add (local.get $a5) (f32x4.mul (local.get $s) (v128.load offset=80 (local.get $wp)))))
          (local.set $vp (i32.add (local.get $vp) (i32.const 4)))
          (local.set $op (i32.add (local.get $op) (i32.const 4)))
          (br_if $k (i32.lt_u (local.get $vp) (local.get $end))))))
    (v128.store offset=0 (local.get $o) (f32x4.add (local.get $a0) (v128.load offset=0 (local.get $b))))
    (v128.store offset=16 (local.get $o) (f32x4.add (local.get $a1) (v128.load offset=16 (local.get $b))))
    (v128.store offset=32 (local.get $o) (f32x4.add (local.get $a2) (v128.load offset=32 (local.get $b))))
    (v128.store offset=48 (local.get $o) (f32x4.add (local.get $a3) (v128.load offset=48 (local.get $b))))
    (v128.store offset=64 (local.get $o) (f32x4.add (local.get $a4) (v128.load offset=64 (local.get $b))))
    (v128.store offset=80 (local.get $o) (f32x4.add (local.get $a5) (v128.load offset=80 (local.get $b)))))

  ;; 5 column vectors (20 columns).
  (func $block5 (param $vp i32) (param $op i32) (param $count i32) (param $w i32) (param $b i32) (param $o i32)
    (local $end i32) (local $wp i32) (local $s v128) (local $a0 v128) (local $a1 v128) (local $a2 v128) (local $a3 v128) (local $a4 v128)
    (local.set $end (i32.add (local.get $vp) (i32.shl (local.get $count) (i32.const 2))))
    (if (local.get $count)
      (then
        (loop $k
          (local.set $wp (i32.add (local.get $w) (i32.load (local.get $op))))
          (local.set $s (v128.load32_splat (local.get $vp)))
          (local.set $a0 (f32x4.add (local.get $a0) (f32x4.mul (local.get $s) (v128.load offset=0 (local.get $wp)))))
          (local.set $a1 (f32x4.add (local.get $a1) (f32x4.mul (local.get $s) (v128.load offset=16 (local.get $wp)))))
          (local.set $a2 (f32x4.add (local.get $a2) (f32x4.mul (local.get $s) (v128.load offset=32 (local.get $wp)))))
          (local.set $a3 (f32x4.add (local.get $a3) (f32x4.mul (local.get $s) (v128.load offset=48 (local.get $wp)))))
          (local.set $a4 (f32x4.add (local.get $a4) (f32x4.mul (local.get $s) (v128.load offset=64 (local.get $wp)))))
          (local.set $vp (i32.add (local.get $vp) (i32.const 4)))
          (local.set $op (i32.add (local.get $op) (i32.const 4)))
          (br_if $k (i32.lt_u (local.get $vp) (local.get $end))))))
    (v128.store offset=0 (local.get $o) (f32x4.add (local.get $a0) (v128.load offset=0 (local.get $b))))
    (v128.store offset=16 (local.get $o) (f32x4.add (local.get $a1) (v128.load offset=16 (local.get $b))))
    (v128.store offset=32 (local.get $o) (f32x4.add (local.get $a2) (v128.load offset=32 (local.get $b))))
    (v128.store offset=48 (local.get $o) (f32x4.add (local.get $a3) (v128.load offset=48 (local.get $b))))
    (v128.store offset=64 (local.get $o) (f32x4.add (local.get $a4) (v128.load offset=64 (local.get $b)))))

  ;; 4 column vectors (16 columns).
  (func $block4 (param $vp i32) (param $op i32) (param $count i32) (param $w i32) (param $b i32) (param $o i32)
    (local $end i32) (local $wp i32) (local $s v128) (local $a0 v128) (local $a1 v128) (local $a2 v128) (local $a3 v128)
    (local.set $end (i32.add (local.get $vp) (i32.shl (local.get $count) (i32.const 2))))
    (if (local.get $count)
      (then
        (loop $k
          (local.set $wp (i32.add (local.get $w) (i32.load (local.get $op))))
          (local.set $s (v128.load32_splat (local.get $vp)))
          (local.set $a0 (f32x4.add (local.get $a0) (f32x4.mul (local.get $s) (v128.load offset=0 (local.get $wp)))))
          (local.set $a1 (f32x4.add (local.get $a1) (f32x4.mul (local.get $s) (v128.load offset=16 (local.get $wp)))))
          (local.set $a2 (f32x4.add (local.get $a2) (f32x4.mul (local.get $s) (v128.load offset=32 (local.get $wp)))))
          (local.set $a3 (f32x4.add (local.get $a3) (f32x4.mul (local.get $s) (v128.load offset=48 (local.get $wp)))))
          (local.set $vp (i32.add (local.get $vp) (i32.const 4)))
          (local.set $op (i32.add (local.get $op) (i32.const 4)))
          (br_if $k (i32.lt_u (local.get $vp) (local.get $end))))))
    (v128.store offset=0 (local.get $o) (f32x4.add (local.get $a0) (v128.load offset=0 (local.get $b))))
    (v128.store offset=16 (local.get $o) (f32x4.add (local.get $a1) (v128.load offset=16 (local.get $b))))
    (v128.store offset=32 (local.get $o) (f32x4.add (local.get $a2) (v128.load offset=32 (local.get $b))))
    (v128.store offset=48 (local.get $o) (f32x4.add (local.get $a3) (v128.load offset=48 (local.get $b)))))

  ;; 3 column vectors (12 columns).
  (func $block3 (param $vp i32) (param $op i32) (param $count i32) (param $w i32) (param $b i32) (param $o i32)
    (local $end i32) (local $wp i32) (local $s v128) (local $a0 v128) (local $a1 v128) (local $a2 v128)
    (local.set $end (i32.add (local.get $vp) (i32.shl (local.get $count) (i32.const 2))))
    (if (local.get $count)
      (then
        (loop $k
          (local.set $wp (i32.add (local.get $w) (i32.load (local.get $op))))
          (local.set $s (v128.load32_splat (local.get $vp)))
          (local.set $a0 (f32x4.add (local.get $a0) (f32x4.mul (local.get $s) (v128.load offset=0 (local.get $wp)))))
          (local.set $a1 (f32x4.add (local.get $a1) (f32x4.mul (local.get $s) (v128.load offset=16 (local.get $wp)))))
          (local.set $a2 (f32x4.add (local.get $a2) (f32x4.mul (local.get $s) (v128.load offset=32 (local.get $wp)))))
          (local.set $vp (i32.add (local.get $vp) (i32.const 4)))
          (local.set $op (i32.add (local.get $op) (i32.const 4)))
          (br_if $k (i32.lt_u (local.get $vp) (local.get $end))))))
    (v128.store offset=0 (local.get $o) (f32x4.add (local.get $a0) (v128.load offset=0 (local.get $b))))
    (v128.store offset=16 (local.get $o) (f32x4.add (local.get $a1) (v128.load offset=16 (local.get $b))))
    (v128.store offset=32 (local.get $o) (f32x4.add (local.get $a2) (v128.load offset=32 (local.get $b)))))

  ;; 2 column vectors (8 columns).
  (func $block2 (param $vp i32) (param $op i32) (param $count i32) (param $w i32) (param $b i32) (param $o i32)
    (local $end i32) (local $wp i32) (local $s v128) (local $a0 v128) (local $a1 v128)
    (local.set $end (i32.add (local.get $vp) (i32.shl (local.get $count) (i32.const 2))))
    (if (local.get $count)
      (then
        (loop $k
          (local.set $wp (i32.add (local.get $w) (i32.load (local.get $op))))
          (local.set $s (v128.load32_splat (local.get $vp)))
          (local.set $a0 (f32x4.add (local.get $a0) (f32x4.mul (local.get $s) (v128.load offset=0 (local.get $wp)))))
          (local.set $a1 (f32x4.add (local.get $a1) (f32x4.mul (local.get $s) (v128.load offset=16 (local.get $wp)))))
          (local.set $vp (i32.add (local.get $vp) (i32.const 4)))
          (local.set $op (i32.add (local.get $op) (i32.const 4)))
          (br_if $k (i32.lt_u (local.get $vp) (local.get $end))))))
    (v128.store offset=0 (local.get $o) (f32x4.add (local.get $a0) (v128.load offset=0 (local.get $b))))
    (v128.store offset=16 (local.get $o) (f32x4.add (local.get $a1) (v128.load offset=16 (local.get $b)))))

  ;; 1 column vector (4 columns).
  (func $block1 (param $vp i32) (param $op i32) (param $count i32) (param $w i32) (param $b i32) (param $o i32)
    (local $end i32) (local $wp i32) (local $s v128) (local $a0 v128)
    (local.set $end (i32.add (local.get $vp) (i32.shl (local.get $count) (i32.const 2))))
    (if (local.get $count)
      (then
        (loop $k
          (local.set $wp (i32.add (local.get $w) (i32.load (local.get $op))))
          (local.set $s (v128.load32_splat (local.get $vp)))
          (local.set $a0 (f32x4.add (local.get $a0) (f32x4.mul (local.get $s) (v128.load offset=0 (local.get $wp)))))
          (local.set $vp (i32.add (local.get $vp) (i32.const 4)))
          (local.set $op (i32.add (local.get $op) (i32.const 4)))
          (br_if $k (i32.lt_u (local.get $vp) (local.get $end))))))
    (v128.store offset=0 (local.get $o) (f32x4.add (local.get $a0) (v128.load offset=0 (local.get $b)))))

  ;; Applies the activation in place to the vectors in [$p, $end): 0 identity, 1 relu, 2 step, 3 sigmoid.
  ;; Same rules as src/nn/activations.ts: relu maps -0 to +0 and keeps NaN; step(NaN) = 0; sigmoid uses
  ;; 1 / (1 + e^-x) for x >= 0 and e^x / (1 + e^x) otherwise, so exp only ever sees -|x|.
  (func $activate (param $p i32) (param $end i32) (param $act i32)
    (local $v v128) (local $t v128) (local $e v128) (local $n v128) (local $r v128) (local $y v128)
    (block $done
      (block $sigmoid
        (block $step
          (block $relu
            (block $identity
              (br_table $identity $relu $step $sigmoid (local.get $act)))
            (br $done))
          (loop $l
            (v128.store (local.get $p) (f32x4.max (v128.load (local.get $p)) (v128.const f32x4 0 0 0 0)))
            (local.set $p (i32.add (local.get $p) (i32.const 16)))
            (br_if $l (i32.lt_u (local.get $p) (local.get $end))))
          (br $done))
        (loop $l
          (v128.store (local.get $p)
            (v128.and (f32x4.gt (v128.load (local.get $p)) (v128.const f32x4 0 0 0 0)) (v128.const f32x4 1 1 1 1)))
          (local.set $p (i32.add (local.get $p) (i32.const 16)))
          (br_if $l (i32.lt_u (local.get $p) (local.get $end))))
        (br $done))
      (loop $l
        (local.set $v (v128.load (local.get $p)))
        ;; e = exp(t) for t = -|v|, clamped at -87.3 so that 2^n stays a normal float (e >= 1.2e-38,
        ;; an absolute error below 1.2e-38 for the sigmoid of v < -87.3).
        ;; Cephes expf: n = round(t / ln2), r = t - n ln2 (ln2 split in two for an exact product),
        ;; e^r by a degree-7 polynomial, e = e^r * 2^n built in the exponent bits. Max rel. error ~2 ulp
        ;; (kernels-sigmoid.test.ts measures the whole sigmoid against the reference).
        ;; Written for V8's x64 code: -|v| as one OR of the sign bit; the clamp as pmax (one maxps; with
        ;; t first a NaN stays NaN, as the reference's); round-to-nearest by adding 1.5 * 2^23, which leaves
        ;; n in the low mantissa bits, so 2^n is an integer add and a shift (no nearest, no trunc_sat).
        (local.set $t (f32x4.pmax
          (v128.or (local.get $v) (v128.const i32x4 0x80000000 0x80000000 0x80000000 0x80000000))
          (v128.const f32x4 -87.3 -87.3 -87.3 -87.3)))
        (local.set $y (f32x4.add (f32x4.mul (local.get $t)
          (v128.const f32x4 1.44269504088896341 1.44269504088896341 1.44269504088896341 1.44269504088896341))
          (v128.const f32x4 12582912 12582912 12582912 12582912)))
        (local.set $n (f32x4.sub (local.get $y) (v128.const f32x4 12582912 12582912 12582912 12582912)))
        ;; 2^n: bits(y) = bits(1.5 * 2^23) + n = 0x4b400000 + n, so (bits(y) - 0x4b400000 + 127) << 23
        (local.set $e (i32x4.shl (i32x4.add (local.get $y)
          (v128.const i32x4 0xb4c0007f 0xb4c0007f 0xb4c0007f 0xb4c0007f)) (i32.const 23)))
        (local.set $r (f32x4.sub (local.get $t)
          (f32x4.mul (local.get $n) (v128.const f32x4 0.693359375 0.693359375 0.693359375 0.693359375))))
        (local.set $r (f32x4.add (local.get $r)
          (f32x4.mul (local.get $n) (v128.const f32x4 2.12194440e-4 2.12194440e-4 2.12194440e-4 2.12194440e-4))))
        (local.set $y (v128.const f32x4 1.9875691500e-4 1.9875691500e-4 1.9875691500e-4 1.9875691500e-4))
        (local.set $y (f32x4.add (f32x4.mul (local.get $y) (local.get $r))
          (v128.const f32x4 1.3981999507e-3 1.3981999507e-3 1.3981999507e-3 1.3981999507e-3)))
        (local.set $y (f32x4.add (f32x4.mul (local.get $y) (local.get $r))
          (v128.const f32x4 8.3334519073e-3 8.3334519073e-3 8.3334519073e-3 8.3334519073e-3)))
        (local.set $y (f32x4.add (f32x4.mul (local.get $y) (local.get $r))
          (v128.const f32x4 4.1665795894e-2 4.1665795894e-2 4.1665795894e-2 4.1665795894e-2)))
        (local.set $y (f32x4.add (f32x4.mul (local.get $y) (local.get $r))
          (v128.const f32x4 1.6666665459e-1 1.6666665459e-1 1.6666665459e-1 1.6666665459e-1)))
        (local.set $y (f32x4.add (f32x4.mul (local.get $y) (local.get $r))
          (v128.const f32x4 5.0000001201e-1 5.0000001201e-1 5.0000001201e-1 5.0000001201e-1)))
        (local.set $y (f32x4.add (f32x4.add (f32x4.mul (local.get $y) (f32x4.mul (local.get $r) (local.get $r)))
          (local.get $r)) (v128.const f32x4 1 1 1 1)))
        (local.set $e (f32x4.mul (local.get $y) (local.get $e)))
        ;; one division: d = 1 / (1 + e); sigmoid = d for v >= 0, e * d otherwise
        (local.set $n (f32x4.div (v128.const f32x4 1 1 1 1) (f32x4.add (v128.const f32x4 1 1 1 1) (local.get $e))))
        (v128.store (local.get $p)
          (v128.bitselect
            (local.get $n)
            (f32x4.mul (local.get $e) (local.get $n))
            (f32x4.ge (local.get $v) (v128.const f32x4 0 0 0 0))))
        (local.set $p (i32.add (local.get $p) (i32.const 16)))
        (br_if $l (i32.lt_u (local.get $p) (local.get $end))))))

  ;; All column blocks of one output row from the packed list of its nonzero inputs.
  (func $rowBlocks (param $vals i32) (param $offs i32) (param $count i32) (param $w i32) (param $b i32) (param $oRow i32)
      (param $nPad i32)
    (local $c i32) (local $nv i32) (local $passes i32) (local $width i32) (local $wc i32) (local $bc i32) (local $oc i32)
    ;; The row's nv = nPad / 4 column vectors in ceil(nv / 7) passes over the list, of as equal widths
    ;; as possible (13 -> 7 + 6, 25 -> 7 + 6 + 6 + 6, 3 -> 3): fewest passes, none spilling.
    (local.set $c (i32.const 0))
    (local.set $nv (i32.shr_u (local.get $nPad) (i32.const 2)))
    (local.set $passes (i32.div_u (i32.add (local.get $nv) (i32.const 6)) (i32.const 7)))
    (block $passesDone
      (loop $pass
        (br_if $passesDone (i32.eqz (local.get $passes)))
        (local.set $width (i32.div_u (i32.add (local.get $nv) (i32.sub (local.get $passes) (i32.const 1))) (local.get $passes)))
        (local.set $wc (i32.add (local.get $w) (local.get $c)))
        (local.set $bc (i32.add (local.get $b) (local.get $c)))
        (local.set $oc (i32.add (local.get $oRow) (local.get $c)))
        (block $called
          (block $w1 (block $w2 (block $w3 (block $w4 (block $w5 (block $w6 (block $w7
            (br_table $called $w1 $w2 $w3 $w4 $w5 $w6 $w7 (local.get $width)))
            (call $block7 (local.get $vals) (local.get $offs) (local.get $count) (local.get $wc) (local.get $bc) (local.get $oc))
            (br $called))
            (call $block6 (local.get $vals) (local.get $offs) (local.get $count) (local.get $wc) (local.get $bc) (local.get $oc))
            (br $called))
            (call $block5 (local.get $vals) (local.get $offs) (local.get $count) (local.get $wc) (local.get $bc) (local.get $oc))
            (br $called))
            (call $block4 (local.get $vals) (local.get $offs) (local.get $count) (local.get $wc) (local.get $bc) (local.get $oc))
            (br $called))
            (call $block3 (local.get $vals) (local.get $offs) (local.get $count) (local.get $wc) (local.get $bc) (local.get $oc))
            (br $called))
            (call $block2 (local.get $vals) (local.get $offs) (local.get $count) (local.get $wc) (local.get $bc) (local.get $oc))
            (br $called))
          (call $block1 (local.get $vals) (local.get $offs) (local.get $count) (local.get $wc) (local.get $bc) (local.get $oc)))
        (local.set $c (i32.add (local.get $c) (i32.shl (local.get $width) (i32.const 4))))
        (local.set $nv (i32.sub (local.get $nv) (local.get $width)))
        (local.set $passes (i32.sub (local.get $passes) (i32.const 1)))
        (br $pass))))

  ;; Dense layers (every layer after the first: hidden activations are seldom zero, so compacting them
  ;; costs more than it saves). Two rows at a time: each W vector loaded serves both rows, each
  ;; broadcast input C vectors; $dense2xC computes C column vectors of rows x0 and x1:
  ;;   o_r[j] = sum over k ascending of x_r[k] * W[k, w + j], then + b[j]
  ;; the same float32 operations in the same order as the compacted path (a zero input's product leaves
  ;; a sum unchanged: sums start at +0 and never become -0, weights are finite), so the results are
  ;; identical. 2 rows x 4 vectors: 8 accumulators, 4 W vectors and the broadcast, within V8's 16 xmm.
  ;; An odd last row takes the one-row path of layer() (its compacted list, up to 7 vectors per pass).
  ;; 4 column vectors (16 columns) of two rows.
  (func $dense2x4 (param $x0 i32) (param $x1 i32) (param $inputs i32) (param $w i32) (param $rowBytes i32) (param $b i32)
      (param $o0 i32) (param $o1 i32)
    (local $end i32) (local $wp i32) (local $s v128) (local $w0 v128) (local $w1 v128) (local $w2 v128) (local $w3 v128) (local $a00 v128) (local $a01 v128) (local $a02 v128) (local $a03 v128) (local $a10 v128) (local $a11 v128) (local $a12 v128) (local $a13 v128)
    (local.set $end (i32.add (local.get $x0) (i32.shl (local.get $inputs) (i32.const 2))))
    (local.set $wp (local.get $w))
    (loop $k
          (local.set $w0 (v128.load offset=0 (local.get $wp)))
          (local.set $w1 (v128.load offset=16 (local.get $wp)))
          (local.set $w2 (v128.load offset=32 (local.get $wp)))
          (local.set $w3 (v128.load offset=48 (local.get $wp)))
          (local.set $s (v128.load32_splat (local.get $x0)))
          (local.set $a00 (f32x4.add (local.get $a00) (f32x4.mul (local.get $s) (local.get $w0))))
          (local.set $a01 (f32x4.add (local.get $a01) (f32x4.mul (local.get $s) (local.get $w1))))
          (local.set $a02 (f32x4.add (local.get $a02) (f32x4.mul (local.get $s) (local.get $w2))))
          (local.set $a03 (f32x4.add (local.get $a03) (f32x4.mul (local.get $s) (local.get $w3))))
          (local.set $s (v128.load32_splat (local.get $x1)))
          (local.set $a10 (f32x4.add (local.get $a10) (f32x4.mul (local.get $s) (local.get $w0))))
          (local.set $a11 (f32x4.add (local.get $a11) (f32x4.mul (local.get $s) (local.get $w1))))
          (local.set $a12 (f32x4.add (local.get $a12) (f32x4.mul (local.get $s) (local.get $w2))))
          (local.set $a13 (f32x4.add (local.get $a13) (f32x4.mul (local.get $s) (local.get $w3))))
      (local.set $x0 (i32.add (local.get $x0) (i32.const 4)))
      (local.set $x1 (i32.add (local.get $x1) (i32.const 4)))
      (local.set $wp (i32.add (local.get $wp) (local.get $rowBytes)))
      (br_if $k (i32.lt_u (local.get $x0) (local.get $end))))
    (v128.store offset=0 (local.get $o0) (f32x4.add (local.get $a00) (v128.load offset=0 (local.get $b))))
    (v128.store offset=16 (local.get $o0) (f32x4.add (local.get $a01) (v128.load offset=16 (local.get $b))))
    (v128.store offset=32 (local.get $o0) (f32x4.add (local.get $a02) (v128.load offset=32 (local.get $b))))
    (v128.store offset=48 (local.get $o0) (f32x4.add (local.get $a03) (v128.load offset=48 (local.get $b))))
    (v128.store offset=0 (local.get $o1) (f32x4.add (local.get $a10) (v128.load offset=0 (local.get $b))))
    (v128.store offset=16 (local.get $o1) (f32x4.add (local.get $a11) (v128.load offset=16 (local.get $b))))
    (v128.store offset=32 (local.get $o1) (f32x4.add (local.get $a12) (v128.load offset=32 (local.get $b))))
    (v128.store offset=48 (local.get $o1) (f32x4.add (local.get $a13) (v128.load offset=48 (local.get $b)))))
  ;; 3 column vectors (12 columns) of two rows.
  (func $dense2x3 (param $x0 i32) (param $x1 i32) (param $inputs i32) (param $w i32) (param $rowBytes i32) (param $b i32)
      (param $o0 i32) (param $o1 i32)
    (local $end i32) (local $wp i32) (local $s v128) (local $w0 v128) (local $w1 v128) (local $w2 v128) (local $a00 v128) (local $a01 v128) (local $a02 v128) (local $a10 v128) (local $a11 v128) (local $a12 v128)
    (local.set $end (i32.add (local.get $x0) (i32.shl (local.get $inputs) (i32.const 2))))
    (local.set $wp (local.get $w))
    (loop $k
          (local.set $w0 (v128.load offset=0 (local.get $wp)))
          (local.set $w1 (v128.load offset=16 (local.get $wp)))
          (local.set $w2 (v128.load offset=32 (local.get $wp)))
          (local.set $s (v128.load32_splat (local.get $x0)))
          (local.set $a00 (f32x4.add (local.get $a00) (f32x4.mul (local.get $s) (local.get $w0))))
          (local.set $a01 (f32x4.add (local.get $a01) (f32x4.mul (local.get $s) (local.get $w1))))
          (local.set $a02 (f32x4.add (local.get $a02) (f32x4.mul (local.get $s) (local.get $w2))))
          (local.set $s (v128.load32_splat (local.get $x1)))
          (local.set $a10 (f32x4.add (local.get $a10) (f32x4.mul (local.get $s) (local.get $w0))))
          (local.set $a11 (f32x4.add (local.get $a11) (f32x4.mul (local.get $s) (local.get $w1))))
          (local.set $a12 (f32x4.add (local.get $a12) (f32x4.mul (local.get $s) (local.get $w2))))
      (local.set $x0 (i32.add (local.get $x0) (i32.const 4)))
      (local.set $x1 (i32.add (local.get $x1) (i32.const 4)))
      (local.set $wp (i32.add (local.get $wp) (local.get $rowBytes)))
      (br_if $k (i32.lt_u (local.get $x0) (local.get $end))))
    (v128.store offset=0 (local.get $o0) (f32x4.add (local.get $a00) (v128.load offset=0 (local.get $b))))
    (v128.store offset=16 (local.get $o0) (f32x4.add (local.get $a01) (v128.load offset=16 (local.get $b))))
    (v128.store offset=32 (local.get $o0) (f32x4.add (local.get $a02) (v128.load offset=32 (local.get $b))))
    (v128.store offset=0 (local.get $o1) (f32x4.add (local.get $a10) (v128.load offset=0 (local.get $b))))
    (v128.store offset=16 (local.get $o1) (f32x4.add (local.get $a11) (v128.load offset=16 (local.get $b))))
    (v128.store offset=32 (local.get $o1) (f32x4.add (local.get $a12) (v128.load offset=32 (local.get $b)))))
  ;; 2 column vectors (8 columns) of two rows.
  (func $dense2x2 (param $x0 i32) (param $x1 i32) (param $inputs i32) (param $w i32) (param $rowBytes i32) (param $b i32)
      (param $o0 i32) (param $o1 i32)
    (local $end i32) (local $wp i32) (local $s v128) (local $w0 v128) (local $w1 v128) (local $a00 v128) (local $a01 v128) (local $a10 v128) (local $a11 v128)
    (local.set $end (i32.add (local.get $x0) (i32.shl (local.get $inputs) (i32.const 2))))
    (local.set $wp (local.get $w))
    (loop $k
          (local.set $w0 (v128.load offset=0 (local.get $wp)))
          (local.set $w1 (v128.load offset=16 (local.get $wp)))
          (local.set $s (v128.load32_splat (local.get $x0)))
          (local.set $a00 (f32x4.add (local.get $a00) (f32x4.mul (local.get $s) (local.get $w0))))
          (local.set $a01 (f32x4.add (local.get $a01) (f32x4.mul (local.get $s) (local.get $w1))))
          (local.set $s (v128.load32_splat (local.get $x1)))
          (local.set $a10 (f32x4.add (local.get $a10) (f32x4.mul (local.get $s) (local.get $w0))))
          (local.set $a11 (f32x4.add (local.get $a11) (f32x4.mul (local.get $s) (local.get $w1))))
      (local.set $x0 (i32.add (local.get $x0) (i32.const 4)))
      (local.set $x1 (i32.add (local.get $x1) (i32.const 4)))
      (local.set $wp (i32.add (local.get $wp) (local.get $rowBytes)))
      (br_if $k (i32.lt_u (local.get $x0) (local.get $end))))
    (v128.store offset=0 (local.get $o0) (f32x4.add (local.get $a00) (v128.load offset=0 (local.get $b))))
    (v128.store offset=16 (local.get $o0) (f32x4.add (local.get $a01) (v128.load offset=16 (local.get $b))))
    (v128.store offset=0 (local.get $o1) (f32x4.add (local.get $a10) (v128.load offset=0 (local.get $b))))
    (v128.store offset=16 (local.get $o1) (f32x4.add (local.get $a11) (v128.load offset=16 (local.get $b)))))
  ;; 1 column vector (4 columns) of two rows.
  (func $dense2x1 (param $x0 i32) (param $x1 i32) (param $inputs i32) (param $w i32) (param $rowBytes i32) (param $b i32)
      (param $o0 i32) (param $o1 i32)
    (local $end i32) (local $wp i32) (local $s v128) (local $w0 v128) (local $a00 v128) (local $a10 v128)
    (local.set $end (i32.add (local.get $x0) (i32.shl (local.get $inputs) (i32.const 2))))
    (local.set $wp (local.get $w))
    (loop $k
          (local.set $w0 (v128.load offset=0 (local.get $wp)))
          (local.set $s (v128.load32_splat (local.get $x0)))
          (local.set $a00 (f32x4.add (local.get $a00) (f32x4.mul (local.get $s) (local.get $w0))))
          (local.set $s (v128.load32_splat (local.get $x1)))
          (local.set $a10 (f32x4.add (local.get $a10) (f32x4.mul (local.get $s) (local.get $w0))))
      (local.set $x0 (i32.add (local.get $x0) (i32.const 4)))
      (local.set $x1 (i32.add (local.get $x1) (i32.const 4)))
      (local.set $wp (i32.add (local.get $wp) (local.get $rowBytes)))
      (br_if $k (i32.lt_u (local.get $x0) (local.get $end))))
    (v128.store offset=0 (local.get $o0) (f32x4.add (local.get $a00) (v128.load offset=0 (local.get $b))))
    (v128.store offset=0 (local.get $o1) (f32x4.add (local.get $a10) (v128.load offset=0 (local.get $b)))))

  ;; out[r, 0..nPad) = act(x[r, 0..inputs) · W + b) for r < rows, densely, two rows at a time (an odd
  ;; last row through layer()).
  (func (export "denseLayer") (param $x i32) (param $xStride i32) (param $rows i32) (param $inputs i32)
      (param $w i32) (param $b i32) (param $out i32) (param $nPad i32) (param $act i32)
      (param $vals i32) (param $offs i32)
    (local $r i32) (local $rowBytes i32) (local $x0 i32) (local $x1 i32) (local $o0 i32) (local $o1 i32)
    (local $c i32) (local $nv i32) (local $passes i32) (local $width i32)
    (local.set $rowBytes (i32.shl (local.get $nPad) (i32.const 2)))
    (block $rowsDone
      (loop $row
        (br_if $rowsDone (i32.ge_u (i32.add (local.get $r) (i32.const 1)) (local.get $rows)))
        (local.set $x0 (i32.add (local.get $x) (i32.shl (i32.mul (local.get $r) (local.get $xStride)) (i32.const 2))))
        (local.set $o0 (i32.add (local.get $out) (i32.mul (local.get $r) (local.get $rowBytes))))
        (local.set $x1 (i32.add (local.get $x0) (i32.shl (local.get $xStride) (i32.const 2))))
        (local.set $o1 (i32.add (local.get $o0) (local.get $rowBytes)))
        ;; the row's nPad / 4 vectors in ceil(nv / 4) passes of as equal widths as possible
        (local.set $c (i32.const 0))
        (local.set $nv (i32.shr_u (local.get $nPad) (i32.const 2)))
        (local.set $passes (i32.shr_u (i32.add (local.get $nv) (i32.const 3)) (i32.const 2)))
        (block $passesDone
          (loop $pass
            (br_if $passesDone (i32.eqz (local.get $passes)))
            (local.set $width (i32.div_u (i32.add (local.get $nv) (i32.sub (local.get $passes) (i32.const 1))) (local.get $passes)))
            (block $called
              (block $w1 (block $w2 (block $w3 (block $w4
                (br_table $called $w1 $w2 $w3 $w4 (local.get $width)))
                (call $dense2x4 (local.get $x0) (local.get $x1) (local.get $inputs) (i32.add (local.get $w) (local.get $c)) (local.get $rowBytes)
                  (i32.add (local.get $b) (local.get $c)) (i32.add (local.get $o0) (local.get $c)) (i32.add (local.get $o1) (local.get $c)))
                (br $called))
                (call $dense2x3 (local.get $x0) (local.get $x1) (local.get $inputs) (i32.add (local.get $w) (local.get $c)) (local.get $rowBytes)
                  (i32.add (local.get $b) (local.get $c)) (i32.add (local.get $o0) (local.get $c)) (i32.add (local.get $o1) (local.get $c)))
                (br $called))
                (call $dense2x2 (local.get $x0) (local.get $x1) (local.get $inputs) (i32.add (local.get $w) (local.get $c)) (local.get $rowBytes)
                  (i32.add (local.get $b) (local.get $c)) (i32.add (local.get $o0) (local.get $c)) (i32.add (local.get $o1) (local.get $c)))
                (br $called))
              (call $dense2x1 (local.get $x0) (local.get $x1) (local.get $inputs) (i32.add (local.get $w) (local.get $c)) (local.get $rowBytes)
                (i32.add (local.get $b) (local.get $c)) (i32.add (local.get $o0) (local.get $c)) (i32.add (local.get $o1) (local.get $c))))
            (local.set $c (i32.add (local.get $c) (i32.shl (local.get $width) (i32.const 4))))
            (local.set $nv (i32.sub (local.get $nv) (local.get $width)))
            (local.set $passes (i32.sub (local.get $passes) (i32.const 1)))
            (br $pass)))
        (call $activate (local.get $o0) (i32.add (local.get $o1) (local.get $rowBytes)) (local.get $act))
        (local.set $r (i32.add (local.get $r) (i32.const 2)))
        (br $row)))
    (if (i32.lt_u (local.get $r) (local.get $rows))
      (then
        (call $layer (i32.add (local.get $x) (i32.shl (i32.mul (local.get $r) (local.get $xStride)) (i32.const 2))) (local.get $xStride)
          (i32.const 1) (local.get $inputs) (local.get $w) (local.get $b) (i32.add (local.get $out) (i32.mul (local.get $r) (local.get $rowBytes)))
          (local.get $nPad) (local.get $act) (local.get $vals) (local.get $offs)))))

  ;; out[r, 0..nPad) = act(x[r, 0..inputs) · W + b) for r < rows (see the top of the file).
  ;; x rows are xStride floats apart; nPad is a multiple of 4 (> 0); $vals/$offs are the compaction lists.
  (func $layer (export "layer") (param $x i32) (param $xStride i32) (param $rows i32) (param $inputs i32)
      (param $w i32) (param $b i32) (param $out i32) (param $nPad i32) (param $act i32)
      (param $vals i32) (param $offs i32)
    (local $r i32) (local $count i32) (local $rowBytes i32) (local $xRow i32) (local $oRow i32)
    (local.set $rowBytes (i32.shl (local.get $nPad) (i32.const 2)))
    (block $rowsDone
      (loop $row
        (br_if $rowsDone (i32.ge_u (local.get $r) (local.get $rows)))
        (local.set $xRow (i32.add (local.get $x) (i32.shl (i32.mul (local.get $r) (local.get $xStride)) (i32.const 2))))
        (local.set $oRow (i32.add (local.get $out) (i32.mul (local.get $r) (local.get $rowBytes))))
        (local.set $count
          (call $compact (local.get $xRow) (local.get $inputs) (local.get $rowBytes) (local.get $vals) (local.get $offs)))
        (call $rowBlocks (local.get $vals) (local.get $offs) (local.get $count) (local.get $w) (local.get $b) (local.get $oRow)
          (local.get $nPad))
        (call $activate (local.get $oRow) (i32.add (local.get $oRow) (local.get $rowBytes)) (local.get $act))
        (local.set $r (i32.add (local.get $r) (i32.const 1)))
        (br $row))))
  ;; The first layer straight from bytes: out[r, ..] = act((x[r, ..] / divisor) · W + b), x rows `inputs`
  ;; bytes apart (see $compactBytes).
  (func (export "layerBytes") (param $x i32) (param $rows i32) (param $inputs i32) (param $divisor f32)
      (param $w i32) (param $b i32) (param $out i32) (param $nPad i32) (param $act i32)
      (param $vals i32) (param $offs i32)
    (local $r i32) (local $count i32) (local $rowBytes i32) (local $xRow i32) (local $oRow i32)
    (local.set $rowBytes (i32.shl (local.get $nPad) (i32.const 2)))
    (block $rowsDone
      (loop $row
        (br_if $rowsDone (i32.ge_u (local.get $r) (local.get $rows)))
        (local.set $xRow (i32.add (local.get $x) (i32.mul (local.get $r) (local.get $inputs))))
        (local.set $oRow (i32.add (local.get $out) (i32.mul (local.get $r) (local.get $rowBytes))))
        (local.set $count
          (call $compactBytes (local.get $xRow) (local.get $inputs) (local.get $rowBytes) (local.get $vals) (local.get $offs)
            (local.get $divisor)))
        (call $rowBlocks (local.get $vals) (local.get $offs) (local.get $count) (local.get $w) (local.get $b) (local.get $oRow)
          (local.get $nPad))
        (call $activate (local.get $oRow) (i32.add (local.get $oRow) (local.get $rowBytes)) (local.get $act))
        (local.set $r (i32.add (local.get $r) (i32.const 1)))
        (br $row)))))
