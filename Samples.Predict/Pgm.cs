// Binary greymap (PGM, "P5") images: read one into floats in [0, 1], or write one from such floats.
using System;
using System.IO;
using System.Text;

namespace CnnGen.Predict
{
    public static class Pgm
    {
        public sealed record Image(int Width, int Height, float[] Pixels);

        /// <summary>Reads a P5 file (maxval up to 65535; 16-bit samples are big-endian, as the format says).</summary>
        public static Image Read(string path)
        {
            byte[] bytes = File.ReadAllBytes(path);
            int pos = 0;
            string magic = Token(bytes, ref pos, path);
            if (magic != "P5")
                throw new InvalidDataException($"'{path}' is not a binary PGM file: it starts with '{magic}', expected 'P5'.");
            int width = Number(bytes, ref pos, path, "width");
            int height = Number(bytes, ref pos, path, "height");
            int maxval = Number(bytes, ref pos, path, "maxval");
            if (width < 1 || height < 1 || maxval < 1 || maxval > 65535)
                throw new InvalidDataException($"'{path}': width {width}, height {height}, maxval {maxval} out of range.");
            pos++; // the single whitespace byte after maxval
            int bytesPerSample = maxval < 256 ? 1 : 2;
            long needed = (long)width * height * bytesPerSample;
            if (bytes.Length - pos < needed)
                throw new InvalidDataException($"'{path}': {width}x{height} needs {needed} bytes of pixels but only {bytes.Length - pos} follow the header.");
            var pixels = new float[width * height];
            for (int i = 0; i < pixels.Length; i++)
            {
                int v = bytesPerSample == 1 ? bytes[pos + i] : (bytes[pos + 2 * i] << 8) | bytes[pos + 2 * i + 1];
                pixels[i] = (float)v / maxval;
            }
            return new Image(width, height, pixels);
        }

        /// <summary>Writes 8-bit P5: each float in [0, 1] becomes round(x * 255).</summary>
        public static void Write(string path, ReadOnlySpan<float> pixels, int width, int height)
        {
            using var stream = File.Create(path);
            stream.Write(Encoding.ASCII.GetBytes($"P5\n{width} {height}\n255\n"));
            var data = new byte[width * height];
            for (int i = 0; i < data.Length; i++) data[i] = (byte)Math.Clamp(MathF.Round(pixels[i] * 255f), 0f, 255f);
            stream.Write(data);
        }

        private static string Token(byte[] b, ref int pos, string path)
        {
            while (pos < b.Length)
            {
                if (b[pos] == (byte)'#') { while (pos < b.Length && b[pos] != (byte)'\n') pos++; }
                else if (char.IsWhiteSpace((char)b[pos])) pos++;
                else break;
            }
            int start = pos;
            while (pos < b.Length && !char.IsWhiteSpace((char)b[pos]) && b[pos] != (byte)'#') pos++;
            if (start == pos) throw new InvalidDataException($"'{path}': the PGM header ends early.");
            return Encoding.ASCII.GetString(b, start, pos - start);
        }

        private static int Number(byte[] b, ref int pos, string path, string what)
        {
            string token = Token(b, ref pos, path);
            if (!int.TryParse(token, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int value))
                throw new InvalidDataException($"'{path}': PGM {what} '{token}' is not a number.");
            return value;
        }
    }
}
