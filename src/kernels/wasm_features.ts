// A module with one function `(v128, v128, v128) -> v128` returning `f32x4.relaxed_madd` of its
// arguments: it validates exactly where the engine has WebAssembly relaxed SIMD.
const RELAXED_MADD_MODULE = new Uint8Array([
  0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, // magic, version 1
  0x01, 0x08, 0x01, 0x60, 0x03, 0x7b, 0x7b, 0x7b, 0x01, 0x7b, // type section: (v128 v128 v128) -> v128
  0x03, 0x02, 0x01, 0x00, // function section: one function of type 0
  0x0a, 0x0d, 0x01, 0x0b, 0x00, // code section: one body of 11 bytes, no locals
  0x20, 0x00, 0x20, 0x01, 0x20, 0x02, // local.get 0, 1, 2
  0xfd, 0x85, 0x02, // f32x4.relaxed_madd (0xfd 0x105)
  0x0b, // end
]);

let relaxed: boolean | undefined;

/**
 * Whether this JavaScript engine runs WebAssembly relaxed SIMD (fused multiply-add
 * `f32x4.relaxed_madd`): Chrome and Edge >= 114, Node >= 22, Node 20 with
 * `--experimental-wasm-relaxed-simd`. Decided once, by validating a 37-byte module.
 *
 * @example
 * relaxedSimdSupported(); // true in Chrome 120, false in plain Node 20
 */
export function relaxedSimdSupported(): boolean {
  if (relaxed === undefined) {
    try {
      relaxed = typeof WebAssembly !== 'undefined' && WebAssembly.validate(RELAXED_MADD_MODULE);
    } catch {
      relaxed = false;
    }
  }
  return relaxed;
}
