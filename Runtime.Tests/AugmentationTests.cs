// Augmentation: every augmented image is a flip and/or shift of its source (checked against an independent
// per-pixel reconstruction), all flips and shifts occur, batches are deterministic per seed and epoch, and bad
// settings are refused with a message.
using System;
using System.Collections.Generic;
using System.Linq;
using CnnGen.Data;

namespace CnnGen.Runtime.Tests
{
    public class AugmentationTests
    {
        private const int H = 5, W = 6, C = 2;

        /// <summary>Distinct pixel values (all positive), so an output pins down where each pixel came from.</summary>
        private static LabeledImages Distinct(int count)
        {
            var images = new float[count * C * H * W];
            for (int i = 0; i < images.Length; i++) images[i] = 1 + i;
            return new LabeledImages(images, Enumerable.Range(0, count).Select(i => i % 10).ToArray(), C, H, W);
        }

        /// <summary>The (flip, dx, dy) that maps source to output, or null when none does.</summary>
        private static (bool Flip, int Dx, int Dy)? Explain(ReadOnlySpan<float> src, ReadOnlySpan<float> output, int maxShift)
        {
            foreach (bool flip in new[] { false, true })
                for (int dy = -maxShift; dy <= maxShift; dy++)
                    for (int dx = -maxShift; dx <= maxShift; dx++)
                    {
                        bool all = true;
                        for (int c = 0; c < C && all; c++)
                            for (int y = 0; y < H && all; y++)
                                for (int x = 0; x < W && all; x++)
                                {
                                    int sy = y + dy, sx = (flip ? W - 1 - x : x) + dx;
                                    float expected = sy >= 0 && sy < H && sx >= 0 && sx < W ? src[(c * H + sy) * W + sx] : 0f;
                                    all = output[(c * H + y) * W + x] == expected;
                                }
                        if (all) return (flip, dx, dy);
                    }
            return null;
        }

        [Fact]
        public void Each_image_is_a_flip_and_shift_of_its_source_and_all_variants_occur()
        {
            LabeledImages data = Distinct(200);
            var batches = new BatchIterator(data, 16, seed: 3, augmentation: Augmentation.FlipAndShift(2));
            var seen = new HashSet<(bool, int, int)>();
            for (int epoch = 0; epoch < 2; epoch++)
            {
                batches.BeginEpoch();
                while (batches.MoveNext())
                {
                    int length = data.ImageLength;
                    for (int b = 0; b < batches.CurrentCount; b++)
                    {
                        int index = batches.CurrentIndices[b];
                        var how = Explain(data.Image(index), batches.CurrentImages.Slice(b * length, length), 2);
                        Assert.True(how.HasValue, $"image {index} in epoch {epoch + 1} is not a flip/shift of its source");
                        seen.Add(how.Value);
                        Assert.Equal(index % 10, batches.CurrentLabels[b]);
                    }
                }
            }
            Assert.Equal(2 * 5 * 5, seen.Count); // 400 draws cover all 50 (flip, dx, dy) combinations
        }

        [Fact]
        public void Augmented_batches_depend_only_on_seed_and_epoch()
        {
            LabeledImages data = Distinct(40);
            float[] Epoch3(BatchIterator it, int skipUntil)
            {
                for (int e = 1; e < skipUntil; e++) it.BeginEpoch(); // skipped epochs draw no images
                var all = new List<float>();
                for (int e = skipUntil; e <= 3; e++)
                {
                    it.BeginEpoch();
                    all.Clear();
                    while (it.MoveNext()) all.AddRange(it.CurrentImages.ToArray());
                }
                return all.ToArray();
            }
            float[] full = Epoch3(new BatchIterator(data, 8, seed: 9, augmentation: Augmentation.FlipAndShift(1)), 1);
            float[] resumed = Epoch3(new BatchIterator(data, 8, seed: 9, augmentation: Augmentation.FlipAndShift(1)), 3);
            float[] otherSeed = Epoch3(new BatchIterator(data, 8, seed: 10, augmentation: Augmentation.FlipAndShift(1)), 1);
            Assert.Equal(full, resumed);
            Assert.NotEqual(full, otherSeed);
        }

        [Fact]
        public void No_augmentation_copies_images_unchanged()
        {
            LabeledImages data = Distinct(10);
            var batches = new BatchIterator(data, 10, seed: 1, shuffle: false, augmentation: Augmentation.None);
            batches.BeginEpoch();
            Assert.True(batches.MoveNext());
            Assert.Equal(data.Images, batches.CurrentImages.ToArray());
        }

        [Fact]
        public void Shift_that_hides_the_image_is_refused()
        {
            LabeledImages data = Distinct(4);
            var e = Assert.Throws<ArgumentOutOfRangeException>(() => new BatchIterator(data, 2, augmentation: Augmentation.FlipAndShift(5)));
            Assert.Contains("MaxShift 5", e.Message);
            Assert.Throws<ArgumentOutOfRangeException>(() => new BatchIterator(data, 2, augmentation: new Augmentation { MaxShift = -1 }));
        }
    }
}
