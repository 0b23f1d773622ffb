/**
 * /favicon.ico: a 32×32 ICO (one 32-bit BMP image) drawn at start-up in the brand's primary colour: a round badge
 * with a keyhole. Browsers ask for it on every page; without it each page load logged a 404.
 */
export function faviconIco(primaryColor: string): Buffer {
  const size = 32;
  const [r, g, b] = parseColor(primaryColor);
  const pixels = Buffer.alloc(size * size * 4);
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const cx = x + 0.5 - size / 2;
      const cy = size / 2 - (y + 0.5); // BMP rows are bottom-up: y counts from the bottom
      const inBadge = cx * cx + cy * cy <= 15 * 15;
      const inHole = cx * cx + (cy - 4) ** 2 <= 4.5 * 4.5 || (Math.abs(cx) <= 2.2 && cy <= 2 && cy >= -9);
      const i = (y * size + x) * 4;
      if (!inBadge) continue; // transparent
      const [pr, pg, pb] = inHole ? [255, 255, 255] : [r, g, b];
      pixels.writeUInt8(pb, i);
      pixels.writeUInt8(pg, i + 1);
      pixels.writeUInt8(pr, i + 2);
      pixels.writeUInt8(255, i + 3);
    }
  }
  const andMask = Buffer.alloc(size * 4); // 1 bit per pixel, rows padded to 32 bits; alpha does the work
  const info = Buffer.alloc(40);
  info.writeUInt32LE(40, 0);
  info.writeInt32LE(size, 4);
  info.writeInt32LE(size * 2, 8); // XOR image + AND mask
  info.writeUInt16LE(1, 12);
  info.writeUInt16LE(32, 14);
  const image = Buffer.concat([info, pixels, andMask]);
  const header = Buffer.alloc(6 + 16);
  header.writeUInt16LE(0, 0);
  header.writeUInt16LE(1, 2); // icon
  header.writeUInt16LE(1, 4); // one image
  header.writeUInt8(size, 6);
  header.writeUInt8(size, 7);
  header.writeUInt16LE(1, 10); // planes
  header.writeUInt16LE(32, 12); // bits per pixel
  header.writeUInt32LE(image.length, 14);
  header.writeUInt32LE(22, 18);
  return Buffer.concat([header, image]);
}

function parseColor(hex: string): [number, number, number] {
  const h = hex.replace('#', '');
  const full = h.length === 3 ? [...h].map((c) => c + c).join('') : h;
  return [0, 2, 4].map((i) => parseInt(full.slice(i, i + 2), 16)) as [number, number, number];
}
