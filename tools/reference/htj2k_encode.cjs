// Encodes raw little-endian 16-bit unsigned greyscale frames as lossless HTJ2K codestreams with
// OpenJPH (the @cornerstonejs/codec-openjph build): Debian packages no HTJ2K command-line encoder.
// Usage: node tools/reference/htj2k_encode.cjs <width> <height> <in.raw> <out.j2c> [...more pairs]
const factory = require('@cornerstonejs/codec-openjph');

factory({ print() {}, printErr() {} }).then((m) => {
  const [width, height, ...files] = process.argv.slice(2);
  const fs = require('node:fs');
  for (let i = 0; i < files.length; i += 2) {
    const encoder = new m.HTJ2KEncoder();
    const raw = fs.readFileSync(files[i]);
    encoder.getDecodedBuffer({ width: +width, height: +height, bitsPerSample: 16, componentCount: 1, isSigned: false, isUsingColorTransform: false }).set(raw);
    encoder.encode();
    fs.writeFileSync(files[i + 1], encoder.getEncodedBuffer());
    encoder.delete();
  }
});
