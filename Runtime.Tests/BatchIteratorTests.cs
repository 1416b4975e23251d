// BatchIterator: coverage of every item once per epoch, determinism per seed, partial batches, no allocation.
using System;
using System.Collections.Generic;
using System.Linq;
using CnnGen.Data;

namespace CnnGen.Runtime.Tests
{
    public class BatchIteratorTests
    {
        /// <summary>Item i has label i % 10 and every pixel equal to i, so a batch's content identifies its items.</summary>
        private static LabeledImages Numbered(int count, int imageLength = 6)
        {
            var images = new float[count * imageLength];
            var labels = new int[count];
            for (int i = 0; i < count; i++)
            {
                labels[i] = i % 10;
                for (int p = 0; p < imageLength; p++) images[i * imageLength + p] = i;
            }
            return new LabeledImages(images, labels, 1, 2, imageLength / 2);
        }

        private static List<int[]> Epochs(BatchIterator batches, int epochs)
        {
            var result = new List<int[]>();
            for (int e = 0; e < epochs; e++)
            {
                var order = new List<int>();
                batches.BeginEpoch();
                while (batches.MoveNext()) order.AddRange(batches.CurrentIndices.ToArray());
                result.Add(order.ToArray());
            }
            return result;
        }

        [Fact]
        public void Every_item_appears_exactly_once_per_epoch_with_its_own_pixels_and_label()
        {
            LabeledImages data = Numbered(103);
            var batches = new BatchIterator(data, batchSize: 10, seed: 7);

            for (int epoch = 0; epoch < 3; epoch++)
            {
                var seen = new List<int>();
                var sizes = new List<int>();
                batches.BeginEpoch();
                while (batches.MoveNext())
                {
                    sizes.Add(batches.CurrentCount);
                    ReadOnlySpan<float> images = batches.CurrentImages;
                    Assert.Equal(batches.CurrentCount * data.ImageLength, images.Length);
                    for (int b = 0; b < batches.CurrentCount; b++)
                    {
                        int item = (int)images[b * data.ImageLength];
                        Assert.Equal(item, batches.CurrentIndices[b]);
                        Assert.Equal(item % 10, batches.CurrentLabels[b]);
                        for (int p = 0; p < data.ImageLength; p++) Assert.Equal(item, images[b * data.ImageLength + p]);
                        seen.Add(item);
                    }
                }
                Assert.Equal(Enumerable.Range(0, 103), seen.OrderBy(i => i));
                Assert.Equal(new[] { 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 3 }, sizes);
                Assert.Equal(11, batches.BatchesPerEpoch);
            }
        }

        [Fact]
        public void Shuffling_actually_reorders_and_differs_between_epochs()
        {
            List<int[]> epochs = Epochs(new BatchIterator(Numbered(100), 16, seed: 1), 2);
            Assert.NotEqual(Enumerable.Range(0, 100), epochs[0]);
            Assert.NotEqual(epochs[0], epochs[1]);
        }

        [Fact]
        public void Same_seed_gives_the_same_batches_and_another_seed_does_not()
        {
            List<int[]> a = Epochs(new BatchIterator(Numbered(50), 8, seed: 42), 3);
            List<int[]> b = Epochs(new BatchIterator(Numbered(50), 8, seed: 42), 3);
            List<int[]> c = Epochs(new BatchIterator(Numbered(50), 8, seed: 43), 3);

            for (int e = 0; e < 3; e++) Assert.Equal(a[e], b[e]);
            Assert.NotEqual(a[0], c[0]);
        }

        [Fact]
        public void Without_shuffle_the_order_is_the_data_order()
        {
            List<int[]> epochs = Epochs(new BatchIterator(Numbered(25), 4, shuffle: false), 1);
            Assert.Equal(Enumerable.Range(0, 25), epochs[0]);
        }

        [Fact]
        public void Dropping_the_partial_batch_leaves_only_full_batches()
        {
            var batches = new BatchIterator(Numbered(23), 5, seed: 3, dropLastPartialBatch: true);
            var sizes = new List<int>();
            batches.BeginEpoch();
            while (batches.MoveNext()) sizes.Add(batches.CurrentCount);

            Assert.Equal(new[] { 5, 5, 5, 5 }, sizes);
            Assert.Equal(4, batches.BatchesPerEpoch);
            Assert.Equal(20, batches.ItemsPerEpoch);
        }

        [Theory]
        [InlineData(false)]
        [InlineData(true)]
        public void Batches_after_construction_allocate_nothing(bool augment)
        {
            var batches = new BatchIterator(Numbered(1000, 784), 64, seed: 5, augmentation: augment ? Augmentation.FlipAndShift(1) : null);
            // A first epoch warms up the JIT so its allocations are not counted.
            batches.BeginEpoch();
            while (batches.MoveNext()) { }

            // Three epochs per window, up to three windows: a batch that allocates does so in every window, while the runtime's
            // own tier-up of the loop (once, early in a busy test run) can land in the first (one failure in a full run).
            var windows = new List<long>();
            for (int window = 0; window < 3 && (windows.Count == 0 || windows[^1] != 0); window++)
            {
                long before = GC.GetAllocatedBytesForCurrentThread();
                int total = 0;
                for (int epoch = 0; epoch < 3; epoch++)
                {
                    batches.BeginEpoch();
                    while (batches.MoveNext()) total += batches.CurrentCount;
                }
                windows.Add(GC.GetAllocatedBytesForCurrentThread() - before);
                Assert.Equal(3000, total);
            }

            Assert.True(windows[^1] == 0, $"bytes allocated per window of 3 epochs: {string.Join(", ", windows)}");
        }

        [Fact]
        public void MoveNext_before_BeginEpoch_explains_the_order()
        {
            var batches = new BatchIterator(Numbered(4), 2);
            var error = Assert.Throws<InvalidOperationException>(() => batches.MoveNext());
            Assert.Contains("BeginEpoch", error.Message);
        }

        [Fact]
        public void Non_positive_batch_size_is_refused_with_the_value()
        {
            var error = Assert.Throws<ArgumentOutOfRangeException>(() => new BatchIterator(Numbered(4), 0));
            Assert.Equal("batchSize", error.ParamName);
            Assert.Contains("but was 0", error.Message);
        }
    }
}
