// Guard's messages: each says what was expected, what arrived and how to fix it.
using System;

namespace CnnGen.Runtime.Tests
{
    public class GuardTests
    {
        [Fact]
        public void Batch_above_capacity_names_capacity_and_value()
        {
            var error = Assert.Throws<ArgumentOutOfRangeException>(() => Guard.Batch(65, 64));
            Assert.Equal("batch", error.ParamName);
            Assert.Contains("maxBatch = 64", error.Message);
            Assert.Contains("but was 65", error.Message);
            Assert.Contains("larger maxBatch", error.Message);
        }

        [Theory]
        [InlineData(0)]
        [InlineData(-3)]
        public void Batch_below_one_is_refused(int batch)
        {
            var error = Assert.Throws<ArgumentOutOfRangeException>(() => Guard.Batch(batch, 64));
            Assert.Contains($"but was {batch}", error.Message);
        }

        [Fact]
        public void Batch_within_capacity_passes()
        {
            Guard.Batch(1, 64);
            Guard.Batch(64, 64);
        }

        [Fact]
        public void Wrong_length_states_the_arithmetic()
        {
            var error = Assert.Throws<ArgumentException>(() => Guard.Length(780, 1, 784, "input"));
            Assert.Equal("input", error.ParamName);
            Assert.Contains("input has length 780", error.Message);
            Assert.Contains("batch 1 x 784 floats per item = 784", error.Message);
        }

        [Fact]
        public void Label_out_of_range_names_index_value_and_valid_range()
        {
            var error = Assert.Throws<ArgumentOutOfRangeException>(() => Guard.Labels(new[] { 3, 10, 1 }, 10));
            Assert.Equal("labels", error.ParamName);
            Assert.Contains("labels[1] = 10", error.Message);
            Assert.Contains("[0, 9]", error.Message);
        }

        [Fact]
        public void Negative_label_is_refused()
        {
            var error = Assert.Throws<ArgumentOutOfRangeException>(() => Guard.Labels(new[] { -1 }, 10));
            Assert.Contains("labels[0] = -1", error.Message);
        }

        [Fact]
        public void Disposed_object_says_to_create_a_new_one()
        {
            var error = Assert.Throws<ObjectDisposedException>(() => Guard.NotDisposed(true, "FashionNet"));
            Assert.Contains("FashionNet", error.Message);
            Guard.NotDisposed(false, "FashionNet");
        }
    }
}
