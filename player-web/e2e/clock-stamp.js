// The wall-clock stamp of bench/clock_stamp.py, for the browser: the same 40 blocks (2 rows of
// 20 in the top sixth of the picture: the low 32 bits of Date.now() then a CRC-8 of them).
// A classic script: a page loads it with addScriptTag({ path }), node with vm; both get
// globalThis.clockStamp.
(function (root) {
  const COLUMNS = 20;
  const ROWS = 2;
  const BITS = COLUMNS * ROWS;
  const BAND_FRACTION = 6;
  // Full-range RGB after the player's conversion: a block's mean must be clearly one side.
  const LOW = 80;
  const HIGH = 176;
  const MODULUS = 2 ** 32;

  function crc8(bytes) {
    let crc = 0;
    for (const byte of bytes) {
      crc ^= byte;
      for (let i = 0; i < 8; i += 1) crc = crc & 0x80 ? ((crc << 1) ^ 0x07) & 0xff : (crc << 1) & 0xff;
    }
    return crc;
  }

  function valueBytes(value) {
    return [(value >>> 24) & 0xff, (value >>> 16) & 0xff, (value >>> 8) & 0xff, value & 0xff];
  }

  function stampBits(ms) {
    const value = ms % MODULUS;
    const bits = [];
    for (let i = 31; i >= 0; i -= 1) bits.push(Math.floor(value / 2 ** i) % 2);
    const check = crc8(valueBytes(value));
    for (let i = 7; i >= 0; i -= 1) bits.push((check >> i) & 1);
    return bits;
  }

  function bandHeight(height) {
    return Math.floor(height / BAND_FRACTION);
  }

  function blockRect(index, width, band) {
    const row = Math.floor(index / COLUMNS);
    const column = index % COLUMNS;
    return [Math.floor((column * width) / COLUMNS), Math.floor((row * band) / ROWS),
      Math.floor(((column + 1) * width) / COLUMNS), Math.floor(((row + 1) * band) / ROWS)];
  }

  // Draws the stamp of `ms` on a 2D context whose canvas is width x height.
  function paint(context, width, height, ms) {
    const band = bandHeight(height);
    stampBits(ms).forEach((bit, index) => {
      const [x0, y0, x1, y1] = blockRect(index, width, band);
      context.fillStyle = bit ? "#fff" : "#000";
      context.fillRect(x0, y0, x1 - x0, y1 - y0);
    });
  }

  // The stamp (ms modulo 2**32) in RGBA pixels of the stamp's band only (`width` x `band`
  // pixels, e.g. getImageData of the top sixth), or null when a block is unclear or the
  // checksum fails.
  function read(rgba, width, band) {
    let word = 0;
    const bits = [];
    for (let index = 0; index < BITS; index += 1) {
      const [x0, y0, x1, y1] = blockRect(index, width, band);
      const dx = Math.floor((x1 - x0) / 4);
      const dy = Math.floor((y1 - y0) / 4);
      let total = 0;
      let count = 0;
      for (let y = y0 + dy; y < y1 - dy; y += 1) {
        for (let x = x0 + dx; x < x1 - dx; x += 1) {
          const i = (y * width + x) * 4;
          total += 0.299 * rgba[i] + 0.587 * rgba[i + 1] + 0.114 * rgba[i + 2];
          count += 1;
        }
      }
      const mean = total / count;
      if (mean >= LOW && mean <= HIGH) return null;
      bits.push(mean > HIGH ? 1 : 0);
    }
    for (let i = 0; i < 32; i += 1) word = word * 2 + bits[i];
    let check = 0;
    for (let i = 32; i < BITS; i += 1) check = check * 2 + bits[i];
    return crc8(valueBytes(word)) === check ? word : null;
  }

  // How long ago `stamp` was drawn, from a full Date.now() reading.
  function latencyMs(nowMs, stamp) {
    return (((nowMs - stamp) % MODULUS) + MODULUS) % MODULUS;
  }

  root.clockStamp = { paint, read, bandHeight, latencyMs, stampBits };
})(globalThis);
