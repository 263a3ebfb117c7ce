// Tar archives written header by header, for the tests of hostile archives (test/prepare-hostile.test.ts and the
// fuzz family in test/fuzz-tar.ts): names, types, modes, owners and declared sizes that no packer would write.
import { gzipSync } from 'node:zlib';

import { Header, type HeaderData } from 'tar';

export interface TarEntry extends HeaderData {
  body?: string | Uint8Array;
}

// The tar bytes of `entries`; a declared `size` beyond the body leaves the archive truncated there.
export function tarBytes(entries: TarEntry[]): Buffer {
  const parts: Buffer[] = [];
  for (const { body = '', ...header } of entries) {
    const data = Buffer.from(body);
    const block = Buffer.alloc(512);
    new Header({ mode: 0o644, uid: 0, gid: 0, type: 'File', mtime: new Date(0), size: data.length, ...header }).encode(
      block,
      0
    );
    parts.push(block, data, Buffer.alloc((512 - (data.length % 512)) % 512));
  }
  parts.push(Buffer.alloc(1024));
  return Buffer.concat(parts);
}

export const tarGz = (entries: TarEntry[]) => gzipSync(tarBytes(entries));
