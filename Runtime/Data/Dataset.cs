// In-memory labelled image sets and the Fashion-MNIST loader: where the files are looked for, and what the
// user is told when they are not there.
using System;
using System.IO;

namespace CnnGen.Data
{
    /// <summary>Images in NCHW order (floats in [0, 1]) with one class label each.</summary>
    public sealed class LabeledImages
    {
        public LabeledImages(float[] images, int[] labels, int channels, int height, int width)
        {
            ArgumentNullException.ThrowIfNull(images);
            ArgumentNullException.ThrowIfNull(labels);
            if (channels < 1 || height < 1 || width < 1)
                throw new ArgumentOutOfRangeException(nameof(channels),
                    $"Image shape {channels}x{height}x{width} (channels x height x width) must be positive in every dimension.");
            long imageLength = (long)channels * height * width;
            if ((long)labels.Length * imageLength != images.Length)
                throw new ArgumentException(
                    $"images has {images.Length} floats, but {labels.Length} labels x {imageLength} floats per {channels}x{height}x{width} image = " +
                    $"{(long)labels.Length * imageLength} were expected. Each image needs exactly one label.", nameof(images));
            Images = images;
            Labels = labels;
            Channels = channels;
            Height = height;
            Width = width;
        }

        /// <summary>Reads an IDX images file and its IDX labels file, checking that they describe the same number of items.</summary>
        public static LabeledImages FromIdx(string imagesPath, string labelsPath)
        {
            IdxImages images = Idx.ReadImages(imagesPath);
            int[] labels = Idx.ReadLabels(labelsPath);
            if (images.Count != labels.Length)
                throw new InvalidDataException(
                    $"'{imagesPath}' holds {images.Count} images but '{labelsPath}' holds {labels.Length} labels; they must match. " +
                    "Check that both files come from the same split (train or t10k).");
            return new LabeledImages(images.Pixels, labels, 1, images.Rows, images.Columns);
        }

        /// <summary>All images, <see cref="Count"/> x <see cref="ImageLength"/> floats.</summary>
        public float[] Images { get; }
        /// <summary>One class index per image.</summary>
        public int[] Labels { get; }
        public int Count => Labels.Length;
        public int Channels { get; }
        public int Height { get; }
        public int Width { get; }
        /// <summary>Floats per image: channels * height * width.</summary>
        public int ImageLength => Channels * Height * Width;

        /// <summary>The pixels of image <paramref name="index"/>.</summary>
        public ReadOnlySpan<float> Image(int index) => Images.AsSpan(index * ImageLength, ImageLength);

        public override string ToString() => $"{Count} images of {Channels}x{Height}x{Width}";
    }

    /// <summary>The data set, or the directory given for it, is not where it was looked for.
    /// The message says how to get it.</summary>
    public sealed class DataNotFoundException : Exception
    {
        public DataNotFoundException(string message) : base(message) { }
        public DataNotFoundException(string message, Exception inner) : base(message, inner) { }
    }

    /// <summary>Zalando's Fashion-MNIST: 60,000 training and 10,000 test images of 28x28 grey clothing, 10 classes.</summary>
    public static class FashionMnist
    {
        /// <summary>Where Debian's <c>dataset-fashion-mnist</c> package installs the files.</summary>
        public const string DebianDirectory = "/usr/share/datasets/fashion-mnist";
        /// <summary>Environment variable that overrides the default directory.</summary>
        public const string DirectoryVariable = "CNNGEN_DATA";

        public static readonly string[] ClassNames =
            { "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot" };

        /// <summary>The directory used when none is given: <c>$CNNGEN_DATA</c>, else <see cref="DebianDirectory"/>.</summary>
        public static string DefaultDirectory
        {
            get
            {
                string? fromEnvironment = Environment.GetEnvironmentVariable(DirectoryVariable);
                return string.IsNullOrWhiteSpace(fromEnvironment) ? DebianDirectory : fromEnvironment;
            }
        }

        /// <summary>Loads both splits from <paramref name="directory"/> (null: <see cref="DefaultDirectory"/>).
        /// Each file may be gzip-compressed (<c>.gz</c>) or raw.</summary>
        /// <exception cref="DataNotFoundException">A file is missing; the message says how to install the data.</exception>
        public static (LabeledImages Train, LabeledImages Test) Load(string? directory = null)
        {
            directory ??= DefaultDirectory;
            string trainImages = Find(directory, "train-images-idx3-ubyte");
            string trainLabels = Find(directory, "train-labels-idx1-ubyte");
            string testImages = Find(directory, "t10k-images-idx3-ubyte");
            string testLabels = Find(directory, "t10k-labels-idx1-ubyte");

            LabeledImages train = LabeledImages.FromIdx(trainImages, trainLabels);
            LabeledImages test = LabeledImages.FromIdx(testImages, testLabels);
            if (train.Height != test.Height || train.Width != test.Width)
                throw new InvalidDataException(
                    $"Training images are {train.Height}x{train.Width} but test images are {test.Height}x{test.Width} in '{directory}'; " +
                    "both splits must come from the same data set.");
            return (train, test);
        }

        /// <summary>The path of <paramref name="baseName"/>.gz or <paramref name="baseName"/> in the directory.</summary>
        private static string Find(string directory, string baseName)
        {
            foreach (string candidate in new[] { baseName + ".gz", baseName })
            {
                string path = Path.Combine(directory, candidate);
                if (File.Exists(path)) return path;
            }
            throw new DataNotFoundException(MissingMessage(directory, baseName));
        }

        private static string MissingMessage(string directory, string baseName) =>
            $"Fashion-MNIST not found: '{Path.Combine(directory, baseName)}(.gz)' does not exist" +
            (Directory.Exists(directory) ? "." : $" (the directory '{directory}' does not exist).") + Environment.NewLine +
            "To get the data, either" + Environment.NewLine +
            $"  - on Debian/Ubuntu: sudo apt-get install dataset-fashion-mnist   (installs to {DebianDirectory}), or" + Environment.NewLine +
            "  - download train-images-idx3-ubyte.gz, train-labels-idx1-ubyte.gz, t10k-images-idx3-ubyte.gz and" + Environment.NewLine +
            "    t10k-labels-idx1-ubyte.gz from https://github.com/zalandoresearch/fashion-mnist into a directory DIR" + Environment.NewLine +
            $"    and pass --data DIR (or set {DirectoryVariable}=DIR).";
    }
}
