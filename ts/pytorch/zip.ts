// The zip container of a torch.save file: the central directory (through yauzl, which handles ZIP64 and validates
// names and sizes), then positional reads of an entry's bytes. torch.save stores every entry uncompressed, so a
// tensor's bytes are read straight from the file at any offset: nothing is loaded that is not asked for.
// A damaged or forged archive is refused rather than read differently: every local header must agree with the
// directory, no two entries may share a name or a byte, and an entry's CRC-32 is checked the first time it is read.
import { closeSync, openSync, readSync } from 'node:fs';
import { crc32, inflateRawSync } from 'node:zlib';

import yauzl, { type LocalFileHeader } from 'yauzl';

import { printable, TorchmotionError } from '../errors.js';

export interface ZipEntry {
  name: string;
  start: number;
  size: number;
  compressed: boolean;
  compressedSize: number;
  crc: number;
}

const CHUNK = 64 * 2 ** 20; // CRC checks of entries read in parts stream through a buffer this large
const ZIP64 = 0xffffffff;
const DATA_DESCRIPTOR = 0x8; // general-purpose flag: the CRC and sizes follow the data

export class ZipArchive {
  private readonly verified = new Set<string>();
  private constructor(
    readonly file: string,
    private fd: number,
    readonly entries: Map<string, ZipEntry>
  ) {}

  static async open(file: string): Promise<ZipArchive> {
    let zip: yauzl.ZipFile;
    try {
      zip = await yauzl.openPromise(file, { autoClose: false, strictFileNames: false, validateEntrySizes: true });
    } catch (err) {
      throw new TorchmotionError(
        `${file}: not a readable zip archive (${(err as Error).message}); a torch.save file ` +
          'from PyTorch ≥ 1.6 is a zip; an older (legacy) one must be re-saved with a recent torch.save'
      );
    }
    const entries = new Map<string, ZipEntry>();
    const spans: Array<{ name: string; from: number; to: number }> = [];
    try {
      for await (const e of zip.eachEntry()) {
        const name = printable(e.fileName);
        if (entries.has(e.fileName)) throw new Error(`entry ${name} appears twice`);
        const local = await zip.readLocalFileHeaderPromise(e);
        if (!local.fileName.equals(e.fileNameRaw)) {
          // (at most 100 bytes of it: a damaged length could make it run on into the data)
          const other = printable(local.fileName.subarray(0, 100).toString('utf8'));
          throw new Error(`entry ${name}: its local header names it ${other}`);
        }
        // With a data descriptor the local header's CRC and sizes are zero; a ZIP64 one's sizes are in its extra field.
        const described = !(local.generalPurposeBitFlag & DATA_DESCRIPTOR);
        const fields = (h: LocalFileHeader | yauzl.Entry) =>
          `method ${h.compressionMethod}, CRC ${hex(h.crc32)}, ${h.compressedSize}/${h.uncompressedSize} bytes`;
        if (
          local.compressionMethod !== e.compressionMethod ||
          (described &&
            (local.crc32 !== e.crc32 ||
              (local.compressedSize !== ZIP64 &&
                (local.compressedSize !== e.compressedSize || local.uncompressedSize !== e.uncompressedSize))))
        ) {
          throw new Error(
            `entry ${name}: its local header (${fields(local)}) disagrees with the directory ` + `(${fields(e)})`
          );
        }
        entries.set(e.fileName, {
          name: e.fileName,
          start: local.fileDataStart,
          size: e.uncompressedSize,
          compressed: e.compressionMethod !== 0,
          compressedSize: e.compressedSize,
          crc: e.crc32,
        });
        spans.push({ name, from: e.relativeOffsetOfLocalHeader, to: local.fileDataStart + e.compressedSize });
      }
      spans.sort((a, b) => a.from - b.from);
      for (let i = 1; i < spans.length; i++) {
        if (spans[i].from < spans[i - 1].to) {
          const [a, b] = [spans[i - 1], spans[i]];
          throw new Error(`entries ${a.name} (bytes ${a.from}–${a.to}) and ${b.name} (from byte ${b.from}) overlap`);
        }
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
    if (!e) throw new TorchmotionError(`${this.file}: the archive has no entry ${printable(name)}`);
    return e;
  }

  // Bytes [offset, offset + length) of an entry, read from the file (stored entries only). An entry read whole is
  // checked against its CRC as it is; a part of one not yet checked first has the whole entry streamed through the CRC.
  read(name: string, offset = 0, length?: number): Buffer {
    const e = this.entry(name);
    const n = length ?? e.size - offset;
    const entry = `${this.file}: entry ${printable(name)}`;
    if (e.compressed) throw new TorchmotionError(`${entry} is compressed; torch.save writes stored entries only`);
    if (offset < 0 || n < 0 || offset + n > e.size) {
      throw new TorchmotionError(`${entry} holds ${e.size} bytes, asked for ${n} at ${offset}`);
    }
    const whole = offset === 0 && n === e.size;
    if (!whole) this.verify(name);
    const out = Buffer.allocUnsafe(n);
    this.fill(e, out, offset);
    if (whole && !this.verified.has(name)) this.check(e, crc32(out));
    return out;
  }

  // Checks an entry not yet checked against its CRC-32: a stored one streamed a chunk at a time, a deflated one
  // (LibTorch deflates the code/ files of its archives) inflated whole, never past the size the directory declares.
  verify(name: string): void {
    const e = this.entry(name);
    if (this.verified.has(name)) return;
    if (e.compressed) {
      if (e.compressedSize > CHUNK || e.size > CHUNK) {
        throw new TorchmotionError(
          `${this.file}: entry ${printable(name)} is compressed and ${e.size} bytes large; ` +
            'torch.save and LibTorch store their tensors uncompressed'
        );
      }
      const packed = Buffer.allocUnsafe(e.compressedSize);
      this.fill(e, packed, 0);
      let bytes: Buffer;
      try {
        bytes = inflateRawSync(packed, { maxOutputLength: Math.max(1, e.size) });
      } catch (err) {
        throw new TorchmotionError(
          `${this.file}: entry ${printable(name)} does not inflate ` +
            `(${(err as Error).message}): the file is damaged`
        );
      }
      if (bytes.length !== e.size) {
        throw new TorchmotionError(
          `${this.file}: entry ${printable(name)} inflates to ${bytes.length} bytes, the ` +
            `directory says ${e.size}: the file is damaged`
        );
      }
      return this.check(e, crc32(bytes));
    }
    const chunk = Buffer.allocUnsafe(Math.max(1, Math.min(CHUNK, e.size)));
    let crc = 0;
    for (let at = 0; at < e.size; at += chunk.length) {
      const part = Math.min(chunk.length, e.size - at);
      this.fill(e, chunk.subarray(0, part), at);
      crc = crc32(chunk.subarray(0, part), crc);
    }
    this.check(e, crc);
  }

  private fill(e: ZipEntry, out: Buffer, offset: number): void {
    for (let done = 0; done < out.length;) {
      const got = readSync(this.fd, out, done, Math.min(out.length - done, 1 << 30), e.start + offset + done);
      if (got === 0) {
        throw new TorchmotionError(
          `${this.file}: ends inside entry ${printable(e.name)} (truncated): download it ` + 'again'
        );
      }
      done += got;
    }
  }

  private check(e: ZipEntry, crc: number): void {
    if (crc >>> 0 !== e.crc >>> 0) {
      throw new TorchmotionError(
        `${this.file}: entry ${printable(e.name)} is damaged (its CRC-32 is ${hex(crc)}, ` +
          `the archive records ${hex(e.crc)}): download it again`
      );
    }
    this.verified.add(e.name);
  }

  close(): void {
    if (this.fd >= 0) closeSync(this.fd);
    this.fd = -1;
  }
}

const hex = (crc: number) => (crc >>> 0).toString(16).padStart(8, '0');
