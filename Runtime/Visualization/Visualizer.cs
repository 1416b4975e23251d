// Pictures of any generated network: first-layer filters, feature maps, occlusion sensitivity (Zeiler & Fergus,
// "Visualizing and Understanding Convolutional Networks", 2014), training curves, a confusion matrix, and one
// self-contained HTML report that embeds them all.
using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Net;
using System.Text;
using CnnGen.Data;
using CnnGen.Training;

namespace CnnGen.Visualization
{
    /// <summary>What <see cref="Visualizer.WriteReport"/> draws. Defaults suit 28x28 Fashion-MNIST.</summary>
    public sealed record VisualizationOptions
    {
        /// <summary>Index into the test set of the image whose feature maps and occlusion map are drawn.</summary>
        public int ImageIndex { get; init; }
        /// <summary>Screen pixels per kernel weight in the filter grid.</summary>
        public int FilterScale { get; init; } = 12;
        /// <summary>Screen pixels per activation in feature-map grids.</summary>
        public int FeatureMapScale { get; init; } = 3;
        /// <summary>At most this many channels are drawn per layer.</summary>
        public int MaxFeatureMaps { get; init; } = 64;
        /// <summary>Also draw the outputs of ReLU layers, not only of Conv2D layers.</summary>
        public bool IncludeActivations { get; init; } = true;
        /// <summary>Side of the square grey occluder, in input pixels.</summary>
        public int OcclusionPatch { get; init; } = 6;
        /// <summary>Step between occluder positions, in input pixels.</summary>
        public int OcclusionStride { get; init; } = 2;
        /// <summary>Occluder value; null uses the test set's mean pixel.</summary>
        public float? OcclusionGrey { get; init; }
        /// <summary>Screen pixels per input pixel in the occlusion panels.</summary>
        public int ImageScale { get; init; } = 8;
        /// <summary>Test images used for the confusion matrix; 0 uses all of them.</summary>
        public int ConfusionImages { get; init; }
        /// <summary>Class names for the report (null: class indices only).</summary>
        public IReadOnlyList<string>? ClassNames { get; init; }
        public string Title { get; init; } = "CnnGen report";
    }

    /// <summary>One layer's feature maps as a grid image.</summary>
    public sealed record FeatureMapGrid(int Layer, LayerInfo Info, int MapsShown, Image Image);

    /// <summary>
    /// Occlusion sensitivity of one image: <see cref="Drop"/> (height x width, row-major) is, for each input pixel, the mean drop in
    /// the probability of class <see cref="Label"/> over every occluder position covering that pixel (negative where occluding helps).
    /// </summary>
    public sealed record OcclusionMap(float[] Drop, int Width, int Height, int Label, float BaselineProbability, int Predicted);

    public static class Visualizer
    {
        private static readonly Rgb BorderColor = new(64, 64, 64);

        // ------------------------------------------------------------------ (a) filters

        /// <summary>
        /// The first convolution's kernels (the first 4-D parameter, [out, in, kh, kw]), each weight a
        /// <paramref name="scale"/> x <paramref name="scale"/> square in the diverging map (blue negative, white zero, red positive; one
        /// symmetric range for all filters). With one input channel the filters form a near-square grid of
        /// ceil(sqrt(out)) columns; with several, each filter is a row with one kernel per input channel.
        /// </summary>
        public static Image FirstLayerFilters(INetwork net, int scale = 8, int border = 1)
        {
            ArgumentNullException.ThrowIfNull(net);
            Parameter weight = FirstConvolutionWeight(net)
                ?? throw new InvalidOperationException("The network has no convolution weight ([out, in, kh, kw] parameter) to draw.");
            int outputs = weight.Shape[0], inputs = weight.Shape[1], kh = weight.Shape[2], kw = weight.Shape[3];
            ReadOnlySpan<float> values = weight.Value;
            float limit = MaxAbs(values);
            var tiles = new List<Image>(outputs * inputs);
            for (int k = 0; k < outputs * inputs; k++)
                tiles.Add(Image.FromColormap(values.Slice(k * kh * kw, kh * kw), kw, kh, Colormap.Diverging, -limit, limit).Upscale(scale));
            int columns = inputs == 1 ? Image.SquareColumns(outputs) : inputs;
            return Image.Grid(tiles, columns, border, BorderColor);
        }

        /// <summary>The first parameter shaped [out, in, kh, kw], or null.</summary>
        public static Parameter? FirstConvolutionWeight(INetwork net)
        {
            ArgumentNullException.ThrowIfNull(net);
            foreach (Parameter p in net.Parameters)
                if (p.Shape.Count == 4) return p;
            return null;
        }

        // ------------------------------------------------------------------ (b) feature maps

        /// <summary>
        /// Runs <paramref name="image"/> through the network and draws every Conv2D layer's output (and every ReLU's when
        /// <paramref name="includeActivations"/>), one grid per layer, each map scaled on its own: Conv2D outputs in the diverging map
        /// symmetric about zero, ReLU outputs in viridis from zero to the map's maximum.
        /// </summary>
        /// <param name="scale">Screen pixels per activation, raised where needed so each tile is at least
        /// <paramref name="minTilePixels"/> wide and high (small deep maps stay visible).</param>
        public static IReadOnlyList<FeatureMapGrid> FeatureMaps(INetwork net, ReadOnlySpan<float> image, int scale = 3,
            bool includeActivations = true, int maxMaps = 64, int minTilePixels = 40)
        {
            ArgumentNullException.ThrowIfNull(net);
            if (image.Length != net.InputLength)
                throw new ArgumentException($"image has {image.Length} floats but the network takes {net.InputLength}.", nameof(image));
            if (maxMaps < 1) throw new ArgumentOutOfRangeException(nameof(maxMaps), maxMaps, "maxMaps must be at least 1.");
            net.Training = false;
            net.Forward(image, new float[net.OutputLength], 1);

            var grids = new List<FeatureMapGrid>();
            IReadOnlyList<LayerInfo> layers = net.LayerInfos;
            for (int l = 0; l < layers.Count; l++)
            {
                LayerInfo info = layers[l];
                bool conv = info.Type == "Conv2D", relu = info.Type == "ReLU";
                if (info.OutputShape.Count != 3 || !(conv || (relu && includeActivations))) continue;
                int c = info.OutputShape[0], h = info.OutputShape[1], w = info.OutputShape[2];
                ReadOnlySpan<float> output = net.LayerOutput(l, 0);
                int shown = Math.Min(c, maxMaps);
                int tileScale = Math.Max(Math.Max(1, scale), (minTilePixels + Math.Max(h, w) - 1) / Math.Max(h, w));
                var tiles = new List<Image>(shown);
                for (int m = 0; m < shown; m++)
                {
                    ReadOnlySpan<float> map = output.Slice(m * h * w, h * w);
                    Image tile;
                    if (conv)
                    {
                        float limit = MaxAbs(map);
                        tile = Image.FromColormap(map, w, h, Colormap.Diverging, -limit, limit);
                    }
                    else tile = Image.FromColormap(map, w, h, Colormap.Viridis, 0, Image.Range(map).Max);
                    tiles.Add(tile.Upscale(tileScale));
                }
                grids.Add(new FeatureMapGrid(l, info, shown, Image.Grid(tiles, Image.SquareColumns(shown), 2, BorderColor)));
            }
            return grids;
        }

        // ------------------------------------------------------------------ (c) occlusion

        /// <summary>
        /// Slides a <paramref name="patch"/> x <paramref name="patch"/> square of value <paramref name="grey"/> (all channels) over
        /// the image in steps of <paramref name="stride"/> (the last row and column of positions touch the far edges), runs the
        /// occluded copies through the network in batches of at most MaxBatch, and records how much the probability of
        /// <paramref name="label"/> drops (a softmax is applied when the network outputs logits).
        /// </summary>
        public static OcclusionMap Occlusion(INetwork net, ReadOnlySpan<float> image, int channels, int height, int width,
            int label, int patch, int stride, float grey)
        {
            ArgumentNullException.ThrowIfNull(net);
            if ((long)channels * height * width != net.InputLength || image.Length != net.InputLength)
                throw new ArgumentException(
                    $"The image is {channels}x{height}x{width} ({image.Length} floats) but the network takes {net.InputLength} floats.", nameof(image));
            if ((uint)label >= (uint)net.OutputLength)
                throw new ArgumentOutOfRangeException(nameof(label), label, $"label must be in [0, {net.OutputLength - 1}].");
            if (patch < 1 || patch > Math.Min(height, width))
                throw new ArgumentOutOfRangeException(nameof(patch), patch, $"patch must be between 1 and {Math.Min(height, width)}.");
            if (stride < 1) throw new ArgumentOutOfRangeException(nameof(stride), stride, "stride must be at least 1.");

            int[] ys = Positions(height, patch, stride), xs = Positions(width, patch, stride);
            int positions = ys.Length * xs.Length, classes = net.OutputLength, length = net.InputLength;
            bool softmax = OutputsProbabilities(net);
            net.Training = false;

            var output = new float[classes];
            net.Forward(image, output, 1);
            if (!softmax) Softmax(output);
            float baseline = output[label];
            int predicted = Evaluator.ArgMax(output);

            var sum = new double[height * width];
            var count = new int[height * width];
            int maxBatch = net.MaxBatch;
            var batchImages = new float[(long)maxBatch * length];
            var batchOutputs = new float[(long)maxBatch * classes];
            for (int start = 0; start < positions; start += maxBatch)
            {
                int batch = Math.Min(maxBatch, positions - start);
                for (int b = 0; b < batch; b++)
                {
                    Span<float> copy = batchImages.AsSpan(b * length, length);
                    image.CopyTo(copy);
                    int y0 = ys[(start + b) / xs.Length], x0 = xs[(start + b) % xs.Length];
                    for (int c = 0; c < channels; c++)
                        for (int y = y0; y < y0 + patch; y++)
                            copy.Slice((c * height + y) * width + x0, patch).Fill(grey);
                }
                net.Forward(batchImages.AsSpan(0, batch * length), batchOutputs.AsSpan(0, batch * classes), batch);
                for (int b = 0; b < batch; b++)
                {
                    Span<float> row = batchOutputs.AsSpan(b * classes, classes);
                    if (!softmax) Softmax(row);
                    double drop = baseline - row[label];
                    int y0 = ys[(start + b) / xs.Length], x0 = xs[(start + b) % xs.Length];
                    for (int y = y0; y < y0 + patch; y++)
                        for (int x = x0; x < x0 + patch; x++)
                        {
                            sum[y * width + x] += drop;
                            count[y * width + x]++;
                        }
                }
            }
            var map = new float[height * width];
            for (int i = 0; i < map.Length; i++) map[i] = count[i] == 0 ? 0 : (float)(sum[i] / count[i]);
            return new OcclusionMap(map, width, height, label, baseline, predicted);
        }

        /// <summary>
        /// Three panels side by side, each input pixel <paramref name="scale"/> x <paramref name="scale"/>: the image (grey, or RGB for
        /// three channels), the drop map in the diverging colours (red: occluding here lowers the class probability; one range
        /// symmetric about zero), and the image with the map laid over it, more opaque where the drop is larger.
        /// </summary>
        public static Image OcclusionImage(ReadOnlySpan<float> image, int channels, int height, int width, OcclusionMap map, int scale = 8)
        {
            ArgumentNullException.ThrowIfNull(map);
            if (map.Width != width || map.Height != height)
                throw new ArgumentException($"The map is {map.Width}x{map.Height} but the image is {width}x{height}.", nameof(map));
            Image picture = InputImage(image, channels, height, width);
            float limit = MaxAbs(map.Drop);
            Image heat = Image.FromColormap(map.Drop, width, height, Colormap.Diverging, -limit, limit);
            var overlay = new Image(width, height, 3);
            for (int y = 0; y < height; y++)
                for (int x = 0; x < width; x++)
                {
                    double alpha = limit > 0 ? Math.Min(1, Math.Abs(map.Drop[y * width + x]) / limit) * 0.75 : 0;
                    overlay.SetPixel(x, y, Rgb.Lerp(picture.GetPixel(x, y), heat.GetPixel(x, y), alpha));
                }
            return Image.Grid(new[] { picture.Upscale(scale), heat.Upscale(scale), overlay.Upscale(scale) }, 3, 2, Rgb.White);
        }

        /// <summary>Occluder positions along one axis: 0, stride, 2 stride, ... and finally size - patch.</summary>
        private static int[] Positions(int size, int patch, int stride)
        {
            var positions = new List<int>();
            for (int p = 0; p + patch <= size; p += stride) positions.Add(p);
            if (positions[^1] != size - patch) positions.Add(size - patch);
            return positions.ToArray();
        }

        /// <summary>An input image as pixels: grey for one channel, RGB for three, else its first channel; [0, 1] maps to [0, 255].</summary>
        private static Image InputImage(ReadOnlySpan<float> image, int channels, int height, int width)
        {
            int plane = height * width;
            if (image.Length != (long)channels * plane)
                throw new ArgumentException($"image has {image.Length} floats but {channels}x{height}x{width} was given.", nameof(image));
            if (channels != 3) return Image.FromGrey(image[..plane], width, height, 0, 1).ToRgb();
            var rgb = new Image(width, height, 3);
            for (int c = 0; c < 3; c++)
            {
                byte[] bytes = Image.ScaleToBytes(image.Slice(c * plane, plane), 0, 1);
                for (int i = 0; i < plane; i++) rgb.Pixels[3 * i + c] = bytes[i];
            }
            return rgb;
        }

        // ------------------------------------------------------------------ (d) training curves

        /// <summary>
        /// Two line charts side by side: loss (training and test) and accuracy in percent (training and test) per epoch. Test
        /// values that are NaN (no test set) are left out.
        /// </summary>
        public static Image TrainingCurves(IReadOnlyList<EpochResult> history, int width = 900, int height = 340)
        {
            ArgumentNullException.ThrowIfNull(history);
            if (history.Count == 0) throw new ArgumentException("The history is empty: there are no epochs to plot.", nameof(history));
            Image chart = Image.Filled(width, height, Rgb.White);
            int half = width / 2;
            var epochs = new double[history.Count];
            var loss = new double[history.Count];
            var testLoss = new double[history.Count];
            var trainAccuracy = new double[history.Count];
            var testAccuracy = new double[history.Count];
            for (int i = 0; i < history.Count; i++)
            {
                epochs[i] = history[i].Epoch;
                loss[i] = history[i].Loss;
                testLoss[i] = history[i].TestLoss;
                trainAccuracy[i] = 100 * history[i].TrainAccuracy;
                testAccuracy[i] = 100 * history[i].TestAccuracy;
            }
            double maxLoss = Math.Max(Max(loss), Max(testLoss));
            (double lossTop, double lossStep) = NiceAxis(0, double.IsFinite(maxLoss) ? maxLoss : 1);
            DrawChart(chart, 0, 0, half, height, "LOSS", epochs, 0, lossTop, lossStep,
                new[] { ("TRAIN", Rgb.Blue, loss), ("TEST", Rgb.Orange, testLoss) }, legendTop: true);
            double minAccuracy = Math.Min(Min(trainAccuracy), Min(testAccuracy));
            double low = double.IsFinite(minAccuracy) ? Math.Max(0, Math.Floor((minAccuracy - 1) / 10) * 10) : 0;
            double accuracyStep = NiceAxis(low, 100).Step;
            low = Math.Floor(low / accuracyStep) * accuracyStep;   // so that 100 is a tick
            DrawChart(chart, half, 0, width - half, height, "ACCURACY (%)", epochs, low, 100, accuracyStep,
                new[] { ("TRAIN", Rgb.Blue, trainAccuracy), ("TEST", Rgb.Orange, testAccuracy) }, legendTop: false);
            return chart;
        }

        private static void DrawChart(Image image, int left, int top, int width, int height, string title, double[] xs,
            double yMin, double yMax, double yStep, (string Name, Rgb Color, double[] Values)[] series, bool legendTop)
        {
            const int marginLeft = 56, marginRight = 16, marginTop = 30, marginBottom = 40;
            int x0 = left + marginLeft, x1 = left + width - marginRight, y0 = top + height - marginBottom, y1 = top + marginTop;
            image.DrawText(left + (width - BitmapFont.Measure(title, 2)) / 2, top + 8, title, Rgb.Black, 2);

            double xMin = xs[0], xMax = xs[^1];
            if (xMax <= xMin) { xMin -= 1; xMax += 1; }
            if (!(yMax > yMin)) yMax = yMin + 1;
            int ToX(double x) => x0 + (int)Math.Round((x - xMin) / (xMax - xMin) * (x1 - x0));
            int ToY(double y) => y0 - (int)Math.Round((y - yMin) / (yMax - yMin) * (y0 - y1));

            // Grid lines and y labels every yStep.
            int ticks = (int)Math.Round((yMax - yMin) / yStep);
            for (int i = 0; i <= ticks; i++)
            {
                double value = yMin + yStep * i;
                int y = ToY(value);
                image.DrawLine(x0, y, x1, y, Rgb.LightGrey);
                string text = FormatTick(value, yStep);
                image.DrawText(x0 - 6 - BitmapFont.Measure(text), y - 3, text, Rgb.Black);
            }
            // x ticks: every epoch, or a round step when there are many.
            int step = Math.Max(1, (int)Math.Ceiling(xs.Length / 10.0));
            for (int i = 0; i < xs.Length; i += step)
            {
                int x = ToX(xs[i]);
                image.DrawLine(x, y0, x, y0 + 4, Rgb.Black);
                string text = xs[i].ToString(CultureInfo.InvariantCulture);
                image.DrawText(x - BitmapFont.Measure(text) / 2, y0 + 8, text, Rgb.Black);
            }
            image.DrawLine(x0, y0, x1, y0, Rgb.Black);
            image.DrawLine(x0, y0, x0, y1, Rgb.Black);
            image.DrawText((x0 + x1 - BitmapFont.Measure("EPOCH")) / 2, y0 + 22, "EPOCH", Rgb.Black);

            int legendY = legendTop ? y1 + 8 : y0 - 8 - 12 * series.Length;
            for (int s = 0; s < series.Length; s++)
            {
                (string name, Rgb color, double[] values) = series[s];
                int previousX = 0, previousY = 0;
                bool havePrevious = false, any = false;
                for (int i = 0; i < values.Length; i++)
                {
                    if (!double.IsFinite(values[i])) { havePrevious = false; continue; }
                    int x = ToX(xs[i]), y = ToY(Math.Clamp(values[i], yMin, yMax));
                    if (havePrevious) image.DrawLine(previousX, previousY, x, y, color, 2);
                    image.DrawPoint(x, y, 3, color);
                    (previousX, previousY, havePrevious, any) = (x, y, true, true);
                }
                if (!any) continue;
                int lx = x1 - 70, ly = legendY + 12 * s;
                image.DrawLine(lx, ly + 3, lx + 16, ly + 3, color, 2);
                image.DrawText(lx + 22, ly, name, Rgb.Black);
            }
        }

        private static string FormatTick(double value, double step) =>
            value.ToString(step >= 1 ? "0" : step >= 0.1 ? "0.0" : step >= 0.01 ? "0.00" : "0.000", CultureInfo.InvariantCulture);

        /// <summary>A round tick step (1, 2 or 5 times a power of ten) giving at most six intervals from <paramref name="min"/>, and
        /// the first multiple of it at or above <paramref name="max"/>.</summary>
        private static (double Top, double Step) NiceAxis(double min, double max)
        {
            double range = max - min;
            if (!(range > 0) || !double.IsFinite(range)) return (min + 1, 0.2);
            double magnitude = Math.Pow(10, Math.Floor(Math.Log10(range / 6)));
            double step = 10 * magnitude;
            foreach (double m in new[] { 1.0, 2, 2.5, 5, 10 })
                if (range / (m * magnitude) <= 6) { step = m * magnitude; break; }
            return (min + Math.Ceiling(range / step - 1e-9) * step, step);
        }

        private static double Max(double[] values)
        {
            double max = double.NegativeInfinity;
            foreach (double v in values) if (double.IsFinite(v) && v > max) max = v;
            return max;
        }

        private static double Min(double[] values)
        {
            double min = double.PositiveInfinity;
            foreach (double v in values) if (double.IsFinite(v) && v < min) min = v;
            return min;
        }

        // ------------------------------------------------------------------ (e) confusion matrix

        /// <summary>
        /// Counts [true class, predicted class] (prediction = highest output) over the first <paramref name="maxImages"/> images of
        /// <paramref name="data"/> (0: all), running the network in inference mode in batches of MaxBatch.
        /// </summary>
        public static int[,] ConfusionMatrix(INetwork net, LabeledImages data, int maxImages = 0)
        {
            ArgumentNullException.ThrowIfNull(net);
            ArgumentNullException.ThrowIfNull(data);
            if (data.ImageLength != net.InputLength)
                throw new ArgumentException($"The data's images have {data.ImageLength} floats but the network takes {net.InputLength}.", nameof(data));
            int classes = net.OutputLength, length = data.ImageLength;
            int count = maxImages > 0 ? Math.Min(maxImages, data.Count) : data.Count;
            Guard.Labels(data.Labels.AsSpan(0, count), classes, "data.Labels");
            net.Training = false;
            var counts = new int[classes, classes];
            var outputs = new float[(long)net.MaxBatch * classes];
            for (int start = 0; start < count; start += net.MaxBatch)
            {
                int batch = Math.Min(net.MaxBatch, count - start);
                net.Forward(data.Images.AsSpan(start * length, batch * length), outputs.AsSpan(0, batch * classes), batch);
                for (int n = 0; n < batch; n++)
                    counts[data.Labels[start + n], Evaluator.ArgMax(outputs.AsSpan(n * classes, classes))]++;
            }
            return counts;
        }

        /// <summary>
        /// The matrix as a grid of <paramref name="cellSize"/>-pixel cells: rows are true classes, columns predictions, each cell
        /// coloured by its share of its row (white to dark blue) and labelled with its count; class indices along both axes.
        /// </summary>
        public static Image ConfusionMatrixImage(int[,] counts, int cellSize = 44)
        {
            ArgumentNullException.ThrowIfNull(counts);
            int classes = counts.GetLength(0);
            if (classes == 0 || counts.GetLength(1) != classes)
                throw new ArgumentException($"counts must be square and non-empty, but is {counts.GetLength(0)}x{counts.GetLength(1)}.", nameof(counts));
            const int margin = 48, top = 48;
            int size = classes * cellSize;
            Image image = Image.Filled(margin + size + 12, top + size + 12, Rgb.White);
            string predicted = "PREDICTED";
            image.DrawText(margin + (size - BitmapFont.Measure(predicted)) / 2, 6, predicted, Rgb.Black);
            string truth = "TRUE";
            for (int i = 0; i < truth.Length; i++)   // written downwards, letter by letter
                image.DrawText(6, top + size / 2 - 20 + i * 10, truth[i].ToString(), Rgb.Black);

            for (int r = 0; r < classes; r++)
            {
                long rowTotal = 0;
                for (int c = 0; c < classes; c++) rowTotal += counts[r, c];
                string rowLabel = r.ToString(CultureInfo.InvariantCulture);
                image.DrawText(margin - 6 - BitmapFont.Measure(rowLabel), top + r * cellSize + (cellSize - 7) / 2, rowLabel, Rgb.Black);
                for (int c = 0; c < classes; c++)
                {
                    if (r == 0)
                    {
                        string columnLabel = c.ToString(CultureInfo.InvariantCulture);
                        image.DrawText(margin + c * cellSize + (cellSize - BitmapFont.Measure(columnLabel)) / 2, top - 14, columnLabel, Rgb.Black);
                    }
                    double share = rowTotal == 0 ? 0 : (double)counts[r, c] / rowTotal;
                    Rgb fill = Colormap.Blues.At(share);
                    int x = margin + c * cellSize, y = top + r * cellSize;
                    image.FillRectangle(x, y, cellSize, cellSize, fill);
                    image.DrawRectangle(x, y, cellSize + 1, cellSize + 1, Rgb.LightGrey);
                    string text = counts[r, c].ToString(CultureInfo.InvariantCulture);
                    int scale = BitmapFont.Measure(text, 2) <= cellSize - 6 ? 2 : 1;
                    image.DrawText(x + (cellSize - BitmapFont.Measure(text, scale)) / 2, y + (cellSize - 7 * scale) / 2, text,
                        fill.Luma < 128 ? Rgb.White : Rgb.Black, scale);
                }
            }
            image.DrawRectangle(margin, top, size + 1, size + 1, Rgb.Grey);
            return image;
        }

        // ------------------------------------------------------------------ (f) report

        /// <summary>
        /// Writes filters.png, one features_&lt;layer&gt;.png per drawn layer, occlusion.png, training.png (when
        /// <paramref name="history"/> has epochs), confusion.png and a self-contained report.html (every image embedded as a
        /// data URI, plus <paramref name="summary"/> and the per-epoch table) into <paramref name="outputDirectory"/>, which is
        /// created if needed. Returns the written paths, images first and report.html last.
        /// </summary>
        public static IReadOnlyList<string> WriteReport(INetwork net, string summary, LabeledImages test,
            IReadOnlyList<EpochResult> history, string outputDirectory, VisualizationOptions? options = null)
        {
            ArgumentNullException.ThrowIfNull(net);
            ArgumentNullException.ThrowIfNull(test);
            ArgumentNullException.ThrowIfNull(history);
            ArgumentException.ThrowIfNullOrWhiteSpace(outputDirectory);
            options ??= new VisualizationOptions();
            if (test.ImageLength != net.InputLength)
                throw new ArgumentException(
                    $"The test images are {test.Channels}x{test.Height}x{test.Width} ({test.ImageLength} floats) but the network takes {net.InputLength}.", nameof(test));
            if (test.Count == 0) throw new ArgumentException("The test set is empty.", nameof(test));
            if ((uint)options.ImageIndex >= (uint)test.Count)
                throw new ArgumentOutOfRangeException(nameof(options), options.ImageIndex, $"ImageIndex must be in [0, {test.Count - 1}].");
            Directory.CreateDirectory(outputDirectory);

            var sections = new List<(string Heading, string Caption, string File, byte[] Png)>();
            void Add(string heading, string caption, string file, Image image) => sections.Add((heading, caption, file, image.ToPng()));

            if (FirstConvolutionWeight(net) is { } weight)
                Add("First-layer filters", $"{weight.Name} [{string.Join(", ", weight.Shape)}]: blue negative, white zero, red positive (one scale for all).",
                    "filters.png", FirstLayerFilters(net, options.FilterScale, border: 3));

            ReadOnlySpan<float> image = test.Image(options.ImageIndex);
            int label = test.Labels[options.ImageIndex];
            foreach (FeatureMapGrid grid in FeatureMaps(net, image, options.FeatureMapScale, options.IncludeActivations, options.MaxFeatureMaps))
            {
                string shape = string.Join("x", grid.Info.OutputShape);
                string shown = grid.MapsShown < grid.Info.OutputShape[0] ? $", first {grid.MapsShown} maps" : "";
                string colours = grid.Info.Type == "Conv2D" ? "diverging colours, each map symmetric about zero" : "viridis, each map from zero to its maximum";
                Add($"Feature maps: {grid.Info.Name} ({grid.Info.Type})", $"Output {shape} for test image {options.ImageIndex}{shown}; {colours}.",
                    $"features_{Sanitize(grid.Info.Name)}.png", grid.Image);
            }

            float grey = options.OcclusionGrey ?? Mean(test.Images);
            OcclusionMap occlusion = Occlusion(net, image, test.Channels, test.Height, test.Width, label,
                Math.Min(options.OcclusionPatch, Math.Min(test.Height, test.Width)), options.OcclusionStride, grey);
            Add("Occlusion sensitivity",
                $"Test image {options.ImageIndex}, true class {ClassName(label, options)}, predicted {ClassName(occlusion.Predicted, options)}; " +
                $"p(true class) = {occlusion.BaselineProbability.ToString("0.000", CultureInfo.InvariantCulture)}. " +
                $"A {options.OcclusionPatch}x{options.OcclusionPatch} patch of {grey.ToString("0.###", CultureInfo.InvariantCulture)} slid with stride {options.OcclusionStride}; " +
                "middle: mean drop of p(true class) where the patch covered each pixel (red: the class depends on it, blue: occluding it helps); right: overlay.",
                "occlusion.png", OcclusionImage(image, test.Channels, test.Height, test.Width, occlusion, options.ImageScale));

            if (history.Count > 0)
                Add("Training curves", "Loss and accuracy per epoch (training values are running means over each epoch).", "training.png", TrainingCurves(history));

            int[,] confusion = ConfusionMatrix(net, test, options.ConfusionImages);
            int used = options.ConfusionImages > 0 ? Math.Min(options.ConfusionImages, test.Count) : test.Count;
            int correct = 0;
            for (int c = 0; c < confusion.GetLength(0); c++) correct += confusion[c, c];
            Add("Confusion matrix", $"Rows: true class, columns: predicted, over {used} test images; accuracy {100.0 * correct / used:0.00}%. Colour: share of the row.",
                "confusion.png", ConfusionMatrixImage(confusion));

            var paths = new List<string>();
            foreach (var section in sections)
            {
                string path = Path.Combine(outputDirectory, section.File);
                File.WriteAllBytes(path, section.Png);
                paths.Add(path);
            }
            string reportPath = Path.Combine(outputDirectory, "report.html");
            File.WriteAllText(reportPath, Html(options, summary, history, sections, confusion.GetLength(0)), new UTF8Encoding(false));
            paths.Add(reportPath);
            return paths;
        }

        private static string Html(VisualizationOptions options, string? summary, IReadOnlyList<EpochResult> history,
            List<(string Heading, string Caption, string File, byte[] Png)> sections, int classes)
        {
            static string E(string s) => WebUtility.HtmlEncode(s);
            static string F(double v, string format) => double.IsFinite(v) ? v.ToString(format, CultureInfo.InvariantCulture) : "-";
            var html = new StringBuilder();
            html.Append("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>").Append(E(options.Title)).Append("</title>\n");
            html.Append("<style>body{font-family:sans-serif;margin:2em;max-width:1100px}pre{background:#f4f4f4;padding:1em;overflow-x:auto}" +
                        "table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}" +
                        "img{image-rendering:pixelated;max-width:100%;border:1px solid #ddd}figcaption{color:#444;margin:.4em 0 1.5em}</style>\n");
            html.Append("</head>\n<body>\n<h1>").Append(E(options.Title)).Append("</h1>\n");
            if (!string.IsNullOrWhiteSpace(summary))
                html.Append("<h2>Network</h2>\n<pre>").Append(E(summary)).Append("</pre>\n");
            if (history.Count > 0)
            {
                html.Append("<h2>Epochs</h2>\n<table>\n<tr><th>epoch</th><th>loss</th><th>train acc %</th><th>test loss</th><th>test acc %</th>" +
                            "<th>learning rate</th><th>seconds</th><th>images/s</th></tr>\n");
                foreach (EpochResult r in history)
                    html.Append("<tr><td>").Append(r.Epoch).Append('/').Append(r.Epochs)
                        .Append("</td><td>").Append(F(r.Loss, "0.0000"))
                        .Append("</td><td>").Append(F(100 * r.TrainAccuracy, "0.00"))
                        .Append("</td><td>").Append(F(r.TestLoss, "0.0000"))
                        .Append("</td><td>").Append(F(100 * r.TestAccuracy, "0.00"))
                        .Append("</td><td>").Append(F(r.LearningRate, "0.######"))
                        .Append("</td><td>").Append(F(r.Seconds, "0.0"))
                        .Append("</td><td>").Append(F(r.ImagesPerSecond, "0")).Append("</td></tr>\n");
                html.Append("</table>\n");
            }
            foreach (var (heading, caption, file, png) in sections)
            {
                html.Append("<h2>").Append(E(heading)).Append("</h2>\n<figure>\n<img alt=\"").Append(E(file))
                    .Append("\" src=\"data:image/png;base64,").Append(Convert.ToBase64String(png)).Append("\">\n<figcaption>")
                    .Append(E(caption)).Append("</figcaption>\n</figure>\n");
            }
            if (options.ClassNames is { Count: > 0 } names)
            {
                html.Append("<h2>Classes</h2>\n<table>\n<tr><th>index</th><th style=\"text-align:left\">name</th></tr>\n");
                for (int c = 0; c < Math.Min(classes, names.Count); c++)
                    html.Append("<tr><td>").Append(c).Append("</td><td style=\"text-align:left\">").Append(E(names[c])).Append("</td></tr>\n");
                html.Append("</table>\n");
            }
            html.Append("</body>\n</html>\n");
            return html.ToString();
        }

        // ------------------------------------------------------------------ helpers

        private static string ClassName(int index, VisualizationOptions options) =>
            options.ClassNames is { } names && index < names.Count ? $"{index} ({names[index]})" : index.ToString(CultureInfo.InvariantCulture);

        private static string Sanitize(string name)
        {
            var sb = new StringBuilder(name.Length);
            foreach (char c in name) sb.Append(char.IsAsciiLetterOrDigit(c) || c is '_' or '-' ? c : '_');
            return sb.ToString();
        }

        /// <summary>True when the network's last layer is a Softmax, so Forward writes probabilities.</summary>
        public static bool OutputsProbabilities(INetwork net)
        {
            IReadOnlyList<LayerInfo> layers = net.LayerInfos;
            return layers.Count > 0 && layers[^1].Type == "Softmax";
        }

        private static void Softmax(Span<float> values)
        {
            float max = values[Evaluator.ArgMax(values)];
            double sum = 0;
            for (int i = 0; i < values.Length; i++) sum += Math.Exp(values[i] - max);
            for (int i = 0; i < values.Length; i++) values[i] = (float)(Math.Exp(values[i] - max) / sum);
        }

        private static float MaxAbs(ReadOnlySpan<float> values)
        {
            float max = 0;
            foreach (float v in values) if (float.IsFinite(v)) max = Math.Max(max, Math.Abs(v));
            return max;
        }

        private static float Mean(float[] values)
        {
            double sum = 0;
            foreach (float v in values) sum += v;
            return values.Length == 0 ? 0.5f : (float)(sum / values.Length);
        }
    }
}
