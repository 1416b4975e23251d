// Training-time data augmentation for image batches: random horizontal flips and random translations with zero fill,
// the "simple data augmentation" of He et al. (2016, CIFAR-10: 4-pixel padding + random crop, horizontal flip).
// Applied while a batch is copied, so it costs no extra buffer and no managed allocation.
using System;

namespace CnnGen.Data
{
    /// <summary>
    /// What <see cref="BatchIterator"/> does to each training image: with <see cref="HorizontalFlip"/>, mirror it left to
    /// right with probability 1/2; with <see cref="MaxShift"/> = s &gt; 0, move it by dx, dy drawn uniformly from [-s, s]
    /// pixels, filling the uncovered border with <see cref="Fill"/> (equivalent to zero-padding by s and cropping at a
    /// random offset). Draws come from a generator seeded by the iterator's seed and the epoch number, so an epoch's
    /// augmented batches depend only on them (a resumed run sees the same images as an uninterrupted one).
    /// </summary>
    public sealed record Augmentation
    {
        public bool HorizontalFlip { get; init; }
        public int MaxShift { get; init; }
        /// <summary>Value of the pixels shifted in from outside the image (0 = black, Fashion-MNIST's background).</summary>
        public float Fill { get; init; }

        /// <summary>No augmentation.</summary>
        public static Augmentation None { get; } = new();

        /// <summary>Flip and shift by up to <paramref name="maxShift"/> pixels: the usual recipe for small images.</summary>
        public static Augmentation FlipAndShift(int maxShift = 2) => new() { HorizontalFlip = true, MaxShift = maxShift };

        public bool IsIdentity => !HorizontalFlip && MaxShift == 0;

        internal void Validate(int height, int width)
        {
            if (MaxShift < 0)
                throw new ArgumentOutOfRangeException(nameof(MaxShift), MaxShift, $"MaxShift must be 0 or more pixels, but was {MaxShift}.");
            if (MaxShift >= height || MaxShift >= width)
                throw new ArgumentOutOfRangeException(nameof(MaxShift), MaxShift,
                    $"MaxShift {MaxShift} would move a {height}x{width} image entirely out of view; use less than {Math.Min(height, width)} (2 suits 28x28).");
            if (!float.IsFinite(Fill))
                throw new ArgumentOutOfRangeException(nameof(Fill), Fill, "Fill must be a finite value.");
        }

        /// <summary>Writes the augmented copy of one CHW image: out[c, y, x] = in[c, y + dy, x' + dx] with x' = W - 1 - x
        /// when flipped, else x; <see cref="Fill"/> where that source pixel is outside the image.</summary>
        internal void Apply(ReadOnlySpan<float> source, Span<float> destination, int channels, int height, int width, Rng rng)
        {
            bool flip = HorizontalFlip && (rng.NextUInt() & 1) != 0;
            int dx = MaxShift > 0 ? rng.NextInt(2 * MaxShift + 1) - MaxShift : 0;
            int dy = MaxShift > 0 ? rng.NextInt(2 * MaxShift + 1) - MaxShift : 0;
            int plane = height * width;
            for (int c = 0; c < channels; c++)
            {
                ReadOnlySpan<float> src = source.Slice(c * plane, plane);
                Span<float> dst = destination.Slice(c * plane, plane);
                for (int y = 0; y < height; y++)
                {
                    int sy = y + dy;
                    Span<float> row = dst.Slice(y * width, width);
                    if ((uint)sy >= (uint)height) { row.Fill(Fill); continue; }
                    ReadOnlySpan<float> srcRow = src.Slice(sy * width, width);
                    for (int x = 0; x < width; x++)
                    {
                        int sx = (flip ? width - 1 - x : x) + dx;
                        row[x] = (uint)sx < (uint)width ? srcRow[sx] : Fill;
                    }
                }
            }
        }
    }
}
