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
 * `--experimental-wasm-relaxed-simd` (or after {@link enableNodeRelaxedSimd}). Decided by
 * validating a 37-byte module.
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

interface NodeProcess {
  versions?: { node?: string };
  getBuiltinModule?: (name: string) => { setFlagsFromString(flags: string): void } | undefined;
}

/**
 * Turns on relaxed SIMD in Node 20 and 21, whose V8 implements it (the semantics Chrome 114 and
 * Node 22 ship) behind `--experimental-wasm-relaxed-simd`: sets that V8 flag for the whole process
 * with `v8.setFlagsFromString` (it applies to modules compiled afterwards, worker threads
 * included). Does nothing where relaxed SIMD is already on, in browsers, and in Node versions
 * without `process.getBuiltinModule` (< 20.16). Returns {@link relaxedSimdSupported} afterwards.
 *
 * @example
 * enableNodeRelaxedSimd(); // true in Node 20.16+, 22+ and Chrome 114+
 */
export function enableNodeRelaxedSimd(): boolean {
  if (relaxedSimdSupported()) return true;
  const proc = (globalThis as { process?: NodeProcess }).process;
  const major = Number(proc?.versions?.node?.split('.')[0]);
  if (!(major >= 20 && major < 22) || typeof proc?.getBuiltinModule !== 'function') return false;
  try {
    proc.getBuiltinModule('v8')?.setFlagsFromString('--experimental-wasm-relaxed-simd');
  } catch {
    return false;
  }
  relaxed = undefined;
  return relaxedSimdSupported();
}
