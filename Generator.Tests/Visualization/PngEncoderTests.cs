// The PNG encoder against an independent decoder (Debian's python3 with only zlib and struct) and against bytes
// derived by hand with python's zlib.
using System;
using System.Diagnostics;
using System.IO;
using System.Text;
using CnnGen.Visualization;

namespace CnnGen.Tests.Visualization
{
    public class PngEncoderTests
    {
        private const string Python = "/usr/bin/python3";

        // Parses the chunks, checks every CRC with zlib.crc32, inflates the IDAT stream, undoes all five filter types and
        // prints "width height colortype" and then the pixel bytes as hex.
        private const string DecoderScript = """
import struct, sys, zlib
data = open(sys.argv[1], 'rb').read()
assert data[:8] == b'\x89PNG\r\n\x1a\n', 'bad signature'
pos, idat, ihdr, chunks = 8, b'', None, []
while pos < len(data):
    length, = struct.unpack('>I', data[pos:pos + 4])
    kind = data[pos + 4:pos + 8]
    body = data[pos + 8:pos + 8 + length]
    crc, = struct.unpack('>I', data[pos + 8 + length:pos + 12 + length])
    assert crc == zlib.crc32(kind + body) & 0xffffffff, 'bad CRC in ' + kind.decode()
    chunks.append(kind)
    if kind == b'IHDR': ihdr = struct.unpack('>IIBBBBB', body)
    elif kind == b'IDAT': idat += body
    pos += 12 + length
assert chunks[0] == b'IHDR' and chunks[-1] == b'IEND' and pos == len(data), 'bad chunk layout'
width, height, depth, colortype, compression, filtering, interlace = ihdr
assert depth == 8 and compression == 0 and filtering == 0 and interlace == 0
bpp = {0: 1, 4: 2, 2: 3, 6: 4}[colortype]
raw = zlib.decompress(idat)
stride = width * bpp
assert len(raw) == height * (stride + 1), 'bad IDAT length'
out, prev = bytearray(), bytearray(stride)
for y in range(height):
    f = raw[y * (stride + 1)]
    line = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
    for x in range(stride):
        a = line[x - bpp] if x >= bpp else 0
        b = prev[x]
        c = prev[x - bpp] if x >= bpp else 0
        if f == 0: p = 0
        elif f == 1: p = a
        elif f == 2: p = b
        elif f == 3: p = (a + b) // 2
        elif f == 4:
            pa, pb, pc = abs(b - c), abs(a - c), abs(a + b - 2 * c)
            p = a if pa <= pb and pa <= pc else (b if pb <= pc else c)
        else: raise AssertionError('bad filter %d' % f)
        line[x] = (line[x] + p) & 0xff
    out += line
    prev = line
print(width, height, colortype)
print(out.hex())
""";

        [Theory]
        [InlineData(1, 1, 1)]
        [InlineData(13, 3, 1)]
        [InlineData(7, 5, 3)]
        [InlineData(6, 9, 4)]
        [InlineData(4, 4, 2)]
        [InlineData(64, 40, 3)]
        public void Python_decodes_the_encoded_pixels(int width, int height, int channels)
        {
            var pixels = new byte[width * height * channels];
            var rng = new Random(width * 100 + height * 10 + channels);
            for (int y = 0; y < height; y++)
                for (int x = 0; x < width * channels; x++)
                    // Smooth gradients (Sub/Up filters win) mixed with noise (None wins) so every filter gets used.
                    pixels[y * width * channels + x] = (byte)(y % 3 == 2 ? rng.Next(256) : 7 * x + 11 * y);
            byte[] png = PngEncoder.Encode(pixels, width, height, channels);

            string[] lines = Decode(png).Split('\n', StringSplitOptions.RemoveEmptyEntries);
            int colorType = channels switch { 1 => 0, 2 => 4, 3 => 2, _ => 6 };
            Assert.Equal($"{width} {height} {colorType}", lines[0].Trim());
            Assert.Equal(Convert.ToHexStringLower(pixels), lines[1].Trim());
        }

        [Fact]
        public void Python_decodes_a_drawn_image()
        {
            Image image = Image.Filled(30, 20, Rgb.White);
            image.DrawLine(0, 0, 29, 19, Rgb.Red, 2);
            image.DrawText(2, 2, "AB12", Rgb.Blue);
            string[] lines = Decode(image.ToPng()).Split('\n', StringSplitOptions.RemoveEmptyEntries);
            Assert.Equal("30 20 2", lines[0].Trim());
            Assert.Equal(Convert.ToHexStringLower(image.Pixels), lines[1].Trim());
        }

        [Fact]
        public void One_grey_pixel_matches_known_bytes()
        {
            // Derived with python: signature + chunk(IHDR, >IIBBBBB 1 1 8 0 0 0 0) + chunk(IDAT, zlib.compress(b'\x00\x80', 6))
            // + chunk(IEND, b''), each chunk's CRC = zlib.crc32(type + data); and decoded by the script above.
            byte[] expected =
            {
                0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A,
                0x00, 0x00, 0x00, 0x0D, 0x49, 0x48, 0x44, 0x52, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x00, 0x00, 0x00, 0x00,
                0x3A, 0x7E, 0x9B, 0x55,
                0x00, 0x00, 0x00, 0x0A, 0x49, 0x44, 0x41, 0x54, 0x78, 0x9C, 0x63, 0x68, 0x00, 0x00, 0x00, 0x82, 0x00, 0x81,
                0x77, 0xCD, 0x72, 0xB6,
                0x00, 0x00, 0x00, 0x00, 0x49, 0x45, 0x4E, 0x44, 0xAE, 0x42, 0x60, 0x82,
            };
            Assert.Equal(Convert.ToHexString(expected), Convert.ToHexString(PngEncoder.Encode(new byte[] { 0x80 }, 1, 1, 1)));
        }

        [Fact]
        public void Crc32_matches_the_standard_check_value()
        {
            Assert.Equal(0xCBF43926u, PngEncoder.Crc32(Encoding.ASCII.GetBytes("123456789")));
            Assert.Equal(0xAE426082u, PngEncoder.Crc32(Encoding.ASCII.GetBytes("IEND")));
        }

        [Fact]
        public void Image_helpers_scale_upscale_and_tile()
        {
            Assert.Equal(new byte[] { 0, 128, 255 }, Image.ScaleToBytes(new float[] { -1, 0, 1 }));
            Assert.Equal(new byte[] { 0, 0 }, Image.ScaleToBytes(new float[] { 3, 3 }));
            Image small = Image.FromGrey(new float[] { 0, 1, 2, 3 }, 2, 2);
            Image big = small.Upscale(3);
            Assert.Equal((6, 6), (big.Width, big.Height));
            Assert.Equal(small.Pixels[3], big.Pixels[5 * 6 + 5]);
            Image grid = Image.Grid(new[] { big, big, big }, 2, 1, Rgb.Black);
            Assert.Equal((2 * 6 + 3, 2 * 6 + 3), (grid.Width, grid.Height));
            Assert.Equal(Rgb.Black, grid.GetPixel(0, 0));
            Assert.Equal(Rgb.Black, grid.GetPixel(7, 3));   // the column border
            Assert.True(Colormap.Diverging[0].B > Colormap.Diverging[0].R);
            Assert.Equal(new Rgb(253, 231, 37), Colormap.Viridis[255]);
        }

        private static string Decode(byte[] png)
        {
            if (!File.Exists(Python))
                Assert.Fail($"{Python} is missing: the PNG tests need Debian's python3 (standard library only) as an independent decoder. " +
                            "Install it with: apt-get install python3-minimal");
            string directory = Path.Combine(Path.GetTempPath(), "cnngen-png-" + Guid.NewGuid().ToString("N"));
            Directory.CreateDirectory(directory);
            try
            {
                string pngPath = Path.Combine(directory, "image.png"), scriptPath = Path.Combine(directory, "decode.py");
                File.WriteAllBytes(pngPath, png);
                File.WriteAllText(scriptPath, DecoderScript);
                var start = new ProcessStartInfo(Python) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
                start.ArgumentList.Add("-I");   // isolated: no user site-packages or PYTHON* variables
                start.ArgumentList.Add(scriptPath);
                start.ArgumentList.Add(pngPath);
                using Process process = Process.Start(start)!;
                var stderr = process.StandardError.ReadToEndAsync();
                string stdout = process.StandardOutput.ReadToEnd();
                process.WaitForExit();
                Assert.True(process.ExitCode == 0, $"python's decoder rejected the PNG: {stderr.Result}");
                return stdout;
            }
            finally
            {
                Directory.Delete(directory, recursive: true);
            }
        }
    }
}
