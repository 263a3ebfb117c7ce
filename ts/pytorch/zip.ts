// The zip container of a torch.save file: the central directory (through yauzl, which handles ZIP64 and validates
// names and sizes), then positional reads of an entry's bytes. torch.save stores every entry uncompressed, so a
// tensor's bytes are read straight from the file at any offset: nothing is loaded that is not asked for.
import { closeSync, openSync, readSync } from 'node:fs';

import yauzl from 'yauzl';

import { TorchmotionError } from '../errors.js';

export interface ZipEntry { name: string; start: number; size: number; compressed: boolean; compressedSize: number }

export class ZipArchive {
  private constructor(readonly file: string, private fd: number, readonly entries: Map<string, ZipEntry>) {}

  static async open(file: string): Promise<ZipArchive> {
    let zip: yauzl.ZipFile;
    try {
      zip = await yauzl.openPromise(file, { autoClose: false, strictFileNames: false, validateEntrySizes: true });
    } catch (err) {
      throw new TorchmotionError(`${file}: not a readable zip archive (${(err as Error).message}); a torch.save file from ` +
        'PyTorch ≥ 1.6 is a zip; an older (legacy) one must be re-saved with a recent torch.save');
    }
    const entries = new Map<string, ZipEntry>();
    try {
      for await (const e of zip.eachEntry()) {
        const local = await zip.readLocalFileHeaderPromise(e, { minimal: true });
        entries.set(e.fileName, { name: e.fileName, start: local.fileDataStart, size: e.uncompressedSize,
          compressed: e.compressionMethod !== 0, compressedSize: e.compressedSize });
      }
    } catch (err) {
      zip.close();
      throw new TorchmotionError(`${file}: damaged zip archive (${(err as Error).message}): download it again`);
    }
    // yauzl keeps its own descriptor for the directory; reads below go through one of ours.
    zip.close();
    return new ZipArchive(file, openSync(file, 'r'), entries);
  }

  entry(name: string): ZipEntry {
    const e = this.entries.get(name);
    if (!e) throw new TorchmotionError(`${this.file}: the archive has no entry ${name}`);
    return e;
  }

  // Bytes [offset, offset + length) of an entry, read from the file (stored entries only).
  read(name: string, offset = 0, length?: number): Buffer {
    const e = this.entry(name);
    const n = length ?? e.size - offset;
    if (e.compressed) throw new TorchmotionError(`${this.file}: entry ${name} is compressed; torch.save writes stored entries only`);
    if (offset < 0 || n < 0 || offset + n > e.size) {
      throw new TorchmotionError(`${this.file}: entry ${name} holds ${e.size} bytes, asked for ${n} at ${offset}`);
    }
    const out = Buffer.allocUnsafe(n);
    let done = 0;
    while (done < n) {
      const got = readSync(this.fd, out, done, Math.min(n - done, 1 << 30), e.start + offset + done);
      if (got === 0) throw new TorchmotionError(`${this.file}: ends inside entry ${name} (truncated): download it again`);
      done += got;
    }
    return out;
  }

  close(): void {
    if (this.fd >= 0) closeSync(this.fd);
    this.fd = -1;
  }
}
