// Reads IDX files, the format of MNIST and Fashion-MNIST: a big-endian header (magic, dimension sizes)
// followed by unsigned bytes. Files may be gzip-compressed (detected by content, not by name) or raw.
using System;
using System.IO;
using System.IO.Compression;

namespace CnnGen.Data
{
    /// <summary>Grey images from an IDX3 file, pixels scaled to [0, 1], image after image in row-major order.</summary>
    public sealed record IdxImages(float[] Pixels, int Count, int Rows, int Columns);

    public static class Idx
    {
        /// <summary>Magic number of an IDX file of unsigned bytes with three dimensions (images).</summary>
        public const int ImagesMagic = 0x00000803;
        /// <summary>Magic number of an IDX file of unsigned bytes with one dimension (labels).</summary>
        public const int LabelsMagic = 0x00000801;

        /// <summary>Reads an images file (magic 0x00000803: count, rows, columns, then count*rows*columns bytes).</summary>
        public static IdxImages ReadImages(string path)
        {
            byte[] bytes = ReadAllBytes(path);
            CheckMagic(bytes, path, ImagesMagic, "images");
            const int headerLength = 16;
            CheckHeaderLength(bytes, path, headerLength);
            int count = ReadDimension(bytes, 4, path, "image count");
            int rows = ReadDimension(bytes, 8, path, "rows");
            int columns = ReadDimension(bytes, 12, path, "columns");
            long expected = (long)count * rows * columns;
            if (expected > Array.MaxLength)
                throw new InvalidDataException($"IDX file '{path}': {count} images of {rows}x{columns} is {expected} pixels, more than one array can hold.");
            CheckDataLength(bytes, path, headerLength, expected, $"{count} images of {rows}x{columns} pixels");

            var pixels = new float[expected];
            // A division rather than a multiply by 1/255 so every pixel is the correctly rounded x / 255.
            for (int i = 0; i < pixels.Length; i++) pixels[i] = bytes[headerLength + i] / 255f;
            return new IdxImages(pixels, count, rows, columns);
        }

        /// <summary>Reads a labels file (magic 0x00000801: count, then count bytes).</summary>
        public static int[] ReadLabels(string path)
        {
            byte[] bytes = ReadAllBytes(path);
            CheckMagic(bytes, path, LabelsMagic, "labels");
            const int headerLength = 8;
            CheckHeaderLength(bytes, path, headerLength);
            int count = ReadDimension(bytes, 4, path, "label count");
            CheckDataLength(bytes, path, headerLength, count, $"{count} labels");

            var labels = new int[count];
            for (int i = 0; i < count; i++) labels[i] = bytes[headerLength + i];
            return labels;
        }

        /// <summary>The whole file, decompressed when it starts with the gzip magic bytes 1f 8b.</summary>
        private static byte[] ReadAllBytes(string path)
        {
            ArgumentNullException.ThrowIfNull(path);
            if (!File.Exists(path))
                throw new FileNotFoundException($"IDX file '{Path.GetFullPath(path)}' does not exist.", path);

            byte[] raw = File.ReadAllBytes(path);
            if (raw.Length < 2 || raw[0] != 0x1f || raw[1] != 0x8b) return raw;
            try
            {
                using var gzip = new GZipStream(new MemoryStream(raw), CompressionMode.Decompress);
                using var output = new MemoryStream(raw.Length * 4);
                gzip.CopyTo(output);
                return output.ToArray();
            }
            catch (InvalidDataException e)
            {
                throw new InvalidDataException($"IDX file '{path}' starts like gzip (1f 8b) but does not decompress: {e.Message} The download may be incomplete; fetch the file again.", e);
            }
        }

        private static void CheckMagic(byte[] bytes, string path, int expected, string kind)
        {
            if (bytes.Length < 4)
                throw new InvalidDataException($"IDX file '{path}' is truncated: expected at least a 4-byte magic number, got {bytes.Length} bytes.");
            int actual = ReadBigEndian(bytes, 0);
            if (actual != expected)
            {
                string hint = actual == ImagesMagic ? " (that is an images file)" : actual == LabelsMagic ? " (that is a labels file)" : "";
                throw new InvalidDataException(
                    $"IDX file '{path}' has bad magic number 0x{actual:x8}{hint}; expected 0x{expected:x8} for an IDX {kind} file. " +
                    "Check that the images and labels paths are not swapped and that the file is an (M)NIST-format IDX file.");
            }
        }

        private static void CheckHeaderLength(byte[] bytes, string path, int headerLength)
        {
            if (bytes.Length < headerLength)
                throw new InvalidDataException($"IDX file '{path}' is truncated: expected a {headerLength}-byte header, got {bytes.Length} bytes.");
        }

        private static void CheckDataLength(byte[] bytes, string path, int headerLength, long expected, string what)
        {
            long actual = bytes.Length - headerLength;
            if (actual < expected)
                throw new InvalidDataException(
                    $"IDX file '{path}' is truncated: its header announces {what}, so expected {expected} bytes of data, got {actual}. " +
                    "The download may be incomplete; fetch the file again.");
            if (actual > expected)
                throw new InvalidDataException(
                    $"IDX file '{path}' has {actual - expected} bytes more than its header announces ({what}: expected {expected} bytes of data, got {actual}).");
        }

        private static int ReadDimension(byte[] bytes, int offset, string path, string name)
        {
            int value = ReadBigEndian(bytes, offset);
            if (value < 0)
                throw new InvalidDataException($"IDX file '{path}' has a negative {name} ({value}) in its header; the file is corrupt.");
            return value;
        }

        private static int ReadBigEndian(byte[] bytes, int offset) =>
            (bytes[offset] << 24) | (bytes[offset + 1] << 16) | (bytes[offset + 2] << 8) | bytes[offset + 3];
    }
}
