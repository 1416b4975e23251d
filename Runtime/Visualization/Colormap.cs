// Colour maps as 256-entry tables interpolated from a few control points: a diverging blue-white-red map for
// signed values (weights, pre-activations) and a viridis-like sequential map for magnitudes.
using System;
using System.Collections.Generic;

namespace CnnGen.Visualization
{
    public sealed class Colormap
    {
        private readonly Rgb[] _table = new Rgb[256];

        /// <summary>A map through <paramref name="stops"/>, evenly spaced from level 0 to level 255.</summary>
        public Colormap(string name, IReadOnlyList<Rgb> stops)
        {
            ArgumentNullException.ThrowIfNull(stops);
            if (stops.Count < 2) throw new ArgumentException("A colour map needs at least two stops.", nameof(stops));
            Name = name;
            for (int i = 0; i < 256; i++)
            {
                double position = i / 255.0 * (stops.Count - 1);
                int segment = Math.Min((int)position, stops.Count - 2);
                _table[i] = Rgb.Lerp(stops[segment], stops[segment + 1], position - segment);
            }
        }

        public string Name { get; }

        /// <summary>The colour of level <paramref name="level"/> (0 = start, 255 = end).</summary>
        public Rgb this[byte level] => _table[level];

        /// <summary>The colour at <paramref name="t"/> in [0, 1] (clamped).</summary>
        public Rgb At(double t) => _table[double.IsNaN(t) ? 0 : (int)Math.Round(Math.Clamp(t, 0, 1) * 255)];

        /// <summary>Blue (negative) through white (zero) to red (positive); use a range symmetric about zero.</summary>
        public static Colormap Diverging { get; } = new("diverging", new Rgb[]
        {
            new(5, 48, 97), new(33, 102, 172), new(67, 147, 195), new(146, 197, 222), new(247, 247, 247),
            new(244, 165, 130), new(214, 96, 77), new(178, 24, 43), new(103, 0, 31),
        });

        /// <summary>Dark purple through blue and green to yellow, like matplotlib's viridis (perceptually ordered).</summary>
        public static Colormap Viridis { get; } = new("viridis", new Rgb[]
        {
            new(68, 1, 84), new(72, 40, 120), new(62, 74, 137), new(49, 104, 142), new(38, 130, 142),
            new(31, 158, 137), new(53, 183, 121), new(110, 206, 88), new(181, 222, 43), new(253, 231, 37),
        });

        /// <summary>White to dark blue, for counts (zero stays white).</summary>
        public static Colormap Blues { get; } = new("blues", new Rgb[]
        {
            new(247, 251, 255), new(198, 219, 239), new(107, 174, 214), new(33, 113, 181), new(8, 48, 107),
        });
    }
}
