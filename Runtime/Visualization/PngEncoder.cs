// A minimal PNG writer (8-bit grey, grey+alpha, RGB, RGBA; no interlacing) on System.IO.Compression, so the
// visualisations need no imaging package. Each row gets the filter (None, Sub or Up) with the smallest sum of
// absolute residuals, the usual heuristic from the PNG specification.
using System;
using System.IO;
using System.IO.Compression;

namespace CnnGen.Visualization
{
    public static class PngEncoder
    {
        private static readonly byte[] Signature = { 0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A };
        private static readonly uint[] CrcTable = BuildCrcTable();

        /// <summary>Encodes <paramref name="image"/> as a PNG file.</summary>
        public static byte[] Encode(Image image)
        {
            ArgumentNullException.ThrowIfNull(image);
            return Encode(image.Pixels, image.Width, image.Height, image.Channels);
        }

        /// <summary>
        /// Encodes row-major interleaved 8-bit pixels: <paramref name="channels"/> 1 = grey, 2 = grey + alpha, 3 = RGB,
        /// 4 = RGBA; <paramref name="pixels"/> holds width x height x channels bytes.
        /// </summary>
        public static byte[] Encode(ReadOnlySpan<byte> pixels, int width, int height, int channels)
        {
            if (width < 1 || height < 1)
                throw new ArgumentOutOfRangeException(nameof(width), $"A PNG must be at least 1x1, but {width}x{height} was given.");
            byte colorType = channels switch
            {
                1 => 0, 2 => 4, 3 => 2, 4 => 6,
                _ => throw new ArgumentOutOfRangeException(nameof(channels), channels, "channels must be 1 (grey), 2 (grey+alpha), 3 (RGB) or 4 (RGBA)."),
            };
            long stride = (long)width * channels;
            if (pixels.Length != stride * height)
                throw new ArgumentException($"pixels has {pixels.Length} bytes, but {width}x{height}x{channels} = {stride * height} were expected.", nameof(pixels));

            var file = new MemoryStream();
            file.Write(Signature);

            Span<byte> header = stackalloc byte[13];
            WriteBigEndian(header, (uint)width);
            WriteBigEndian(header[4..], (uint)height);
            header[8] = 8;          // bit depth
            header[9] = colorType;
            header[10] = 0;         // deflate
            header[11] = 0;         // adaptive filtering
            header[12] = 0;         // no interlace
            WriteChunk(file, "IHDR", header);

            WriteChunk(file, "IDAT", Compress(pixels, (int)stride, height, channels));
            WriteChunk(file, "IEND", ReadOnlySpan<byte>.Empty);
            return file.ToArray();
        }

        /// <summary>Writes <paramref name="image"/> to <paramref name="path"/> as a PNG, creating the directory if needed.</summary>
        public static void Write(string path, Image image)
        {
            string? directory = Path.GetDirectoryName(Path.GetFullPath(path));
            if (!string.IsNullOrEmpty(directory)) Directory.CreateDirectory(directory);
            File.WriteAllBytes(path, Encode(image));
        }

        /// <summary>The CRC-32 of PNG chunks (and zlib's crc32): polynomial 0xEDB88320, reflected, initial and final xor 0xFFFFFFFF.</summary>
        public static uint Crc32(ReadOnlySpan<byte> data) => ~UpdateCrc(0xFFFFFFFFu, data);

        private static uint UpdateCrc(uint crc, ReadOnlySpan<byte> data)
        {
            foreach (byte b in data) crc = CrcTable[(crc ^ b) & 0xFF] ^ (crc >> 8);
            return crc;
        }

        private static uint[] BuildCrcTable()
        {
            var table = new uint[256];
            for (uint n = 0; n < 256; n++)
            {
                uint c = n;
                for (int k = 0; k < 8; k++) c = (c & 1) != 0 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
                table[n] = c;
            }
            return table;
        }

        private static void WriteChunk(Stream file, string type, ReadOnlySpan<byte> data)
        {
            Span<byte> buffer = stackalloc byte[4];
            WriteBigEndian(buffer, (uint)data.Length);
            file.Write(buffer);
            Span<byte> typeBytes = stackalloc byte[4];
            for (int i = 0; i < 4; i++) typeBytes[i] = (byte)type[i];
            file.Write(typeBytes);
            file.Write(data);
            uint crc = ~UpdateCrc(UpdateCrc(0xFFFFFFFFu, typeBytes), data);   // the CRC covers type and data, not the length
            WriteBigEndian(buffer, crc);
            file.Write(buffer);
        }

        private static byte[] Compress(ReadOnlySpan<byte> pixels, int stride, int height, int channels)
        {
            var compressed = new MemoryStream();
            using (var zlib = new ZLibStream(compressed, CompressionLevel.Optimal, leaveOpen: true))
            {
                var candidates = new byte[3][];
                for (int f = 0; f < 3; f++) candidates[f] = new byte[stride + 1];
                for (int y = 0; y < height; y++)
                {
                    ReadOnlySpan<byte> row = pixels.Slice(y * stride, stride);
                    ReadOnlySpan<byte> above = y > 0 ? pixels.Slice((y - 1) * stride, stride) : ReadOnlySpan<byte>.Empty;
                    int best = 0;
                    long bestCost = long.MaxValue;
                    for (int f = 0; f < 3; f++)
                    {
                        byte[] line = candidates[f];
                        line[0] = (byte)f;
                        long cost = 0;
                        for (int x = 0; x < stride; x++)
                        {
                            int left = x >= channels ? row[x - channels] : 0;
                            int up = above.IsEmpty ? 0 : above[x];
                            byte value = f switch { 0 => row[x], 1 => (byte)(row[x] - left), _ => (byte)(row[x] - up) };
                            line[x + 1] = value;
                            cost += Math.Abs((int)(sbyte)value);
                        }
                        if (cost < bestCost) { bestCost = cost; best = f; }
                    }
                    zlib.Write(candidates[best]);
                }
            }
            return compressed.ToArray();
        }

        private static void WriteBigEndian(Span<byte> destination, uint value)
        {
            destination[0] = (byte)(value >> 24);
            destination[1] = (byte)(value >> 16);
            destination[2] = (byte)(value >> 8);
            destination[3] = (byte)value;
        }
    }
}
