// IDX reading (gzip and raw), its error messages, and the Fashion-MNIST loader's file lookup.
using System;
using System.IO;
using CnnGen.Data;

namespace CnnGen.Runtime.Tests
{
    public class IdxTests
    {
        private static byte[] Pixels(int length)
        {
            var pixels = new byte[length];
            for (int i = 0; i < length; i++) pixels[i] = (byte)(i * 37 % 256);
            pixels[0] = 0;
            pixels[1] = 255;
            return pixels;
        }

        [Theory]
        [InlineData(true)]
        [InlineData(false)]
        public void Images_round_trip_scaled_to_unit_range(bool gzip)
        {
            using var dir = new TempDirectory();
            const int count = 3, rows = 4, columns = 5;
            byte[] pixels = Pixels(count * rows * columns);
            // The name deliberately lacks ".gz": compression is detected from the content.
            string path = dir.File("images-idx3-ubyte");
            IdxWriter.Write(path, IdxWriter.Images(pixels, count, rows, columns), gzip);

            IdxImages images = Idx.ReadImages(path);

            Assert.Equal(count, images.Count);
            Assert.Equal(rows, images.Rows);
            Assert.Equal(columns, images.Columns);
            Assert.Equal(pixels.Length, images.Pixels.Length);
            for (int i = 0; i < pixels.Length; i++) Assert.Equal(pixels[i] / 255f, images.Pixels[i], 6);
            Assert.Equal(0f, images.Pixels[0]);
            Assert.Equal(1f, images.Pixels[1]);
        }

        [Theory]
        [InlineData(true)]
        [InlineData(false)]
        public void Labels_round_trip(bool gzip)
        {
            using var dir = new TempDirectory();
            byte[] labels = { 9, 0, 3, 7, 255 };
            string path = dir.File("labels.gz");
            IdxWriter.Write(path, IdxWriter.Labels(labels, labels.Length), gzip);

            Assert.Equal(new[] { 9, 0, 3, 7, 255 }, Idx.ReadLabels(path));
        }

        [Fact]
        public void Bad_magic_names_file_expected_and_actual()
        {
            using var dir = new TempDirectory();
            string path = dir.File("labels");
            IdxWriter.Write(path, IdxWriter.Labels(new byte[] { 1, 2 }, 2), gzip: true);

            var error = Assert.Throws<InvalidDataException>(() => Idx.ReadImages(path));

            Assert.Contains(path, error.Message);
            Assert.Contains("0x00000801", error.Message);   // actual
            Assert.Contains("expected 0x00000803", error.Message);
        }

        [Fact]
        public void Truncated_data_says_how_many_bytes_were_expected_and_found()
        {
            using var dir = new TempDirectory();
            string path = dir.File("images");
            // Header announces 2 images of 3x3 = 18 bytes; only 10 follow.
            byte[] content = IdxWriter.Images(new byte[10], 2, 3, 3);
            IdxWriter.Write(path, content, gzip: false);

            var error = Assert.Throws<InvalidDataException>(() => Idx.ReadImages(path));

            Assert.Contains(path, error.Message);
            Assert.Contains("truncated", error.Message);
            Assert.Contains("expected 18 bytes of data, got 10", error.Message);
        }

        [Fact]
        public void Truncated_header_is_reported()
        {
            using var dir = new TempDirectory();
            string path = dir.File("labels");
            IdxWriter.Write(path, new byte[] { 0, 0, 8, 1, 0, 0 }, gzip: false);

            var error = Assert.Throws<InvalidDataException>(() => Idx.ReadLabels(path));

            Assert.Contains("expected a 8-byte header, got 6 bytes", error.Message);
        }

        [Fact]
        public void Corrupt_gzip_is_reported_as_such()
        {
            using var dir = new TempDirectory();
            string path = dir.File("images.gz");
            System.IO.File.WriteAllBytes(path, new byte[] { 0x1f, 0x8b, 8, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11 });

            var error = Assert.Throws<InvalidDataException>(() => Idx.ReadImages(path));

            Assert.Contains(path, error.Message);
            Assert.Contains("does not decompress", error.Message);
        }

        [Fact]
        public void Missing_file_throws_FileNotFoundException_with_the_path()
        {
            using var dir = new TempDirectory();
            string path = dir.File("nope-idx3-ubyte.gz");

            var error = Assert.Throws<FileNotFoundException>(() => Idx.ReadImages(path));

            Assert.Equal(path, error.FileName);
            Assert.Contains(path, error.Message);
        }

        [Fact]
        public void Images_and_labels_with_different_counts_are_refused()
        {
            using var dir = new TempDirectory();
            string images = dir.File("i"), labels = dir.File("l");
            IdxWriter.Write(images, IdxWriter.Images(new byte[3 * 4], 3, 2, 2), gzip: true);
            IdxWriter.Write(labels, IdxWriter.Labels(new byte[2], 2), gzip: true);

            var error = Assert.Throws<InvalidDataException>(() => LabeledImages.FromIdx(images, labels));

            Assert.Contains("3 images", error.Message);
            Assert.Contains("2 labels", error.Message);
        }

        [Fact]
        public void FashionMnist_loads_gz_and_raw_files_from_a_directory()
        {
            using var dir = new TempDirectory();
            IdxWriter.Write(dir.File("train-images-idx3-ubyte.gz"), IdxWriter.Images(Pixels(4 * 2 * 3), 4, 2, 3), gzip: true);
            IdxWriter.Write(dir.File("train-labels-idx1-ubyte.gz"), IdxWriter.Labels(new byte[] { 1, 2, 3, 4 }, 4), gzip: true);
            IdxWriter.Write(dir.File("t10k-images-idx3-ubyte"), IdxWriter.Images(Pixels(2 * 2 * 3), 2, 2, 3), gzip: false);
            IdxWriter.Write(dir.File("t10k-labels-idx1-ubyte"), IdxWriter.Labels(new byte[] { 9, 8 }, 2), gzip: false);

            (LabeledImages train, LabeledImages test) = FashionMnist.Load(dir.Path);

            Assert.Equal(4, train.Count);
            Assert.Equal((1, 2, 3, 6), (train.Channels, train.Height, train.Width, train.ImageLength));
            Assert.Equal(new[] { 1, 2, 3, 4 }, train.Labels);
            Assert.Equal(2, test.Count);
            Assert.Equal(new[] { 9, 8 }, test.Labels);
            Assert.Equal(1f, train.Images[1]);
        }

        [Fact]
        public void FashionMnist_missing_files_say_how_to_get_them()
        {
            using var dir = new TempDirectory();
            string missing = Path.Combine(dir.Path, "absent");

            var error = Assert.Throws<DataNotFoundException>(() => FashionMnist.Load(missing));

            Assert.Contains("train-images-idx3-ubyte", error.Message);
            Assert.Contains(missing, error.Message);
            Assert.Contains("sudo apt-get install dataset-fashion-mnist", error.Message);
            Assert.Contains("https://github.com/zalandoresearch/fashion-mnist", error.Message);
            Assert.Contains("--data DIR", error.Message);
        }

        [Fact]
        public void LabeledImages_refuses_images_that_do_not_match_the_labels()
        {
            var error = Assert.Throws<ArgumentException>(() => new LabeledImages(new float[10], new int[3], 1, 1, 3));
            Assert.Contains("images has 10 floats", error.Message);
            Assert.Contains("= 9 were expected", error.Message);
        }
    }
}
