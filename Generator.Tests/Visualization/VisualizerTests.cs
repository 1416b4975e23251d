// The visualiser on a tiny generated network: filter-grid geometry, occlusion on a hand-wired network whose
// output depends on one region only, confusion counts against independent predictions, and the HTML report.
using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text.RegularExpressions;
using CnnGen;
using CnnGen.Data;
using CnnGen.Training;
using CnnGen.Visualization;

namespace CnnGen.Tests.Visualization
{
    // 1x12x12 -> conv1 4x10x10 -> relu 4x10x10 -> maxpool 4x5x5 -> flatten 100 -> dense1 3 -> softmax
    [Network(Channels = 1, Height = 12, Width = 12)]
    [Conv2D(4, 3), ReLU, MaxPool2D(2)]
    [Flatten, Dense(3), Softmax]
    public partial class VizNet;

    public class VisualizerTests
    {
        private static Parameter Param(INetwork net, string name) => net.Parameters.Single(p => p.Name == name);

        private static LabeledImages RandomImages(int count, int seed)
        {
            var rng = new Random(seed);
            var images = new float[count * VizNet.InputSize];
            for (int i = 0; i < images.Length; i++) images[i] = (float)rng.NextDouble();
            var labels = new int[count];
            for (int i = 0; i < count; i++) labels[i] = rng.Next(3);
            return new LabeledImages(images, labels, 1, 12, 12);
        }

        [Fact]
        public void Filter_grid_has_one_upscaled_tile_per_conv1_kernel()
        {
            using var net = new VizNet(maxBatch: 4);
            Assert.Equal(new[] { 4, 1, 3, 3 }, Param(net, "conv1.weight").Shape);
            Image grid = Visualizer.FirstLayerFilters(net, scale: 8, border: 1);
            // Four 3x3 kernels in a 2x2 grid, 24 px per tile, a 1 px border around and between them.
            Assert.Equal(2 * 24 + 3, grid.Width);
            Assert.Equal(2 * 24 + 3, grid.Height);
            Assert.Equal(3, grid.Channels);

            // The strongest weight is drawn at the extreme of the diverging map.
            ReadOnlySpan<float> w = Param(net, "conv1.weight").Value;
            int strongest = 0;
            for (int i = 1; i < w.Length; i++) if (Math.Abs(w[i]) > Math.Abs(w[strongest])) strongest = i;
            int filter = strongest / 9, ky = strongest % 9 / 3, kx = strongest % 3;
            Rgb pixel = grid.GetPixel(1 + (filter % 2) * 25 + kx * 8 + 4, 1 + (filter / 2) * 25 + ky * 8 + 4);
            Assert.Equal(w[strongest] > 0 ? Colormap.Diverging[255] : Colormap.Diverging[0], pixel);
        }

        [Fact]
        public void Feature_maps_draw_conv_and_relu_outputs()
        {
            using var net = new VizNet(maxBatch: 2);
            LabeledImages data = RandomImages(1, 3);
            IReadOnlyList<FeatureMapGrid> grids = Visualizer.FeatureMaps(net, data.Image(0), scale: 2, minTilePixels: 0);
            Assert.Equal(new[] { "Conv2D", "ReLU" }, grids.Select(g => g.Info.Type));
            // Four 10x10 maps at 2x in a 2x2 grid with 2 px borders.
            foreach (FeatureMapGrid g in grids) Assert.Equal((2 * 20 + 3 * 2, 2 * 20 + 3 * 2), (g.Image.Width, g.Image.Height));
            // Small maps are enlarged to the minimum tile size: 10 px maps at 2x would be 20 px; 35 px needs 4x.
            Assert.Equal(2 * 40 + 3 * 2, Visualizer.FeatureMaps(net, data.Image(0), scale: 2, minTilePixels: 35)[0].Image.Width);
            Assert.Single(Visualizer.FeatureMaps(net, data.Image(0), scale: 2, includeActivations: false));
        }

        [Fact]
        public void Occlusion_peaks_on_the_region_that_decides_the_class()
        {
            // conv1 filter 0 averages 3x3 windows, the others are zero; only pooled cell (3, 3) of channel 0 (conv positions
            // 6..7, input pixels 6..9) feeds class 0. The image is bright exactly there, so only occluding it lowers p(class 0).
            using var net = new VizNet(maxBatch: 16);   // 100 occluder positions: several batches
            foreach (Parameter p in net.Parameters) p.Value.Clear();
            Param(net, "conv1.weight").Value[..9].Fill(1f / 9);
            Param(net, "dense1.weight").Value[0 * 100 + 0 * 25 + 3 * 5 + 3] = 6;
            Param(net, "dense1.bias").Value[0] = -4;
            var image = new float[144];
            for (int y = 6; y <= 9; y++) for (int x = 6; x <= 9; x++) image[y * 12 + x] = 1;

            OcclusionMap map = Visualizer.Occlusion(net, image, 1, 12, 12, label: 0, patch: 3, stride: 1, grey: 0.5f);
            Assert.Equal(0, map.Predicted);
            Assert.Equal(MathF.Exp(2) / (MathF.Exp(2) + 2), map.BaselineProbability, 4);
            int peak = Array.IndexOf(map.Drop, map.Drop.Max());
            Assert.InRange(peak / 12, 6, 9);
            Assert.InRange(peak % 12, 6, 9);
            Assert.True(map.Drop[peak] > 0.05f, $"peak drop {map.Drop[peak]}");
            // Far from the region the occluder changes nothing that class 0 sees.
            Assert.Equal(0f, map.Drop[0]);
            Assert.Equal(0f, map.Drop[11 * 12 + 0]);
            Assert.Equal(0f, map.Drop[2 * 12 + 11]);

            Image picture = Visualizer.OcclusionImage(image, 1, 12, 12, map, scale: 4);
            Assert.Equal((3 * 48 + 4 * 2, 48 + 2 * 2), (picture.Width, picture.Height));
        }

        [Fact]
        public void Confusion_matrix_counts_match_independent_predictions()
        {
            using var net = new VizNet(maxBatch: 8, seed: 5);
            LabeledImages data = RandomImages(37, 11);   // not a multiple of MaxBatch
            int[,] counts = Visualizer.ConfusionMatrix(net, data);

            var expected = new int[3, 3];
            using var reference = new VizNet(maxBatch: 1, seed: 5);
            var output = new float[3];
            for (int i = 0; i < data.Count; i++)
            {
                reference.Forward(data.Image(i), output, 1);
                int predicted = 0;
                for (int c = 1; c < 3; c++) if (output[c] > output[predicted]) predicted = c;
                expected[data.Labels[i], predicted]++;
            }
            Assert.Equal(expected, counts);
            Assert.Equal(data.Count, counts.Cast<int>().Sum());

            Image image = Visualizer.ConfusionMatrixImage(counts);
            Assert.True(image.Width > 3 * 44 && image.Height > 3 * 44);
        }

        [Fact]
        public void Training_curves_draw_with_and_without_test_results()
        {
            Image chart = Visualizer.TrainingCurves(History(3), 600, 300);
            Assert.Equal((600, 300), (chart.Width, chart.Height));
            var noTest = new[] { new EpochResult(1, 1, 1.2, 0.5, double.NaN, double.NaN, 100, 1, 0, 0.01f) };
            Assert.Equal(600, Visualizer.TrainingCurves(noTest, 600, 300).Width);
        }

        [Fact]
        public void Report_embeds_every_image_as_a_valid_data_uri()
        {
            using var net = new VizNet(maxBatch: 8);
            LabeledImages test = RandomImages(20, 7);
            string directory = Path.Combine(Path.GetTempPath(), "cnngen-report-" + Guid.NewGuid().ToString("N"));
            try
            {
                IReadOnlyList<string> paths = Visualizer.WriteReport(net, VizNet.Summary, test, History(4), directory,
                    new VisualizationOptions { OcclusionPatch = 4, ImageIndex = 3, ClassNames = new[] { "zero", "one", "two" } });
                string report = paths[^1];
                Assert.Equal("report.html", Path.GetFileName(report));
                string[] images = paths.Take(paths.Count - 1).ToArray();
                Assert.All(images, p => Assert.EndsWith(".png", p));
                Assert.Contains(Path.Combine(directory, "filters.png"), images);
                Assert.Contains(Path.Combine(directory, "occlusion.png"), images);
                Assert.Contains(Path.Combine(directory, "training.png"), images);
                Assert.Contains(Path.Combine(directory, "confusion.png"), images);

                string html = File.ReadAllText(report);
                MatchCollection uris = Regex.Matches(html, "src=\"data:image/png;base64,([^\"]*)\"");
                Assert.Equal(images.Length, uris.Count);
                Assert.Equal(images.Length, Regex.Matches(html, "data:").Count);
                for (int i = 0; i < images.Length; i++)
                    Assert.Equal(File.ReadAllBytes(images[i]), Convert.FromBase64String(uris[i].Groups[1].Value));
                Assert.Contains("Model: &quot;VizNet&quot;", html);
                Assert.Contains("<td>4/4</td>", html);
                Assert.StartsWith("<!DOCTYPE html>", html);
                Assert.EndsWith("</html>\n", html);
            }
            finally
            {
                if (Directory.Exists(directory)) Directory.Delete(directory, recursive: true);
            }
        }

        private static List<EpochResult> History(int epochs)
        {
            var history = new List<EpochResult>();
            for (int e = 1; e <= epochs; e++)
                history.Add(new EpochResult(e, epochs, 1.0 / e, 0.6 + 0.05 * e, 0.55 + 0.05 * e, 1.1 / e, 1000, 2, 0.5, 0.001f));
            return history;
        }
    }
}
