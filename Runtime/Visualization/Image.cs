// An 8-bit raster (grey, grey+alpha, RGB or RGBA) with just enough drawing for the visualisations: scaling
// floats to bytes, colour maps, nearest-neighbour upscaling, grids of tiles, lines, points and 5x7 text.
using System;
using System.Collections.Generic;

namespace CnnGen.Visualization
{
    /// <summary>An RGB colour.</summary>
    public readonly record struct Rgb(byte R, byte G, byte B)
    {
        public static readonly Rgb White = new(255, 255, 255);
        public static readonly Rgb Black = new(0, 0, 0);
        public static readonly Rgb Grey = new(128, 128, 128);
        public static readonly Rgb LightGrey = new(220, 220, 220);
        public static readonly Rgb Blue = new(31, 119, 180);
        public static readonly Rgb Orange = new(255, 127, 14);
        public static readonly Rgb Green = new(44, 160, 44);
        public static readonly Rgb Red = new(214, 39, 40);

        /// <summary>Perceived brightness in [0, 255] (Rec. 601 weights).</summary>
        public double Luma => 0.299 * R + 0.587 * G + 0.114 * B;

        /// <summary>Linear blend: <paramref name="t"/> = 0 gives <paramref name="a"/>, 1 gives <paramref name="b"/>.</summary>
        public static Rgb Lerp(Rgb a, Rgb b, double t) => new(
            (byte)Math.Round(a.R + (b.R - a.R) * t), (byte)Math.Round(a.G + (b.G - a.G) * t), (byte)Math.Round(a.B + (b.B - a.B) * t));
    }

    /// <summary>
    /// Row-major interleaved 8-bit pixels: <see cref="Channels"/> 1 = grey, 2 = grey + alpha, 3 = RGB, 4 = RGBA.
    /// Drawing methods take an <see cref="Rgb"/> and store its luma on grey images; alpha is set to opaque.
    /// </summary>
    public sealed class Image
    {
        public Image(int width, int height, int channels, byte[]? pixels = null)
        {
            if (width < 1 || height < 1)
                throw new ArgumentOutOfRangeException(nameof(width), $"An image must be at least 1x1, but {width}x{height} was given.");
            if (channels is < 1 or > 4)
                throw new ArgumentOutOfRangeException(nameof(channels), channels, "channels must be 1 (grey), 2 (grey+alpha), 3 (RGB) or 4 (RGBA).");
            long length = (long)width * height * channels;
            if (pixels is not null && pixels.Length != length)
                throw new ArgumentException($"pixels has {pixels.Length} bytes, but {width}x{height}x{channels} = {length} were expected.", nameof(pixels));
            Width = width;
            Height = height;
            Channels = channels;
            Pixels = pixels ?? new byte[length];
        }

        public int Width { get; }
        public int Height { get; }
        public int Channels { get; }
        /// <summary>Width x height x channels bytes, row by row.</summary>
        public byte[] Pixels { get; }

        /// <summary>A new RGB image filled with <paramref name="background"/>.</summary>
        public static Image Filled(int width, int height, Rgb background)
        {
            var image = new Image(width, height, 3);
            image.FillRectangle(0, 0, width, height, background);
            return image;
        }

        public byte[] ToPng() => PngEncoder.Encode(this);
        public void Save(string path) => PngEncoder.Write(path, this);

        // ------------------------------------------------------------------ from floats

        /// <summary>
        /// Min-max scales <paramref name="values"/> to bytes: <paramref name="min"/> maps to 0 and <paramref name="max"/> to 255
        /// (both default to the data's own extremes; a constant input becomes all 0). Values outside are clamped; NaN becomes 0.
        /// </summary>
        public static byte[] ScaleToBytes(ReadOnlySpan<float> values, float? min = null, float? max = null)
        {
            (float lo, float hi) = Range(values);
            lo = min ?? lo;
            hi = max ?? hi;
            var bytes = new byte[values.Length];
            double span = hi - lo;
            if (!(span > 0)) return bytes;
            for (int i = 0; i < values.Length; i++)
            {
                double t = (values[i] - lo) / span;
                bytes[i] = double.IsNaN(t) ? (byte)0 : (byte)Math.Round(Math.Clamp(t, 0, 1) * 255);
            }
            return bytes;
        }

        /// <summary>The smallest and largest finite values (0, 0 when there are none).</summary>
        public static (float Min, float Max) Range(ReadOnlySpan<float> values)
        {
            float lo = float.PositiveInfinity, hi = float.NegativeInfinity;
            foreach (float v in values)
            {
                if (!float.IsFinite(v)) continue;
                if (v < lo) lo = v;
                if (v > hi) hi = v;
            }
            return lo > hi ? (0, 0) : (lo, hi);
        }

        /// <summary>A grey image of <paramref name="values"/> (width x height, row-major), min-max scaled as in <see cref="ScaleToBytes"/>.</summary>
        public static Image FromGrey(ReadOnlySpan<float> values, int width, int height, float? min = null, float? max = null)
        {
            CheckLength(values.Length, width, height);
            return new Image(width, height, 1, ScaleToBytes(values, min, max));
        }

        /// <summary>An RGB image of <paramref name="values"/> through <paramref name="map"/>, <paramref name="min"/> at the map's
        /// start and <paramref name="max"/> at its end (defaults: the data's extremes).</summary>
        public static Image FromColormap(ReadOnlySpan<float> values, int width, int height, Colormap map, float? min = null, float? max = null)
        {
            ArgumentNullException.ThrowIfNull(map);
            CheckLength(values.Length, width, height);
            byte[] levels = ScaleToBytes(values, min, max);
            var image = new Image(width, height, 3);
            for (int i = 0; i < levels.Length; i++)
            {
                Rgb c = map[levels[i]];
                image.Pixels[3 * i] = c.R;
                image.Pixels[3 * i + 1] = c.G;
                image.Pixels[3 * i + 2] = c.B;
            }
            return image;
        }

        private static void CheckLength(int length, int width, int height)
        {
            if ((long)width * height != length)
                throw new ArgumentException($"values has {length} floats, but {width}x{height} = {(long)width * height} were expected.", "values");
        }

        // ------------------------------------------------------------------ pixel access

        public Rgb GetPixel(int x, int y)
        {
            int i = (y * Width + x) * Channels;
            return Channels >= 3 ? new Rgb(Pixels[i], Pixels[i + 1], Pixels[i + 2]) : new Rgb(Pixels[i], Pixels[i], Pixels[i]);
        }

        /// <summary>Sets one pixel; coordinates outside the image are ignored (drawing clips).</summary>
        public void SetPixel(int x, int y, Rgb color)
        {
            if ((uint)x >= (uint)Width || (uint)y >= (uint)Height) return;
            int i = (y * Width + x) * Channels;
            switch (Channels)
            {
                case 1: Pixels[i] = (byte)Math.Round(color.Luma); break;
                case 2: Pixels[i] = (byte)Math.Round(color.Luma); Pixels[i + 1] = 255; break;
                default:
                    Pixels[i] = color.R; Pixels[i + 1] = color.G; Pixels[i + 2] = color.B;
                    if (Channels == 4) Pixels[i + 3] = 255;
                    break;
            }
        }

        /// <summary>This image as RGB (grey is replicated; alpha is dropped).</summary>
        public Image ToRgb()
        {
            if (Channels == 3) return this;
            var rgb = new Image(Width, Height, 3);
            for (int y = 0; y < Height; y++)
                for (int x = 0; x < Width; x++) rgb.SetPixel(x, y, GetPixel(x, y));
            return rgb;
        }

        // ------------------------------------------------------------------ geometry

        /// <summary>Nearest-neighbour upscaling by an integer <paramref name="factor"/>.</summary>
        public Image Upscale(int factor)
        {
            if (factor < 1) throw new ArgumentOutOfRangeException(nameof(factor), factor, "factor must be at least 1.");
            if (factor == 1) return this;
            var result = new Image(Width * factor, Height * factor, Channels);
            for (int y = 0; y < result.Height; y++)
            {
                int sourceRow = (y / factor) * Width;
                for (int x = 0; x < result.Width; x++)
                    Array.Copy(Pixels, (sourceRow + x / factor) * Channels, result.Pixels, (y * result.Width + x) * Channels, Channels);
            }
            return result;
        }

        /// <summary>Copies <paramref name="source"/> (converted to this image's channels) with its top-left corner at (x, y), clipped.</summary>
        public void Draw(Image source, int x, int y)
        {
            ArgumentNullException.ThrowIfNull(source);
            for (int sy = 0; sy < source.Height; sy++)
                for (int sx = 0; sx < source.Width; sx++)
                    SetPixel(x + sx, y + sy, source.GetPixel(sx, sy));
        }

        /// <summary>Alpha-blends <paramref name="overlay"/> (same size) over this image: result = (1 - alpha) this + alpha overlay, as RGB.</summary>
        public Image Blend(Image overlay, double alpha)
        {
            ArgumentNullException.ThrowIfNull(overlay);
            if (overlay.Width != Width || overlay.Height != Height)
                throw new ArgumentException($"overlay is {overlay.Width}x{overlay.Height} but this image is {Width}x{Height}.", nameof(overlay));
            var result = new Image(Width, Height, 3);
            for (int y = 0; y < Height; y++)
                for (int x = 0; x < Width; x++)
                    result.SetPixel(x, y, Rgb.Lerp(GetPixel(x, y), overlay.GetPixel(x, y), alpha));
            return result;
        }

        /// <summary>
        /// Tiles <paramref name="tiles"/> row by row into <paramref name="columns"/> columns, every cell as large as the largest tile,
        /// separated and surrounded by <paramref name="border"/> pixels of <paramref name="borderColor"/>. The result is
        /// columns x cellWidth + (columns + 1) x border wide and rows x cellHeight + (rows + 1) x border high, RGB.
        /// </summary>
        public static Image Grid(IReadOnlyList<Image> tiles, int columns, int border, Rgb borderColor)
        {
            ArgumentNullException.ThrowIfNull(tiles);
            if (tiles.Count == 0) throw new ArgumentException("A grid needs at least one tile.", nameof(tiles));
            if (columns < 1) throw new ArgumentOutOfRangeException(nameof(columns), columns, "columns must be at least 1.");
            if (border < 0) throw new ArgumentOutOfRangeException(nameof(border), border, "border must be zero or positive.");
            columns = Math.Min(columns, tiles.Count);
            int rows = (tiles.Count + columns - 1) / columns;
            int cellWidth = 0, cellHeight = 0;
            foreach (Image tile in tiles)
            {
                cellWidth = Math.Max(cellWidth, tile.Width);
                cellHeight = Math.Max(cellHeight, tile.Height);
            }
            Image grid = Filled(columns * cellWidth + (columns + 1) * border, rows * cellHeight + (rows + 1) * border, borderColor);
            for (int i = 0; i < tiles.Count; i++)
                grid.Draw(tiles[i], border + (i % columns) * (cellWidth + border), border + (i / columns) * (cellHeight + border));
            return grid;
        }

        /// <summary>Columns for a near-square grid of <paramref name="count"/> tiles.</summary>
        public static int SquareColumns(int count) => Math.Max(1, (int)Math.Ceiling(Math.Sqrt(count)));

        // ------------------------------------------------------------------ drawing

        public void FillRectangle(int x, int y, int width, int height, Rgb color)
        {
            for (int yy = Math.Max(0, y); yy < Math.Min(Height, y + height); yy++)
                for (int xx = Math.Max(0, x); xx < Math.Min(Width, x + width); xx++)
                    SetPixel(xx, yy, color);
        }

        public void DrawRectangle(int x, int y, int width, int height, Rgb color)
        {
            DrawLine(x, y, x + width - 1, y, color);
            DrawLine(x, y + height - 1, x + width - 1, y + height - 1, color);
            DrawLine(x, y, x, y + height - 1, color);
            DrawLine(x + width - 1, y, x + width - 1, y + height - 1, color);
        }

        /// <summary>A line from (x0, y0) to (x1, y1), both ends included (Bresenham), <paramref name="thickness"/> pixels wide.</summary>
        public void DrawLine(int x0, int y0, int x1, int y1, Rgb color, int thickness = 1)
        {
            int dx = Math.Abs(x1 - x0), sx = x0 < x1 ? 1 : -1;
            int dy = -Math.Abs(y1 - y0), sy = y0 < y1 ? 1 : -1;
            int error = dx + dy;
            int low = -(thickness - 1) / 2, high = thickness / 2;
            while (true)
            {
                for (int oy = low; oy <= high; oy++)
                    for (int ox = low; ox <= high; ox++) SetPixel(x0 + ox, y0 + oy, color);
                if (x0 == x1 && y0 == y1) break;
                int e2 = 2 * error;
                if (e2 >= dy) { error += dy; x0 += sx; }
                if (e2 <= dx) { error += dx; y0 += sy; }
            }
        }

        /// <summary>A filled disc of <paramref name="radius"/> pixels around (x, y), for data points.</summary>
        public void DrawPoint(int x, int y, int radius, Rgb color)
        {
            for (int oy = -radius; oy <= radius; oy++)
                for (int ox = -radius; ox <= radius; ox++)
                    if (ox * ox + oy * oy <= radius * radius + radius) SetPixel(x + ox, y + oy, color);
        }

        /// <summary>Writes <paramref name="text"/> in the 5x7 <see cref="BitmapFont"/> with its top-left corner at (x, y);
        /// each font pixel becomes <paramref name="scale"/> x <paramref name="scale"/> pixels.</summary>
        public void DrawText(int x, int y, string text, Rgb color, int scale = 1) => BitmapFont.Draw(this, x, y, text, color, scale);
    }
}
