// A scratch directory per test, deleted afterwards, and writers for small synthetic IDX files.
using System;
using System.IO;
using System.IO.Compression;

namespace CnnGen.Runtime.Tests
{
    public sealed class TempDirectory : IDisposable
    {
        public TempDirectory()
        {
            Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "cnngen-tests-" + Guid.NewGuid().ToString("N"));
            Directory.CreateDirectory(Path);
        }

        public string Path { get; }

        public string File(string name) => System.IO.Path.Combine(Path, name);

        public void Dispose()
        {
            try { Directory.Delete(Path, recursive: true); } catch (IOException) { }
        }
    }

    /// <summary>Builds IDX byte images independently of the reader (header written byte by byte, big-endian).</summary>
    public static class IdxWriter
    {
        public static byte[] Images(byte[] pixels, int count, int rows, int columns) =>
            Concat(Header(0x00000803, count, rows, columns), pixels);

        public static byte[] Labels(byte[] labels, int count) => Concat(Header(0x00000801, count), labels);

        public static byte[] Header(int magic, params int[] dimensions)
        {
            var header = new byte[4 + 4 * dimensions.Length];
            WriteBigEndian(header, 0, magic);
            for (int i = 0; i < dimensions.Length; i++) WriteBigEndian(header, 4 + 4 * i, dimensions[i]);
            return header;
        }

        public static void Write(string path, byte[] content, bool gzip)
        {
            if (!gzip) { System.IO.File.WriteAllBytes(path, content); return; }
            using FileStream file = System.IO.File.Create(path);
            using var compressed = new GZipStream(file, CompressionLevel.Fastest);
            compressed.Write(content);
        }

        private static void WriteBigEndian(byte[] bytes, int offset, int value)
        {
            bytes[offset] = (byte)(value >> 24);
            bytes[offset + 1] = (byte)(value >> 16);
            bytes[offset + 2] = (byte)(value >> 8);
            bytes[offset + 3] = (byte)value;
        }

        private static byte[] Concat(byte[] a, byte[] b)
        {
            var result = new byte[a.Length + b.Length];
            a.CopyTo(result, 0);
            b.CopyTo(result, a.Length);
            return result;
        }
    }
}
