;; The fast CSV path's row decoder in WebAssembly (SIMD): decodeRow (row-kernel.ts) with exactly its
;; contract, for as many consecutive rows as it can in one call. Compiled to row-decoder.wasm by
;; scripts/build-wasm.mjs (wabt); the .wasm is build output, never committed. row-decoder-wasm.ts
;; drives it; the JavaScript decoder stays the fallback (no .wasm) and the tests' oracle.
;;
;; An ordinary row: `fieldCount` fields of ASCII digits (one or more; leading zeros allowed), pixels
;; 0..255 and the label 0..labelMax, separated by ',' and ended by '\n' or '\r\n'. decodeRows stops at
;; the first line that is not blank and not an ordinary row (decodeRow's -1), and the caller hands that
;; line to RecordScanner + RowParser, as before, so every message and decision stays theirs.
;;
;; Why it is fast, and why it is exact:
;;  - "0," runs (MNIST rows are ~80% zero pixels, in runs): one 16-byte compare against
;;    "0,0,0,0,0,0,0,0," counts the leading zero fields (up to 8), whose floats go out as two 16-byte
;;    stores of table[0]. The stores may run past the fields counted; those floats belong to later
;;    fields of the row (rewritten when those are decoded) or to the next row's slot (rewritten by that
;;    row, or never handed out when the row is not decoded): the caller leaves 8 floats of room after
;;    the last slot.
;;  - any other field: 4 bytes at once (SWAR) give the number of leading digits and, for 1 to 3 of
;;    them, the value, without a branch on the digit count; 4 or more digits (leading zeros) take a
;;    plain loop. Values saturate at 99999 so that no digit string, however long, wraps round to a
;;    small value: anything over 255 (or labelMax <= 32766) is not ordinary, as in decodeRow.
;;  - every float is table[value], copied as bits (i32) from the table the caller put at address 0:
;;    the same float32 decodeRow stores (with skipZeros, decodeRow leaves the zero-filled batch's +0
;;    where table[0] is +0, which is the same bits).
;;  - the input is followed by at least 16 zero bytes (the caller's job): the 16-byte and 4-byte loads
;;    near the end read those, and a NUL is neither a digit, a ',' nor a line end, so a row without a
;;    line end before the end of the input is not ordinary, as decodeRow's reads past the end make it.
;;
;; Memory layout (the caller owns everything from byte 2048):
;;   [0, 1024)     the 256-entry float32 normalisation table
;;   [1024, 1032)  decodeRows' results besides its return value: rows, next line number
(module
  (memory (export "memory") 1)

  ;; The layout of the current call (set by decodeRows).
  (global $before (mut i32) (i32.const 0))     ;; pixels before the label (all but the last when unlabelled)
  (global $after (mut i32) (i32.const 0))      ;; pixels between the label and the last field
  (global $hasLabel (mut i32) (i32.const 0))
  (global $labelLast (mut i32) (i32.const 0))  ;; the label is the last field
  (global $labelMax (mut i32) (i32.const 0))
  ;; Outputs of the helpers.
  (global $end (mut i32) (i32.const 0))        ;; $number: the position after the digits
  (global $label (mut i32) (i32.const -1))     ;; $row: the row's label (-1 without a label column)

  ;; The digit run at $p: its value (saturated at 99999), or -1 when $p holds no digit. Sets $end.
  (func $number (param $p i32) (result i32)
    (local $v i32) (local $d i32)
    (local.set $v (i32.sub (i32.load8_u (local.get $p)) (i32.const 48)))
    (if (i32.gt_u (local.get $v) (i32.const 9))
      (then
        (global.set $end (local.get $p))
        (return (i32.const -1))))
    (local.set $p (i32.add (local.get $p) (i32.const 1)))
    (block $done
      (loop $digit
        (local.set $d (i32.sub (i32.load8_u (local.get $p)) (i32.const 48)))
        (br_if $done (i32.gt_u (local.get $d) (i32.const 9)))
        (local.set $v (i32.add (i32.mul (local.get $v) (i32.const 10)) (local.get $d)))
        (local.set $v (select (i32.const 99999) (local.get $v) (i32.gt_u (local.get $v) (i32.const 99999))))
        (local.set $p (i32.add (local.get $p) (i32.const 1)))
        (br $digit)))
    (global.set $end (local.get $p))
    (local.get $v))

  ;; After the last field: '\n' or '\r\n' at $p. The position after it, or -1.
  (func $lineEnd (param $p i32) (result i32)
    (local $c i32)
    (local.set $c (i32.load8_u (local.get $p)))
    (if (i32.eq (local.get $c) (i32.const 10))
      (then (return (i32.add (local.get $p) (i32.const 1)))))
    (if (i32.and (i32.eq (local.get $c) (i32.const 13)) (i32.eq (i32.load8_u offset=1 (local.get $p)) (i32.const 10)))
      (then (return (i32.add (local.get $p) (i32.const 2)))))
    (i32.const -1))

  ;; $count (>= 1) pixels, each followed by ',', from $p; their floats to $o. The position after the
  ;; last ',', or -1.
  ;;
  ;; Per step, one 16-byte window at $p: its leading "0," fields (up to 8), then the field after them
  ;; when the window holds it whole with its ',' and it has 1 to 3 digits, which its masks tell (the
  ;; non-digit mask gives the digit count, the ',' mask checks the terminator), so the next step's
  ;; address depends on few instructions; only the field's value needs a load (off that path). Anything
  ;; else (4 or more digits, a field running past the window, a bad byte) takes the general step.
  (func $pixels (param $p i32) (param $o i32) (param $count i32) (result i32)
    (local $k i32) (local $s i32) (local $e i32) (local $w i32) (local $t i32) (local $n i32) (local $v i32) (local $v2 i32)
    (local $nd i32) (local $cm i32) (local $s2 i32) (local $n2 i32) (local $e2 i32) (local $t2 i32) (local $u i32) (local $extra i32)
    (local $win v128) (local $zero v128)
    (local.set $zero (v128.load32_splat (i32.const 0)))
    (loop $field
      (local.set $win (v128.load (local.get $p)))
      ;; The leading "0," fields, at most $count - 1 (one is left for the field step, so the loop needs
      ;; no second exit).
      (local.set $k
        (i32.shr_u
          (i32.ctz
            (i32.xor
              (i8x16.bitmask
                (i8x16.eq (local.get $win) (v128.const i8x16 48 44 48 44 48 44 48 44 48 44 48 44 48 44 48 44)))
              (i32.const 0x1ffff)))
          (i32.const 1)))
      (if (i32.ge_u (local.get $k) (local.get $count))
        (then (local.set $k (i32.sub (local.get $count) (i32.const 1)))))
      (v128.store (local.get $o) (local.get $zero))
      (v128.store offset=16 (local.get $o) (local.get $zero))
      (local.set $o (i32.add (local.get $o) (i32.shl (local.get $k) (i32.const 2))))
      (local.set $count (i32.sub (local.get $count) (local.get $k)))
      (local.set $s (i32.shl (local.get $k) (i32.const 1)))
      (if (i32.eq (local.get $s) (i32.const 16))
        (then
          ;; eight zeros: the whole window
          (local.set $p (i32.add (local.get $p) (i32.const 16)))
          (br $field)))
      ;; The field at window offset $s: $n digits (the sentinel bit 16 stops the count at the window's
      ;; end), ended at $e, which must be a ',' in the window (bit 16 of the ',' mask is never set).
      (local.set $nd
        (i32.or
          (i8x16.bitmask
            (i8x16.gt_u (i8x16.sub (local.get $win) (v128.const i8x16 48 48 48 48 48 48 48 48 48 48 48 48 48 48 48 48))
              (v128.const i8x16 9 9 9 9 9 9 9 9 9 9 9 9 9 9 9 9)))
          (i32.const 0x10000)))
      (local.set $cm (i8x16.bitmask (i8x16.eq (local.get $win) (v128.const i8x16 44 44 44 44 44 44 44 44 44 44 44 44 44 44 44 44))))
      (local.set $extra (i32.const 0))
      (local.set $n (i32.ctz (i32.shr_u (local.get $nd) (local.get $s))))
      (local.set $e (i32.add (local.get $s) (local.get $n)))
      (if (i32.and (i32.shr_u (local.get $cm) (local.get $e)) (i32.lt_u (i32.sub (local.get $n) (i32.const 1)) (i32.const 3)))
        (then
          ;; 1 to 3 digits and a ',': the value from the field's first 4 bytes (digits ^ '0' = 0..9)
          (local.set $t (i32.xor (i32.load (i32.add (local.get $p) (local.get $s))) (i32.const 0x30303030)))
          ;; The next field too when it is whole in the window (nonzero pixels come in runs), without
          ;; a branch: its float goes to $o + 4 in any case (when it does not count, a later field's
          ;; float replaces it). Its value may then be anything (from any bytes, up to 28305): the
          ;; table index is masked to 0..255, which changes nothing for a value that counts (<= 255).
          (local.set $s2 (i32.add (local.get $e) (i32.const 1)))
          (local.set $n2 (i32.ctz (i32.shr_u (local.get $nd) (local.get $s2))))
          (local.set $e2 (i32.add (local.get $s2) (local.get $n2)))
          (local.set $extra
            (i32.and
              (i32.and (i32.shr_u (local.get $cm) (local.get $e2)) (i32.lt_u (i32.sub (local.get $n2) (i32.const 1)) (i32.const 3)))
              (i32.gt_u (local.get $count) (i32.const 1))))
          (local.set $t2 (i32.xor (i32.load (i32.add (local.get $p) (local.get $s2))) (i32.const 0x30303030)))
          (local.set $u
            (i32.add
              (i32.mul (i32.and (local.get $t2) (i32.const 0xff)) (i32.const 10))
              (i32.and (i32.shr_u (local.get $t2) (i32.const 8)) (i32.const 0xff))))
          (local.set $u
            (select
              (i32.and (local.get $t2) (i32.const 0xff))
              (select
                (local.get $u)
                (i32.add (i32.mul (local.get $u) (i32.const 10)) (i32.and (i32.shr_u (local.get $t2) (i32.const 16)) (i32.const 0xff)))
                (i32.eq (local.get $n2) (i32.const 2)))
              (i32.eq (local.get $n2) (i32.const 1))))
          (if (i32.and (local.get $extra) (i32.gt_u (local.get $u) (i32.const 255))) (then (return (i32.const -1))))
          (i32.store offset=4 (local.get $o) (i32.load (i32.shl (i32.and (local.get $u) (i32.const 0xff)) (i32.const 2))))
          (local.set $p
            (i32.add (local.get $p)
              (i32.add (select (local.get $e2) (local.get $e) (local.get $extra)) (i32.const 1)))))
        (else
          ;; The general step, from the field's start: t = bytes ^ '0' turns a digit byte into 0..9; a
          ;; byte is not a digit iff its high nibble is set in t | (t + 6) (a carry out of a byte only
          ;; comes from a byte that is no digit itself and only reaches later bytes, so the lowest
          ;; flagged byte is the first non-digit): n digits, 0..4.
          (local.set $p (i32.add (local.get $p) (local.get $s)))
          (local.set $w (i32.load (local.get $p)))
          (local.set $t (i32.xor (local.get $w) (i32.const 0x30303030)))
          (local.set $n
            (i32.shr_u
              (i32.ctz (i32.and (i32.or (local.get $t) (i32.add (local.get $t) (i32.const 0x06060606))) (i32.const 0xf0f0f0f0)))
              (i32.const 3)))
          (if (i32.ge_u (i32.sub (local.get $n) (i32.const 1)) (i32.const 3))
            (then
              ;; no digit (not ordinary), or 4 or more (leading zeros, or too big): the plain loop
              (local.set $v (call $number (local.get $p)))
              (local.set $p (global.get $end))
              ;; -1 (no digit) is over 255 unsigned
              (if (i32.or (i32.ne (i32.load8_u (local.get $p)) (i32.const 44)) (i32.gt_u (local.get $v) (i32.const 255)))
                (then (return (i32.const -1))))
              ;; a 1-digit value in $t's low byte, for the common tail below
              (local.set $t (local.get $v))
              (local.set $n (i32.const 1)))
            (else
              (local.set $p (i32.add (local.get $p) (local.get $n)))
              (if (i32.ne (i32.load8_u (local.get $p)) (i32.const 44)) (then (return (i32.const -1))))))
          (local.set $p (i32.add (local.get $p) (i32.const 1)))))
      ;; The value of the $n (1 to 3) digits in $t's low bytes, without a branch on $n (a 1-digit value
      ;; from the plain loop may exceed 255 only when it was checked above).
      (local.set $v2
        (i32.add
          (i32.mul (i32.and (local.get $t) (i32.const 0xff)) (i32.const 10))
          (i32.and (i32.shr_u (local.get $t) (i32.const 8)) (i32.const 0xff))))
      (local.set $v
        (select
          (i32.and (local.get $t) (i32.const 0xff))
          (select
            (local.get $v2)
            (i32.add (i32.mul (local.get $v2) (i32.const 10)) (i32.and (i32.shr_u (local.get $t) (i32.const 16)) (i32.const 0xff)))
            (i32.eq (local.get $n) (i32.const 2)))
          (i32.eq (local.get $n) (i32.const 1))))
      (if (i32.gt_u (local.get $v) (i32.const 255)) (then (return (i32.const -1))))
      (i32.store (local.get $o) (i32.load (i32.shl (local.get $v) (i32.const 2))))
      (local.set $o (i32.add (local.get $o) (i32.shl (i32.add (local.get $extra) (i32.const 1)) (i32.const 2))))
      (local.set $count (i32.sub (local.get $count) (i32.add (local.get $extra) (i32.const 1))))
      (br_if $field (local.get $count)))
    (local.get $p))

  ;; decodeRow: the row at $p, its pixels' floats to $o, its label to $label. The position after its
  ;; line end, or -1 when it is not ordinary ($o.. may then hold some of its floats).
  (func $row (param $p i32) (param $o i32) (result i32)
    (local $v i32) (local $label i32)
    (local.set $label (i32.const -1))
    (if (global.get $before)
      (then
        (local.set $p (call $pixels (local.get $p) (local.get $o) (global.get $before)))
        (if (i32.lt_s (local.get $p) (i32.const 0)) (then (return (i32.const -1))))
        (local.set $o (i32.add (local.get $o) (i32.shl (global.get $before) (i32.const 2))))))
    (if (global.get $hasLabel)
      (then
        (local.set $label (call $number (local.get $p)))
        (local.set $p (global.get $end))
        (if (i32.gt_u (local.get $label) (global.get $labelMax)) (then (return (i32.const -1))))
        (if (global.get $labelLast)
          (then
            (local.set $p (call $lineEnd (local.get $p)))
            (global.set $label (local.get $label))
            (return (local.get $p))))
        (if (i32.ne (i32.load8_u (local.get $p)) (i32.const 44)) (then (return (i32.const -1))))
        (local.set $p (i32.add (local.get $p) (i32.const 1)))
        (if (global.get $after)
          (then
            (local.set $p (call $pixels (local.get $p) (local.get $o) (global.get $after)))
            (if (i32.lt_s (local.get $p) (i32.const 0)) (then (return (i32.const -1))))
            (local.set $o (i32.add (local.get $o) (i32.shl (global.get $after) (i32.const 2))))))))
    ;; the last pixel, ended by the line end
    (local.set $v (call $number (local.get $p)))
    (if (i32.gt_u (local.get $v) (i32.const 255)) (then (return (i32.const -1))))
    (local.set $p (call $lineEnd (global.get $end)))
    (if (i32.lt_s (local.get $p) (i32.const 0)) (then (return (i32.const -1))))
    (i32.store (local.get $o) (i32.load (i32.shl (local.get $v) (i32.const 2))))
    (global.set $label (local.get $label))
    (local.get $p))

  ;; Decodes blank lines and ordinary rows from $p while $p < $end, into row slots of $rowBytes
  ;; bytes from $out (labels as int16 from $labels, line numbers as uint32 from $lines, from $line on),
  ;; at most $maxRows rows; stops right after the $maxRows-th row, or at the first line that is not
  ;; blank and not ordinary. Returns where it stopped; writes the rows decoded and the line number of the
  ;; next line to [1024, 1032).
  ;; Needs $p < $end <= the start of 16 zero bytes, and 8 floats of room after the last slot.
  (func (export "decodeRows")
      (param $p i32) (param $end i32) (param $maxRows i32) (param $out i32) (param $labels i32) (param $lines i32)
      (param $line i32) (param $fieldCount i32) (param $labelIndex i32) (param $labelMax i32) (result i32)
    (local $rows i32) (local $rowBytes i32) (local $pixelCount i32) (local $c i32) (local $q i32)
    (global.set $hasLabel (i32.ge_s (local.get $labelIndex) (i32.const 0)))
    (global.set $labelMax (local.get $labelMax))
    (local.set $pixelCount (i32.sub (local.get $fieldCount) (global.get $hasLabel)))
    (local.set $rowBytes (i32.shl (local.get $pixelCount) (i32.const 2)))
    (global.set $before
      (select (local.get $labelIndex) (i32.sub (local.get $pixelCount) (i32.const 1)) (global.get $hasLabel)))
    (global.set $after
      (select (i32.sub (i32.sub (local.get $fieldCount) (local.get $labelIndex)) (i32.const 2)) (i32.const 0) (global.get $hasLabel)))
    (global.set $labelLast (i32.eq (local.get $labelIndex) (i32.sub (local.get $fieldCount) (i32.const 1))))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $p) (local.get $end)))
        (local.set $c (i32.load8_u (local.get $p)))
        (if (i32.eq (local.get $c) (i32.const 10))
          (then
            (local.set $line (i32.add (local.get $line) (i32.const 1)))
            (local.set $p (i32.add (local.get $p) (i32.const 1)))
            (br $next)))
        (if (i32.and (i32.eq (local.get $c) (i32.const 13)) (i32.eq (i32.load8_u offset=1 (local.get $p)) (i32.const 10)))
          (then
            (local.set $line (i32.add (local.get $line) (i32.const 1)))
            (local.set $p (i32.add (local.get $p) (i32.const 2)))
            (br $next)))
        (br_if $done (i32.ge_u (local.get $rows) (local.get $maxRows)))
        (local.set $q (call $row (local.get $p) (i32.add (local.get $out) (i32.mul (local.get $rows) (local.get $rowBytes)))))
        (br_if $done (i32.lt_s (local.get $q) (i32.const 0)))
        (i32.store16 (i32.add (local.get $labels) (i32.shl (local.get $rows) (i32.const 1))) (global.get $label))
        (i32.store (i32.add (local.get $lines) (i32.shl (local.get $rows) (i32.const 2))) (local.get $line))
        (local.set $rows (i32.add (local.get $rows) (i32.const 1)))
        (local.set $line (i32.add (local.get $line) (i32.const 1)))
        (local.set $p (local.get $q))
        (br_if $next (i32.lt_u (local.get $rows) (local.get $maxRows)))))
    (i32.store (i32.const 1024) (local.get $rows))
    (i32.store (i32.const 1028) (local.get $line))
    (local.get $p))
)
